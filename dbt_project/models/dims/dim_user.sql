with users as (

    select * from {{ ref('stg_sf__user') }}

),

roles as (

    select * from {{ ref('stg_sf__user_role') }}

),

managers as (

    select user_id as manager_id, user_name as manager_name from users

),

resolved as (

    select
        users.user_id,
        users.user_name,
        users.first_name,
        users.last_name,
        users.email,
        users.title,
        users.user_role_id,
        roles.role_name,
        users.manager_id,
        managers.manager_name,
        users.is_active,
        users.department,
        users.created_at,
    from users
    left join roles
        on users.user_role_id = roles.user_role_id
    left join managers
        on users.manager_id = managers.manager_id

)

select * from resolved
