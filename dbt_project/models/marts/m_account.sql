-- One row per live account with how many live opportunities it has (and of which outcome):
-- the model for questions about accounts themselves ("how many accounts in Retail", "accounts
-- that never had an opportunity").

with accounts as (

    select * from {{ ref('dim_account') }}

),

opportunities as (

    select * from {{ ref('fct_opportunity') }}

),

per_account as (

    select
        account_id,
        count(*) as opportunity_count,
        count(*) filter (where is_won) as won_count,
        count(*) filter (where is_open) as open_count,
    from opportunities
    group by account_id

),

final as (

    select
        cast(accounts.account_id as varchar) as account_id,
        cast(accounts.account_name as varchar) as account_name,
        cast(coalesce(accounts.industry, 'Unknown') as varchar) as industry,
        cast(accounts.billing_country as varchar) as billing_country,
        cast(accounts.account_type as varchar) as account_type,
        cast(accounts.number_of_employees as integer) as account_employees,
        cast(accounts.annual_revenue as decimal(18,2)) as account_annual_revenue,
        cast(accounts.created_at as date) as created_date,
        cast(coalesce(per_account.opportunity_count, 0) as integer) as opportunity_count,
        cast(coalesce(per_account.won_count, 0) as integer) as won_opportunity_count,
        cast(coalesce(per_account.open_count, 0) as integer) as open_opportunity_count,
        cast(per_account.account_id is null as boolean) as has_no_opportunities,
    from accounts
    left join per_account
        on accounts.account_id = per_account.account_id

)

select * from final
order by account_id
