-- One row per opportunity owner with at least one deal closed in the overall window of
-- metrics.md (trailing four full quarters plus the current quarter to date).

with opportunities as (

    select * from {{ ref('fct_opportunity') }}

),

closed_in_window as (

    select * from opportunities
    where is_closed and {{ in_overall_window('close_date') }}

),

by_owner as (

    select
        owner_id,
        min(owner_name) as owner_name,
        min(manager_id) as manager_id,
        min(manager_name) as manager_name,
        count(*) filter (where is_won) as won_count,
        count(*) filter (where is_lost) as lost_count,
        coalesce(sum(amount) filter (where is_won), 0) as won_amount,
        coalesce(sum(amount) filter (where is_lost), 0) as lost_amount,
        avg(amount) filter (where is_won) as avg_deal_size,
    from closed_in_window
    group by owner_id

),

teams as (

    -- a team is every owner reporting to the same manager (owners without a manager form
    -- one team)
    select
        coalesce(manager_id, '') as team_key,
        {{ ratio('sum(won_count)', 'sum(won_count + lost_count)') }} as team_win_rate,
    from by_owner
    group by coalesce(manager_id, '')

),

overall as (

    select {{ ratio('sum(won_count)', 'sum(won_count + lost_count)') }} as overall_win_rate
    from by_owner

),

rated as (

    select
        by_owner.*,
        {{ ratio('by_owner.won_count', 'by_owner.won_count + by_owner.lost_count') }} as win_rate,
        {{ ratio('by_owner.won_amount', 'by_owner.won_amount + by_owner.lost_amount') }}
            as win_rate_by_amount,
        teams.team_win_rate,
        overall.overall_win_rate,
    from by_owner
    left join teams
        on coalesce(by_owner.manager_id, '') = teams.team_key
    cross join overall

),

final as (

    select
        cast(owner_id as varchar) as owner_id,
        cast(owner_name as varchar) as owner_name,
        cast(manager_id as varchar) as manager_id,
        cast(manager_name as varchar) as manager_name,
        cast(won_count as bigint) as won_count,
        cast(lost_count as bigint) as lost_count,
        cast(won_count + lost_count as bigint) as closed_count,
        cast(round(win_rate, 6) as double) as win_rate,
        cast(round(won_amount, 2) as double) as won_amount,
        cast(round(win_rate_by_amount, 6) as double) as win_rate_by_amount,
        cast(round(avg_deal_size, 2) as double) as avg_deal_size,
        cast(rank() over (order by win_rate desc) as bigint) as win_rate_rank,
        cast(round(team_win_rate, 6) as double) as team_win_rate,
        cast(round(overall_win_rate, 6) as double) as overall_win_rate,
        cast(
            won_count + lost_count >= 5 and round(win_rate - team_win_rate, 9) < -0.10 as boolean
        ) as needs_coaching,
        cast(
            case
                when round(win_rate - overall_win_rate, 9) >= 0.10 then 'Top performer'
                when round(win_rate - overall_win_rate, 9) <= -0.10 then 'Below average'
                else 'On track'
            end as varchar
        ) as performance_tier,
    from rated

)

select * from final
