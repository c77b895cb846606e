/**
 * Installed packages load as dbt projects (dbt-core 1.8/1.9 semantics), on DuckDB and PostgreSQL:
 * a root project with one package in dbt_packages/ holding macros (under its own macro-paths),
 * generic tests, models, a seed, a source, a singular test, hooks, vars and configs. Each test
 * reads one outcome of one `build` per engine; the error cases parse small projects of their own
 * (on DuckDB: parsing does not depend on the engine).
 */
import { join } from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDbtProject, runVerb, type RunSummary } from '../../src/models/index.js';
import type { OpenedDbtProject } from '../../src/models/open.js';
import { tempDir, writeFiles } from '../helpers.js';
import { FIXTURES, describeEachEngine, profileEnv } from './dbt.js';

const profiles = (dir: string) => `pk:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: ${JSON.stringify(join(dir, 'warehouse.duckdb'))}
      threads: 1
`;

const ROOT = {
  'dbt_project.yml': `name: shop_root
profile: pk
vars:
  shared_var: from_root
  pkgone:
    scoped_var: root_for_pkgone
dispatch:
  - macro_namespace: pkgone
    search_order: [shop_root, pkgone]
models:
  pkgone:
    +materialized: table
    staging:
      +tags: [from_root]
seeds:
  pkgone:
    +schema: pkgseeds
data_tests:
  pkgone:
    +severity: warn
on-run-end:
  - "insert into {{ target.schema }}.hook_log select 'root', (select count(*) from {{ target.schema }}.hook_log)"
`,
  'macros/overrides.sql': `{% macro default__shout() %}'root shout'{% endmacro %}
{% macro label() %}'root label'{% endmacro %}
{# reached through dbt's generate_schema_name: adapter.dispatch('generate_schema_name', 'dbt') searches the root first #}
{% macro default__generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ target.schema }}__{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
`,
  'models/root_model.sql': `select
  p.id,
  p.id * 10 as amount,
  {{ pkgone.greet('root') }} as greeting,
  {{ pkgone.shout() }} as shout,
  {{ pkgone.whisper() }} as whisper,
  {{ label() }} as label,
  '{{ var("shared_var") }}' as shared_var,
  '{{ var("pkg_only_var", "unset") }}' as pkg_only,
  '{{ dbt.default__generate_alias_name("x", none) | trim }}' as via_dbt,
  '{{ dbt_version }}' as dbt_version,
  (select count(*)::integer from {{ ref('pkg_seed') }}) as seed_rows,
  (select count(*)::integer from {{ source('pkg_raw', 'raw_events') }}) as source_rows
from {{ ref('pkgone', 'pkg_model') }} p
`,
  'models/dup.sql': `select 'root dup' as which`,
  'models/schema.yml': `version: 2
models:
  - name: root_model
    data_tests:
      - pkgone.same_count:
          compare_model: ref('pkg_model')
    columns:
      - name: id
        tests: [pkgone.is_positive]
      - name: amount
        tests: [is_positive]
`,
};

const PKG = {
  'dbt_project.yml': `name: pkgone
version: '1.0.0'
config-version: 2
require-dbt-version: [">=2.0.0", "<3.0.0"]
macro-paths: ["macro_src"]
seed-paths: ["data"]
vars:
  shared_var: pkg_default
  pkg_only_var: pkg_default
  scoped_var: pkg_default
models:
  pkgone:
    +materialized: view
    staging:
      +tags: [from_pkg]
on-run-start:
  - "create schema if not exists {{ target.schema }}"
  - "create table if not exists {{ target.schema }}.raw_events as select * from (values (1, 'a'), (2, 'b')) t(id, name)"
on-run-end:
  - "create table if not exists {{ target.schema }}.hook_log (who varchar, earlier integer)"
  - "insert into {{ target.schema }}.hook_log select {{ label() }}, (select count(*) from {{ target.schema }}.hook_log)"
`,
  'macro_src/greet.sql': `{% macro greet(name) %}'hello {{ name }}'{% endmacro %}
{% macro label() %}'pkg label'{% endmacro %}
`,
  'macro_src/dispatched.sql': `{% macro shout() %}{{ return(adapter.dispatch('shout', 'pkgone')()) }}{% endmacro %}
{% macro default__shout() %}'pkg shout'{% endmacro %}
{% macro whisper() %}{{ return(adapter.dispatch('whisper', 'pkgone')()) }}{% endmacro %}
{% macro default__whisper() %}'pkg default whisper'{% endmacro %}
{% macro duckdb__whisper() %}'pkg duckdb whisper'{% endmacro %}
{% macro postgres__whisper() %}'pkg postgres whisper'{% endmacro %}
`,
  'tests/generic/is_positive.sql': `{% test is_positive(model, column_name) %}
select * from {{ model }} where {{ column_name }} <= 0
{% endtest %}
`,
  'macro_src/same_count.sql': `{% test same_count(model, compare_model) %}
{% if execute and compare_model.identifier is not defined %}{{ exceptions.raise_compiler_error('compare_model is not a Relation') }}{% endif %}
select 1 from (select count(*) as n from {{ model }}) a, (select count(*) as n from {{ compare_model }}) b where a.n != b.n
{% endtest %}
`,
  'tests/assert_pkg_model_has_rows.sql': `select 1 from (select count(*) as n from {{ ref('pkg_model') }}) c where n = 0`,
  'models/staging/pkg_model.sql': `select 1 as id,
  '{{ var("shared_var") }}' as shared_var,
  '{{ var("pkg_only_var") }}' as pkg_only,
  '{{ var("scoped_var") }}' as scoped,
  {{ label() }} as label,
  (select which from {{ ref('dup') }}) as dup_seen,
  (select max(name) from {{ source('pkg_raw', 'raw_events') }}) as from_source
`,
  'models/dup.sql': `{{ config(alias='pkg_dup') }} select 'pkg dup' as which`,
  'models/schema.yml': `version: 2
sources:
  - name: pkg_raw
    schema: "{{ target.schema }}"
    tables:
      - name: raw_events
models:
  - name: pkg_model
    columns:
      - name: id
        tests: [is_positive, not_null]
`,
  'data/pkg_seed.csv': `id,name\n1,a\n2,b\n`,
};

