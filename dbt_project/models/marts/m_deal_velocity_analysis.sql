-- One row per (metric_type, dimension_id): how fast deals move, by stage
-- ('stage_velocity'), by owner ('owner_velocity'), by quarter in which visits started
-- ('quarterly_trend'), and for the whole org ('overall').

with visits as (

    select * from {{ ref('fct_stage_visit') }}

),

opportunities as (

    select * from {{ ref('fct_opportunity') }}

),

open_visits as (

    -- closed stages (Closed Won / Closed Lost) have no duration
    select * from visits where not is_closed_stage

),

-- Closed-deal figures use the overall window of metrics.md: the trailing four full
-- quarters plus the current quarter to date.
closed_in_window as (

    select * from opportunities
    where is_closed and {{ in_overall_window('close_date') }}

),

stage_rows as (

    select
        'stage_velocity' as metric_type,
        stage_name as dimension,
        stage_name as dimension_id,
        cast(null as date) as quarter,
        min(stage_sort_order) as stage_sort_order,
        count(*) filter (where is_completed) as completed_visits,
        avg(days_in_stage) filter (where is_completed) as avg_days_in_stage,
        median(days_in_stage) filter (where is_completed) as median_days_in_stage,
        count(*) filter (where is_ongoing) as ongoing_visits,
        avg(days_in_stage_so_far) filter (where is_ongoing) as avg_days_in_stage_so_far,
    from open_visits
    group by stage_name

),

stage_open_amount as (

    select stage_name as dimension_id, sum(amount) as open_amount
    from opportunities
    where is_open
    group by stage_name

),

owner_rows as (

    select
        'owner_velocity' as metric_type,
        min(owner_name) as dimension,
        owner_id as dimension_id,
        cast(null as date) as quarter,
        cast(null as integer) as stage_sort_order,
        count(*) filter (where is_completed) as completed_visits,
        avg(days_in_stage) filter (where is_completed) as avg_days_in_stage,
        median(days_in_stage) filter (where is_completed) as median_days_in_stage,
        count(*) filter (where is_ongoing) as ongoing_visits,
        avg(days_in_stage_so_far) filter (where is_ongoing) as avg_days_in_stage_so_far,
    from open_visits
    where owner_id is not null
    group by owner_id

),

owner_deals as (

    select
        opportunities.owner_id as dimension_id,
        count(*) filter (where opportunities.is_open) as open_count,
        sum(opportunities.amount) filter (where opportunities.is_open) as open_amount,
    from opportunities
    where opportunities.owner_id is not null
    group by opportunities.owner_id

),

owner_closed as (

    select
        owner_id as dimension_id,
        count(*) filter (where is_won) as won_count,
        count(*) filter (where is_lost) as lost_count,
        avg(amount) filter (where is_won) as avg_won_amount,
        avg(days_to_close) filter (where is_won) as avg_days_to_close_won,
    from closed_in_window
    where owner_id is not null
    group by owner_id

),

quarter_rows as (

    select
        'quarterly_trend' as metric_type,
        {{ quarter_label('start_quarter') }} as dimension,
        {{ quarter_label('start_quarter') }} as dimension_id,
        start_quarter as quarter,
        cast(null as integer) as stage_sort_order,
        count(*) filter (where is_completed) as completed_visits,
        avg(days_in_stage) filter (where is_completed) as avg_days_in_stage,
        median(days_in_stage) filter (where is_completed) as median_days_in_stage,
        count(*) filter (where is_ongoing) as ongoing_visits,
        avg(days_in_stage_so_far) filter (where is_ongoing) as avg_days_in_stage_so_far,
    from open_visits
    group by start_quarter

),

quarter_closed as (

    select
        {{ quarter_label('close_quarter') }} as dimension_id,
        count(*) filter (where is_won) as won_count,
        avg(days_to_close) filter (where is_won) as avg_days_to_close_won,
    from opportunities
    where is_closed
    group by close_quarter

),

overall_row as (

    select
        'overall' as metric_type,
        'All' as dimension,
        'all' as dimension_id,
        cast(null as date) as quarter,
        cast(null as integer) as stage_sort_order,
        count(*) filter (where is_completed) as completed_visits,
        avg(days_in_stage) filter (where is_completed) as avg_days_in_stage,
        median(days_in_stage) filter (where is_completed) as median_days_in_stage,
        count(*) filter (where is_ongoing) as ongoing_visits,
        avg(days_in_stage_so_far) filter (where is_ongoing) as avg_days_in_stage_so_far,
    from open_visits

),

