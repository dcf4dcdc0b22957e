-- One row per (fiscal) quarter of close_date holding at least one opportunity: counts and
-- amounts of the opportunities whose close_date is in that quarter (metrics.md scope).

with opportunities as (

    select * from {{ ref('fct_opportunity') }}

),

by_quarter as (

    select
        close_quarter as quarter,
        count(*) as opportunity_count,
        count(*) filter (where is_won) as won_count,
        count(*) filter (where is_lost) as lost_count,
        count(*) filter (where is_open) as open_count,
        count(*) filter (where is_overdue) as overdue_count,
        coalesce(sum(amount) filter (where is_won), 0) as won_amount,
        coalesce(sum(amount) filter (where is_lost), 0) as lost_amount,
        coalesce(sum(amount) filter (where is_open), 0) as open_amount,
        coalesce(sum(amount) filter (where is_overdue), 0) as overdue_amount,
        coalesce(sum(weighted_amount) filter (where is_open), 0) as weighted_pipeline,
        coalesce(sum(amount), 0) as pipeline_value,
        avg(amount) as avg_deal_size,
        avg(amount) filter (where is_won) as avg_won_deal_size,
        avg(days_to_close) filter (where is_won) as avg_days_to_close_won,
    from opportunities
    group by close_quarter

),

final as (

    select
        cast(quarter as date) as quarter,
        cast(opportunity_count as bigint) as opportunity_count,
        cast(won_count as bigint) as won_count,
        cast(lost_count as bigint) as lost_count,
        cast(open_count as bigint) as open_count,
        cast(overdue_count as bigint) as overdue_count,
        cast(won_amount as double) as won_amount,
        cast(lost_amount as double) as lost_amount,
        cast(open_amount as double) as open_amount,
        cast(overdue_amount as double) as overdue_amount,
        cast(weighted_pipeline as double) as weighted_pipeline,
        cast(pipeline_value as double) as pipeline_value,
        cast(avg_deal_size as double) as avg_deal_size,
        cast(avg_won_deal_size as double) as avg_won_deal_size,
        cast(avg_days_to_close_won as double) as avg_days_to_close_won,
    from by_quarter

)

select * from final
