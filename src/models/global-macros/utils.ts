/**
 * dbt's cross-database macros (dbt-adapters' global_project `macros/utils/*.sql` and
 * `macros/adapters/timestamps.sql`), as Jinja: each public macro dispatches in the `dbt`
 * namespace, so a project (`duckdb__dateadd` in its macros) or a package listed in `dispatch:`
 * replaces any implementation exactly as in dbt. The `default__` bodies give the SQL dbt's
 * defaults give; the engines' own versions are in postgres.ts and duckdb.ts.
 */

export const UTILS_MACROS_FILE = '<dbt global_project macros/utils>';

export const UTILS_MACROS = String.raw`
{# ---- data types: api.Column.translate_type, as dbt's defaults ---- #}

{%- macro type_string() -%}{{ return(adapter.dispatch('type_string', 'dbt')()) }}{%- endmacro -%}
{%- macro default__type_string() -%}{{ return(api.Column.translate_type('string')) }}{%- endmacro -%}

{%- macro type_timestamp() -%}{{ return(adapter.dispatch('type_timestamp', 'dbt')()) }}{%- endmacro -%}
{%- macro default__type_timestamp() -%}{{ return(api.Column.translate_type('timestamp')) }}{%- endmacro -%}

{%- macro type_float() -%}{{ return(adapter.dispatch('type_float', 'dbt')()) }}{%- endmacro -%}
{%- macro default__type_float() -%}{{ return(api.Column.translate_type('float')) }}{%- endmacro -%}

{%- macro type_numeric() -%}{{ return(adapter.dispatch('type_numeric', 'dbt')()) }}{%- endmacro -%}
{%- macro default__type_numeric() -%}{{ return(api.Column.numeric_type('numeric', 28, 6)) }}{%- endmacro -%}

{%- macro type_bigint() -%}{{ return(adapter.dispatch('type_bigint', 'dbt')()) }}{%- endmacro -%}
{%- macro default__type_bigint() -%}{{ return(api.Column.translate_type('bigint')) }}{%- endmacro -%}

{%- macro type_int() -%}{{ return(adapter.dispatch('type_int', 'dbt')()) }}{%- endmacro -%}
{%- macro default__type_int() -%}{{ return(api.Column.translate_type('integer')) }}{%- endmacro -%}

{%- macro type_boolean() -%}{{ return(adapter.dispatch('type_boolean', 'dbt')()) }}{%- endmacro -%}
{%- macro default__type_boolean() -%}{{ return(api.Column.translate_type('boolean')) }}{%- endmacro -%}

{# ---- timestamps ---- #}

{%- macro current_timestamp() -%}{{ adapter.dispatch('current_timestamp', 'dbt')() }}{%- endmacro -%}
{%- macro default__current_timestamp() -%}
  {{ exceptions.raise_not_implemented('current_timestamp macro not implemented for adapter ' + adapter.type()) }}
{%- endmacro -%}

{%- macro snapshot_get_time() -%}{{ adapter.dispatch('snapshot_get_time', 'dbt')() }}{%- endmacro -%}
{%- macro default__snapshot_get_time() -%}{{ current_timestamp() }}{%- endmacro -%}

{%- macro snapshot_string_as_time(timestamp) -%}{{ adapter.dispatch('snapshot_string_as_time', 'dbt')(timestamp) }}{%- endmacro -%}
{%- macro default__snapshot_string_as_time(timestamp) -%}
  {{ exceptions.raise_not_implemented('snapshot_string_as_time macro not implemented for adapter ' + adapter.type()) }}
{%- endmacro -%}

{# Deprecated in dbt, kept for projects that called dbt_utils.current_timestamp(). #}
{%- macro current_timestamp_backcompat() -%}{{ return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) }}{%- endmacro -%}
{%- macro default__current_timestamp_backcompat() -%}current_timestamp::timestamp{%- endmacro -%}

{%- macro current_timestamp_in_utc_backcompat() -%}{{ return(adapter.dispatch('current_timestamp_in_utc_backcompat', 'dbt')()) }}{%- endmacro -%}
{%- macro default__current_timestamp_in_utc_backcompat() -%}{{ return(adapter.dispatch('current_timestamp_backcompat', 'dbt')()) }}{%- endmacro -%}

{# ---- aggregates ---- #}

{%- macro any_value(expression) -%}{{ return(adapter.dispatch('any_value', 'dbt')(expression)) }}{%- endmacro -%}
{%- macro default__any_value(expression) -%}any_value({{ expression }}){%- endmacro -%}

{%- macro bool_or(expression) -%}{{ return(adapter.dispatch('bool_or', 'dbt')(expression)) }}{%- endmacro -%}
{%- macro default__bool_or(expression) -%}bool_or({{ expression }}){%- endmacro -%}

{%- macro listagg(measure, delimiter_text="','", order_by_clause=none, limit_num=none) -%}
  {{ return(adapter.dispatch('listagg', 'dbt')(measure, delimiter_text, order_by_clause, limit_num)) }}
{%- endmacro -%}
{%- macro default__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
  {%- if limit_num -%}
    array_to_string(array_slice(array_agg({{ measure }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}, 0, {{ limit_num }}), {{ delimiter_text }})
  {%- else -%}
    listagg({{ measure }}, {{ delimiter_text }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
  {%- endif -%}
{%- endmacro -%}

{# ---- arrays ---- #}

{%- macro array_construct(inputs=[], data_type=api.Column.translate_type('integer')) -%}
  {{ return(adapter.dispatch('array_construct', 'dbt')(inputs, data_type)) }}
{%- endmacro -%}
{%- macro default__array_construct(inputs, data_type) -%}
  {%- if inputs | length > 0 -%}array[ {{ inputs | join(' , ') }} ]{%- else -%}array[]::{{ data_type }}[]{%- endif -%}
{%- endmacro -%}

{%- macro array_append(array, new_element) -%}{{ return(adapter.dispatch('array_append', 'dbt')(array, new_element)) }}{%- endmacro -%}
{%- macro default__array_append(array, new_element) -%}array_append({{ array }}, {{ new_element }}){%- endmacro -%}

{%- macro array_concat(array_1, array_2) -%}{{ return(adapter.dispatch('array_concat', 'dbt')(array_1, array_2)) }}{%- endmacro -%}
{%- macro default__array_concat(array_1, array_2) -%}array_cat({{ array_1 }}, {{ array_2 }}){%- endmacro -%}

{# ---- casts and literals ---- #}

{%- macro cast(field, type) -%}{{ return(adapter.dispatch('cast', 'dbt')(field, type)) }}{%- endmacro -%}
{%- macro default__cast(field, type) -%}cast({{ field }} as {{ type }}){%- endmacro -%}

{# Most databases have no try-cast, so dbt's default is a plain cast (errors on bad values). #}
{%- macro safe_cast(field, type) -%}{{ return(adapter.dispatch('safe_cast', 'dbt')(field, type)) }}{%- endmacro -%}
{%- macro default__safe_cast(field, type) -%}cast({{ field }} as {{ type }}){%- endmacro -%}

{%- macro cast_bool_to_text(field) -%}{{ return(adapter.dispatch('cast_bool_to_text', 'dbt')(field)) }}{%- endmacro -%}
{%- macro default__cast_bool_to_text(field) -%}cast({{ field }} as {{ api.Column.translate_type('string') }}){%- endmacro -%}

{%- macro string_literal(value) -%}{{ return(adapter.dispatch('string_literal', 'dbt')(value)) }}{%- endmacro -%}
{%- macro default__string_literal(value) -%}'{{ value }}'{%- endmacro -%}

{%- macro escape_single_quotes(expression) -%}{{ return(adapter.dispatch('escape_single_quotes', 'dbt')(expression)) }}{%- endmacro -%}
{%- macro default__escape_single_quotes(expression) -%}{{ expression | replace("'", "''") }}{%- endmacro -%}

{%- macro equals(expr1, expr2) -%}{{ return(adapter.dispatch('equals', 'dbt')(expr1, expr2)) }}{%- endmacro -%}
{# NULL = NULL counts as equal only under the enable_truthy_nulls_equals_macro behavior flag. #}
{%- macro default__equals(expr1, expr2) -%}
  {%- if adapter.behavior.enable_truthy_nulls_equals_macro.no_warn -%}
    case when (({{ expr1 }} = {{ expr2 }}) or ({{ expr1 }} is null and {{ expr2 }} is null)) then 0 else 1 end = 0
  {%- else -%}
    ({{ expr1 }} = {{ expr2 }})
  {%- endif -%}
{%- endmacro -%}

{# ---- set operators ---- #}

{%- macro except() -%}{{ return(adapter.dispatch('except', 'dbt')()) }}{%- endmacro -%}
{%- macro default__except() -%}except{%- endmacro -%}

{%- macro intersect() -%}{{ return(adapter.dispatch('intersect', 'dbt')()) }}{%- endmacro -%}
{%- macro default__intersect() -%}intersect{%- endmacro -%}

{# ---- strings ---- #}

{%- macro concat(fields) -%}{{ return(adapter.dispatch('concat', 'dbt')(fields)) }}{%- endmacro -%}
{%- macro default__concat(fields) -%}
  {%- if fields | length == 1 -%}{{ fields[0] }}{%- else -%}{{ fields | join(' || ') }}{%- endif -%}
{%- endmacro -%}

{%- macro hash(field) -%}{{ return(adapter.dispatch('hash', 'dbt')(field)) }}{%- endmacro -%}
{%- macro default__hash(field) -%}md5(cast({{ field }} as {{ api.Column.translate_type('string') }})){%- endmacro -%}

{%- macro length(expression) -%}{{ return(adapter.dispatch('length', 'dbt')(expression)) }}{%- endmacro -%}
{%- macro default__length(expression) -%}length({{ expression }}){%- endmacro -%}

{%- macro position(substring_text, string_text) -%}{{ return(adapter.dispatch('position', 'dbt')(substring_text, string_text)) }}{%- endmacro -%}
{%- macro default__position(substring_text, string_text) -%}position({{ substring_text }} in {{ string_text }}){%- endmacro -%}

{%- macro replace(field, old_chars, new_chars) -%}{{ return(adapter.dispatch('replace', 'dbt')(field, old_chars, new_chars)) }}{%- endmacro -%}
{%- macro default__replace(field, old_chars, new_chars) -%}replace({{ field }}, {{ old_chars }}, {{ new_chars }}){%- endmacro -%}

{%- macro right(string_text, length_expression) -%}{{ return(adapter.dispatch('right', 'dbt')(string_text, length_expression)) }}{%- endmacro -%}
{%- macro default__right(string_text, length_expression) -%}right({{ string_text }}, {{ length_expression }}){%- endmacro -%}

{%- macro split_part(string_text, delimiter_text, part_number) -%}
  {{ return(adapter.dispatch('split_part', 'dbt')(string_text, delimiter_text, part_number)) }}
{%- endmacro -%}
{%- macro default__split_part(string_text, delimiter_text, part_number) -%}
  split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
{%- endmacro -%}
{# A negative part counts from the end: the position is the number of delimiters (measured by
   how much shorter the text is without them, so one-character delimiters) plus 2 plus it. #}
{%- macro _split_part_negative(string_text, delimiter_text, part_number) -%}
  split_part({{ string_text }}, {{ delimiter_text }}, length({{ string_text }}) - length(replace({{ string_text }}, {{ delimiter_text }}, '')) + 2 + {{ part_number }})
{%- endmacro -%}

{# ---- dates ---- #}

{%- macro date(year, month, day) -%}{{ return(adapter.dispatch('date', 'dbt')(year, month, day)) }}{%- endmacro -%}
{%- macro default__date(year, month, day) -%}
  {%- set dt = modules.datetime.date(year, month, day) -%}
  to_date('{{ dt.strftime('%Y-%m-%d') }}', 'YYYY-MM-DD')
{%- endmacro -%}

{%- macro date_trunc(datepart, date) -%}{{ return(adapter.dispatch('date_trunc', 'dbt')(datepart, date)) }}{%- endmacro -%}
{%- macro default__date_trunc(datepart, date) -%}date_trunc('{{ datepart }}', {{ date }}){%- endmacro -%}

{%- macro dateadd(datepart, interval, from_date_or_timestamp) -%}
  {{ return(adapter.dispatch('dateadd', 'dbt')(datepart, interval, from_date_or_timestamp)) }}
{%- endmacro -%}
{%- macro default__dateadd(datepart, interval, from_date_or_timestamp) -%}
  dateadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro -%}

{%- macro datediff(first_date, second_date, datepart) -%}
  {{ return(adapter.dispatch('datediff', 'dbt')(first_date, second_date, datepart)) }}
{%- endmacro -%}
{%- macro default__datediff(first_date, second_date, datepart) -%}
  datediff({{ datepart }}, {{ first_date }}, {{ second_date }})
{%- endmacro -%}

{%- macro last_day(date, datepart) -%}{{ return(adapter.dispatch('last_day', 'dbt')(date, datepart)) }}{%- endmacro -%}
{# The day before the start of the next period; not dispatched, the engines' versions reuse it. #}
{%- macro default_last_day(date, datepart) -%}
  cast({{ dbt.dateadd('day', '-1', dbt.dateadd(datepart, '1', dbt.date_trunc(datepart, date))) }} as date)
{%- endmacro -%}
{%- macro default__last_day(date, datepart) -%}{{ dbt.default_last_day(date, datepart) }}{%- endmacro -%}

{# ---- series and spines ---- #}

{%- macro get_powers_of_two(upper_bound) -%}{{ return(adapter.dispatch('get_powers_of_two', 'dbt')(upper_bound)) }}{%- endmacro -%}
{# The smallest n with 2^n >= upper_bound (at least 1): how many bits generate_series cross-joins. #}
{%- macro default__get_powers_of_two(upper_bound) -%}
  {%- if upper_bound <= 0 -%}{{ exceptions.raise_compiler_error('upper bound must be positive') }}{%- endif -%}
  {%- for _ in range(1, 100) -%}
    {%- if upper_bound <= 2 ** loop.index -%}{{ return(loop.index) }}{%- endif -%}
  {%- endfor -%}
{%- endmacro -%}

{%- macro generate_series(upper_bound) -%}{{ return(adapter.dispatch('generate_series', 'dbt')(upper_bound)) }}{%- endmacro -%}
{# The numbers 1..upper_bound as generated_number, from n cross-joined copies of {0, 1}. #}
{%- macro default__generate_series(upper_bound) -%}
  {%- set n = dbt.get_powers_of_two(upper_bound) %}
    with p as (
        select 0 as generated_number union all select 1
    ), unioned as (
    select
    {% for i in range(n) -%}
    p{{ i }}.generated_number * power(2, {{ i }}){{ ' + ' if not loop.last }}
    {% endfor -%}
    + 1 as generated_number
    from
    {% for i in range(n) -%}
    p as p{{ i }}{{ ' cross join ' if not loop.last }}
    {% endfor -%}
    )
    select *
    from unioned
    where generated_number <= {{ upper_bound }}
    order by generated_number
{%- endmacro -%}

{%- macro get_intervals_between(start_date, end_date, datepart) -%}
  {{ return(adapter.dispatch('get_intervals_between', 'dbt')(start_date, end_date, datepart)) }}
{%- endmacro -%}
{# Asks the database for datediff(start, end); 1 while parsing, when nothing runs. #}
{%- macro default__get_intervals_between(start_date, end_date, datepart) -%}
  {%- call statement('get_intervals_between', fetch_result=True) -%}
    select {{ dbt.datediff(start_date, end_date, datepart) }}
  {%- endcall -%}
  {%- set value_list = load_result('get_intervals_between') -%}
  {%- if value_list and value_list['data'] -%}
    {%- set values = value_list['data'] | map(attribute=0) | list -%}
    {{ return(values[0]) }}
  {%- else -%}
    {{ return(1) }}
  {%- endif -%}
{%- endmacro -%}

{%- macro date_spine(datepart, start_date, end_date) -%}
  {{ return(adapter.dispatch('date_spine', 'dbt')(datepart, start_date, end_date)) }}
{%- endmacro -%}
{# One row per datepart from start_date up to (not including) end_date, as date_<datepart>. #}
{%- macro default__date_spine(datepart, start_date, end_date) %}
    with rawdata as (
        {{ dbt.generate_series(dbt.get_intervals_between(start_date, end_date, datepart)) }}
    ),
    all_periods as (
        select (
            {{ dbt.dateadd(datepart, 'row_number() over (order by 1) - 1', start_date) }}
        ) as date_{{ datepart }}
        from rawdata
    ),
    filtered as (
        select *
        from all_periods
        where date_{{ datepart }} <= {{ end_date }}
    )
    select * from filtered
{% endmacro -%}
`;
