{#- Helpers for staging models that read landed Salesforce tables whose column sets vary
    (Fivetran lands hundreds of extra columns and may or may not add _fivetran_* columns;
    CSV imports may lack optional columns). -#}

{#- Lower-cased column names of a relation (empty while parsing). -#}
{% macro sf_column_names(relation) -%}
  {%- set names = [] -%}
  {%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
      {%- do names.append(column.name | lower) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(names) }}
{%- endmacro %}


{#- Select list: each (source column, output name, type, required) cast to its contract type.
    A missing optional column becomes a typed null; a missing required one stops the build
    with a message naming the table and column. -#}
{% macro sf_select(relation, columns) -%}
  {%- set present = sf_column_names(relation) -%}
  {%- for source_name, output_name, data_type, required in columns %}
    {%- if not execute or source_name in present -%}
      {%- if data_type == 'date' %}
    cast(cast({{ adapter.quote(source_name) }} as timestamp) as date) as {{ output_name }}
      {%- else %}
    cast({{ adapter.quote(source_name) }} as {{ data_type }}) as {{ output_name }}
      {%- endif -%}
    {%- elif required -%}
      {{ exceptions.raise_compiler_error(
          "Raw table " ~ relation ~ " has no column '" ~ source_name ~ "', which the data contract requires."
      ) }}
    {%- else %}
    cast(null as {{ data_type }}) as {{ output_name }}
    {%- endif -%}
    {{- "," if not loop.last }}
  {%- endfor %}
{%- endmacro %}


{#- Predicate keeping live rows: drops is_deleted, _fivetran_deleted and
    _fivetran_active = false rows, each only when the column exists. -#}
{% macro sf_live_rows(relation) -%}
  {%- set present = sf_column_names(relation) -%}
  true
  {%- if 'is_deleted' in present %}
    and not coalesce(cast(is_deleted as boolean), false)
  {%- endif %}
  {%- if '_fivetran_deleted' in present %}
    and not coalesce(cast(_fivetran_deleted as boolean), false)
  {%- endif %}
  {%- if '_fivetran_active' in present %}
    and coalesce(cast(_fivetran_active as boolean), true)
  {%- endif %}
{%- endmacro %}
