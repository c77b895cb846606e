/**
 * The runner on real projects (files source → processed Parquet → dbt models on DuckDB): retry
 * policies with injected transient faults, timeouts that interrupt a running DuckDB statement,
 * --resume, step logs and step lines, daily partitions and backfills, and alerts received by a
 * local HTTP receiver and a local SMTP receiver.
 */
import { describe, expect, it } from 'vitest';
import {
  backfill,
  partitionStates,
  runPipeline,
  type StepResult,
  type Workspace,
} from '../../src/orchestrator/index.js';
import { tempDir, withWorkspace, writeFiles, restoreFaultAfterEach } from '../helpers.js';
import { startReceiver, startSmtp } from '../notify/receivers.js';

restoreFaultAfterEach();

/** A project: items.csv → processed.items → model a → model b (+ extra yaml in tributary.yml). */
function project(extraYaml = '', extraFiles: Record<string, string> = {}): string {
  const dir = tempDir('trib-runner-');
  writeFiles(dir, {
    'tributary.yml': `name: r
sources:
  app:
    type: files
    path: landing
    tables:
      items: { files: "items*.csv" }
${extraYaml}`,
    'contracts/items.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: day, type: date, required: true }
  - { name: amount, type: double }
`,
    'landing/items-1.csv':
      'id,day,amount\n1,2025-01-01,10\n2,2025-01-01,5\n3,2025-01-02,7\n4,2025-01-03,1\n5,2025-01-05,2\n',
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: items }]
`,
    'models/a.sql': `select id, day, amount from {{ source('lake', 'items') }}`,
    'models/b.sql': `select count(*) as n, sum(amount) as total from {{ ref('a') }}`,
    ...extraFiles,
  });
  return dir;
}

const stepOf = (steps: StepResult[], asset: string): StepResult =>
  steps.find((s) => s.asset === asset)!;

