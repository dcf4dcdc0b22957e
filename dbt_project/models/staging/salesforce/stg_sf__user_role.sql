{%- set source_relation = source('salesforce', 'user_role') -%}

with source as (

    select * from {{ source_relation }}
    where {{ sf_live_rows(source_relation) }}

),

renamed as (

    select
        {{ sf_select(source_relation, [
            ('id', 'user_role_id', 'varchar', true),
            ('name', 'role_name', 'varchar', false),
            ('parent_role_id', 'parent_role_id', 'varchar', false),
        ]) }}
    from source

)

select * from renamed
