-- A table, not a view like the rest of staging: four models and several tests read it, and
-- recomputing it for each of them dominated build time at a million opportunities.
{{ config(materialized='table') }}
{%- set source_relation = source('salesforce', 'opportunity_history') -%}

with source as (

    select * from {{ source_relation }}
    where {{ sf_live_rows(source_relation) }}

),

opportunities as (

    select opportunity_id from {{ ref('stg_sf__opportunity') }}

),

renamed as (

    select
        {{ sf_select(source_relation, [
            ('id', 'opportunity_history_id', 'varchar', true),
            ('opportunity_id', 'opportunity_id', 'varchar', true),
            ('stage_name', 'stage_name', 'varchar', true),
            ('amount', 'amount', 'decimal(18,2)', false),
            ('probability', 'probability', 'integer', false),
            ('close_date', 'close_date', 'date', false),
            ('forecast_category', 'forecast_category', 'varchar', false),
            ('created_date', 'created_at', 'timestamp', true),
            ('created_by_id', 'created_by_id', 'varchar', false),
        ]) }}
    from source

),

of_live_opportunities as (

    -- metrics.md: the history rows of a deleted (or unknown) opportunity never count.
    select
        renamed.*,
        cast(renamed.created_at as date) as created_date,
    from renamed
    inner join opportunities
        on renamed.opportunity_id = opportunities.opportunity_id

)

select * from of_live_opportunities
