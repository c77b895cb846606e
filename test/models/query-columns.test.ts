/**
 * dbt-core's global macros get_columns_in_query and get_empty_subquery_sql: a package asks the
 * names of the columns a query returns (dbt-expectations' table-shape tests do); the query runs
 * wrapped in an empty subquery (`where false limit 0`), so no row is read, and a project may
 * replace either macro through adapter.dispatch. On each engine.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DbtFixture, describeEachEngine } from './dbt.js';

describeEachEngine('get_columns_in_query', (engine) => {
  let f: DbtFixture;
  const logs: string[] = [];
  beforeAll(async () => {
    f = new DbtFixture('failing', engine);
    f.write(
      'models/query_cols.sql',
      [
        "{% set q = 'select id as person_id, upper(name) as shout, 1 / (id - id) as never_computed from ' ~ ref('stg_people') %}",
        '{% set cols = get_columns_in_query(q) if execute else [] %}',
        "{% do log('empty: ' ~ (get_empty_subquery_sql('select 7 as seven') | replace('\\n', ' ') | trim), info=True) if execute %}",
        "select '{{ cols | join(',') }}' as cols, {{ cols | length }} as n",
        '',
      ].join('\n'),
    );
    f.write(
      'models/overridden_cols.sql',
      [
        "-- depends_on: {{ ref('stg_people') }}",
        "{% set cols = get_columns_in_query('select 1 as a') if execute else [] %}",
        "select '{{ cols | join(',') }}' as cols",
        '',
      ].join('\n'),
    );
    f.write(
      'macros/override.sql',
      [
        `{% macro ${engine}__get_empty_subquery_sql(select_sql, select_sql_header=none) %}`,
        "  {% if select_sql == 'select 1 as a' %}select 1 as overridden_a where false",
        '  {% else %}{{ return(dbt.default__get_empty_subquery_sql(select_sql, select_sql_header)) }}{% endif %}',
        '{% endmacro %}',
        '',
      ].join('\n'),
    );
    await f.run('seed');
    const log = (m: string) => logs.push(m);
    const s = await f.run('run', { log }, { log });
    expect(s.results.filter((r) => r.status !== 'success').map((r) => r.message)).toEqual([]);
  });
  afterAll(() => f.cleanup());

  it('names the columns of a query without reading its rows', async () => {
    expect(await f.rows(`select cols, n from "${f.schema}"."query_cols"`)).toEqual([
      { cols: 'person_id,shout,never_computed', n: 3 },
    ]);
  });

  it("runs the project's dispatched get_empty_subquery_sql", async () => {
    expect(await f.rows(`select cols from "${f.schema}"."overridden_cols"`)).toEqual([
      { cols: 'overridden_a' },
    ]);
    expect(logs).toContain(
      'empty: select * from (         select 7 as seven     ) as __dbt_sbq     where false     limit 0',
    );
  });
});
