/**
 * dbt_project.yml is validated as dbt validates it: every key dbt accepts loads, and what dbt
 * refuses (an unknown key, a value of the wrong type, a reserved name) is an error naming the
 * file, line, column and config path, with a hint — never a silent `{}` or `['3']`.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import {
  DBT_PROJECT_KEYS,
  IGNORED_DBT_PROJECT_KEYS,
  loadDbtProject,
} from '../../src/models/index.js';
import { ProblemsError } from '../../src/project/index.js';
import { tempDir, writeFiles } from '../helpers.js';

function load(yml: string) {
  const dir = tempDir('trib-dbtproj-');
  writeFiles(dir, { 'dbt_project.yml': yml });
  return loadDbtProject(dir);
}

async function refusal(yml: string): Promise<TributaryError> {
  const err = await load(yml).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TributaryError);
  return err as TributaryError;
}

describe('dbt_project.yml', () => {
  it('refuses a config tree that is not a mapping, naming line, column, path and a hint', async () => {
    const err = await refusal('name: shop\nmodels: "x"\n');
    expect(err.location).toEqual({ file: 'dbt_project.yml', line: 2, column: 9, path: 'models' });
    expect(err.message).toBe('expected a mapping of folders and +configs, got "x"');
    expect(err.hint).toMatch(/models: \{/);
  });

  it('refuses a folder list that is a number instead of reading it as a folder named 3', async () => {
    const err = await refusal('name: shop\nmodel-paths: 3\n');
    expect(err.location).toMatchObject({ line: 2, path: 'model-paths' });
    expect(err.message).toMatch(/expected a list of folders.*got 3/);
    expect(err.hint).toBe('write it like model-paths: [folder]');
  });

  it('refuses an unknown key at the key itself and suggests the key meant', async () => {
    const err = await refusal('name: shop\nprofile: p\nmodel_paths: [sql]\n');
    expect(err.message).toBe('unknown key model_paths');
    expect(err.location).toEqual({
      file: 'dbt_project.yml',
      line: 3,
      column: 1,
      path: 'model_paths',
    });
    expect(err.hint).toBe('did you mean model-paths?');
  });

  it('lists every problem of the file at once, in line order', async () => {
    const err = await refusal('name: shop\nseeds: [a]\nmodle-paths: [m]\nversion: banana\n');
    expect(err).toBeInstanceOf(ProblemsError);
    const problems = (err as ProblemsError).problems;
    expect(problems.map((p) => [p.location.line, p.location.path])).toEqual([
      [2, 'seeds'],
      [3, 'modle-paths'],
      [4, 'version'],
    ]);
    expect(problems[1]!.message).toMatch(/did you mean model-paths\?/);
  });

  it('refuses a project named after something of the Jinja context, as dbt does', async () => {
    const err = await refusal('name: ref\n');
    expect(err.message).toBe('ref is a reserved word and cannot name a project');
    expect(err.location).toMatchObject({ line: 1, column: 7, path: 'name' });
  });

  it('refuses a project name that does not start with a letter or _', async () => {
    expect((await refusal('name: 3shop\n')).message).toMatch(/letters, digits and _/);
  });

  it('refuses a key given under both its old and its new name', async () => {
    const err = await refusal('name: shop\nsource-paths: [a]\nmodel-paths: [b]\n');
    expect(err.message).toMatch(/source-paths and model-paths cannot both be defined/);
    expect(err.hint).toBe('keep model-paths and remove source-paths');
  });

  it('refuses tests and data_tests together, and reads data_tests alone as the tests tree', async () => {
    const both = await refusal(
      'name: shop\ntests: {+severity: warn}\ndata_tests: {+severity: warn}\n',
    );
    expect(both.message).toMatch(/tests and data_tests cannot both be defined/);
    const project = await load('name: shop\ndata_tests: {+severity: warn}\n');
    expect(project.tests).toEqual({ '+severity': 'warn' });
  });

  it('refuses an unknown key inside a key dbt validates (quoting)', async () => {
    const err = await refusal('name: shop\nquoting: {identifier: false, bogus: true}\n');
    expect(err.message).toBe('unknown key bogus');
    expect(err.location).toMatchObject({ line: 2, path: 'quoting.bogus' });
  });

  it('checks values after rendering them, as dbt does', async () => {
    process.env.TRIB_DBTPROJ_MODELS = 'sql';
    try {
      const project = await load(
        'name: shop\nmodel-paths: ["{{ env_var(\'TRIB_DBTPROJ_MODELS\') }}"]\n',
      );
      expect(project.modelPaths).toEqual(['sql']);
    } finally {
      delete process.env.TRIB_DBTPROJ_MODELS;
    }
  });

  it('takes a key with no value as dbt does: the default', async () => {
    const project = await load('name: shop\nmodels:\nmodel-paths:\non-run-start:\n');
    expect(project.models).toEqual({});
    expect(project.modelPaths).toEqual(['models']);
    expect(project.onRunStart).toEqual([]);
  });

  it('accepts every top-level key dbt accepts (the old path names apart, tested below)', async () => {
    const yml = `
name: shop
version: '1.0.0'
config-version: 2
profile: shop
model-paths: [models]
seed-paths: [seeds]
snapshot-paths: [snapshots]
macro-paths: [macros]
test-paths: [tests]
analysis-paths: [analyses]
docs-paths: [docs]
asset-paths: [assets]
function-paths: [functions]
clean-targets: [target, dbt_packages]
target-path: target
log-path: logs
packages-install-path: dbt_packages
project-root: .
on-run-start: "select 1"
on-run-end: ["select 2"]
require-dbt-version: [">=1.5.0", "<2.0.0"]
vars: {start: 1}
models: {shop: {+materialized: view}}
seeds: {+quote_columns: false}
snapshots: {}
sources: {}
tests:
data_tests: {+severity: warn}
analyses: {}
unit_tests: {}
metrics: {}
semantic-models: {}
saved-queries: {}
exposures: {}
functions: {}
quoting: {database: false, schema: false, identifier: false, project: false, snowflake_ignore_case: false}
dispatch: [{macro_namespace: dbt_utils, search_order: [shop, dbt_utils]}]
query-comment: {comment: "{{ target.name }}", append: true, job-label: true}
restrict-access: false
dbt-cloud: {project-id: 1}
flags: {send_anonymous_usage_stats: false}
sync: {}
packages: []
`;
    const keys = [...yml.matchAll(/^([\w+-]+):/gm)].map((m) => m[1]);
    const oldNames = ['source-paths', 'data-paths'];
    expect([...keys, ...oldNames].sort()).toEqual([...DBT_PROJECT_KEYS].sort());
    const project = await load(yml);
    expect(project.onRunStart).toEqual(['select 1']);
    expect(project.tests).toEqual({ '+severity': 'warn' });
  });

  it('fires the log-path and target-path deprecations only for values other than the defaults, as dbt-core does', async () => {
    const events = async (yml: string) =>
      (await load(`name: shop\n${yml}`)).deprecations.map((d) => d.event);
    // dbt's check_config_path passes `logs` and `target`: many packages spell the defaults out.
    expect(await events('target-path: target\nlog-path: "logs"\n')).toEqual([]);
    expect(await events('target-path: build\nlog-path: my_logs\n')).toEqual([
      'ConfigLogPathDeprecation',
      'ConfigTargetPathDeprecation',
    ]);
    expect(await events('source-paths: [models]\n')).toEqual(['ConfigSourcePathDeprecation']);
  });

  it('reads the old names source-paths and data-paths as model-paths and seed-paths', async () => {
    const project = await load('name: shop\nsource-paths: [sql]\ndata-paths: [csv]\n');
    expect(project.modelPaths).toEqual(['sql']);
    expect(project.seedPaths).toEqual(['csv']);
  });

  it("loads a project shaped like dbt-utils' integration tests (flags, dispatch, clean-targets)", async () => {
    const project = await load(`
name: 'dbt_utils_integration_tests'
version: '1.0'
profile: 'integration_tests'
config-version: 2
model-paths: ["models"]
analysis-paths: ["analysis"]
seed-paths: ["data"]
target-path: "target"
clean-targets:
    - "target"
    - "dbt_packages"
flags:
    send_anonymous_usage_stats: False
dispatch:
  - macro_namespace: 'dbt_utils'
    search_order: ['dbt_utils_integration_tests', 'dbt_utils']
seeds:
  +quote_columns: false
  dbt_utils_integration_tests:
    sql:
      data_get_column_values_dropped:
        +post-hook: "{% do adapter.drop_relation(this.incorporate(type='table')) %}"
`);
    expect(project.seedPaths).toEqual(['data']);
    expect(project.analysisPaths).toEqual(['analysis']);
  });

  it('documents every key it accepts but ignores', () => {
    const docs = readFileSync(
      join(resolve(import.meta.dirname, '../..'), 'docs/dbt-compatibility.md'),
      'utf8',
    );
    for (const key of Object.keys(IGNORED_DBT_PROJECT_KEYS)) expect(docs).toContain(`\`${key}\``);
  });
});
