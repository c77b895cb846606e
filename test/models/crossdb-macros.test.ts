/**
 * dbt's cross-database macros, called as projects and packages call them (`dbt.<macro>` inside
 * models), give on each engine the values dbt gives there: dbt-duckdb's implementations on DuckDB,
 * dbt-postgres's on PostgreSQL, dbt's defaults where the adapter has none. Where the adapters
 * differ (dbt's `type_float` is a 4-byte float on DuckDB; arrays print differently) each engine
 * is held to its own. Also: a project's own `<adapter>__<macro>` replaces dbt's through dispatch.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunSummary } from '../../src/models/index.js';
import { DbtFixture, describeEachEngine, statuses } from './dbt.js';
import { MODELS } from './crossdb-macros.models.js';

const PROJECT = `name: crossdb
version: '1.0.0'
profile: tributary_test
models:
  crossdb:
    +materialized: table
`;

/** A fixture copy holding only `models` (and `files`, by path), built with `run`. */
async function buildProject(
  engine: 'duckdb' | 'postgres',
  models: Record<string, string>,
  files: Record<string, string> = {},
): Promise<{ f: DbtFixture; summary: RunSummary }> {
  const f = new DbtFixture('incremental', engine);
  rmSync(join(f.dir, 'models'), { recursive: true });
  f.write('dbt_project.yml', PROJECT);
  for (const [name, sql] of Object.entries(models)) f.write(`models/${name}.sql`, sql);
  for (const [path, text] of Object.entries(files)) f.write(path, text);
  return { f, summary: await f.run('run') };
}

