{#- Time helpers. Every "today" in the project is as_of_date(); every quarter honours the
    fiscal_year_start_month var. -#}

{% macro as_of_date() -%}
  {%- set value = var('as_of_date', none) -%}
  {%- if value is none or (value | string | trim) in ('', 'None', 'null') -%}
    current_date
  {%- else -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
      {{ exceptions.raise_compiler_error("var as_of_date must be YYYY-MM-DD, got '" ~ text ~ "'") }}
    {%- endif -%}
    date '{{ text }}'
  {%- endif -%}
{%- endmacro %}


{% macro fiscal_year_start_month() -%}
  {%- set raw = var('fiscal_year_start_month', 1) -%}
  {%- set month = (raw if raw is not none else 1) | int -%}
  {%- if month < 1 or month > 12 -%}
    {{ exceptions.raise_compiler_error("var fiscal_year_start_month must be 1..12, got " ~ raw) }}
  {%- endif -%}
  {{ return(month) }}
{%- endmacro %}


{#- First day (DATE) of the fiscal quarter holding date_expr. -#}
{% macro quarter_start(date_expr) -%}
  {%- set shift = fiscal_year_start_month() - 1 -%}
  {%- if shift == 0 -%}
    cast(date_trunc('quarter', {{ date_expr }}) as date)
  {%- else -%}
    cast(date_trunc('quarter', date_trunc('month', {{ date_expr }}) - interval {{ shift }} month)
      + interval {{ shift }} month as date)
  {%- endif -%}
{%- endmacro %}


{#- First day (DATE) of the fiscal year holding date_expr. -#}
{% macro fiscal_year_start(date_expr) -%}
  {%- set shift = fiscal_year_start_month() - 1 -%}
  {%- if shift == 0 -%}
    cast(date_trunc('year', {{ date_expr }}) as date)
  {%- else -%}
    cast(date_trunc('year', date_trunc('month', {{ date_expr }}) - interval {{ shift }} month)
      + interval {{ shift }} month as date)
  {%- endif -%}
{%- endmacro %}


{#- 'YYYY-Qn' for a quarter start date. Calendar quarters: the calendar year. Fiscal years
    (start month > 1) are named after the calendar year in which they END (Salesforce's
    default): with start month 2, Feb 2026 - Jan 2027 is fiscal 2027, so 2026-02-01 is
    '2027-Q1' and 2026-11-01 is '2027-Q4'. -#}
{% macro quarter_label(quarter_start_expr) -%}
  {%- set start_month = fiscal_year_start_month() -%}
  {%- if start_month == 1 -%}
    (cast(year({{ quarter_start_expr }}) as varchar) || '-Q'
      || cast(quarter({{ quarter_start_expr }}) as varchar))
  {%- else -%}
    (cast(year({{ quarter_start_expr }} + interval {{ 13 - start_month }} month) as varchar) || '-Q'
      || cast((month({{ quarter_start_expr }}) - {{ start_month }} + 12) % 12 // 3 + 1 as varchar))
  {%- endif -%}
{%- endmacro %}


{#- 'YYYY-MM' for a date. -#}
{% macro month_label(date_expr) -%}
  strftime({{ date_expr }}, '%Y-%m')
{%- endmacro %}


{#- First day (DATE) of the month holding date_expr. -#}
{% macro month_start(date_expr) -%}
  cast(date_trunc('month', {{ date_expr }}) as date)
{%- endmacro %}
