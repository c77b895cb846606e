/**
 * The models of crossdb-macros.test.ts: each calls dbt's cross-database macros through the `dbt`
 * namespace on fixed inputs, one concern per model so a broken macro fails only its own model.
 */
const PARTS = ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second'];

export const MODELS: Record<string, string> = {
  types: `select
  '{{ dbt.type_string() }}|{{ dbt.type_timestamp() }}|{{ dbt.type_float() }}|{{ dbt.type_numeric() }}|{{ dbt.type_bigint() }}|{{ dbt.type_int() }}|{{ dbt.type_boolean() }}' as type_names,
  cast('12.5' as {{ dbt.type_numeric() }}) as num,
  'n' || cast(cast('9007199254740993' as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }}) as big,
  cast(0.1 as {{ dbt.type_float() }}) = cast(0.1 as double precision) as float_is_double,
  cast('42' as {{ dbt.type_int() }}) as int_value,
  cast('true' as {{ dbt.type_boolean() }}) as bool_value,
  cast('2025-11-28 13:04:05' as {{ dbt.type_timestamp() }}) as ts,
  cast(cast('abc' as {{ dbt.type_string() }}) as {{ dbt.type_string() }}) as str`,

  dateadd: `with t as (
  select cast('2024-01-31' as date) as d, cast('2024-02-29 23:59:59' as timestamp) as ts, 2 as n
)
select
{%- for part in ${JSON.stringify(PARTS)} if not (target.type == 'postgres' and part == 'quarter') %}
  cast({{ dbt.dateadd(part, 'n', 'd') }} as timestamp) as d_{{ part }},
  cast({{ dbt.dateadd(part, -1, 'ts') }} as timestamp) as ts_{{ part }}{{ ',' if not loop.last }}
{%- endfor %}
from t`,

  datediff: `with t as (
  select
    cast('2023-12-31 23:59:59' as timestamp) as a,
    cast('2024-01-01 00:00:00' as timestamp) as b,
    cast('2024-03-15' as date) as c,
    cast('2024-01-10' as date) as d,
    cast('2024-06-08' as date) as sat,
    cast('2024-06-09' as date) as sun
)
select
{%- for part in ${JSON.stringify(PARTS)} %}
  cast({{ dbt.datediff('a', 'b', part) }} as bigint) as ab_{{ part }},
  cast({{ dbt.datediff('c', 'd', part) }} as bigint) as cd_{{ part }},
{%- endfor %}
  cast({{ dbt.datediff('sat', 'sun', 'week') }} as bigint) as sat_sun_week,
  cast({{ dbt.datediff('sun', 'sat', 'week') }} as bigint) as sun_sat_week,
  cast({{ dbt.datediff('d', 'c', 'week') }} as bigint) as dc_week
from t`,

  date_trunc: `with t as (select cast('2024-08-17 13:04:05' as timestamp) as ts)
select
{%- for part in ['year', 'quarter', 'month', 'week', 'day', 'hour'] %}
  cast({{ dbt.date_trunc(part, 'ts') }} as timestamp) as {{ part }}{{ ',' if not loop.last }}
{%- endfor %}
from t`,

  date: `select {{ dbt.date(2024, 2, 29) }} as leap_day, {{ dbt.date(2023, 12, 1) }} as december`,

  last_day: `with t as (select cast('2024-02-10' as date) as leap, cast('2023-11-30' as date) as nov)
select
  {{ dbt.last_day('leap', 'month') }} as leap_month,
  {{ dbt.last_day('leap', 'quarter') }} as leap_quarter,
  {{ dbt.last_day('leap', 'year') }} as leap_year,
  {{ dbt.last_day('nov', 'month') }} as nov_month,
  {{ dbt.last_day('nov', 'quarter') }} as nov_quarter
from t`,

  strings: `with t as (select 'a,b,c' as csv, cast(null as varchar) as nothing, true as yes, false as no)
select
  {{ dbt.concat(["'x'", "'-'", 'csv']) }} as concat3,
  {{ dbt.concat(['csv']) }} as concat1,
  {{ dbt.concat(["'x'", 'nothing']) }} as concat_null,
  {{ dbt.hash('csv') }} as hash_csv,
  cast({{ dbt.length('csv') }} as bigint) as length_csv,
  cast({{ dbt.position("','", 'csv') }} as bigint) as position_comma,
  cast({{ dbt.position("'z'", 'csv') }} as bigint) as position_missing,
  {{ dbt.replace('csv', "','", "'|'") }} as replaced,
  {{ dbt.right('csv', 3) }} as right3,
  {{ dbt.split_part('csv', "','", 2) }} as part_2,
  {{ dbt.split_part('csv', "','", -1) }} as part_last,
  {{ dbt.split_part('csv', "','", -3) }} as part_first_from_end,
  {{ dbt.split_part('csv', "','", 5) }} as part_past_end,
  {{ dbt.string_literal("it is") }} as literal,
  '{{ dbt.escape_single_quotes("they're") }}' as escaped,
  {{ dbt.cast_bool_to_text('yes') }} as yes_text,
  {{ dbt.cast_bool_to_text('no') }} as no_text,
  {{ dbt.cast_bool_to_text('cast(null as boolean)') }} as null_text,
  {{ dbt.safe_cast("'42'", dbt.type_int()) }} as safe_int,
  {{ dbt.cast("'2024-02-29'", 'date') }} as cast_date,
  {{ dbt.equals('csv', "'a,b,c'") }} as equal_values,
  {{ dbt.equals('nothing', 'nothing') }} as equal_nulls
from t`,

  aggregates: `with t as (
  select * from (values (1, 'b', true), (1, 'a', false), (1, 'c', false), (2, 'z', false)) as v(g, s, f)
)
select
  g,
  {{ dbt.any_value('s') }} is not null as has_any,
  {{ dbt.bool_or('f') }} as any_true,
  {{ dbt.listagg('s') }} is not null as listed,
  {{ dbt.listagg('s', "'|'", 'order by s') }} as ordered,
  {{ dbt.listagg('s', "', '", 'order by s desc', 2) }} as first_two
from t
group by g`,

  arrays: `select
  cast({{ dbt.array_construct(['1', '2', '3']) }} as {{ dbt.type_string() }}) as constructed,
  cast({{ dbt.array_append(dbt.array_construct(['1', '2']), '3') }} as {{ dbt.type_string() }}) as appended,
  cast({{ dbt.array_concat(dbt.array_construct(['1']), dbt.array_construct(['2', '3'])) }} as {{ dbt.type_string() }}) as concatenated,
  cast({{ dbt.array_construct([]) }} as {{ dbt.type_string() }}) as empty_ints,
  cast({{ dbt.array_construct(["'a'", "'b'"], dbt.type_string()) }} as {{ dbt.type_string() }}) as strings`,

  set_except: `select x from (values (1), (2)) as v(x) {{ dbt.except() }} select 2`,
  set_intersect: `select x from (values (1), (2)) as v(x) {{ dbt.intersect() }} select 2`,

  series: `{{ dbt.generate_series(5) }}`,
  powers: `select {{ dbt.get_powers_of_two(1) }} as p1, {{ dbt.get_powers_of_two(5) }} as p5, {{ dbt.get_powers_of_two(1024) }} as p1024, {{ dbt.get_powers_of_two(1025) }} as p1025`,
  spine_days: `{{ dbt.date_spine('day', "cast('2024-02-27' as date)", "cast('2024-03-02' as date)") }}`,
  spine_months: `{{ dbt.date_spine('month', "cast('2024-01-31' as date)", "cast('2024-05-01' as date)") }}`,

  timestamps: `select
  {{ dbt.current_timestamp() }} is not null as current_ok,
  {{ dbt.current_timestamp_backcompat() }} is not null as backcompat_ok,
  {{ dbt.current_timestamp_in_utc_backcompat() }} is not null as utc_backcompat_ok,
  {{ dbt.snapshot_get_time() }} is not null as snapshot_ok,
  {{ dbt.snapshot_string_as_time('2024-01-02 03:04:05') }} as snapshot_time`,
};
