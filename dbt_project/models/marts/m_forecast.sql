-- One row per (fiscal) quarter of close_date that holds any opportunity: historical win
-- rates, deal velocity and the pipeline behind each quarter, the inputs of a forecast.

with quarters as (

    select * from {{ ref('int_quarter_pipeline') }}

),

as_of as (

    select {{ quarter_start(as_of_date()) }} as current_quarter

),

baseline as (

    -- metrics.md pipeline coverage: average won amount per quarter over the last four
    -- full quarters before the as-of quarter (quarters without wins count as 0).
    select sum(quarters.won_amount) / 4.0 as avg_won_amount_last_4_quarters
    from quarters
    cross join as_of
    where quarters.quarter >= cast(as_of.current_quarter - interval 12 month as date)
        and quarters.quarter < as_of.current_quarter

),

windowed as (

    select
        *,
        sum(won_count) over four_quarters as trailing_won_count,
        sum(won_count + lost_count) over four_quarters as trailing_closed_count,
    from quarters
    window four_quarters as (
        order by quarter range between interval 9 month preceding and current row
    )

),

final as (

    select
        cast(windowed.quarter as date) as quarter,
        cast({{ quarter_label('windowed.quarter') }} as varchar) as quarter_label,
        cast(windowed.quarter = as_of.current_quarter as boolean) as is_current_quarter,
        cast(windowed.won_count as bigint) as won_count,
        cast(windowed.lost_count as bigint) as lost_count,
        cast(round({{ ratio('windowed.won_count', 'windowed.won_count + windowed.lost_count') }}, 6) as double)
            as win_rate,
        cast(round(windowed.won_amount, 2) as double) as won_amount,
        cast(round(windowed.avg_won_deal_size, 2) as double) as avg_won_deal_size,
        cast(round(windowed.avg_days_to_close_won, 2) as double) as avg_days_to_close_won,
        cast(windowed.open_count as bigint) as open_count,
        cast(round(windowed.open_amount, 2) as double) as open_amount,
        cast(round(windowed.weighted_pipeline, 2) as double) as weighted_pipeline,
        cast(round(windowed.open_amount / nullif(baseline.avg_won_amount_last_4_quarters, 0), 6) as double) as pipeline_coverage,
        cast(round(windowed.won_amount + windowed.weighted_pipeline, 2) as double) as expected_revenue,
        cast(round({{ ratio('windowed.trailing_won_count', 'windowed.trailing_closed_count') }}, 6) as double)
            as trailing_win_rate,
    from windowed
    cross join as_of
    cross join baseline

)

select * from final
