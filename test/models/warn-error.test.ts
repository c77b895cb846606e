/**
 * dbt's --warn-error and --warn-error-options: reading the options as dbt-core 1.9 reads them
 * (error/include, warn/exclude, silence; the command line over DBT_WARN_ERROR(_OPTIONS) over
 * dbt_project.yml's flags), and what they change in a run: a warn-severity test fails
 * (LogTestResult), `exceptions.warn` fails its node (JinjaLogWarning), a deprecated
 * dbt_project.yml key stops the parse (ConfigTargetPathDeprecation), and silenced warnings are
 * not printed. Run on the `failing` fixture, extended, on each engine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readWarnErrorOptions, resolveWarnError } from '../../src/models/warn-error.js';
import { DbtFixture, describeEachEngine } from './dbt.js';

describe('warn-error options', () => {
  it('reads error/warn/silence and their older names include/exclude', () => {
    expect(readWarnErrorOptions('{"error": "all", "warn": ["LogTestResult"]}', 'x')).toEqual({
      include: 'all',
      exclude: ['LogTestResult'],
      silence: [],
    });
    expect(
      readWarnErrorOptions('include: [JinjaLogWarning]\nsilence: [NoNodeForYamlKey]', 'x'),
    ).toEqual({
      include: ['JinjaLogWarning'],
      exclude: [],
      silence: ['NoNodeForYamlKey'],
    });
    expect(readWarnErrorOptions({ error: '*' }, 'x').include).toBe('*');
  });

  it("refuses what dbt refuses, with dbt's messages", () => {
    expect(() => readWarnErrorOptions('{"error": "all", "include": "all"}', 'x')).toThrow(
      'Only `error` or `include` can be specified in `warn_error_options`, not both',
    );
    expect(() => readWarnErrorOptions('{"error": ["A"], "warn": ["B"]}', 'x')).toThrow(
      "exclude can only be specified if include is one of ['all', '*']",
    );
    expect(() => readWarnErrorOptions('[1, 2]', '--warn-error-options')).toThrow(
      "--warn-error-options: String '[1, 2]' is not valid YAML",
    );
    expect(() => readWarnErrorOptions('{"error": "some"}', 'x')).toThrow(
      /must be "all", "\*" or a list/,
    );
    expect(() => readWarnErrorOptions('{"errors": "all"}', 'x')).toThrow(/unknown key `errors`/);
  });

  it('takes the command line, else the environment, else dbt_project.yml flags', () => {
    const flags = { warn_error_options: { error: ['LogTestResult'] } };
    expect(resolveWarnError({}, flags, {}).errors('LogTestResult')).toBe(true);
    expect(resolveWarnError({}, flags, {}).errors('JinjaLogWarning')).toBe(false);
    // The environment replaces the project's flags as a whole.
    const env = resolveWarnError({}, flags, { DBT_WARN_ERROR: 'true' });
    expect(env.warnError).toBe(true);
    expect(env.errors('Anything')).toBe(true);
    expect(resolveWarnError({}, {}, { DBT_WARN_ERROR: '0' }).errors('LogTestResult')).toBe(false);
    expect(() => resolveWarnError({}, {}, { DBT_WARN_ERROR: 'maybe' })).toThrow(
      /not a valid boolean/,
    );
    const cli = resolveWarnError({ warnErrorOptions: '{"error": ["JinjaLogWarning"]}' }, flags, {
      DBT_WARN_ERROR_OPTIONS: '{"error": "all"}',
    });
    expect(cli.errors('JinjaLogWarning')).toBe(true);
    expect(cli.errors('LogTestResult')).toBe(false);
    expect(() =>
      resolveWarnError({ warnError: true }, {}, { DBT_WARN_ERROR_OPTIONS: '{"error": "all"}' }),
    ).toThrow('warn_error_options: not allowed with argument warn_error');
    expect(resolveWarnError({}, { warn_error: true }, {}).errors('X')).toBe(true);
  });

  it('silences what silence names, even under error: all', () => {
    const p = resolveWarnError(
      { warnErrorOptions: '{"error": "all", "silence": ["LogTestResult"]}' },
      {},
      {},
    );
    expect(p.errors('LogTestResult')).toBe(false);
    expect(p.silenced('LogTestResult')).toBe(true);
    expect(p.errors('JinjaLogWarning')).toBe(true);
  });
});

describeEachEngine('warn-error in a run', (engine) => {
  let f: DbtFixture;
  const logs: string[] = [];
  beforeEach(() => {
    logs.length = 0;
    f = new DbtFixture('failing', engine);
    f.write(
      'dbt_project.yml',
      "name: failing\nversion: '1.0.0'\nprofile: tributary_test\ntarget-path: build_output\n",
    );
    // Only a warning: 1 of 3 names is null.
    f.write(
      'models/schema.yml',
      'version: 2\nseeds:\n  - name: people\n    columns:\n      - name: name\n        data_tests:\n          - not_null:\n              config: {severity: warn}\n',
    );
    f.write('models/warns.sql', "{% do exceptions.warn('careful: ' ~ 1) %}\nselect 1 as one\n");
  });
  afterEach(() => f.cleanup());

  const run = (warnError: { warnError?: boolean; warnErrorOptions?: string }) => {
    const log = (m: string) => logs.push(m);
    return f.run('build', { threads: 1, log }, { warnError, log });
  };

  it('without the flags, warnings print and the run succeeds', async () => {
    const s = await run({});
    expect(s.success).toBe(true);
    const test = s.results.find((r) => r.unique_id.startsWith('test.'))!;
    expect(test.status).toBe('warn');
    expect(test.message).toBe('Got 1 result, configured to warn if != 0');
    expect(s.results.find((r) => r.unique_id === 'model.failing.warns')!.status).toBe('success');
    expect(logs).toContain('warning: careful: 1');
    expect(
      logs.some((l) => /^warning: Deprecated functionality\n\nThe `target-path` config/.test(l)),
    ).toBe(true);
  });

  it('--warn-error stops at the deprecation while parsing, as dbt does', async () => {
    await expect(run({ warnError: true })).rejects.toThrow(
      /The `target-path` config in `dbt_project.yml` has been deprecated/,
    );
  });

  it("error: [LogTestResult] fails the warn-severity test with dbt's message and fails the run", async () => {
    const s = await run({ warnErrorOptions: '{"error": ["LogTestResult"]}' });
    const test = s.results.find((r) => r.unique_id.startsWith('test.'))!;
    expect(test.status).toBe('fail');
    expect(test.failures).toBe(1);
    expect(test.message).toBe('Got 1 result, configured to fail if != 0');
    expect(s.success).toBe(false);
    // What depends on the seed is skipped, as after any failing test in build.
    expect(s.results.find((r) => r.unique_id === 'model.failing.stg_people')!.status).toBe(
      'skipped',
    );
    expect(s.results.find((r) => r.unique_id === 'model.failing.warns')!.status).toBe('success');
  });

  it("error: all with warn: [the deprecation] fails exceptions.warn's node, and silence hides a warning", async () => {
    const s = await run({
      warnErrorOptions:
        '{"error": "all", "warn": ["ConfigTargetPathDeprecation"], "silence": ["LogTestResult"]}',
    });
    const warns = s.results.find((r) => r.unique_id === 'model.failing.warns')!;
    expect(warns.status).toBe('error');
    expect(warns.message).toMatch(/careful: 1/);
    // Silenced: the test keeps its warn status.
    expect(s.results.find((r) => r.unique_id.startsWith('test.'))!.status).toBe('warn');
    expect(s.success).toBe(false);
    expect(logs.some((l) => l.includes('target-path'))).toBe(true);
  });

  it('silence keeps a deprecation out of the log', async () => {
    await run({
      warnErrorOptions: '{"silence": ["ConfigTargetPathDeprecation", "JinjaLogWarning"]}',
    });
    expect(logs.filter((l) => l.startsWith('warning:'))).toEqual([]);
  });
});
