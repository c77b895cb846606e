/**
 * The syncs API (Fastify's inject, no socket): GET /api/syncs lists each sync with its last run,
 * counts and waiting dead letters, GET /api/syncs/:name/runs its history; both answer what
 * /api/openapi.json documents, need a viewer token, and name an unknown sync with 404. The sync
 * runs against the HubSpot-shaped stand-in (templates/ecommerce/crm/hubspot-server.ts): HubSpot
 * itself cannot be reached from here.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  openWorkspace,
  publishServingSnapshot,
  runOneSync,
  runPipeline,
  servingDir,
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
let viewer: string;
let runId: string;
let sandbox: QuerySandbox;

beforeAll(async () => {
  crm = await startHubSpotServer();
  const dir = tempDir('trib-syncs-api-');
  writeFiles(dir, {
    'tributary.yml': `name: shop
destinations:
  crm: { type: hubspot, base_url: "${crm.url}", token: { file: secrets/crm-token } }
`,
    'secrets/crm-token': `${HUBSPOT_TEST_TOKEN}\n`,
    'models/customers.sql': `select * from (values (1, 'ada@example.com'), (2, 'no-at-sign'))
  as t(customer_id, email)`,
    'syncs/contacts.yml': `description: Customers to the CRM
source: ref('customers')
destination: crm
object: contacts
match: { source: email, destination: email }
fields: [{ source: email, destination: email }, { source: customer_id, destination: customer_id, cast: string }]
`,
  });
  ws = await openWorkspace(dir, 'test');
  runId = (await runPipeline(ws)).runId;
  await runOneSync(ws, 'contacts', { dryRun: true });
  const tokens = await TokenStore.open(ws.state.engine);
  viewer = (await tokens.create('viewer', 'syncs')).token;
  await publishServingSnapshot(ws);
  sandbox = new QuerySandbox({ dir: servingDir(ws) });
  app = await buildApp({ ws, tokens, sql: sandbox, version: 'test' });
}, 120_000);

afterAll(async () => {
  await app?.close();
  sandbox?.close();
  await ws?.close();
  await crm?.close();
});

const get = (url: string, token?: string) =>
  app.inject({
    method: 'GET',
    url,
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });

async function documented(path: string): Promise<z.ZodType> {
  const spec = (await get('/api/openapi.json')).json() as {
    paths: Record<
      string,
      { get: { responses: { 200: { content: Record<string, { schema: object }> } } } }
    >;
  };
  const schema = spec.paths[path]!.get.responses[200].content['application/json']!.schema;
  return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0], {
    defaultTarget: 'openapi-3.0',
  });
}

describe('the syncs API', () => {
  it('lists each sync with its last run, counts and waiting dead letters', async () => {
    const res = await get('/api/syncs', viewer);
    expect(res.statusCode).toBe(200);
    const body = res.json() as unknown[];
    (await documented('/api/syncs')).parse(body);
    expect(body).toEqual([
      expect.objectContaining({
        name: 'contacts',
        description: 'Customers to the CRM',
        source: "ref('customers')",
        destination: 'crm',
        destinationType: 'hubspot',
        object: 'contacts',
        mode: 'upsert',
        lastRun: expect.objectContaining({ runId, inserted: 1, rejected: 1, dryRun: false }),
        pendingDeadLetters: 1,
      }),
    ]);
  });

  it("answers a sync's runs newest first, the dry run marked", async () => {
    const res = await get('/api/syncs/contacts/runs?limit=10', viewer);
    expect(res.statusCode).toBe(200);
    const runs = res.json() as { runId: string; dryRun: boolean; status: string }[];
    (await documented('/api/syncs/{name}/runs')).parse(runs);
    expect(runs.map((r) => [r.dryRun, r.status])).toEqual([
      [true, 'succeeded'],
      [false, 'succeeded'],
    ]);
    expect(runs[1]!.runId).toBe(runId);
  });

  it('names an unknown sync with 404 and wants a token', async () => {
    const missing = await get('/api/syncs/nope/runs', viewer);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      error: { code: 'NOT_FOUND', message: expect.stringContaining('no sync named nope') },
    });
    expect((await get('/api/syncs')).statusCode).toBe(401);
  });
});
