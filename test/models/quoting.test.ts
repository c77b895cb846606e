/**
 * dbt_project.yml's `quoting:` and a source's `quoting:` as dbt-core 1.9 applies them: ref(),
 * `this`, `api.Relation.create` and the manifest's relation_name take the adapter's default
 * (dbt-duckdb and dbt-postgres quote every part) under the root project's quoting (dbt's
 * create_from_node and RelationProxy); source() takes the default under the source's quoting,
 * then its table's (create_from_source; the project's does not apply); `quote_as_configured`
 * follows the project's. The models build under the names they print. On each engine.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runVerb, type ParsedProject } from '../../src/models/index.js';
import { DbtFixture, describeEachEngine } from './dbt.js';

describeEachEngine('quoting', (engine) => {
  let f: DbtFixture;
  let parsed: ParsedProject;
  beforeAll(async () => {
    f = new DbtFixture('failing', engine);
    f.write(
      'dbt_project.yml',
      "name: failing\nversion: '1.0.0'\nprofile: tributary_test\nquoting:\n  database: false\n  identifier: false\n",
    );
    f.write(
      'models/sources.yml',
      [
        'version: 2',
        'sources:',
        '  - name: raw',
        '    schema: "{{ target.schema }}"',
        '    quoting: {identifier: false}',
        '    tables:',
        '      - name: people_src',
        '      - name: people_quoted',
        '        quoting: {identifier: true}',
        '',
      ].join('\n'),
    );
    f.write(
      'models/probe.sql',
      [
        'select',
        "  '{{ this }}' as this_rel,",
        `  '{{ ref("stg_people") }}' as ref_rel,`,
        `  '{{ source("raw", "people_src") }}' as src_rel,`,
        `  '{{ source("raw", "people_quoted") }}' as src_quoted,`,
        `  '{{ api.Relation.create(database="a", schema="b", identifier="c") }}' as api_rel,`,
        `  '{{ adapter.quote_as_configured("x", "identifier") }}' as quoted_identifier,`,
        `  '{{ adapter.quote_as_configured("x", "schema") }}' as quoted_schema,`,
        '  count(*) as n',
        "from {{ ref('stg_people') }}",
        '',
      ].join('\n'),
    );
    await f.run('seed');
    const s = await f.with(async (p) => {
      parsed = p.parsed;
      return runVerb(p.parsed, p.engine, { verb: 'run' });
    });
    expect(s.results.filter((r) => r.status !== 'success').map((r) => r.message)).toEqual([]);
  });
  afterAll(() => f.cleanup());

  it('renders ref(), this and api.Relation.create under the project quoting', async () => {
    const [row] = await f.rows(`select * from "${f.schema}"."probe"`);
    const db = f.database;
    expect(row).toEqual({
      this_rel: `${db}."${f.schema}".probe`,
      ref_rel: `${db}."${f.schema}".stg_people`,
      src_rel: `"${db}"."${f.schema}".people_src`,
      src_quoted: `"${db}"."${f.schema}"."people_quoted"`,
      api_rel: 'a."b".c',
      quoted_identifier: 'x',
      quoted_schema: '"x"',
      n: 3,
    });
  });

  it("writes the manifest's relation_name and source quoting as dbt does", () => {
    const db = f.database;
    expect(parsed.manifest.nodes.get('model.failing.stg_people')!.relation_name).toBe(
      `${db}."${f.schema}".stg_people`,
    );
    const src = parsed.manifest.sources.get('source.failing.raw.people_src')!;
    expect(src.relation_name).toBe(`"${db}"."${f.schema}".people_src`);
    expect(src.quoting).toEqual({ database: null, schema: null, identifier: false });
    expect(parsed.manifest.sources.get('source.failing.raw.people_quoted')!.quoting).toEqual({
      database: null,
      schema: null,
      identifier: true,
    });
  });
});
