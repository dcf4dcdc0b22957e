-- One row per open-pipeline stage per (fiscal) quarter in which visits to that stage
-- started: how long the visits that started in the quarter stayed in the stage.

with visits as (

    select * from {{ ref('fct_stage_visit') }}

),

by_stage_quarter as (

    select
        start_quarter as quarter,
        stage_name,
        min(stage_sort_order) as stage_sort_order,
        count(*) as visits_started,
        count(*) filter (where is_completed) as completed_visits,
        count(*) filter (where is_ongoing) as ongoing_visits,
        avg(days_in_stage) filter (where is_completed) as avg_days_in_stage,
        median(days_in_stage) filter (where is_completed) as median_days_in_stage,
    from visits
    where not is_closed_stage
    group by start_quarter, stage_name

),

with_prior_quarter as (

    select
        current_quarter.*,
        current_quarter.avg_days_in_stage - prior_quarter.avg_days_in_stage
            as avg_days_change_vs_prior_quarter,
    from by_stage_quarter as current_quarter
    left join by_stage_quarter as prior_quarter
        on prior_quarter.stage_name = current_quarter.stage_name
        and prior_quarter.quarter = cast(current_quarter.quarter - interval 3 month as date)

),

final as (

    select
        cast(quarter as date) as quarter,
        cast({{ quarter_label('quarter') }} as varchar) as quarter_label,
        cast(stage_name as varchar) as stage_name,
        cast(stage_sort_order as integer) as stage_sort_order,
        cast(visits_started as bigint) as visits_started,
        cast(completed_visits as bigint) as completed_visits,
        cast(ongoing_visits as bigint) as ongoing_visits,
        cast(round(avg_days_in_stage, 2) as double) as avg_days_in_stage,
        cast(round(median_days_in_stage, 2) as double) as median_days_in_stage,
        cast({{ bottleneck_level('avg_days_in_stage') }} as varchar) as bottleneck_level,
        cast(coalesce(avg_days_in_stage > 30, false) as boolean) as is_bottleneck,
        cast(round(avg_days_change_vs_prior_quarter, 2) as double) as avg_days_change_vs_prior_quarter,
    from with_prior_quarter

)

select * from final
