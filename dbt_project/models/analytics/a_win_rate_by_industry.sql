-- One row per account industry with at least one deal closed in the overall window of
-- metrics.md (trailing four full quarters plus the current quarter to date).

with opportunities as (

    select * from {{ ref('fct_opportunity') }}

),

closed_in_window as (

    select * from opportunities
    where is_closed and {{ in_overall_window('close_date') }}

),

by_industry as (

    select
        industry,
        count(*) filter (where is_won) as won_count,
        count(*) filter (where is_lost) as lost_count,
        coalesce(sum(amount) filter (where is_won), 0) as won_amount,
        coalesce(sum(amount) filter (where is_lost), 0) as lost_amount,
        avg(amount) filter (where is_won) as avg_deal_size,
    from closed_in_window
    group by industry

),

overall as (

    select {{ ratio('sum(won_count)', 'sum(won_count + lost_count)') }} as overall_win_rate
    from by_industry

),

rated as (

    select
        by_industry.*,
        {{ ratio('won_count', 'won_count + lost_count') }} as win_rate,
        {{ ratio('won_amount', 'won_amount + lost_amount') }} as win_rate_by_amount,
        overall.overall_win_rate,
    from by_industry
    cross join overall

),

final as (

    select
        cast(industry as varchar) as industry,
        cast(won_count as bigint) as won_count,
        cast(lost_count as bigint) as lost_count,
        cast(won_count + lost_count as bigint) as closed_count,
        cast(round(win_rate, 6) as double) as win_rate,
        cast(round(won_amount, 2) as double) as won_amount,
        cast(round(win_rate_by_amount, 6) as double) as win_rate_by_amount,
        cast(round(avg_deal_size, 2) as double) as avg_deal_size,
        cast(rank() over (order by win_rate desc) as bigint) as win_rate_rank,
        cast(round(overall_win_rate, 6) as double) as overall_win_rate,
        cast(round(win_rate - overall_win_rate, 6) as double) as vs_overall,
    from rated

)

select * from final
