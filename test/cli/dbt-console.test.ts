/**
 * The dbt verbs' console as dbt prints it: one line per node as it finishes, numbered in
 * completion order and padded with dots to 80 columns, then dbt's summary; `--quiet` keeps only
 * the error-level events; `--log-format json` prints dbt's structured log lines. Run over the
 * `failing` fixture (a seed, a failing test, two skipped views and one that builds) and over the
 * ephemeral-model project `shop` on each engine, with the times masked.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DbtConsole, type LogFormat } from '../../src/cli/dbt-console.js';
import { makeOutput } from '../../src/cli/output.js';
import { runVerb, type RunOptions } from '../../src/models/index.js';
import { DbtFixture, describeEachEngine } from '../models/dbt.js';

/** Runs a verb with a console writing into a list of lines. */
async function consoleRun(
  f: DbtFixture,
  verb: RunOptions['verb'],
  opts: { format?: LogFormat; quiet?: boolean } = {},
): Promise<string[]> {
  const lines: string[] = [];
  const c = new DbtConsole({
    format: opts.format ?? 'text',
    quiet: Boolean(opts.quiet),
    output: makeOutput(true),
    write: (line) => lines.push(line),
  });
  const summary = await f.with((p) => {
    c.useProject(p.parsed);
    return runVerb(p.parsed, p.engine, {
      verb,
      threads: 1,
      log: (m) => c.log(m),
      onPlan: (plan) => c.plan(plan),
      onResult: (r, node) => c.result(r, node),
    });
  });
  c.summary(summary);
  return lines;
}

/** Times masked: the clock prefix, `in 0.05s`, and the run's duration. */
const masked = (lines: string[]) =>
  lines.map((l) =>
    l
      .replace(/^\d\d:\d\d:\d\d {2}/, 'HH:MM:SS  ')
      .replace(/ in \d+\.\d\ds\]$/, ' in T]')
      .replace(/ in 0 hours 0 minutes and \d+\.\d\d seconds \(\d+\.\d\ds\)\.$/, ' in TIME.'),
  );

/** A node line as dbt's format_fancy_output_line lays it out: dots to column 80, then the status. */
const line = (msg: string, status: string) => `HH:MM:SS  ${msg.padEnd(80, '.')} [${status}]`;

