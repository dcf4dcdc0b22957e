{#- Text helpers for the sentence columns (key_insight, recommendation, mitigation). -#}

{#- 1234567.8 -> '$1,234,568' (null -> 'n/a'). -#}
{% macro fmt_money(expr) -%}
  coalesce('$' || format('{:,.0f}', cast({{ expr }} as double)), 'n/a')
{%- endmacro %}

{#- 0.3125 -> '31.3%' (null -> 'n/a'). -#}
{% macro fmt_pct(expr) -%}
  coalesce(format('{:.1f}', round(cast({{ expr }} as double) * 100, 1)) || '%', 'n/a')
{%- endmacro %}

{#- 12.345 -> '12.3' (null -> 'n/a'). -#}
{% macro fmt_num(expr, digits=1) -%}
  coalesce(format('{:.{{ digits }}f}', round(cast({{ expr }} as double), {{ digits }})), 'n/a')
{%- endmacro %}
