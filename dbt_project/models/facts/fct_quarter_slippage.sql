-- One row per live opportunity and (fiscal) quarter its close date was in, on any history
-- row or now (metrics.md "Slippage"): the base of a slippage rate, with whether the deal
-- slipped out of that quarter. Grouped by any of the deal's dimensions it gives the
-- slippage of a team, a country or a type ("slippage rate last quarter for Jane's team").

with history as (

    select * from {{ ref('stg_sf__opportunity_history') }}

),

opportunities as (

    select * from {{ ref('fct_opportunity') }}

),

pushes as (

    select * from {{ ref('fct_close_date_push') }}

),

dated as (

    select distinct quarter, opportunity_id
    from (
        select {{ quarter_start('close_date') }} as quarter, opportunity_id
        from history
        where close_date is not null
        union all
        select close_quarter as quarter, opportunity_id
        from opportunities
        where close_quarter is not null
    )

),

slips as (

    -- the pushes out of the quarter of their old close date
    select
        old_close_quarter as quarter,
        opportunity_id,
        count(*) as pushes_out,
        sum(slip_days) as slip_days_out,
        -- the amount on the deal's first push out of the quarter
        sum(amount) filter (where is_first_out_of_quarter_push) as slipped_amount,
    from pushes
    where is_out_of_quarter
    group by old_close_quarter, opportunity_id

),

final as (

    select
        cast(dated.quarter as date) as quarter,
        cast({{ quarter_label('dated.quarter') }} as varchar) as quarter_label,
        cast(dated.opportunity_id as varchar) as opportunity_id,
        cast(opportunities.opportunity_name as varchar) as opportunity_name,
        cast(opportunities.owner_id as varchar) as owner_id,
        cast(opportunities.owner_name as varchar) as owner_name,
        cast(opportunities.manager_id as varchar) as manager_id,
        cast(opportunities.manager_name as varchar) as manager_name,
        cast(opportunities.account_name as varchar) as account_name,
        cast(opportunities.industry as varchar) as industry,
        cast(opportunities.billing_country as varchar) as billing_country,
        cast(opportunities.opportunity_type as varchar) as opportunity_type,
        cast(opportunities.lead_source as varchar) as lead_source,
        cast(opportunities.stage_name as varchar) as stage_name,
        cast(opportunities.close_date as date) as close_date,
        cast(opportunities.amount as decimal(18,2)) as current_amount,
        cast(opportunities.is_open as boolean) as is_open,
        cast(opportunities.is_won as boolean) as is_won,
        cast(opportunities.is_lost as boolean) as is_lost,
        cast(slips.opportunity_id is not null as boolean) as is_slipped,
        cast(slips.slipped_amount as decimal(18,2)) as slipped_amount,
        cast(coalesce(slips.pushes_out, 0) as integer) as pushes_out,
        cast(coalesce(slips.slip_days_out, 0) as integer) as slip_days_out,
    from dated
    inner join opportunities
        on dated.opportunity_id = opportunities.opportunity_id
    left join slips
        on dated.quarter = slips.quarter
        and dated.opportunity_id = slips.opportunity_id

)

-- stored by quarter: a question about one quarter reads only its row groups
select * from final
order by quarter, opportunity_id
