-- One row per (dimension_type, dimension_id, quarter): win rate of an industry or an owner
-- over the deals closed in a (fiscal) quarter, against the quarter before.

with opportunities as (

    select * from {{ ref('fct_opportunity') }}

),

closed as (

    select * from opportunities where is_closed

),

by_dimension as (

    select
        'industry' as dimension_type,
        industry as dimension_id,
        industry as dimension_value,
        close_quarter as quarter,
        count(*) filter (where is_won) as won_count,
        count(*) filter (where is_lost) as lost_count,
    from closed
    group by industry, close_quarter

    union all

    select
        'owner' as dimension_type,
        coalesce(owner_id, 'unknown') as dimension_id,
        min(owner_name) as dimension_value,
        close_quarter as quarter,
        count(*) filter (where is_won) as won_count,
        count(*) filter (where is_lost) as lost_count,
    from closed
    group by coalesce(owner_id, 'unknown'), close_quarter

),

rated as (

    select
        *,
        {{ ratio('won_count', 'won_count + lost_count') }} as win_rate,
    from by_dimension

),

with_prior_quarter as (

    select
        current_quarter.*,
        prior_quarter.win_rate as prior_quarter_win_rate,
        current_quarter.win_rate - prior_quarter.win_rate as win_rate_change,
    from rated as current_quarter
    left join rated as prior_quarter
        on prior_quarter.dimension_type = current_quarter.dimension_type
        and prior_quarter.dimension_id = current_quarter.dimension_id
        and prior_quarter.quarter = cast(current_quarter.quarter - interval 3 month as date)

),

final as (

    select
        cast(dimension_type as varchar) as dimension_type,
        cast(dimension_id as varchar) as dimension_id,
        cast(dimension_value as varchar) as dimension_value,
        cast(quarter as date) as quarter,
        cast({{ quarter_label('quarter') }} as varchar) as quarter_label,
        cast(won_count as bigint) as won_count,
        cast(lost_count as bigint) as lost_count,
        cast(won_count + lost_count as bigint) as closed_count,
        cast(round(win_rate, 6) as double) as win_rate,
        cast(round(prior_quarter_win_rate, 6) as double) as prior_quarter_win_rate,
        cast(round(win_rate_change, 6) as double) as win_rate_change,
        cast(
            case
                when prior_quarter_win_rate is null then 'new'
                when round(win_rate_change, 9) > 0.05 then 'improving'
                when round(win_rate_change, 9) < -0.05 then 'declining'
                else 'stable'
            end as varchar
        ) as trend,
    from with_prior_quarter

)

select * from final
