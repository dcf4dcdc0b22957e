-- One row per stage visit (metrics.md "Stage durations"). History rows are ordered per
-- opportunity by created_at, then id; a visit starts at the first row, and at every row
-- whose stage differs from the row before it; it ends when the next visit starts.

with history as (

    select * from {{ ref('stg_sf__opportunity_history') }}

),

opportunities as (

    select * from {{ ref('stg_sf__opportunity') }}

),

stages as (

    select * from {{ ref('stg_sf__opportunity_stage') }}

),

users as (

    select * from {{ ref('dim_user') }}

),

accounts as (

    select * from {{ ref('dim_account') }}

),

with_previous_stage as (

    select
        history.*,
        lag(history.stage_name) over (
            partition by history.opportunity_id
            order by history.created_at, history.opportunity_history_id
        ) as previous_stage_name,
        row_number() over (
            partition by history.opportunity_id
            order by history.created_at, history.opportunity_history_id
        ) as history_row_number,
    from history

),

visit_starts as (

    select *
    from with_previous_stage
    where history_row_number = 1
        or stage_name is distinct from previous_stage_name

),

visits as (

    select
        opportunity_history_id as stage_visit_id,
        opportunity_id,
        stage_name,
        created_at as started_at,
        created_date as started_date,
        row_number() over (
            partition by opportunity_id order by created_at, opportunity_history_id
        ) as visit_number,
        lead(created_date) over (
            partition by opportunity_id order by created_at, opportunity_history_id
        ) as next_started_date,
        lead(stage_name) over (
            partition by opportunity_id order by created_at, opportunity_history_id
        ) as next_stage_name,
    from visit_starts

),

stage_lookup as (

    -- A stage name may appear once per sales process; a stage counts as closed if any
    -- stage row with that name is closed.
    select
        stage_name,
        bool_or(is_closed) as is_closed,
        min(sort_order) as sort_order,
    from stages
    group by stage_name

),

measured as (

    select
        visits.stage_visit_id,
        visits.opportunity_id,
        opportunities.opportunity_name,
        opportunities.amount,
        opportunities.owner_id,
        coalesce(users.user_name, opportunities.owner_id, 'Unknown') as owner_name,
        coalesce(accounts.industry, 'Unknown') as industry,
        visits.stage_name,
        stage_lookup.sort_order as stage_sort_order,
        visits.visit_number,
        visits.started_at,
        visits.started_date,
        visits.next_started_date as ended_date,
        visits.next_stage_name,
        coalesce(stage_lookup.is_closed, false) as is_closed_stage,
        -- the visit the opportunity is in now, while it is open: counts up to as_of_date
        visits.next_started_date is null
            and not opportunities.is_closed
            and not coalesce(stage_lookup.is_closed, false) as is_ongoing,
    from visits
    inner join opportunities
        on visits.opportunity_id = opportunities.opportunity_id
    left join stage_lookup
        on visits.stage_name = stage_lookup.stage_name
    left join users
        on opportunities.owner_id = users.user_id
    left join accounts
        on opportunities.account_id = accounts.account_id

),

final as (

    select
        cast(stage_visit_id as varchar) as stage_visit_id,
        cast(opportunity_id as varchar) as opportunity_id,
        cast(opportunity_name as varchar) as opportunity_name,
        cast(amount as decimal(18,2)) as amount,
        cast(owner_id as varchar) as owner_id,
        cast(owner_name as varchar) as owner_name,
        cast(industry as varchar) as industry,
        cast(stage_name as varchar) as stage_name,
        cast(stage_sort_order as integer) as stage_sort_order,
        cast(visit_number as integer) as visit_number,
        cast(started_at as timestamp) as started_at,
        cast(started_date as date) as started_date,
        cast(ended_date as date) as ended_date,
        cast(next_stage_name as varchar) as next_stage_name,
        cast(ended_date is not null and not is_closed_stage as boolean) as is_completed,
        cast(
            case when ended_date is not null and not is_closed_stage
                then ended_date - started_date end
            as integer
        ) as days_in_stage,
        cast(is_ongoing as boolean) as is_ongoing,
        cast(
            case when is_ongoing then {{ as_of_date() }} - started_date end as integer
        ) as days_in_stage_so_far,
        cast(is_closed_stage as boolean) as is_closed_stage,
        cast({{ quarter_start('started_date') }} as date) as start_quarter,
        cast({{ quarter_label(quarter_start('started_date')) }} as varchar) as start_quarter_label,
    from measured

)

-- stored by stage: questions about one stage read only that stage's row groups
select * from final
order by stage_name, started_date
