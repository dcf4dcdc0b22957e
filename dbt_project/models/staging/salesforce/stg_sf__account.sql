{%- set source_relation = source('salesforce', 'account') -%}

with source as (

    select * from {{ source_relation }}
    where {{ sf_live_rows(source_relation) }}

),

renamed as (

    select
        {{ sf_select(source_relation, [
            ('id', 'account_id', 'varchar', true),
            ('name', 'account_name', 'varchar', false),
            ('industry', 'industry', 'varchar', false),
            ('type', 'account_type', 'varchar', false),
            ('billing_country', 'billing_country', 'varchar', false),
            ('billing_state', 'billing_state', 'varchar', false),
            ('annual_revenue', 'annual_revenue', 'decimal(18,2)', false),
            ('number_of_employees', 'number_of_employees', 'integer', false),
            ('owner_id', 'owner_id', 'varchar', false),
            ('created_date', 'created_at', 'timestamp', false),
        ]) }}
    from source

)

select * from renamed
