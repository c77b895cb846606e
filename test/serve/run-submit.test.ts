/**
 * POST /api/runs with the scheduler of `tributary serve`: a run it queues is answered once it
 * is in run history (202 with its id); a run that cannot start is answered with that error, not
 * 202; queued behind other work, it is answered at once, and if it then cannot start, the
 * scheduler reports it (serve logs its error events) instead of the failure vanishing.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  PipelineServer,
  openWorkspace,
  servingDir,
  type SchedulerEvent,
  type Workspace,
} from '../../src/orchestrator/index.js';
import { QuerySandbox, TokenStore, buildApp } from '../../src/serve/index.js';
import { tempDir, writeFiles } from '../helpers.js';

let ws: Workspace;
let app: FastifyInstance;
let server: PipelineServer;
let sandbox: QuerySandbox;
let operator: string;
const events: SchedulerEvent[] = [];
const waiters: { match: (e: SchedulerEvent) => boolean; resolve: (e: SchedulerEvent) => void }[] =
  [];

/** The next scheduler event that matches (or one already seen). */
function nextEvent(match: (e: SchedulerEvent) => boolean): Promise<SchedulerEvent> {
  const seen = events.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => waiters.push({ match, resolve }));
}

beforeAll(async () => {
  const dir = tempDir('trib-run-submit-');
  writeFiles(dir, {
    'tributary.yml': `name: submit
sources:
  shop:
    type: files
    path: landing
    tables:
      orders: { files: "orders*.csv" }
`,
    'contracts/orders.yml': `primary_key: [order_id]
columns:
  - { name: order_id, type: bigint, required: true }
  - { name: amount, type: "decimal(12,2)", required: true }
`,
    'landing/orders-1.csv': 'order_id,amount\n1,5.50\n',
  });
  ws = await openWorkspace(dir, 'test');
  server = new PipelineServer(ws, {
    publish: false,
    onEvent: (e) => {
      events.push(e);
      for (const w of waiters.splice(0))
        if (w.match(e)) w.resolve(e);
        else waiters.push(w);
    },
  });
  sandbox = new QuerySandbox({ dir: servingDir(ws) });
  const tokens = await TokenStore.open(ws.state.engine);
  operator = (await tokens.create('operator', 'operator-submit')).token;
  app = await buildApp({ ws, tokens, sql: sandbox, version: 'test', server });
});

afterAll(async () => {
  await server?.stop();
  await app?.close();
  sandbox?.close();
  await ws?.close();
});

const submit = (body: object = {}) =>
  app.inject({
    method: 'POST',
    url: '/api/runs',
    headers: { authorization: `Bearer ${operator}` },
    payload: body,
  });

/** Makes the run history unwritable while `fn` runs: a run then cannot start. */
async function withoutRunHistory<T>(fn: () => Promise<T>): Promise<T> {
  await ws.state.engine.exec('ALTER TABLE runs RENAME TO runs_away');
  try {
    return await fn();
  } finally {
    await ws.state.engine.exec('ALTER TABLE runs_away RENAME TO runs');
  }
}

describe('POST /api/runs with the scheduler', () => {
  it('answers 202 with the id of the run, which is then in run history', async () => {
    const res = await submit({ select: ['orders'] });
    expect(res.statusCode, res.body).toBe(202);
    const { runId, queued, position } = res.json<{
      runId: string;
      queued: boolean;
      position: number;
    }>();
    expect({ queued, position }).toEqual({ queued: true, position: 1 });
    expect(runId).toMatch(/^run_/);
    const finished = await nextEvent((e) => e.kind === 'run_finished' && e.runId === runId);
    expect(finished.message).toMatch(/succeeded/);
    expect(await ws.state.getRun(runId)).toMatchObject({ trigger: 'api', status: 'succeeded' });
  });

  it('answers a run that cannot start with its error, and logs it', async () => {
    let written = '';
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written += String(chunk);
      return true;
    });
    let res;
    try {
      res = await withoutRunHistory(() => submit());
    } finally {
      stderr.mockRestore();
    }
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({
      error: { code: 'INTERNAL', message: expect.stringMatching(/runs/) },
    });
    expect(written).toMatch(/POST \/api\/runs failed: .*runs/);
    await nextEvent((e) => e.kind === 'error' && /run for api failed to start/.test(e.message));
  });

  it('answers at once when queued behind other work; a failure to start then is reported', async () => {
    let release!: () => void;
    let entered!: () => void;
    const blocking = new Promise<void>((r) => (release = r));
    const inJob = new Promise<void>((r) => (entered = r));
    const before = events.length;
    const job = server.scheduler.queue.submitJob('test', async () => {
      entered();
      await blocking;
    });
    await inJob;
    const res = await submit();
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ queued: true, position: 2 });
    await withoutRunHistory(async () => {
      const failed = nextEvent(
        (e) =>
          events.indexOf(e) >= before &&
          e.kind === 'error' &&
          /run for api failed to start/.test(e.message),
      );
      release();
      await job;
      const event = await failed;
      expect(event.message).toMatch(/runs/);
    });
  });
});
