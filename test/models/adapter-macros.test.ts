/**
 * Adapter methods dbt runs through a macro (execute_macro) follow a project's overrides, as in
 * dbt: a root macro of the method's name (`create_schema`), or the adapter's dispatched
 * implementation in the `dbt` namespace (`duckdb__get_columns_in_relation`,
 * `default__drop_relation`), replaces the built-in behind `adapter.*`. On each engine.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DbtFixture, describeEachEngine } from './dbt.js';

describeEachEngine('adapter methods backed by overridable macros', (engine) => {
  let f: DbtFixture;
  const logs: string[] = [];
  beforeAll(async () => {
    f = new DbtFixture('failing', engine);
    f.write(
      'macros/overrides.sql',
      [
        `{% macro ${engine}__get_columns_in_relation(relation) %}`,
        "  {{ return([api.Column('overridden_' ~ relation.identifier, 'integer')]) }}",
        '{% endmacro %}',
        '{% macro default__drop_relation(relation) %}',
        "  {% do log('kept ' ~ relation.identifier, info=True) %}",
        '{% endmacro %}',
        '{% macro create_schema(relation) %}',
        "  {% do log('not creating ' ~ relation.schema, info=True) %}",
        '{% endmacro %}',
        '{% macro list_relations_without_caching(schema_relation) %}',
        "  {{ return([[schema_relation.database, 'listed_' ~ schema_relation.schema, schema_relation.schema, 'view']]) }}",
        '{% endmacro %}',
        '',
      ].join('\n'),
    );
    f.write(
      'models/probe.sql',
      [
        "-- depends_on: {{ ref('stg_people') }}",
        "{% set rel = api.Relation.create(database=target.database, schema=target.schema, identifier='stg_people', type='view') %}",
        "{% set ns = namespace(cols='', rels='') %}",
        '{% if execute %}',
        "  {% set ns.cols = adapter.get_columns_in_relation(rel) | map(attribute='name') | join(',') %}",
        "  {% set ns.rels = adapter.list_relations_without_caching(rel.without_identifier()) | map(attribute='identifier') | join(',') %}",
        "  {% do adapter.create_schema(api.Relation.create(database=target.database, schema=target.schema ~ '_never')) %}",
        '  {% do adapter.drop_relation(relation=rel) %}',
        '{% endif %}',
        "select '{{ ns.cols }}' as cols, '{{ ns.rels }}' as rels",
        '',
      ].join('\n'),
    );
    await f.run('seed');
    const log = (m: string) => logs.push(m);
    const s = await f.run('run', { log }, { log });
    expect(s.results.filter((r) => r.status !== 'success').map((r) => r.message)).toEqual([]);
  });
  afterAll(() => f.cleanup());

  it("runs the project's dispatched get_columns_in_relation and its list_relations_without_caching", async () => {
    expect(await f.rows(`select cols, rels from "${f.schema}"."probe"`)).toEqual([
      { cols: 'overridden_stg_people', rels: `listed_${f.schema}` },
    ]);
  });

  it("runs the project's create_schema and default__drop_relation instead of the built-ins", async () => {
    expect(logs).toContain(`not creating ${f.schema}_never`);
    expect(logs).toContain('kept stg_people');
    // The overrides only logged: the view is still there and no schema was made.
    expect(await f.rows(`select count(*) as n from "${f.schema}"."stg_people"`)).toEqual([
      { n: 3 },
    ]);
    expect(
      await f.rows(
        `select schema_name from information_schema.schemata where schema_name = '${f.schema}_never'`,
      ),
    ).toEqual([]);
  });
});
