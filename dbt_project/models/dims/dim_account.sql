with accounts as (

    select * from {{ ref('stg_sf__account') }}

),

final as (

    select
        account_id,
        account_name,
        industry,
        account_type,
        billing_country,
        billing_state,
        annual_revenue,
        number_of_employees,
        owner_id,
        created_at,
    from accounts

)

select * from final