describeEachEngine('dbt console', (engine) => {
  let f: DbtFixture;
  beforeAll(() => {
    f = new DbtFixture('failing', engine);
  });
  afterAll(() => f.cleanup());

  it('prints each node as it finishes, then the summary with the failure and the totals', async () => {
    const s = f.schema;
    const view = engine === 'duckdb' ? 'OK' : 'CREATE VIEW';
    expect(masked(await consoleRun(f, 'build'))).toEqual([
      line(`1 of 5 OK loaded seed file ${s}.people`, 'INSERT 3 in T'),
      line('2 of 5 FAIL 1 not_null_people_name', 'FAIL 1 in T'),
      line(`3 of 5 SKIP relation ${s}.stg_people`, 'SKIP'),
      line(`4 of 5 SKIP relation ${s}.greetings`, 'SKIP'),
      line(`5 of 5 OK created sql view model ${s}.unrelated`, `${view} in T`),
      'HH:MM:SS  ',
      'HH:MM:SS  Finished running 1 seed, 1 test, 3 view models in TIME.',
      'HH:MM:SS  ',
      'HH:MM:SS  Completed with 1 error and 0 warnings:',
      'HH:MM:SS  ',
      'HH:MM:SS  Failure in test not_null_people_name (models/schema.yml)',
      'HH:MM:SS    Got 1 result, configured to fail if != 0',
      'HH:MM:SS  ',
      'HH:MM:SS    compiled Code at target/compiled/failing/models/schema.yml/not_null_people_name.sql',
      'HH:MM:SS  ',
      'HH:MM:SS  Done. PASS=2 WARN=0 ERROR=1 SKIP=2 NO-OP=0 TOTAL=5',
    ]);
  });

  it('--quiet prints only the error-level events', async () => {
    expect(masked(await consoleRun(f, 'build', { quiet: true }))).toEqual([
      line('2 of 5 FAIL 1 not_null_people_name', 'FAIL 1 in T'),
      'HH:MM:SS  Failure in test not_null_people_name (models/schema.yml)',
      'HH:MM:SS    Got 1 result, configured to fail if != 0',
    ]);
  });

  it('--log-format json prints one dbt log object per line', async () => {
    const events = (await consoleRun(f, 'build', { format: 'json' })).map(
      (l) =>
        JSON.parse(l) as {
          info: Record<string, unknown>;
          data: Record<string, unknown> & { node_info?: Record<string, unknown> };
        },
    );
    expect(events.map((e) => e.info.name)).toEqual([
      'LogSeedResult',
      'LogTestResult',
      'SkippingDetails',
      'SkippingDetails',
      'LogModelResult',
      'Formatting',
      'FinishedRunningStats',
      'EndOfRunSummary',
      'Formatting',
      'RunResultFailure',
      'RunResultError',
      'SQLCompiledPath',
      'StatsLine',
    ]);
    for (const e of events) {
      expect(Object.keys(e).sort()).toEqual(['data', 'info']);
      expect(Object.keys(e.info)).toEqual([
        'category',
        'code',
        'extra',
        'invocation_id',
        'level',
        'msg',
        'name',
        'pid',
        'thread',
        'ts',
      ]);
      expect(e.info.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(e.info.invocation_id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const test = events[1]!;
    expect(test.info).toMatchObject({ code: 'Q007', level: 'error', thread: 'Thread-1' });
    expect(test.info.msg).toMatch(
      /^2 of 5 FAIL 1 not_null_people_name\.+ \[FAIL 1 in \d\.\d\ds\]$/,
    );
    expect(test.data).toMatchObject({ status: 'fail', num_failures: 1, index: 2, num_models: 5 });
    expect(test.data.node_info).toMatchObject({
      unique_id: expect.stringMatching(/^test\.failing\.not_null_people_name/),
      resource_type: 'test',
      node_status: 'fail',
    });
    expect(events.at(-1)!.data).toEqual({
      stats: { error: 1, noop: 0, pass: 2, skip: 2, total: 5, warn: 0 },
    });
  });
});

describeEachEngine('dbt console with ephemeral models', (engine) => {
  let f: DbtFixture;
  beforeAll(() => {
    f = new DbtFixture('shop', engine);
  });
  afterAll(() => f.cleanup());

  it('counts and prints no ephemeral model, as dbt never runs one', async () => {
    const lines = masked(await consoleRun(f, 'build'));
    expect(lines.some((l) => /int_paid_orders|int_customer_totals/.test(l))).toBe(false);
    const nodeLines = lines.filter((l) => /^HH:MM:SS {2}\d+ of \d+ /.test(l));
    expect(nodeLines.map((l) => Number(/ (\d+) of (\d+) /.exec(l)![1]))).toEqual(
      nodeLines.map((_, i) => i + 1),
    );
    expect(nodeLines.every((l) => l.includes(` of ${nodeLines.length} `))).toBe(true);
  });
});

describeEachEngine('dbt console when an ephemeral model fails', (engine) => {
  let f: DbtFixture;
  beforeAll(() => {
    f = new DbtFixture('failing', engine);
    f.write(
      'models/eph.sql',
      "{{ config(materialized='ephemeral') }}\n{% if execute %}{{ exceptions.raise_compiler_error('no eph today') }}{% endif %}\nselect 1 as one\n",
    );
    f.write('models/uses_eph.sql', "select * from {{ ref('eph') }}\n");
    f.write(
      'models/loud.sql',
      "{% if execute %}{{ log('hello from ' ~ this.name, info=True) }}{% endif %}\nselect 1 as one\n",
    );
  });
  afterAll(() => f.cleanup());

  it("skips what reads it 'due to ephemeral model error' and reports the error", async () => {
    const lines = masked(await consoleRun(f, 'run', { quiet: true }));
    expect(lines).toContainEqual(
      line(`5 of 5 SKIP relation ${f.schema}.uses_eph due to ephemeral model error`, 'ERROR SKIP'),
    );
    expect(lines.some((l) => l.includes('no eph today'))).toBe(true);
  });

  it("prints what the Jinja logs with log(info=True), as dbt's JinjaLogInfo", async () => {
    const lines = masked(await consoleRun(f, 'run', { format: 'text' }));
    expect(lines).toContain('HH:MM:SS  hello from loud');
    const events = (await consoleRun(f, 'run', { format: 'json' })).map(
      (l) => JSON.parse(l) as { info: { name: string; code: string; msg: string } },
    );
    expect(events.find((e) => e.info.name === 'JinjaLogInfo')?.info).toMatchObject({
      code: 'I062',
      msg: 'hello from loud',
    });
  });
});
