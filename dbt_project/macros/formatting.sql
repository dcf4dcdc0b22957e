{#- Text helpers for the sentence columns (key_insight, recommendation, mitigation). -#}

{#- Money as the answers write it (whizzy.core.formatting.format_currency): three
    significant digits and a K/M/B suffix. 1234567.8 -> '$1.23M', 84250 -> '$84.3K',
    950 -> '$950', null -> 'n/a'. -#}
{% macro fmt_money(expr) -%}
  coalesce(
    (case when cast({{ expr }} as double) < 0 then '-' else '' end) || '$' ||
    {{ _fmt_scaled('abs(cast(' ~ expr ~ ' as double))') }},
    'n/a')
{%- endmacro %}

{% macro _fmt_scaled(a) -%}
  case
    when round({{ a }}) < 1000 then format('{:,.0f}', round({{ a }}))
    when round({{ a }} / 1e3, 2) < 10 then format('{:.2f}', round({{ a }} / 1e3, 2)) || 'K'
    when round({{ a }} / 1e3, 1) < 100 then format('{:.1f}', round({{ a }} / 1e3, 1)) || 'K'
    when round({{ a }} / 1e3) < 1000 then format('{:.0f}', round({{ a }} / 1e3, 0)) || 'K'
    when round({{ a }} / 1e6, 2) < 10 then format('{:.2f}', round({{ a }} / 1e6, 2)) || 'M'
    when round({{ a }} / 1e6, 1) < 100 then format('{:.1f}', round({{ a }} / 1e6, 1)) || 'M'
    when round({{ a }} / 1e6) < 1000 then format('{:.0f}', round({{ a }} / 1e6, 0)) || 'M'
    when round({{ a }} / 1e9, 2) < 10 then format('{:.2f}', round({{ a }} / 1e9, 2)) || 'B'
    when round({{ a }} / 1e9, 1) < 100 then format('{:.1f}', round({{ a }} / 1e9, 1)) || 'B'
    else format('{:.0f}', round({{ a }} / 1e9, 0)) || 'B'
  end
{%- endmacro %}

{#- 0.3125 -> '31.3%' (null -> 'n/a'). -#}
{% macro fmt_pct(expr) -%}
  coalesce(format('{:.1f}', round(cast({{ expr }} as double) * 100, 1)) || '%', 'n/a')
{%- endmacro %}

{#- 12.345 -> '12.3' (null -> 'n/a'). -#}
{% macro fmt_num(expr, digits=1) -%}
  coalesce(format('{:.{{ digits }}f}', round(cast({{ expr }} as double), {{ digits }})), 'n/a')
{%- endmacro %}
