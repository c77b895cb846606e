/**
 * The orchestration commands as a user runs them (a real process each): graph in its three
 * formats, runs and logs of a failed run, run --resume, backfill and partitions, schedules, and
 * the dead-letter store commands, with their exit codes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeFiles } from '../helpers.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');

function tributary(dir: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, '-p', dir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', TRIBUTARY_FAULT: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function project(): string {
  const dir = tempDir('trib-orch-cli-');
  writeFiles(dir, {
    'tributary.yml': `name: o
sources:
  app:
    type: files
    path: landing
    tables:
      items: { files: "items*.csv" }
assets:
  daily: { partitions: { start: 2025-01-01, end: 2025-01-03 } }
schedules:
  hourly: { cron: "0 * * * *", timezone: America/New_York, select: ["+daily"] }
`,
    'contracts/items.yml': `columns:
  - { name: id, type: bigint, required: true }
  - { name: day, type: date, required: true }
`,
    'landing/items-1.csv': 'id,day\n1,2025-01-01\n2,2025-01-02\n3,2025-01-02\n',
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: items }]
`,
    'models/a.sql': `select * from {{ source('lake', 'items') }}`,
    'models/daily.sql': `{{ config(materialized='incremental', unique_key='day') }}
select day, count(*) as n from {{ ref('a') }}
{% if var('partition_start', none) %}where day = cast('{{ var("partition_start") }}' as date){% endif %}
group by day`,
  });
  return dir;
}

describe('orchestration commands', () => {
  let dir: string;
  let failedRun: string;

  beforeAll(() => {
    dir = project();
    const run = tributary(dir, ['run', '--json'], { TRIBUTARY_FAULT: 'step:model:a' });
    expect(run.code).toBe(1);
    failedRun = (JSON.parse(run.stdout) as { runId: string }).runId;
  });

  it('graph prints text, dot and json, with selection', () => {
    const text = tributary(dir, ['graph']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^raw:app\.items$/m);
    expect(text.stdout).toMatch(/^model:daily\s+<- model:a$/m);
    const dot = tributary(dir, ['graph', '--format', 'dot', '+daily']);
    expect(dot.stdout).toContain('digraph assets {');
    expect(dot.stdout).toContain('"model:a" -> "model:daily";');
    const json = JSON.parse(tributary(dir, ['graph', '--json', 'a+']).stdout) as {
      assets: { key: string; deps: string[] }[];
    };
    expect(json.assets.map((a) => a.key)).toEqual(['model:a', 'model:daily']);
    expect(json.assets[1]!.deps).toEqual(['model:a']);
    const bad = tributary(dir, ['graph', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no asset matches nope/);
  });

  it('runs and logs show the failed step, and run --resume finishes the run', () => {
    const runs = tributary(dir, ['runs', failedRun]);
    expect(runs.stdout).toMatch(/model:a\s+failed/);
    expect(runs.stdout).toMatch(/model:daily\s+skipped/);
    const logs = tributary(dir, ['logs', failedRun, 'a']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/fault injected at step:model:a/);
    expect(tributary(dir, ['logs', failedRun, 'zzz']).code).toBe(2);
    const resumed = tributary(dir, ['run', '--resume', failedRun, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout) as {
      steps: { asset: string }[];
      resumedFrom: string;
    };
    expect(result.resumedFrom).toBe(failedRun);
    expect(result.steps.map((s) => s.asset)).toEqual(['model:a', 'model:daily']);
    expect(tributary(dir, ['run', '--resume', failedRun, 'a']).code).toBe(2);
  });

  it('backfill runs partitions and partitions shows their status', () => {
    const first = tributary(dir, ['backfill', 'daily', '--to', '2025-01-02', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as { steps: unknown[] }).steps).toHaveLength(2);
    const status = tributary(dir, ['partitions', 'daily', '--json']);
    const parsed = JSON.parse(status.stdout) as {
      partitions: { partition: string; status: string }[];
    };
    expect(parsed.partitions.map((p) => `${p.partition} ${p.status}`)).toEqual([
      '2025-01-01 succeeded',
      '2025-01-02 succeeded',
      '2025-01-03 missing',
    ]);
    const rest = tributary(dir, ['backfill', 'daily']);
    expect(rest.stdout).toMatch(/1 succeeded/);
    expect(tributary(dir, ['backfill', 'daily']).stdout).toMatch(/nothing to backfill/);
    const notPartitioned = tributary(dir, ['backfill', 'a']);
    expect(notPartitioned.code).toBe(2);
    expect(notPartitioned.stderr).toMatch(/model:a is not partitioned/);
  });

  it('schedules lists next ticks in the time zone', () => {
    const s = JSON.parse(tributary(dir, ['schedules', '--json']).stdout) as {
      name: string;
      next: string[];
    }[];
    expect(s[0]!.name).toBe('hourly');
    expect(s[0]!.next).toHaveLength(3);
    for (const t of s[0]!.next) expect(t).toMatch(/T\d\d:00:00\.000Z$/);
  });

  it('dlq commands: empty listing, usage errors, unknown ids', () => {
    expect(tributary(dir, ['dlq', 'list']).stdout).toMatch(/dead-letter store is empty/);
    expect(tributary(dir, ['dlq', 'purge']).code).toBe(2);
    const show = tributary(dir, ['dlq', 'show', 'dl_nope']);
    expect(show.code).toBe(2);
    expect(show.stderr).toMatch(/no dead letter dl_nope/);
    expect(tributary(dir, ['dlq', 'replay']).stdout).toMatch(/nothing to replay/);
  });
});

describe('commands while a server holds the project', () => {
  it('ask the running server over HTTP instead of failing on the lock', async () => {
    const dir = project();
    expect(tributary(dir, ['run']).code).toBe(0);
    const server = spawn(process.execPath, [CLI, '-p', dir, 'serve', '--port', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TRIBUTARY_FAULT: '' },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let err = '';
        const t = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 60_000);
        server.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (/serving \S+ at http/.test(err)) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      const runs = tributary(dir, ['runs', '--json']);
      expect(runs.code, runs.stderr).toBe(0);
      const runId = (JSON.parse(runs.stdout) as { runs: { runId: string }[] }).runs.at(-1)!.runId;
      expect(tributary(dir, ['runs', runId]).stdout).toMatch(/model:a\s+succeeded/);
      expect(tributary(dir, ['logs', runId, 'a']).stdout).toMatch(/succeeded\s+model:a/);
      expect(tributary(dir, ['catalog', 'items']).code).toBe(0);
      expect(
        tributary(dir, ['query', 'select count(*) as n from main.a', '--json']).stdout,
      ).toMatch(/"n": "3"/);
      const token = tributary(dir, ['token', 'create', '--role', 'viewer', '--name', 'remote']);
      expect(token.code, token.stderr).toBe(0);
      expect(token.stdout).toMatch(/^trb_/);
      expect(tributary(dir, ['token', 'list']).stdout).toMatch(/remote\s+viewer/);
      expect(tributary(dir, ['dlq', 'list']).stdout).toMatch(/empty/);
      expect(tributary(dir, ['partitions', 'daily', '--json']).code).toBe(0);
      // What does not exist is NOT_FOUND on the server too: the same message and exit code 2.
      for (const [args, message] of [
        [['runs', 'run_nope'], /no run run_nope/],
        [['logs', 'run_nope'], /no run run_nope/],
        [['dlq', 'show', 'dl_nope'], /no dead letter dl_nope/],
        [['partitions', 'nope'], /no asset matches nope/],
      ] as const) {
        const missing = tributary(dir, [...args]);
        expect(missing.code, `${args.join(' ')}: ${missing.stderr}`).toBe(2);
        expect(missing.stderr).toMatch(message);
      }
      // A run goes into the server's queue.
      const queued = tributary(dir, ['run', 'a', '--json']);
      expect(queued.code, queued.stderr).toBe(0);
      expect(JSON.parse(queued.stdout)).toMatchObject({ queued: true, runId: /^run_/ });
      await expect
        .poll(() => tributary(dir, ['runs']).stdout, { timeout: 30_000, interval: 500 })
        .toMatch(/run a \(api, local cli[^)]*\)\)?\s+api\s+succeeded/);
      expect(tributary(dir, ['run', 'a', '--full-refresh']).code).toBe(2);
      // A command with no remote form still says who holds the project.
      const run = tributary(dir, ['backfill', 'daily']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/in use by process \d+ \(serve/);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  }, 120_000);
});