function pkgFiles(prefix: string, files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [`${prefix}/${k}`, v]));
}

/** The shop fixture's profile (one output per engine, chosen and placed through TRIB_DBT_*). */
const ENGINE_PROFILES = readFileSync(join(FIXTURES, 'shop', 'profiles.yml'), 'utf8').replace(
  'tributary_test:',
  'pk:',
);

let runs = 0;

describeEachEngine('a project with a package installed in dbt_packages/', (engine) => {
  let dir: string;
  let opened: OpenedDbtProject;
  let summary: RunSummary;
  const logs: string[] = [];
  const schema = `pkg_${Date.now().toString(36)}_${process.pid}_${runs++}`;
  const saved = new Map<string, string | undefined>();
  const rel = (name: string) => `"${schema}"."${name}"`;

  beforeAll(async () => {
    dir = tempDir('trib-pkg-');
    for (const [k, v] of Object.entries(profileEnv(engine, dir, schema))) {
      saved.set(k, process.env[k]);
      process.env[k] = v;
    }
    writeFiles(dir, {
      ...ROOT,
      'profiles.yml': ENGINE_PROFILES,
      ...pkgFiles('dbt_packages/pkgone', PKG),
    });
    opened = await openDbtProject(dir, { profilesDir: dir, log: (m) => logs.push(m) });
    summary = await runVerb(opened.parsed, opened.engine, { verb: 'build' });
  });
  afterAll(async () => {
    try {
      if (engine === 'postgres')
        for (const s of [schema, `${schema}__pkgseeds`])
          await opened.engine.exec(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await opened?.close();
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const row = async (sql: string) => {
    const r = (await opened.engine.query(sql)).rows[0]!;
    return Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]),
    );
  };

  it('builds every node of the root and of the package without an error', () => {
    const bad = summary.results.filter((r) => r.status !== 'success' && r.status !== 'pass');
    expect(bad.map((r) => `${r.unique_id}: ${r.message}`)).toEqual([]);
    expect(summary.results.map((r) => r.unique_id).sort()).toEqual(
      expect.arrayContaining([
        'model.pkgone.pkg_model',
        'model.pkgone.dup',
        'seed.pkgone.pkg_seed',
        'test.pkgone.assert_pkg_model_has_rows',
        'model.shop_root.root_model',
        'model.shop_root.dup',
      ]),
    );
  });

  it("names the package's nodes, macros and generic tests after the package", () => {
    const m = opened.parsed.manifest;
    expect(m.nodes.get('model.pkgone.pkg_model')?.package_name).toBe('pkgone');
    expect(m.nodes.get('model.pkgone.pkg_model')?.fqn).toEqual(['pkgone', 'staging', 'pkg_model']);
    expect(m.nodes.get('model.pkgone.pkg_model')?.original_file_path).toBe(
      'models/staging/pkg_model.sql',
    );
    expect(m.macros.get('macro.pkgone.greet')?.original_file_path).toBe('macro_src/greet.sql');
    const tests = [...m.nodes.values()].filter((n) => n.test_metadata?.name === 'is_positive');
    expect(
      tests.map((t) => `${t.package_name}:${t.test_metadata!.namespace ?? ''}`).sort(),
    ).toEqual(['pkgone:', 'shop_root:', 'shop_root:pkgone']);
  });

  it("hands a package's generic test a ref() argument as a Relation, as dbt's native rendering does", () => {
    const test = summary.results.find((r) => r.unique_id.includes('same_count'));
    expect(test?.status).toBe('pass');
    expect(test?.compiled_code).toContain('"pkg_model"');
  });

  it("applies the root project's config tree for the package over the package's own", () => {
    const node = opened.parsed.manifest.nodes.get('model.pkgone.pkg_model')!;
    expect(node.config.materialized).toBe('table');
    expect(node.config.tags).toEqual(['from_pkg', 'from_root']);
  });

  it("applies the root's data_tests: entry for the package to the package's tests only", () => {
    const tests = [...opened.parsed.manifest.nodes.values()].filter(
      (n) => n.resource_type === 'test',
    );
    const severity = (pkg: string) => [
      ...new Set(tests.filter((t) => t.package_name === pkg).map((t) => t.config.severity)),
    ];
    expect(severity('pkgone')).toEqual(['warn']);
    expect(severity('shop_root')).toEqual(['ERROR']);
  });

  it("resolves source() to the package's source, from its own nodes and from the root's", async () => {
    expect(opened.parsed.manifest.sources.has('source.pkgone.pkg_raw.raw_events')).toBe(true);
    expect(await row(`select from_source from ${rel('pkg_model')}`)).toEqual({ from_source: 'b' });
    expect(await row(`select source_rows from ${rel('root_model')}`)).toEqual({ source_rows: 2 });
  });

  it("scopes vars as dbt: root globals win, the root's package entry wins, package vars are defaults", async () => {
    expect(await row(`select shared_var, pkg_only, scoped from ${rel('pkg_model')}`)).toEqual({
      shared_var: 'from_root',
      pkg_only: 'pkg_default',
      scoped: 'root_for_pkgone',
    });
    expect(await row(`select shared_var, pkg_only from ${rel('root_model')}`)).toEqual({
      shared_var: 'from_root',
      pkg_only: 'unset',
    });
  });

  it("resolves an unqualified macro from the node's own package first, then the root", async () => {
    expect(await row(`select label from ${rel('pkg_model')}`)).toEqual({ label: 'pkg label' });
    expect(await row(`select label from ${rel('root_model')}`)).toEqual({ label: 'root label' });
  });

  it('calls package macros through the package namespace and dbt macros through dbt', async () => {
    expect(await row(`select greeting, via_dbt, dbt_version from ${rel('root_model')}`)).toEqual({
      greeting: 'hello root',
      via_dbt: 'x',
      dbt_version: '1.9.0',
    });
  });

  it("dispatches with the dispatch: search order, the root's default__ before the package's", async () => {
    expect(await row(`select shout, whisper from ${rel('root_model')}`)).toEqual({
      shout: 'root shout',
      whisper: `pkg ${engine} whisper`,
    });
  });

  it("overrides dbt's built-in naming through the root's default__generate_schema_name", async () => {
    expect(opened.parsed.manifest.nodes.get('seed.pkgone.pkg_seed')?.schema).toBe(
      `${schema}__pkgseeds`,
    );
    expect(await row(`select seed_rows from ${rel('root_model')}`)).toEqual({ seed_rows: 2 });
  });

  it("resolves a one-argument ref from a package node to the root project's node first, as dbt", async () => {
    expect(await row(`select dup_seen from ${rel('pkg_model')}`)).toEqual({ dup_seen: 'root dup' });
  });

  it("runs the package's on-run-end hooks, in the package's context, before the root project's", async () => {
    const rows = (
      await opened.engine.query(
        `select who, earlier::integer as earlier from ${rel('hook_log')} order by earlier`,
      )
    ).rows;
    expect(rows).toEqual([
      { who: 'pkg label', earlier: 0 },
      { who: 'root', earlier: 1 },
    ]);
  });

  it('warns, without failing, about a require-dbt-version that leaves out the version followed', () => {
    const warning = opened.parsed.warnings.find((w) => w.message.includes('pkgone'))?.message;
    expect(warning).toContain('>=2.0.0, <3.0.0');
    expect(warning).toContain('1.9.0');
    expect(logs.some((l) => l.includes('package pkgone requires dbt'))).toBe(true);
  });
});

describe('package errors', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function parseError(files: Record<string, string>): Promise<string> {
    const dir = tempDir('trib-pkg-err-');
    dirs.push(dir);
    writeFiles(dir, { 'profiles.yml': profiles(dir), ...files });
    try {
      const p = await openDbtProject(dir, { profilesDir: dir });
      await p.close();
      return '';
    } catch (err) {
      // The problems' message, then where each one is (one problem keeps its place apart).
      const e = err as Error & { location?: { file?: string } };
      return `${e.message} @ ${e.location?.file ?? ''}`;
    }
  }

  const project = (extra = '') => `name: proj\nprofile: pk\n${extra}`;
  const pkg = (name: string) => `name: ${name}\nversion: '1.0.0'\n`;

  it('refuses an unqualified ref matching models of two packages, asking for the two-argument form', async () => {
    const msg = await parseError({
      'dbt_project.yml': project(),
      'models/m.sql': `select * from {{ ref('same') }}`,
      'dbt_packages/a/dbt_project.yml': pkg('a'),
      'dbt_packages/a/models/same.sql': `{{ config(alias='a_same') }} select 1 as x`,
      'dbt_packages/b/dbt_project.yml': pkg('b'),
      'dbt_packages/b/models/same.sql': `{{ config(alias='b_same') }} select 2 as x`,
    });
    expect(msg).toContain(
      "When referencing 'same', dbt found nodes in multiple packages: 'model.a.same', 'model.b.same'. To fix this, use two-argument 'ref', with the package name first: 'a' or 'b'",
    );
  });

  it('accepts the two-argument ref naming one of them', async () => {
    const msg = await parseError({
      'dbt_project.yml': project(),
      'models/m.sql': `select * from {{ ref('b', 'same') }}`,
      'dbt_packages/a/dbt_project.yml': pkg('a'),
      'dbt_packages/a/models/same.sql': `{{ config(alias='a_same') }} select 1 as x`,
      'dbt_packages/b/dbt_project.yml': pkg('b'),
      'dbt_packages/b/models/same.sql': `{{ config(alias='b_same') }} select 2 as x`,
    });
    expect(msg).toBe('');
  });

  it("refuses a package's model building the same relation as one of the project's", async () => {
    const msg = await parseError({
      'dbt_project.yml': project(),
      'models/same.sql': `select 1 as x`,
      'dbt_packages/a/dbt_project.yml': pkg('a'),
      'dbt_packages/a/models/same.sql': `select 2 as x`,
    });
    expect(msg).toContain('dbt found two resources with the database representation');
    expect(msg).toContain(
      'model.proj.same (models/same.sql), model.a.same (dbt_packages/a/models/same.sql)',
    );
  });

  it('names a generic test of a package that is not installed, and what to do', async () => {
    const msg = await parseError({
      'dbt_project.yml': project(),
      'models/m.sql': `select 1 as id`,
      'models/schema.yml': `version: 2\nmodels:\n  - name: m\n    data_tests: [nopkg.some_test]\n`,
    });
    expect(msg).toContain(
      'no generic test named nopkg.some_test: no package named nopkg is installed (add it to packages.yml and run tributary deps)',
    );
  });

  it('lists every macro dispatch searched when none exists (the error of that node)', async () => {
    const dir = tempDir('trib-pkg-err-');
    dirs.push(dir);
    writeFiles(dir, {
      'profiles.yml': profiles(dir),
      'dbt_project.yml': project(),
      'models/m.sql': `select {{ adapter.dispatch('nothing', 'a')() }}`,
      'dbt_packages/a/dbt_project.yml': pkg('a'),
    });
    // A node whose Jinja raises fails itself when it runs, not the parse (errors of one node).
    const p = await openDbtProject(dir, { profilesDir: dir });
    const s = await runVerb(p.parsed, p.engine, { verb: 'compile' }).finally(() => p.close());
    const msg = s.results.find((r) => r.unique_id === 'model.proj.m')!.message;
    expect(msg).toContain("No macro named 'nothing' found within namespace: 'a'");
    expect(msg).toContain(
      "Searched for: 'proj.duckdb__nothing', 'proj.default__nothing', 'a.duckdb__nothing', 'a.default__nothing'",
    );
  });

  it('names the folder of an installed package without a dbt_project.yml', async () => {
    const msg = await parseError({
      'dbt_project.yml': project(),
      'models/m.sql': `select 1`,
      'dbt_packages/broken/macros/x.sql': `{% macro x() %}{% endmacro %}`,
    });
    expect(msg).toContain('dbt_packages/broken is in dbt_packages/ but holds no dbt_project.yml');
  });

  it("locates a broken file of a package under the package's folder", async () => {
    const msg = await parseError({
      'dbt_project.yml': project(),
      'models/m.sql': `select 1`,
      'dbt_packages/a/dbt_project.yml': pkg('a'),
      'dbt_packages/a/models/bad.sql': `select {{ 1 + }}`,
    });
    expect(msg).toContain('dbt_packages/a/models/bad.sql');
  });

  it('reads packages from packages-install-path', async () => {
    const msg = await parseError({
      'dbt_project.yml': project('packages-install-path: vendor\n'),
      'models/m.sql': `select {{ a.one() }} as x`,
      'vendor/a/dbt_project.yml': pkg('a'),
      'vendor/a/macros/one.sql': `{% macro one() %}1{% endmacro %}`,
    });
    expect(msg).toBe('');
  });
});
