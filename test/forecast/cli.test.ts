/**
 * `tributary forecast` as a user runs it: a real process (built with `npm run build`) on a small
 * project (a files source → a dbt model → forecasts/*.yml), its output, JSON and exit codes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeFiles } from '../helpers.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');

function tributary(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function salesCsv(): string {
  const lines = ['id,day,product_id,quantity'];
  let id = 1;
  for (let i = 0; i < 56; i++) {
    const day = new Date(Date.UTC(2025, 0, 6) + i * 86_400_000).toISOString().slice(0, 10);
    lines.push(`${id++},${day},1,${2 + (i % 7)}`, `${id++},${day},2,${(i * 5) % 3}`);
  }
  return `${lines.join('\n')}\n`;
}

function project(): string {
  const dir = tempDir('trib-fc-cli-');
  writeFiles(dir, {
    'tributary.yml': `name: f
sources:
  app:
    type: files
    path: landing
    tables:
      sales: { files: "sales*.csv" }
`,
    'contracts/sales.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: day, type: date, required: true }
  - { name: product_id, type: bigint, required: true }
  - { name: quantity, type: integer }
`,
    'landing/sales-1.csv': salesCsv(),
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: sales }]
`,
    'models/sales.sql': `select id, day, product_id, quantity from {{ source('lake', 'sales') }}`,
    'forecasts/demand.yml': `source: ref('sales')
time_column: day
target: sum(quantity)
group_by: [product_id]
frequency: day
horizon: 7
methods: [naive, seasonal_naive, naive2, ses]
backtest: { windows: 2 }
`,
  });
  return dir;
}

describe('tributary forecast', () => {
  let dir: string;

  beforeAll(() => {
    expect(
      existsSync(resolve(import.meta.dirname, '../../dist/src/cli/index.js')),
      'run `npm run build` first (npm test does)',
    ).toBe(true);
    dir = project();
    const run = tributary(['-p', dir, 'run']);
    expect(run.code, run.stderr).toBe(0);
  }, 120_000);

  it('is listed in --help with its options', () => {
    const help = tributary(['forecast', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--backtest-only/);
    expect(help.stdout).toMatch(/--json/);
    expect(tributary(['--help']).stdout).toMatch(/forecast \[options\] \[name\]/);
  });

  it('prints the accuracy table by method, the chosen methods first', () => {
    const { code, stdout, stderr } = tributary(['-p', dir, 'forecast']);
    expect(code, stderr).toBe(0);
    // `run` already built it and nothing changed since.
    expect(stdout).toMatch(/forecast demand: up to date/);
    expect(stdout).toMatch(/demand: backtest accuracy by method/);
    const table = stdout
      .split('\n')
      .filter((l) => /^(auto \(chosen\)|naive|naive2|ses|seasonal_naive)\s/.test(l));
    expect(table[0]).toMatch(/^auto \(chosen\)\s+2\s+4\s/);
    expect(table.map((l) => l.split(/\s+/)[0]).sort()).toEqual(
      ['auto', 'naive', 'naive2', 'seasonal_naive', 'ses'].sort(),
    );
    expect(stdout).toMatch(
      /^method\s+series\s+windows\s+OWA\s+sMAPE\s+MASE\s+cover 80%\s+cover 95%$/m,
    );
  });

  it('prints the run and the accuracy as JSON, naive2 scoring an OWA of 1', () => {
    const { code, stdout } = tributary(['-p', dir, 'forecast', 'demand', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      run: { status: string };
      forecasts: {
        name: string;
        accuracy: { methods: { method: string; owa: number | null }[] };
      }[];
    };
    expect(report.run.status).toBe('succeeded');
    expect(report.forecasts.map((f) => f.name)).toEqual(['demand']);
    const naive2 = report.forecasts[0]!.accuracy.methods.find((m) => m.method === 'naive2');
    expect(naive2!.owa).toBeCloseTo(1, 10);
  });

  it('runs again with --backtest-only and records the run in history', () => {
    const { code, stdout } = tributary(['-p', dir, 'forecast', '--backtest-only']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/1 succeeded/);
    expect(stdout).toMatch(/rows: demand_backtest \d+, demand_methods 2/);
    expect(tributary(['-p', dir, 'runs']).stdout).toMatch(/forecast --backtest-only/);
  });

  it('exits 2 naming the forecasts there are when the name is unknown', () => {
    const { code, stderr } = tributary(['-p', dir, 'forecast', 'demnd']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no forecast named demnd/);
    expect(stderr).toMatch(/forecasts: demand/);
  });

  it('queues the run on the server that holds the project, as run does', async () => {
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
      const queued = tributary(['-p', dir, 'forecast', 'demand', '--json']);
      expect(queued.code, queued.stderr).toBe(0);
      expect(JSON.parse(queued.stdout)).toMatchObject({ queued: true, url: /^http/ });
      await expect
        .poll(() => tributary(['-p', dir, 'runs']).stdout, { timeout: 60_000, interval: 500 })
        .toMatch(/run forecast:demand \(api[^\n]*succeeded/);
      const backtestOnly = tributary(['-p', dir, 'forecast', '--backtest-only']);
      expect(backtestOnly.code).toBe(2);
      expect(backtestOnly.stderr).toMatch(/run queue takes no --backtest-only/);
      const unknown = tributary(['-p', dir, 'forecast', 'demnd']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/no forecast named demnd/);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  }, 120_000);
});
