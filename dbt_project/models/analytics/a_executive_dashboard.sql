-- Exactly one row (dashboard_type = 'executive_dashboard'): the headline KPIs as of the
-- build's as-of date. A table like the other analytics models: every figure is fixed by the
-- build's as-of date, and as a view the briefing recomputed it over the facts on every
-- question (about 30 ms at 1M opportunities; a table row reads in well under 1 ms).

with opportunities as (

    select * from {{ ref('fct_opportunity') }}

),

health as (

    select * from {{ ref('m_pipeline_health') }}

),

forecasting as (

    select * from {{ ref('m_revenue_forecasting') }}

),

slippage as (

    select * from {{ ref('m_slippage_impact_quarter') }}

),

velocity as (

    select * from {{ ref('m_deal_velocity_analysis') }}

),

as_of as (

    select
        {{ as_of_date() }} as as_of_date,
        {{ quarter_start(as_of_date()) }} as current_quarter,
        {{ month_start(as_of_date()) }} as current_month,
        {{ fiscal_year_start(as_of_date()) }} as current_fiscal_year,
        -- the same days of the period before (a won figure's change on the summary)
        cast({{ quarter_start(as_of_date()) }} - interval 3 month as date) as prior_quarter,
        cast({{ month_start(as_of_date()) }} - interval 1 month as date) as prior_month,
        cast({{ fiscal_year_start(as_of_date()) }} - interval 1 year as date)
            as prior_fiscal_year,
        cast({{ as_of_date() }} - interval 3 month as date) as as_of_date_prior_quarter,
        cast({{ as_of_date() }} - interval 1 month as date) as as_of_date_prior_month,
        cast({{ as_of_date() }} - interval 1 year as date) as as_of_date_prior_year,

),

revenue as (

    select
        coalesce(sum(opportunities.amount) filter (
            where opportunities.is_won
                and opportunities.close_date between as_of.current_quarter and as_of.as_of_date
        ), 0) as qtd_won_revenue,
        coalesce(sum(opportunities.amount) filter (
            where opportunities.is_won
                and opportunities.close_date between as_of.current_month and as_of.as_of_date
        ), 0) as mtd_won_revenue,
        coalesce(sum(opportunities.amount) filter (
            where opportunities.is_won
                and opportunities.close_date between as_of.current_fiscal_year
                    and as_of.as_of_date
        ), 0) as ytd_won_revenue,
        coalesce(sum(opportunities.amount) filter (
            where opportunities.is_won
                and opportunities.close_date between as_of.prior_quarter
                    and as_of.as_of_date_prior_quarter
        ), 0) as qtd_won_revenue_prior,
        coalesce(sum(opportunities.amount) filter (
            where opportunities.is_won
                and opportunities.close_date between as_of.prior_month
                    and as_of.as_of_date_prior_month
        ), 0) as mtd_won_revenue_prior,
        coalesce(sum(opportunities.amount) filter (
            where opportunities.is_won
                and opportunities.close_date between as_of.prior_fiscal_year
                    and as_of.as_of_date_prior_year
        ), 0) as ytd_won_revenue_prior,
        coalesce(sum(opportunities.amount) filter (where opportunities.is_open), 0)
            as current_pipeline_value,
        coalesce(sum(opportunities.weighted_amount) filter (where opportunities.is_open), 0)
            as weighted_pipeline,
        coalesce(sum(opportunities.amount) filter (where opportunities.is_overdue), 0)
            as overdue_amount,
        count(*) filter (where opportunities.is_open) as open_count,
        count(*) filter (
            where opportunities.is_won and {{ in_overall_window('opportunities.close_date') }}
        ) as overall_won_count,
        count(*) filter (
            where opportunities.is_closed
                and {{ in_overall_window('opportunities.close_date') }}
        ) as overall_closed_count,
    from opportunities
    cross join as_of

),

current_health as (

    select health.*
    from health
    inner join as_of
        on health.quarter = as_of.current_quarter

),

prior_health as (

    select health.pipeline_health_score
    from health
    inner join as_of
        on health.quarter = as_of.prior_quarter

),

next_month as (

    select forecasting.combined_forecast as next_month_forecast
    from forecasting
    inner join as_of
        on forecasting.month = cast(as_of.current_month + interval 1 month as date)

),

accuracy as (

    select forecasting.forecast_accuracy, forecasting.forecast_quality
    from forecasting
    inner join as_of
        on forecasting.month = as_of.current_month

),

current_slippage as (

    select slippage.slippage_rate
    from slippage
    inner join as_of
        on slippage.quarter = as_of.current_quarter

),

top_bottleneck as (

    select dimension as stage_name, avg_days_in_stage
    from velocity
    where metric_type = 'stage_velocity' and is_bottleneck
    order by avg_days_in_stage desc, dimension
    limit 1

),

assembled as (

    select
        as_of.as_of_date,
        as_of.current_quarter,
        revenue.*,
        {{ ratio('revenue.overdue_amount', 'revenue.current_pipeline_value') }} as overdue_share,
        {{ ratio('revenue.overall_won_count', 'revenue.overall_closed_count') }}
            as overall_win_rate,
        current_health.quarter_label as current_quarter_label,
        current_health.pipeline_health_score as pipeline_health,
        prior_health.pipeline_health_score as pipeline_health_prior,
        current_health.health_status,
        current_health.risk_level,
        current_health.key_insight as health_insight,
        next_month.next_month_forecast,
        accuracy.forecast_accuracy,
        accuracy.forecast_quality,
        current_slippage.slippage_rate as slippage_rate_current_quarter,
        top_bottleneck.stage_name as top_bottleneck_stage,
        top_bottleneck.avg_days_in_stage as top_bottleneck_days,
    from as_of
    cross join revenue
    left join current_health on true
    left join prior_health on true
    left join next_month on true
    left join accuracy on true
    left join current_slippage on true
    left join top_bottleneck on true

),

described as (

    select
        *,
        case
            when pipeline_health is null then
                'No opportunity closes in the current quarter; '
                || {{ fmt_money('qtd_won_revenue') }} || ' won so far this quarter and '
                || {{ fmt_money('current_pipeline_value') }} || ' of open pipeline.'
            else
                current_quarter_label || ' pipeline health is ' || pipeline_health || '/100 ('
                || health_status || ', ' || risk_level || ' risk) with '
                || {{ fmt_money('qtd_won_revenue') }} || ' won so far. ' || health_insight
        end as key_insight,
        case
            when open_count = 0 and overall_closed_count = 0 then
                'No open or recently closed opportunities to analyse: load or generate data, '
                || 'then rebuild.'
            when overdue_share > 0.30 then
                'Clean up overdue pipeline: ' || {{ fmt_pct('overdue_share') }}
                || ' of open pipeline (' || {{ fmt_money('overdue_amount') }}
                || ') is past its close date; update close dates or close out stale deals.'
            when top_bottleneck_stage is not null then
                'Unblock ' || top_bottleneck_stage || ': deals spend '
                || {{ fmt_num('top_bottleneck_days') }}
                || ' days there on average; review every deal in that stage with its owner.'
            when overall_win_rate < 0.20 then
                'Tighten qualification: the overall win rate is '
                || {{ fmt_pct('overall_win_rate') }}
                || '; focus effort on deals that match your winning profile.'
            when slippage_rate_current_quarter > 0.30 then
                'Firm up close dates: ' || {{ fmt_pct('slippage_rate_current_quarter') }}
                || ' of this quarter''s deals have slipped out of it.'
            else
                'Pipeline is on track; keep building pipeline for next quarter (weighted '
                || {{ fmt_money('weighted_pipeline') }} || ' open).'
        end as recommendation,
    from assembled

),

final as (

    select
        cast('executive_dashboard' as varchar) as dashboard_type,
        cast(as_of_date as date) as as_of_date,
        cast(current_quarter as date) as current_quarter,
        cast(current_quarter_label as varchar) as current_quarter_label,
        cast(round(qtd_won_revenue, 2) as double) as qtd_won_revenue,
        cast(round(mtd_won_revenue, 2) as double) as mtd_won_revenue,
        cast(round(ytd_won_revenue, 2) as double) as ytd_won_revenue,
        cast(round(qtd_won_revenue_prior, 2) as double) as qtd_won_revenue_prior,
        cast(round(mtd_won_revenue_prior, 2) as double) as mtd_won_revenue_prior,
        cast(round(ytd_won_revenue_prior, 2) as double) as ytd_won_revenue_prior,
        cast(round(current_pipeline_value, 2) as double) as current_pipeline_value,
        cast(round(weighted_pipeline, 2) as double) as weighted_pipeline,
        cast(open_count as bigint) as open_count,
        cast(round(overdue_amount, 2) as double) as overdue_amount,
        cast(round(overdue_share, 6) as double) as overdue_share,
        cast(round(overall_win_rate, 6) as double) as overall_win_rate,
        cast(pipeline_health as integer) as pipeline_health,
        cast(pipeline_health_prior as integer) as pipeline_health_prior,
        cast(health_status as varchar) as health_status,
        cast(risk_level as varchar) as risk_level,
        cast(round(next_month_forecast, 2) as double) as next_month_forecast,
        cast(round(forecast_accuracy, 6) as double) as forecast_accuracy,
        cast(forecast_quality as varchar) as forecast_quality,
        cast(round(slippage_rate_current_quarter, 6) as double) as slippage_rate_current_quarter,
        cast(top_bottleneck_stage as varchar) as top_bottleneck_stage,
        cast(key_insight as varchar) as key_insight,
        cast(recommendation as varchar) as recommendation,
    from described

)

select * from final
