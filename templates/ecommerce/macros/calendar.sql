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

{# 'YYYY-MM' of a date: DuckDB's strftime, to_char elsewhere (PostgreSQL, Redshift). #}
{% macro year_month(date_expr) -%}
  {{ return(adapter.dispatch('year_month')(date_expr)) }}
{%- endmacro %}

{% macro duckdb__year_month(date_expr) -%}
  strftime({{ date_expr }}, '%Y-%m')
{%- endmacro %}

{% macro default__year_month(date_expr) -%}
  to_char({{ date_expr }}, 'YYYY-MM')
{%- endmacro %}
