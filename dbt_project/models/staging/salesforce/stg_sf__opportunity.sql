-- A table, not a view like the rest of staging: four models and several tests read it, and
-- recomputing it for each of them dominated build time at a million opportunities.
{{ config(materialized='table') }}
{%- set source_relation = source('salesforce', 'opportunity') -%}

with source as (

    select * from {{ source_relation }}
    where {{ sf_live_rows(source_relation) }}

),

renamed as (

    select
        {{ sf_select(source_relation, [
            ('id', 'opportunity_id', 'varchar', true),
            ('name', 'opportunity_name', 'varchar', false),
            ('account_id', 'account_id', 'varchar', false),
            ('owner_id', 'owner_id', 'varchar', false),
            ('stage_name', 'stage_name', 'varchar', true),
            ('amount', 'amount', 'decimal(18,2)', false),
            ('probability', 'probability', 'integer', false),
            ('close_date', 'close_date', 'date', true),
            ('created_date', 'created_at', 'timestamp', true),
            ('last_modified_date', 'last_modified_at', 'timestamp', false),
            ('is_closed', 'raw_is_closed', 'boolean', true),
            ('is_won', 'raw_is_won', 'boolean', true),
            ('forecast_category_name', 'forecast_category_name', 'varchar', false),
            ('type', 'opportunity_type', 'varchar', false),
            ('lead_source', 'lead_source', 'varchar', false),
        ]) }}
    from source

),

typed as (

    select
        opportunity_id,
        opportunity_name,
        account_id,
        owner_id,
        stage_name,
        amount,
        probability,
        close_date,
        created_at,
        cast(created_at as date) as created_date,
        last_modified_at,
        coalesce(raw_is_closed, false) as is_closed,
        coalesce(raw_is_won, false) as is_won,
        forecast_category_name,
        opportunity_type,
        lead_source,
    from renamed

)

select * from typed
