-- Exactly one row: the as-of date every "today"-relative figure of this build used, when the
-- build ran, and how many rows each raw Salesforce table held. (Deliberately reads the
-- sources directly: it reports what landed, before staging drops deleted rows.)

with counts as (

    select
        (select count(*) from {{ source('salesforce', 'opportunity') }}) as opportunity_rows,
        (select count(*) from {{ source('salesforce', 'opportunity_history') }})
            as opportunity_history_rows,
        (select count(*) from {{ source('salesforce', 'account') }}) as account_rows,
        (select count(*) from {{ source('salesforce', 'user') }}) as user_rows,
        (select count(*) from {{ source('salesforce', 'user_role') }}) as user_role_rows,
        (select count(*) from {{ source('salesforce', 'opportunity_stage') }})
            as opportunity_stage_rows,
        (select count(*) from {{ ref('stg_sf__opportunity') }}) as live_opportunity_rows,

),

final as (

    select
        cast({{ as_of_date() }} as date) as as_of_date,
        cast(current_timestamp at time zone 'UTC' as timestamp) as built_at,
        cast({{ fiscal_year_start_month() }} as integer) as fiscal_year_start_month,
        cast('{{ dbt_version }}' as varchar) as dbt_version,
        cast(opportunity_rows as bigint) as opportunity_rows,
        cast(opportunity_history_rows as bigint) as opportunity_history_rows,
        cast(account_rows as bigint) as account_rows,
        cast(user_rows as bigint) as user_rows,
        cast(user_role_rows as bigint) as user_role_rows,
        cast(opportunity_stage_rows as bigint) as opportunity_stage_rows,
        cast(live_opportunity_rows as bigint) as live_opportunity_rows,
    from counts

)

select * from final
