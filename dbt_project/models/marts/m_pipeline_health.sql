-- One row per (fiscal) quarter of close_date that holds any opportunity: the pipeline health
-- score of metrics.md ("Pipeline health score").

with quarters as (

    select * from {{ ref('int_quarter_pipeline') }}

),

rates as (

    select
        *,
        {{ ratio('won_count', 'won_count + lost_count') }} as win_rate,
        {{ ratio('overdue_amount', 'open_amount') }} as overdue_share,
    from quarters

),

points as (

    select
        *,
        case
            when win_rate >= 0.30 then 25
            when win_rate >= 0.20 then 20
            when win_rate >= 0.10 then 15
            else 10
        end as win_rate_points,
        case
            when overdue_share is null then 25  -- no open amount in the quarter
            when overdue_share < 0.10 then 25
            when overdue_share < 0.20 then 20
            when overdue_share < 0.30 then 15
            else 10
        end as overdue_points,
        case
            when avg_deal_size >= 100000 then 25
            when avg_deal_size >= 50000 then 20
            when avg_deal_size >= 25000 then 15
            else 10
        end as deal_size_points,
        case
            when opportunity_count >= 100 then 25
            when opportunity_count >= 50 then 20
            when opportunity_count >= 25 then 15
            else 10
        end as volume_points,
    from rates

),

scored as (

    select
        *,
        win_rate_points + overdue_points + deal_size_points + volume_points
            as pipeline_health_score,
    from points

),

classified as (

    select
        *,
        case
            when pipeline_health_score >= 80 then 'Excellent'
            when pipeline_health_score >= 60 then 'Good'
            when pipeline_health_score >= 40 then 'Fair'
            else 'Poor'
        end as health_status,
        case
            when overdue_share > 0.30 then 'High'
            when overdue_share > 0.20 then 'Medium'
            else 'Low'
        end as risk_level,
        -- weakest component: fewest points; ties go to the first in this order
        case least(win_rate_points, overdue_points, deal_size_points, volume_points)
            when 25 then 'none'
            when win_rate_points then 'win_rate'
            when overdue_points then 'overdue'
            when deal_size_points then 'deal_size'
            else 'volume'
        end as weakest_component,
    from scored

),

with_prior_quarter as (

    select
        current_quarter.*,
        prior_quarter.pipeline_value as prior_pipeline_value,
        prior_quarter.win_rate as prior_win_rate,
    from classified as current_quarter
    left join classified as prior_quarter
        on prior_quarter.quarter = cast(current_quarter.quarter - interval 3 month as date)

),

described as (

    select
        *,
        (pipeline_value - prior_pipeline_value) / nullif(prior_pipeline_value, 0)
            as pipeline_value_qoq_change,
        win_rate - prior_win_rate as win_rate_qoq_change,
        case weakest_component
            when 'none' then
                'All four components score full points (health score '
                || pipeline_health_score || ', ' || health_status || ').'
            when 'win_rate' then
                'Win rate is the weakest component: '
                || case when win_rate is null then 'no deal has closed yet'
                    else {{ fmt_pct('win_rate') }} || ' of closed deals were won' end
                || ' (' || win_rate_points || ' of 25 points).'
            when 'overdue' then
                'Overdue pipeline is the weakest component: '
                || {{ fmt_pct('overdue_share') }} || ' of the open amount ('
                || {{ fmt_money('overdue_amount') }} || ') is past its close date ('
                || overdue_points || ' of 25 points).'
            when 'deal_size' then
                'Deal size is the weakest component: the average deal is '
                || {{ fmt_money('avg_deal_size') }} || ' (' || deal_size_points
                || ' of 25 points).'
            else
                'Pipeline volume is the weakest component: only ' || opportunity_count
                || ' opportunities close in the quarter (' || volume_points || ' of 25 points).'
        end as key_insight,
    from with_prior_quarter

),

final as (

    select
        cast(quarter as date) as quarter,
        cast({{ quarter_label('quarter') }} as varchar) as quarter_label,
        cast(quarter = {{ quarter_start(as_of_date()) }} as boolean) as is_current_quarter,
        cast(opportunity_count as bigint) as opportunity_count,
        cast(won_count as bigint) as won_count,
        cast(lost_count as bigint) as lost_count,
        cast(open_count as bigint) as open_count,
        cast(round(win_rate, 6) as double) as win_rate,
        cast(round(open_amount, 2) as double) as open_amount,
        cast(round(overdue_amount, 2) as double) as overdue_amount,
        cast(round(overdue_share, 6) as double) as overdue_share,
        cast(round(avg_deal_size, 2) as double) as avg_deal_size,
        cast(round(pipeline_value, 2) as double) as pipeline_value,
        cast(win_rate_points as integer) as win_rate_points,
        cast(overdue_points as integer) as overdue_points,
        cast(deal_size_points as integer) as deal_size_points,
        cast(volume_points as integer) as volume_points,
        cast(pipeline_health_score as integer) as pipeline_health_score,
        cast(health_status as varchar) as health_status,
        cast(risk_level as varchar) as risk_level,
        cast(weakest_component as varchar) as weakest_component,
        cast(round(pipeline_value_qoq_change, 6) as double) as pipeline_value_qoq_change,
        cast(round(win_rate_qoq_change, 6) as double) as win_rate_qoq_change,
        cast(key_insight as varchar) as key_insight,
    from described

)

select * from final