describeEachEngine('dbt cross-database macros', (engine) => {
  let f: DbtFixture;
  let summary: RunSummary;
  const rows = (model: string) => f.rows(`SELECT * FROM ${f.rel(model)}`);
  const row = async (model: string) => (await rows(model))[0];

  beforeAll(async () => {
    ({ f, summary } = await buildProject(engine, MODELS));
  });
  afterAll(() => f.cleanup());

  it('builds every model', () => {
    const failed = summary.results.filter((r) => r.status !== 'success');
    expect(failed.map((r) => `${r.unique_id}: ${r.message}`)).toEqual([]);
    expect(Object.keys(statuses(summary)).sort()).toEqual(Object.keys(MODELS).sort());
  });

  it('type_* name the types api.Column.translate_type gives', async () => {
    expect(await row('types')).toEqual({
      type_names: 'TEXT|timestamp|float|numeric(28,6)|bigint|integer|boolean',
      num: 12.5,
      big: 'n9007199254740993',
      // FLOAT is 4 bytes in DuckDB and 8 in PostgreSQL, so dbt's type_float differs too.
      float_is_double: engine === 'postgres',
      int_value: 42,
      bool_value: true,
      ts: '2025-11-28 13:04:05',
      str: 'abc',
    });
  });

  it('dateadd adds whole parts, clamping to the end of a shorter month', async () => {
    expect(await row('dateadd')).toEqual({
      d_year: '2026-01-31 00:00:00',
      ts_year: '2023-02-28 23:59:59',
      // interval '1 quarter' is not PostgreSQL: dbt-postgres's dateadd has no quarter either.
      ...(engine === 'duckdb'
        ? { d_quarter: '2024-07-31 00:00:00', ts_quarter: '2023-11-29 23:59:59' }
        : {}),
      d_month: '2024-03-31 00:00:00',
      ts_month: '2024-01-29 23:59:59',
      d_week: '2024-02-14 00:00:00',
      ts_week: '2024-02-22 23:59:59',
      d_day: '2024-02-02 00:00:00',
      ts_day: '2024-02-28 23:59:59',
      d_hour: '2024-01-31 02:00:00',
      ts_hour: '2024-02-29 22:59:59',
      d_minute: '2024-01-31 00:02:00',
      ts_minute: '2024-02-29 23:58:59',
      d_second: '2024-01-31 00:00:02',
      ts_second: '2024-02-29 23:59:58',
    });
  });

  it('datediff counts the boundaries crossed, negative backwards; weeks start on Sunday', async () => {
    expect(await row('datediff')).toEqual({
      // One second apart across a new year: one of every boundary, but no Sunday (a week).
      ab_year: 1,
      ab_quarter: 1,
      ab_month: 1,
      ab_week: 0,
      ab_day: 1,
      ab_hour: 1,
      ab_minute: 1,
      ab_second: 1,
      // 2024-03-15 back to 2024-01-10.
      cd_year: 0,
      cd_quarter: 0,
      cd_month: -2,
      cd_week: -9,
      cd_day: -65,
      cd_hour: -1560,
      cd_minute: -93600,
      cd_second: -5616000,
      sat_sun_week: 1,
      sun_sat_week: -1,
      dc_week: 9,
    });
  });

  it('date_trunc truncates to the start of the part (weeks start on Monday)', async () => {
    expect(await row('date_trunc')).toEqual({
      year: '2024-01-01 00:00:00',
      quarter: '2024-07-01 00:00:00',
      month: '2024-08-01 00:00:00',
      week: '2024-08-12 00:00:00',
      day: '2024-08-17 00:00:00',
      hour: '2024-08-17 13:00:00',
    });
  });

  it('date builds a date from its parts', async () => {
    expect(await row('date')).toEqual({ leap_day: '2024-02-29', december: '2023-12-01' });
  });

  it('last_day is the last date of the month, quarter or year', async () => {
    expect(await row('last_day')).toEqual({
      leap_month: '2024-02-29',
      leap_quarter: '2024-03-31',
      leap_year: '2024-12-31',
      nov_month: '2023-11-30',
      nov_quarter: '2023-12-31',
    });
  });

  it('string macros: concat, hash, length, position, replace, right, split_part, literals, casts, equals', async () => {
    expect(await row('strings')).toEqual({
      concat3: 'x-a,b,c',
      concat1: 'a,b,c',
      // dbt's concat is `||`: a NULL makes the whole NULL.
      concat_null: null,
      hash_csv: 'a44c56c8177e32d3613988f4dba7962e',
      length_csv: 5,
      position_comma: 2,
      position_missing: 0,
      replaced: 'a|b|c',
      right3: 'b,c',
      part_2: 'b',
      part_last: 'c',
      part_first_from_end: 'a',
      part_past_end: '',
      literal: 'it is',
      escaped: "they're",
      yes_text: 'true',
      no_text: 'false',
      null_text: null,
      safe_int: 42,
      cast_date: '2024-02-29',
      equal_values: true,
      // Without the enable_truthy_nulls_equals_macro flag, NULL = NULL is NULL, as in dbt.
      equal_nulls: null,
    });
  });

  it('aggregates: any_value, bool_or, listagg with order and limit', async () => {
    expect(await f.rows(`SELECT * FROM ${f.rel('aggregates')} ORDER BY g`)).toEqual([
      { g: 1, has_any: true, any_true: true, listed: true, ordered: 'a|b|c', first_two: 'c, b' },
      { g: 2, has_any: true, any_true: false, listed: true, ordered: 'z', first_two: 'z' },
    ]);
  });

  it('array macros build the engine’s arrays', async () => {
    expect(await row('arrays')).toEqual(
      engine === 'duckdb'
        ? {
            constructed: '[1, 2, 3]',
            appended: '[1, 2, 3]',
            concatenated: '[1, 2, 3]',
            empty_ints: '[]',
            strings: '[a, b]',
          }
        : {
            constructed: '{1,2,3}',
            appended: '{1,2,3}',
            concatenated: '{1,2,3}',
            empty_ints: '{}',
            strings: '{a,b}',
          },
    );
  });

  it('except and intersect', async () => {
    expect(await rows('set_except')).toEqual([{ x: 1 }]);
    expect(await rows('set_intersect')).toEqual([{ x: 2 }]);
  });

  it('generate_series, get_powers_of_two and date_spine (end excluded)', async () => {
    expect(await f.rows(`SELECT * FROM ${f.rel('series')} ORDER BY 1`)).toEqual(
      [1, 2, 3, 4, 5].map((n) => ({ generated_number: n })),
    );
    expect(await row('powers')).toEqual({ p1: 1, p5: 3, p1024: 10, p1025: 11 });
    const days = (await f.rows(`SELECT * FROM ${f.rel('spine_days')} ORDER BY 1`)).map(
      (r) => r.date_day,
    );
    expect(days).toEqual([
      '2024-02-27 00:00:00',
      '2024-02-28 00:00:00',
      '2024-02-29 00:00:00',
      '2024-03-01 00:00:00',
    ]);
    const months = (await f.rows(`SELECT * FROM ${f.rel('spine_months')} ORDER BY 1`)).map(
      (r) => r.date_month,
    );
    expect(months).toEqual([
      '2024-01-31 00:00:00',
      '2024-02-29 00:00:00',
      '2024-03-31 00:00:00',
      '2024-04-30 00:00:00',
    ]);
  });

  it('timestamp macros', async () => {
    expect(await row('timestamps')).toEqual({
      current_ok: true,
      backcompat_ok: true,
      utc_backcompat_ok: true,
      snapshot_ok: true,
      snapshot_time: '2024-01-02 03:04:05',
    });
  });
});

