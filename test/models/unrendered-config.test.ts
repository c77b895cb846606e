/**
 * The manifest's `unrendered_config` as dbt-core 1.9 writes it (build_config_dict with
 * rendered=False): dbt_project.yml's levels as written (Jinja kept, `+` dropped), then the
 * properties entry's `config:`, then the config() calls, each key simply replacing an earlier
 * one; a generic test's yml config counts as a config call. On each engine.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DbtFixture, describeEachEngine } from './dbt.js';

describeEachEngine('unrendered_config in the manifest', (engine) => {
  let f: DbtFixture;
  let nodes: Record<string, { config: Record<string, unknown>; unrendered_config: unknown }>;
  beforeAll(async () => {
    f = new DbtFixture('failing', engine);
    f.write(
      'dbt_project.yml',
      [
        'name: failing',
        "version: '1.0.0'",
        'profile: tributary_test',
        'models:',
        '  failing:',
        `    +materialized: "{{ env_var('TRIB_UNRENDERED_MAT', 'table') }}"`,
        "    +tags: ['nightly']",
        'seeds:',
        '  failing:',
        '    +quote_columns: false',
        '',
      ].join('\n'),
    );
    f.write(
      'models/schema.yml',
      [
        'version: 2',
        'seeds:',
        '  - name: people',
        '    columns:',
        '      - name: name',
        '        data_tests:',
        '          - not_null:',
        '              config: {severity: warn}',
        'models:',
        '  - name: unrelated',
        "    config: {tags: ['yml'], meta: {owner: a}}",
        '',
      ].join('\n'),
    );
    f.write(
      'models/unrelated.sql',
      "{{ config(alias='unrelated_alias', post_hook='select 1') }}\nselect 1 as one\n",
    );
    await f.run('compile');
    nodes = (JSON.parse(f.read('target/manifest.json')) as { nodes: typeof nodes }).nodes;
  });
  afterAll(() => f.cleanup());

  it("keeps dbt_project.yml's Jinja unrendered, under the yml config and the config() call", () => {
    const model = nodes['model.failing.unrelated']!;
    expect(model.config.materialized).toBe('table');
    expect(model.unrendered_config).toEqual({
      materialized: "{{ env_var('TRIB_UNRENDERED_MAT', 'table') }}",
      tags: ['yml'],
      meta: { owner: 'a' },
      alias: 'unrelated_alias',
      'post-hook': 'select 1',
    });
    expect(nodes['model.failing.stg_people']!.unrendered_config).toEqual({
      materialized: "{{ env_var('TRIB_UNRENDERED_MAT', 'table') }}",
      tags: ['nightly'],
    });
  });

  it("lists a seed's project config and a generic test's yml config", () => {
    expect(nodes['seed.failing.people']!.unrendered_config).toEqual({ quote_columns: false });
    const test = Object.entries(nodes).find(([id]) => id.startsWith('test.failing.not_null'))![1];
    expect(test.unrendered_config).toEqual({ severity: 'warn' });
  });
});
