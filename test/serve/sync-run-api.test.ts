/**
 * POST /api/syncs/:name/run with the scheduler of `tributary serve`: the sync is queued on the
 * server's executor like any API-triggered run (202 with its run id, trigger `api`); a dry run
 * waits for its run and answers the plan (counts and samples) having sent nothing; a sync that is
 * turned off, or does not exist, is refused before anything is queued; a viewer may not run one.
 * The destination is the HubSpot-shaped stand-in (templates/ecommerce/crm/hubspot-server.ts):
 * HubSpot itself cannot be reached from here.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PipelineServer,
  openWorkspace,
  runPipeline,
  servingDir,
  type SchedulerEvent,
  type Workspace,
} from '../../src/orchestrator/index.js';
import { QuerySandbox, TokenStore, buildApp } from '../../src/serve/index.js';
import {
  HUBSPOT_TEST_TOKEN,
  startHubSpotServer,
  type HubSpotServer,
} from '../../templates/ecommerce/crm/hubspot-server.js';
import { tempDir, writeFiles } from '../helpers.js';

let crm: HubSpotServer;
let ws: Workspace;
let app: FastifyInstance;
let server: PipelineServer;
let sandbox: QuerySandbox;
const token: Record<'viewer' | 'operator', string> = { viewer: '', operator: '' };
const finished = new Map<string, SchedulerEvent>();

const SYNC = (enabled: boolean) => `source: ref('customers')
enabled: ${enabled}
destination: crm
object: contacts
match: { source: email, destination: email }
fields: [{ source: email, destination: email }, { source: first_name, destination: firstname }]
`;

beforeAll(async () => {
  crm = await startHubSpotServer();
  const dir = tempDir('trib-sync-run-api-');
  writeFiles(dir, {
    'tributary.yml': `name: shop
destinations:
  crm: { type: hubspot, base_url: "${crm.url}", token: { file: secrets/crm-token } }
`,
    'secrets/crm-token': `${HUBSPOT_TEST_TOKEN}\n`,
    'models/customers.sql': `select * from (values (1, 'ada@example.com', 'Ada'), (2, 'bob@example.com', 'Bob'))
  as t(customer_id, email, first_name)`,
    'syncs/contacts.yml': SYNC(true),
    'syncs/paused.yml': SYNC(false),
  });
  ws = await openWorkspace(dir, 'test');
  expect((await runPipeline(ws, { exclude: ['kind:sync'] })).status).toBe('succeeded');
  server = new PipelineServer(ws, {
    publish: false,
    onEvent: (e) => {
      if (e.kind === 'run_finished' && e.runId) finished.set(e.runId, e);
    },
  });
  sandbox = new QuerySandbox({ dir: servingDir(ws) });
  const tokens = await TokenStore.open(ws.state.engine);
  for (const role of ['viewer', 'operator'] as const)
    token[role] = (await tokens.create(role, `${role}-sync-run`)).token;
  app = await buildApp({ ws, tokens, sql: sandbox, version: 'test', server });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await app?.close();
  sandbox?.close();
  await ws?.close();
  await crm?.close();
});

const runSync = (name: string, body: object = {}, role: keyof typeof token = 'operator') =>
  app.inject({
    method: 'POST',
    url: `/api/syncs/${name}/run`,
    headers: { authorization: `Bearer ${token[role]}` },
    payload: body,
  });

async function untilFinished(runId: string): Promise<void> {
  for (let i = 0; i < 300 && !finished.has(runId); i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(finished.has(runId), `run ${runId} finished`).toBe(true);
}

describe('POST /api/syncs/:name/run', () => {
  it('answers a dry run with its plan, sending nothing', async () => {
    const res = await runSync('contacts', { dryRun: true });
    expect(res.statusCode, res.body).toBe(200);
    const plan = res.json<Record<string, unknown>>();
    expect(plan).toMatchObject({
      status: 'succeeded',
      dryRun: true,
      inserted: 2,
      updated: 0,
      deleted: 0,
      unchanged: 0,
      samples: {
        insert: [
          { key: 'ada@example.com', fields: { firstname: 'Ada' } },
          { key: 'bob@example.com' },
        ],
      },
    });
    expect(crm.records('contacts')).toEqual([]);
    expect(await ws.state.getRun(plan.runId as string)).toMatchObject({
      trigger: 'api',
      command: expect.stringMatching(/^sync contacts --dry-run \(api, operator-sync-run\)$/),
    });
  });

  it('queues the sync on the server and answers 202 with its run id', async () => {
    const res = await runSync('contacts');
    expect(res.statusCode, res.body).toBe(202);
    const { runId } = res.json<{ runId: string }>();
    expect(runId).toMatch(/^run_/);
    await untilFinished(runId);
    expect(await ws.state.getRun(runId)).toMatchObject({ trigger: 'api', status: 'succeeded' });
    expect(await ws.state.listSteps(runId)).toEqual([
      expect.objectContaining({ asset: 'sync:contacts', status: 'succeeded', rowsOut: 2 }),
    ]);
    expect(
      crm
        .records('contacts')
        .map((c) => c.properties.email)
        .sort(),
    ).toEqual(['ada@example.com', 'bob@example.com']);
  });

  it('refuses a disabled sync (400, with the hint) and an unknown one (404); a viewer gets 403', async () => {
    const off = await runSync('paused');
    expect(off.statusCode).toBe(400);
    expect(off.json()).toMatchObject({
      error: {
        message: expect.stringMatching(/sync paused is disabled/),
        hint: 'set enabled: true in syncs/paused.yml (or remove the line)',
      },
    });
    expect((await runSync('nope')).statusCode).toBe(404);
    expect((await runSync('contacts', {}, 'viewer')).statusCode).toBe(403);
    expect((await runSync('contacts', { dryRun: 'yes' })).statusCode).toBe(400);
  });
});