overall_deals as (

    select
        count(*) filter (where is_open) as open_count,
        sum(amount) filter (where is_open) as open_amount,
    from opportunities

),

overall_closed as (

    select
        count(*) filter (where is_won) as won_count,
        count(*) filter (where is_lost) as lost_count,
        avg(amount) filter (where is_won) as avg_won_amount,
        avg(days_to_close) filter (where is_won) as avg_days_to_close_won,
    from closed_in_window

),

stage_velocity as (

    select
        stage_rows.*,
        stage_open_amount.open_amount as open_amount_in_stage,
        cast(null as double) as avg_days_to_close,
        cast(null as bigint) as won_count,
        cast(null as double) as sales_velocity,
    from stage_rows
    left join stage_open_amount
        on stage_rows.dimension_id = stage_open_amount.dimension_id

),

owner_velocity as (

    select
        owner_rows.*,
        owner_deals.open_amount as open_amount_in_stage,
        owner_closed.avg_days_to_close_won as avg_days_to_close,
        coalesce(owner_closed.won_count, 0) as won_count,
        -- metrics.md sales velocity (per day)
        owner_deals.open_count
            * owner_closed.avg_won_amount
            * {{ ratio('owner_closed.won_count', 'owner_closed.won_count + owner_closed.lost_count') }}
            / nullif(owner_closed.avg_days_to_close_won, 0) as sales_velocity,
    from owner_rows
    left join owner_deals
        on owner_rows.dimension_id = owner_deals.dimension_id
    left join owner_closed
        on owner_rows.dimension_id = owner_closed.dimension_id

),

quarterly_trend as (

    select
        quarter_rows.*,
        cast(null as double) as open_amount_in_stage,
        quarter_closed.avg_days_to_close_won as avg_days_to_close,
        coalesce(quarter_closed.won_count, 0) as won_count,
        cast(null as double) as sales_velocity,
    from quarter_rows
    left join quarter_closed
        on quarter_rows.dimension_id = quarter_closed.dimension_id

),

overall as (

    select
        overall_row.*,
        overall_deals.open_amount as open_amount_in_stage,
        overall_closed.avg_days_to_close_won as avg_days_to_close,
        overall_closed.won_count,
        overall_deals.open_count
            * overall_closed.avg_won_amount
            * {{ ratio('overall_closed.won_count', 'overall_closed.won_count + overall_closed.lost_count') }}
            / nullif(overall_closed.avg_days_to_close_won, 0) as sales_velocity,
    from overall_row
    cross join overall_deals
    cross join overall_closed

),

unioned as (

    select * from stage_velocity
    union all by name
    select * from owner_velocity
    union all by name
    select * from quarterly_trend
    union all by name
    select * from overall

),

final as (

    select
        cast(metric_type as varchar) as metric_type,
        cast(dimension as varchar) as dimension,
        cast(dimension_id as varchar) as dimension_id,
        cast(quarter as date) as quarter,
        cast(stage_sort_order as integer) as stage_sort_order,
        cast(completed_visits as bigint) as completed_visits,
        cast(round(avg_days_in_stage, 2) as double) as avg_days_in_stage,
        cast(round(median_days_in_stage, 2) as double) as median_days_in_stage,
        cast(ongoing_visits as bigint) as ongoing_visits,
        cast(round(avg_days_in_stage_so_far, 2) as double) as avg_days_in_stage_so_far,
        cast({{ bottleneck_level('avg_days_in_stage') }} as varchar) as bottleneck_level,
        cast(coalesce(avg_days_in_stage > 30, false) as boolean) as is_bottleneck,
        cast(round(open_amount_in_stage, 2) as double) as open_amount_in_stage,
        -- open amount the stage (or owner) releases per 30 days at its average pace
        cast(round(open_amount_in_stage * 30.0 / nullif(avg_days_in_stage, 0), 2) as double) as monthly_value_impact,
        cast(round(avg_days_to_close, 2) as double) as avg_days_to_close,
        cast(won_count as bigint) as won_count,
        cast(round(sales_velocity, 2) as double) as sales_velocity,
    from unioned

)

select * from final
