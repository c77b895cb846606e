{# Calendar helpers that differ between engines, chosen by adapter.dispatch as in dbt. #}
{% macro month_name(date_expr) -%}
  {{ return(adapter.dispatch('month_name')(date_expr)) }}
{%- endmacro %}

{% macro duckdb__month_name(date_expr) -%}
  monthname({{ date_expr }})
{%- endmacro %}

{% macro default__month_name(date_expr) -%}
  trim(to_char({{ date_expr }}, 'Month'))
{%- endmacro %}