describe('retries', () => {
  it('retries a transient failure with backoff and records each attempt in the step log', async () => {
    const dir = project(`assets:
  a: { retry: { attempts: 3, backoff: 10ms, jitter: false } }
`);
    process.env.TRIBUTARY_FAULT = 'flaky:2:step:model:a';
    const delays: number[] = [];
    await withWorkspace(dir, async (ws) => {
      const result = await runPipeline(ws, {
        sleep: async (ms) => {
          delays.push(ms);
        },
      });
      expect(result.status).toBe('succeeded');
      const a = stepOf(result.steps, 'model:a');
      expect(a.status).toBe('succeeded');
      expect(a.attempts).toBe(3);
      expect(delays).toEqual([10, 20]);
      const steps = await ws.state.listSteps(result.runId);
      expect(steps.find((s) => s.asset === 'model:a')!.attempts).toBe(3);
      const log = (await ws.state.stepLogs(result.runId, 'model:a')).map((l) => l.line);
      expect(log[0]).toMatch(/attempt 1 failed: transient fault injected .*retrying in 10ms/);
      expect(log).toContain('attempt 2');
      expect(log.some((l) => /attempt 2 failed: .*retrying in 20ms/.test(l))).toBe(true);
      expect(log).toContain('attempt 3');
    });
  });

  it('does not retry a failure that is not transient under on: transient, and skips downstream', async () => {
    const dir = project(`assets:
  a: { retry: { attempts: 3, backoff: 10ms } }
`);
    process.env.TRIBUTARY_FAULT = 'step:model:a';
    await withWorkspace(dir, async (ws) => {
      const result = await runPipeline(ws, { sleep: async () => undefined });
      expect(result.status).toBe('failed');
      expect(stepOf(result.steps, 'model:a')).toMatchObject({ status: 'failed', attempts: 1 });
      expect(stepOf(result.steps, 'model:b').status).toBe('skipped');
      expect(stepOf(result.steps, 'model:b').message).toMatch(/upstream model:a/);
      expect(stepOf(result.steps, 'processed:items').status).toBe('succeeded');
    });
  });

  it('tells the channels about files a run refused, while the run itself succeeds', async () => {
    const hook = await startReceiver();
    const dir = project(`alerts:
  channels:
    ops: { type: webhook, url: "${hook.url}/hook" }
`);
    writeFiles(dir, { 'landing/items-2.csv': 'id,when,amount\n9,2025-02-01,1\n' });
    await withWorkspace(dir, async (ws) => {
      const result = await runPipeline(ws);
      expect(result.status).toBe('succeeded');
      expect(result.refusedFiles).toEqual([
        expect.objectContaining({ asset: 'processed:items', file: 'items-2.csv' }),
      ]);
      // The model downstream of the table still ran, on the rows of the good file.
      expect(stepOf(result.steps, 'model:b').status).toBe('succeeded');
      const events = hook.requests.map(
        (r) =>
          JSON.parse(r.body) as {
            event: { type: string; files: { file: string; message: string }[] };
            summary: string;
          },
      );
      expect(events.map((e) => e.event.type)).toEqual(['refused_files']);
      expect(events[0]!.event.files[0]!.message).toMatch(
        /^items-2\.csv:1: header does not match the contract: missing day/,
      );
      expect(events[0]!.summary).toMatch(/refused 1 file \(items-2\.csv:1: header does not match/);
    });
  });

  it('sends retries_exhausted and failure alerts to a webhook and by email', async () => {
    const hook = await startReceiver();
    const smtp = await startSmtp();
    const dir = project(`assets:
  a: { retry: { attempts: 2, backoff: 1ms, on: all } }
alerts:
  channels:
    ops: { type: webhook, url: "${hook.url}/hook" }
    mail: { type: email, host: 127.0.0.1, port: ${smtp.port}, from: "tributary@example.com", to: ["oncall@example.com"] }
`);
    process.env.TRIBUTARY_FAULT = 'step:model:a';
    await withWorkspace(dir, async (ws) => {
      const result = await runPipeline(ws, { sleep: async () => undefined });
      expect(result.status).toBe('failed');
      const types = hook.requests.map(
        (r) => (JSON.parse(r.body) as { event: { type: string } }).event.type,
      );
      expect(types.sort()).toEqual(['failure', 'retries_exhausted']);
      const failure = hook.requests
        .map(
          (r) =>
            JSON.parse(r.body) as {
              event: { type: string; runId: string; failedSteps: { asset: string }[] };
            },
        )
        .find((b) => b.event.type === 'failure')!;
      expect(failure.event.runId).toBe(result.runId);
      expect(failure.event.failedSteps.map((s) => s.asset)).toEqual(['model:a']);
      expect(smtp.mails).toHaveLength(2);
      expect(smtp.mails[0]!.to).toEqual(['oncall@example.com']);
      expect(smtp.mails.map((m) => m.raw).join('\n')).toContain(result.runId);
      expect(await ws.dlq.list()).toEqual([]);
    });
  });

  it('puts an alert that cannot be delivered in the dead-letter store, and replay delivers it once', async () => {
    let up = false;
    const hook = await startReceiver((_req, res) => {
      res.statusCode = up ? 200 : 503;
      res.end(up ? 'ok' : 'down');
    });
    const dir = project(`alerts:
  channels:
    ops: { type: webhook, url: "${hook.url}/hook" }
  retry: { attempts: 2, backoff: 1ms }
`);
    process.env.TRIBUTARY_FAULT = 'step:model:b';
    await withWorkspace(dir, async (ws) => {
      const result = await runPipeline(ws);
      expect(result.status).toBe('failed');
      const [entry, ...rest] = await ws.dlq.list();
      expect(rest).toEqual([]);
      expect(entry).toMatchObject({
        kind: 'notification',
        source: 'ops',
        attempts: 2,
        status: 'pending',
      });
      expect(entry!.error).toMatch(/503/);
      up = true;
      const handlers = ws.alerts!.replayHandlers();
      await ws.dlq.replay(entry!.id, handlers);
      await expect(ws.dlq.replay(entry!.id, handlers)).rejects.toThrow(/already replayed|replayed/);
      const delivered = hook.requests.filter((r) => r.body.includes(result.runId));
      expect(delivered).toHaveLength(3); // two failed tries, then the replay
      expect((await ws.dlq.get(entry!.id))!.status).toBe('replayed');
    });
  });
});

describe('timeouts', () => {
  it('interrupts a step that runs past its timeout, fails it and skips downstream', async () => {
    const dir = project(
      `assets:
  slow: { timeout: 700ms }
`,
      {
        'models/slow.sql': `{{ config(materialized='table') }}\nselect count(*) as n from range(200000) x cross join range(200000) y`,
        'models/after_slow.sql': `select * from {{ ref('slow') }}`,
      },
    );
    await withWorkspace(dir, async (ws) => {
      const t0 = performance.now();
      const result = await runPipeline(ws, { select: ['slow+'] });
      const took = performance.now() - t0;
      expect(result.status).toBe('failed');
      expect(stepOf(result.steps, 'model:slow').message).toMatch(/timed out after 700ms/);
      expect(stepOf(result.steps, 'model:after_slow').status).toBe('skipped');
      expect(took).toBeLessThan(20_000); // the cross join alone would take minutes
      // The session the step ran on is usable again.
      expect((await ws.warehouse.query('select 1 as one')).rows[0]!.one).toBe(1);
    });
  });
});

describe('step lines', () => {
  it('prints a running line for a step once history has it running, and none for steps done by then', async () => {
    const dir = project();
    await withWorkspace(dir, async (ws) => {
      let runId = '';
      const lines: string[] = [];
      let seenInHistory: string | undefined;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const result = await runPipeline(ws, {
        onStart: (id) => (runId = id),
        progress: {
          update: () => undefined,
          log: (line) => {
            lines.push(line);
            if (!/^running\s+model:a$/.test(line)) return;
            // What history says at the moment the line is printed, then let the step end.
            void ws.state.listSteps(runId).then((steps) => {
              seenInHistory = steps.find((st) => st.asset === 'model:a')?.status;
              release();
            });
          },
        },
        // A no-op for every asset; model:a waits until its line has been checked against history.
        executor: async (_ctx, asset) => {
          if (asset.key === 'model:a') await gate;
          return { status: 'succeeded' };
        },
      });
      expect(result.status).toBe('succeeded');
      expect(seenInHistory).toBe('running');
      expect(lines.filter((l) => l.startsWith('running'))).toEqual(['running    model:a']);
    });
  });
});

describe('resume', () => {
  it('runs only the failed and not-run steps of an earlier run', async () => {
    const dir = project();
    process.env.TRIBUTARY_FAULT = 'step:model:a';
    await withWorkspace(dir, async (ws) => {
      const first = await runPipeline(ws);
      expect(first.status).toBe('failed');
      delete process.env.TRIBUTARY_FAULT;
      const resumed = await runPipeline(ws, { resume: first.runId });
      expect(resumed.status).toBe('succeeded');
      expect(resumed.resumedFrom).toBe(first.runId);
      expect(resumed.steps.map((s) => s.asset)).toEqual(['model:a', 'model:b']);
      const run = await ws.state.getRun(resumed.runId);
      expect(run).toMatchObject({ resumedFrom: first.runId, plan: ['model:a', 'model:b'] });
      const b = await ws.warehouse.query('select n, total from main.b');
      expect(b.rows[0]).toEqual({ n: '5', total: 25 });
      await expect(runPipeline(ws, { resume: resumed.runId })).rejects.toThrow(
        /nothing left to run/,
      );
      await expect(runPipeline(ws, { resume: 'run_nope' })).rejects.toThrow(/no run run_nope/);
    });
  });
});

describe('partitions and backfill', () => {
  const partitioned = () =>
    project(
      `assets:
  daily: { partitions: { start: 2025-01-01, end: 2025-01-05 } }
`,
      {
        'models/daily.sql': `{{ config(materialized='incremental', unique_key='day') }}
select day, count(*) as orders, sum(amount) as amount
from {{ ref('a') }}
{% if var('partition_start', none) %}
where day >= cast('{{ var("partition_start") }}' as date) and day < cast('{{ var("partition_end") }}' as date)
{% endif %}
group by day`,
      },
    );

  async function daily(ws: Workspace) {
    return (
      await ws.warehouse.query(
        'select cast(day as varchar) as day, orders from main.daily order by day',
      )
    ).rows;
  }

  it('backfills missing partitions, stores each status, and re-runs nothing when all succeeded', async () => {
    const dir = partitioned();
    await withWorkspace(dir, async (ws) => {
      await runPipeline(ws, { select: ['+a'] });
      const result = await backfill(ws, 'daily', { concurrency: 2 });
      expect(result.status).toBe('succeeded');
      expect(result.steps.map((s) => s.partition)).toEqual([
        '2025-01-01',
        '2025-01-02',
        '2025-01-03',
        '2025-01-04',
        '2025-01-05',
      ]);
      expect(await daily(ws)).toEqual([
        { day: '2025-01-01', orders: '2' },
        { day: '2025-01-02', orders: '1' },
        { day: '2025-01-03', orders: '1' },
        { day: '2025-01-05', orders: '1' },
      ]);
      const states = await partitionStates(ws, 'daily');
      expect(states.asset).toBe('model:daily');
      expect(states.partitions.map((p) => p.status)).toEqual(Array(5).fill('succeeded'));
      const again = await backfill(ws, 'daily');
      expect(again.steps).toEqual([]);
      // Chosen partitions run whatever their status; the merge keeps one row per day.
      const chosen = await backfill(ws, 'daily', { partitions: ['2025-01-01'] });
      expect(chosen.steps).toHaveLength(1);
      expect(await daily(ws)).toHaveLength(4);
    });
  });

  it('records a failed partition, and the next backfill runs only what is missing or failed', async () => {
    const dir = partitioned();
    await withWorkspace(dir, async (ws) => {
      await runPipeline(ws, { select: ['+a'] });
      const first = await backfill(ws, 'daily', { from: '2025-01-02', to: '2025-01-03' });
      expect(first.steps.map((s) => s.partition)).toEqual(['2025-01-02', '2025-01-03']);
      process.env.TRIBUTARY_FAULT = 'step:model:daily';
      const failing = await backfill(ws, 'daily', { from: '2025-01-01', to: '2025-01-04' });
      expect(failing.steps.map((s) => `${s.partition}:${s.status}`)).toEqual([
        '2025-01-01:failed',
        '2025-01-04:failed',
      ]);
      delete process.env.TRIBUTARY_FAULT;
      const states = await partitionStates(ws, 'daily');
      expect(Object.fromEntries(states.partitions.map((p) => [p.partition, p.status]))).toEqual({
        '2025-01-01': 'failed',
        '2025-01-02': 'succeeded',
        '2025-01-03': 'succeeded',
        '2025-01-04': 'failed',
        '2025-01-05': 'missing',
      });
      const retry = await backfill(ws, 'daily');
      expect(retry.steps.map((s) => s.partition)).toEqual([
        '2025-01-01',
        '2025-01-04',
        '2025-01-05',
      ]);
      expect(retry.status).toBe('succeeded');
    });
  });

  it('refuses assets that are not partitioned and dates out of range, naming them', async () => {
    const dir = partitioned();
    await withWorkspace(dir, async (ws) => {
      await expect(backfill(ws, 'a')).rejects.toThrow(/model:a is not partitioned/);
      await expect(backfill(ws, 'daily', { from: '2024-12-01' })).rejects.toThrow(
        /no partitions before 2025-01-01/,
      );
      await expect(backfill(ws, 'daily', { from: '2025-1-1' })).rejects.toThrow(
        /--from 2025-1-1 is not a date/,
      );
    });
  });
});
