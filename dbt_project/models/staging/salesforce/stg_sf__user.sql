{%- set source_relation = source('salesforce', 'user') -%}

with source as (

    select * from {{ source_relation }}
    where {{ sf_live_rows(source_relation) }}

),

renamed as (

    select
        {{ sf_select(source_relation, [
            ('id', 'user_id', 'varchar', true),
            ('name', 'user_name', 'varchar', false),
            ('first_name', 'first_name', 'varchar', false),
            ('last_name', 'last_name', 'varchar', false),
            ('email', 'email', 'varchar', false),
            ('title', 'title', 'varchar', false),
            ('user_role_id', 'user_role_id', 'varchar', false),
            ('manager_id', 'manager_id', 'varchar', false),
            ('is_active', 'raw_is_active', 'boolean', false),
            ('department', 'department', 'varchar', false),
            ('created_date', 'created_at', 'timestamp', false),
        ]) }}
    from source

),

named as (

    select
        user_id,
        coalesce(
            user_name,
            nullif(trim(concat_ws(' ', first_name, last_name)), ''),
            user_id
        ) as user_name,
        first_name,
        last_name,
        email,
        title,
        user_role_id,
        manager_id,
        coalesce(raw_is_active, true) as is_active,
        department,
        created_at,
    from renamed

)

select * from named
