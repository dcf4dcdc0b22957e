{#- Business rules shared by several models (definitions: docs/metrics.md). -#}

{#- Deal size band of an amount: '<25k', '25k-50k', '50k-100k', '100k-250k', '250k+', or
    'unknown' when the amount is null. Lower bounds are inclusive. -#}
{% macro deal_size_band(amount_expr) -%}
  case
    when {{ amount_expr }} is null then 'unknown'
    when {{ amount_expr }} < 25000 then '<25k'
    when {{ amount_expr }} < 50000 then '25k-50k'
    when {{ amount_expr }} < 100000 then '50k-100k'
    when {{ amount_expr }} < 250000 then '100k-250k'
    else '250k+'
  end
{%- endmacro %}

{#- metrics.md: bottleneck_level from average days in stage (> 60 Critical, > 30 High,
    > 14 Moderate, else Low; a null average is Low). -#}
{% macro bottleneck_level(avg_days_expr) -%}
  case
    when {{ avg_days_expr }} > 60 then 'Critical'
    when {{ avg_days_expr }} > 30 then 'High'
    when {{ avg_days_expr }} > 14 then 'Moderate'
    else 'Low'
  end
{%- endmacro %}

{#- won / (won + lost) by count as DOUBLE; null when nothing closed. -#}
{% macro ratio(numerator, denominator) -%}
  (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}

{#- "Overall" window of metrics.md: the trailing four full quarters plus the current
    quarter to date, i.e. close_date between (start of A's quarter - 12 months) and A. -#}
{% macro in_overall_window(date_expr) -%}
  ({{ date_expr }} >= cast({{ quarter_start(as_of_date()) }} - interval 12 month as date)
    and {{ date_expr }} <= {{ as_of_date() }})
{%- endmacro %}