describeEachEngine('dbt cross-database macros overridden by the project', (engine) => {
  let f: DbtFixture;
  let summary: RunSummary;

  beforeAll(async () => {
    ({ f, summary } = await buildProject(
      engine,
      {
        overridden: `select
  {{ dbt.dateadd('day', 1, "cast('2024-01-01' as date)") }} as via_dbt,
  {{ dateadd('day', 1, "cast('2024-01-01' as date)") }} as unqualified,
  {{ dbt.right("'abc'", 1) }} as dbt_right,
  {{ right("'abc'", 1) }} as project_right,
  {{ dbt.any_value('1') }} as root_default,
  {{ dbt.hash("'x'") }} as package_hash,
  {{ dbt.length("'abc'") }} as untouched,
  {{ dbt.equals('cast(null as integer)', 'cast(null as integer)') }} as nulls_equal,
  {{ shim.tomorrow() }} as from_package`,
      },
      {
        'macros/overrides.sql': `{% macro ${engine}__dateadd(datepart, interval, from_date_or_timestamp) -%}
  'project ${engine}__dateadd {{ datepart }} {{ interval }}'
{%- endmacro %}

{# Not a dispatch: replaces right() for the project's own calls only; dbt.right stays dbt's. #}
{% macro right(string_text, length_expression) -%}'project right'{%- endmacro %}

{# The root project is searched first, all prefixes: its default__ beats dbt's ${engine}__any_value. #}
{% macro default__any_value(expression) -%}'project default__any_value'{%- endmacro %}`,
        // A package the dispatch: config puts between the project and dbt for the dbt namespace.
        'dbt_packages/shim/dbt_project.yml': "name: shim\nversion: '1.0.0'\n",
        'dbt_packages/shim/macros/hash.sql': `{% macro ${engine}__hash(field) -%}'shim ${engine}__hash'{%- endmacro %}

{# A package's own call of dbt.dateadd dispatches from the root project too. #}
{% macro tomorrow() -%}{{ dbt.dateadd('day', 1, 'current_date') }}{%- endmacro %}`,
        'dbt_project.yml': `${PROJECT}dispatch:\n  - macro_namespace: dbt\n    search_order: [crossdb, shim, dbt]\nflags:\n  enable_truthy_nulls_equals_macro: true\n`,
      },
    ));
  });
  afterAll(() => f.cleanup());

  it("dispatch finds the project's macro, then a dispatch: package's, before dbt's", async () => {
    expect(statuses(summary)).toEqual({ overridden: 'success' });
    expect((await f.rows(`SELECT * FROM ${f.rel('overridden')}`))[0]).toEqual({
      via_dbt: `project ${engine}__dateadd day 1`,
      unqualified: `project ${engine}__dateadd day 1`,
      dbt_right: 'c',
      project_right: 'project right',
      root_default: 'project default__any_value',
      package_hash: `shim ${engine}__hash`,
      untouched: 3,
      // The behavior flag makes dbt.equals treat two NULLs as equal.
      nulls_equal: true,
      from_package: `project ${engine}__dateadd day 1`,
    });
  });
});
