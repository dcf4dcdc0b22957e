-- One row per calendar month from 24 months before the as-of month through 6 months after:
-- actual won revenue and the forecasts of metrics.md ("Revenue forecast").
--
-- Forecast inputs ("history") are complete months only: months before the as-of month, from
-- the first month holding any opportunity's close_date. The partial as-of month and later
-- months never feed a forecast, and windows simply hold fewer months when they reach them.

{%- set weights = {'rolling_avg': 0.3, 'trend': 0.2, 'seasonal': 0.2, 'pipeline': 0.3} %}

with monthly as (

    select * from {{ ref('int_monthly_revenue') }}

),

as_of as (

    select {{ month_start(as_of_date()) }} as as_of_month

),

spine_bounds as (

    select
        least(
            coalesce(min(monthly.month), as_of.as_of_month),
            cast(as_of.as_of_month - interval 36 month as date)
        ) as first_month,
        cast(as_of.as_of_month + interval 6 month as date) as last_month,
    from as_of
    left join monthly on true
    group by as_of.as_of_month

),

spine as (

    select cast(unnest(generate_series(first_month, last_month, interval 1 month)) as date)
        as month
    from spine_bounds

),

series as (

    select
        spine.month,
        as_of.as_of_month,
        datediff('month', date '2000-01-01', spine.month) as month_index,
        monthly.won_amount,
        monthly.weighted_pipeline,
        -- forecast input: complete months with data only
        case when spine.month < as_of.as_of_month then monthly.won_amount end as history_revenue,
    from spine
    cross join as_of
    left join monthly
        on spine.month = monthly.month

),

history_months as (

    select
        *,
        row_number() over (order by month desc) as months_back,
        count(*) over () as history_month_count,
    from series
    where history_revenue is not null

),

seasonal_window as (

    -- full years available: the most recent whole 12-month blocks of history
    select *
    from history_months
    where months_back <= (history_month_count // 12) * 12
        and history_month_count >= 24

),

seasonal_index as (

    select
        month(month) as calendar_month,
        avg(history_revenue) / nullif((select avg(history_revenue) from seasonal_window), 0)
            as seasonal_index,
    from seasonal_window
    group by month(month)

),

windows as (

    select
        series.*,
        avg(history_revenue) over last_3 as rolling_avg_forecast,
        avg(history_revenue) over last_12 as rolling_12_month_mean,
        regr_slope(history_revenue, month_index) over last_12 as trend_slope,
        regr_intercept(history_revenue, month_index) over last_12 as trend_intercept,
        regr_count(history_revenue, month_index) over last_12 as trend_points,
    from series
    window
        last_3 as (order by month rows between 3 preceding and 1 preceding),
        last_12 as (order by month rows between 12 preceding and 1 preceding)

),

models as (

    select
        windows.month,
        windows.as_of_month,
        windows.month_index,
        windows.history_revenue,
        case when windows.month <= windows.as_of_month then coalesce(windows.won_amount, 0) end
            as actual_revenue,
        windows.rolling_avg_forecast,
        case when windows.trend_points >= 2
            then windows.trend_intercept + windows.trend_slope * windows.month_index
        end as trend_forecast,
        coalesce(seasonal_index.seasonal_index, 1.0) as seasonal_index,
        windows.rolling_12_month_mean * coalesce(seasonal_index.seasonal_index, 1.0)
            as seasonal_forecast,
        case when windows.month >= windows.as_of_month
            then coalesce(windows.weighted_pipeline, 0)
        end as pipeline_forecast,
    from windows
    left join seasonal_index
        on month(windows.month) = seasonal_index.calendar_month

),

combined as (

    -- weighted mean of the available models, weights renormalised over the non-null ones
    select
        *,
        (
            {%- for name, weight in weights.items() %}
            coalesce({{ weight }} * {{ name }}_forecast, 0){{ ' +' if not loop.last }}
            {%- endfor %}
        ) / nullif(
            {%- for name, weight in weights.items() %}
            case when {{ name }}_forecast is not null then {{ weight }} else 0 end
                {{- ' +' if not loop.last }}
            {%- endfor %}
        , 0) as combined_forecast,
    from models

),

errors as (

    select
        *,
        case when history_revenue is not null and combined_forecast is not null
            then history_revenue - combined_forecast
        end as forecast_error,
    from combined

),

accuracy as (

    -- the last 12 complete months before the as-of month
    select
        stddev_samp(forecast_error) as error_stddev,
        avg(abs(forecast_error) / history_revenue) filter (where history_revenue > 0) as mape,
    from errors
    where month >= cast(as_of_month - interval 12 month as date)
        and month < as_of_month

),

scored as (

    select
        errors.*,
        accuracy.error_stddev,
        accuracy.mape,
        errors.combined_forecast - 1.96 * accuracy.error_stddev as forecast_lower,
        errors.combined_forecast + 1.96 * accuracy.error_stddev as forecast_upper,
        1 - accuracy.mape as forecast_accuracy,
        case
            when accuracy.mape is null then 'Insufficient data'
            when accuracy.mape < 0.10 then 'High'
            when accuracy.mape < 0.25 then 'Medium'
            else 'Low'
        end as forecast_quality,
        case
            when errors.combined_forecast is null or errors.combined_forecast <= 0
                or accuracy.error_stddev is null then 'Unknown'
            when 1.96 * accuracy.error_stddev / errors.combined_forecast > 0.50 then 'High'
            when 1.96 * accuracy.error_stddev / errors.combined_forecast > 0.25 then 'Medium'
            else 'Low'
        end as forecast_risk,
    from errors
    cross join accuracy

),

final as (

    -- currency rounded to cents and ratios to 6 decimals, so figures read and compare cleanly
    select
        cast(month as date) as month,
        cast({{ month_label('month') }} as varchar) as month_label,
        cast(round(actual_revenue, 2) as double) as actual_revenue,
        cast(month = as_of_month as boolean) as is_partial_month,
        cast(month > as_of_month as boolean) as is_future_month,
        cast(round(rolling_avg_forecast, 2) as double) as rolling_avg_forecast,
        cast(round(trend_forecast, 2) as double) as trend_forecast,
        cast(round(seasonal_index, 6) as double) as seasonal_index,
        cast(round(seasonal_forecast, 2) as double) as seasonal_forecast,
        cast(round(pipeline_forecast, 2) as double) as pipeline_forecast,
        cast(round(combined_forecast, 2) as double) as combined_forecast,
        cast(round(forecast_lower, 2) as double) as forecast_lower,
        cast(round(forecast_upper, 2) as double) as forecast_upper,
        cast(round(forecast_error, 2) as double) as forecast_error,
        cast(round(forecast_accuracy, 6) as double) as forecast_accuracy,
        cast(round(mape, 6) as double) as mape,
        cast(forecast_quality as varchar) as forecast_quality,
        cast(forecast_risk as varchar) as forecast_risk,
    from scored
    where month >= cast(as_of_month - interval 24 month as date)

)

select * from final
