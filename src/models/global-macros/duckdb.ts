/**
 * dbt-duckdb's versions of the cross-database macros (its `macros/utils/*.sql` and the
 * timestamp macros of its `adapters.sql`): the SQL dbt-duckdb emits, loaded only when the
 * target is DuckDB.
 */

export const DUCKDB_MACROS_FILE = '<dbt-duckdb macros/utils>';

export const DUCKDB_MACROS = String.raw`
{%- macro duckdb__current_timestamp() -%}now(){%- endmacro -%}

{%- macro duckdb__snapshot_string_as_time(timestamp) -%}
  {{ return("'" ~ timestamp ~ "'::timestamp") }}
{%- endmacro -%}

{%- macro duckdb__snapshot_get_time() -%}{{ current_timestamp() }}::timestamp{%- endmacro -%}

{%- macro duckdb__any_value(expression) -%}arbitrary({{ expression }}){%- endmacro -%}

{%- macro duckdb__date(year, month, day) -%}make_date({{ year }}, {{ month }}, {{ day }}){%- endmacro -%}

{# An INTERVAL times the amount, so a column works as well as a literal; DuckDB has no quarter
   interval (3 months) and week is spelled as 7 days. #}
{%- macro duckdb__dateadd(datepart, interval, from_date_or_timestamp) -%}
  {%- set unit = datepart | lower -%}
  {%- if unit == 'quarter' -%}
    ({{ from_date_or_timestamp }} + (cast({{ interval }} as bigint) * 3) * interval 1 month)
  {%- elif unit == 'week' -%}
    ({{ from_date_or_timestamp }} + (cast({{ interval }} as bigint) * 7) * interval 1 day)
  {%- else -%}
    ({{ from_date_or_timestamp }} + cast({{ interval }} as bigint) * interval 1 {{ unit }})
  {%- endif -%}
{%- endmacro -%}

{# date_diff counts boundaries crossed; weeks as dbt-postgres counts them (whole weeks of days
   plus one when the weekday wraps). #}
{%- macro duckdb__datediff(first_date, second_date, datepart) -%}
  {%- if datepart == 'week' -%}
    ({{ datediff(first_date, second_date, 'day') }} // 7 + case
        when date_part('dow', ({{ first_date }})::timestamp) <= date_part('dow', ({{ second_date }})::timestamp) then
            case when {{ first_date }} <= {{ second_date }} then 0 else -1 end
        else
            case when {{ first_date }} <= {{ second_date }} then 1 else 0 end
    end)
  {%- else -%}
    (date_diff('{{ datepart }}', {{ first_date }}::timestamp, {{ second_date }}::timestamp))
  {%- endif -%}
{%- endmacro -%}

{%- macro duckdb__generate_series(upper_bound) -%}
  select generate_series as generated_number from generate_series(1, {{ upper_bound }})
{%- endmacro -%}

{%- macro duckdb__last_day(date, datepart) -%}
  {%- if datepart == 'quarter' -%}
    cast({{ dbt.dateadd('day', '-1', dbt.dateadd('month', '3', dbt.date_trunc(datepart, date))) }} as date)
  {%- else -%}
    {{ dbt.default_last_day(date, datepart) }}
  {%- endif -%}
{%- endmacro -%}

{%- macro duckdb__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
  {%- if limit_num -%}
    list_aggr((array_agg({{ measure }}{% if order_by_clause %} {{ order_by_clause }}{% endif %}))[1:{{ limit_num }}], 'string_agg', {{ delimiter_text }})
  {%- else -%}
    string_agg({{ measure }}, {{ delimiter_text }}{% if order_by_clause %} {{ order_by_clause }}{% endif %})
  {%- endif -%}
{%- endmacro -%}

{# string_split is 1-based and NULL past the end (split_part gives ''); negative parts count
   from the end as dbt's default does. #}
{%- macro duckdb__split_part(string_text, delimiter_text, part_number) -%}
  {%- if part_number >= 0 -%}
    coalesce(string_split({{ string_text }}, {{ delimiter_text }})[ {{ part_number }} ], '')
  {%- else -%}
    {{ dbt._split_part_negative(string_text, delimiter_text, part_number) }}
  {%- endif -%}
{%- endmacro -%}
`;
