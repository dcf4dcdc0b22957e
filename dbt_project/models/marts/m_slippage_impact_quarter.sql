-- One row per (fiscal) quarter Q in which any live opportunity had its close date (on any
-- history row, or now): deals that slipped out of Q and their impact (metrics.md "Slippage").

with pushes as (

    select * from {{ ref('fct_close_date_push') }}

),

dated as (

    -- one row per deal and quarter it was dated in, on any history row or now
    select * from {{ ref('fct_quarter_slippage') }}

),

deals_in_quarter as (

    -- denominator: distinct opportunities whose close date was in Q on any history row or now
    select quarter, count(*) as deals_in_quarter
    from dated
    group by quarter

),

out_of_quarter as (

    select
        *,
        row_number() over (
            partition by old_close_quarter, opportunity_id
            order by pushed_at, push_id
        ) as push_rank_in_quarter,
    from pushes
    where is_out_of_quarter

),

slipped as (

    select
        old_close_quarter as quarter,
        count(distinct opportunity_id) as deals_slipped,
        -- amount on the row of each deal's first push out of the quarter
        coalesce(sum(amount) filter (where push_rank_in_quarter = 1), 0) as slipped_amount,
        avg(slip_days) as avg_slip_days,
        count(*) as pushes_out_of_quarter,
    from out_of_quarter
    group by old_close_quarter

),

combined as (

    select
        deals_in_quarter.quarter,
        deals_in_quarter.deals_in_quarter,
        coalesce(slipped.deals_slipped, 0) as deals_slipped,
        coalesce(slipped.slipped_amount, 0) as slipped_amount,
        slipped.avg_slip_days,
        coalesce(slipped.pushes_out_of_quarter, 0) as pushes_out_of_quarter,
        {{ ratio('coalesce(slipped.deals_slipped, 0)', 'deals_in_quarter.deals_in_quarter') }}
            as slippage_rate,
    from deals_in_quarter
    left join slipped
        on deals_in_quarter.quarter = slipped.quarter

),

with_prior_quarter as (

    select
        current_quarter.*,
        current_quarter.slippage_rate - prior_quarter.slippage_rate as slippage_rate_qoq_change,
    from combined as current_quarter
    left join combined as prior_quarter
        on prior_quarter.quarter = cast(current_quarter.quarter - interval 3 month as date)

),

final as (

    select
        cast(quarter as date) as quarter,
        cast({{ quarter_label('quarter') }} as varchar) as quarter_label,
        cast(quarter = {{ quarter_start(as_of_date()) }} as boolean) as is_current_quarter,
        cast(deals_slipped as bigint) as deals_slipped,
        cast(round(slipped_amount, 2) as double) as slipped_amount,
        cast(round(avg_slip_days, 2) as double) as avg_slip_days,
        cast(pushes_out_of_quarter as bigint) as pushes_out_of_quarter,
        cast(deals_in_quarter as bigint) as deals_in_quarter,
        cast(round(slippage_rate, 6) as double) as slippage_rate,
        cast(round(slippage_rate_qoq_change, 6) as double) as slippage_rate_qoq_change,
        cast(
            case
                when slippage_rate > 0.30 then 'High'
                when slippage_rate > 0.15 then 'Medium'
                else 'Low'
            end as varchar
        ) as impact_level,
    from with_prior_quarter

)

select * from final
