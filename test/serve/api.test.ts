/**
 * The HTTP API in-process (Fastify inject, no socket) on a real project: every route refuses a
 * missing, unknown or revoked token and a role that is too low; the SQL sandbox refuses writes,
 * files, ATTACH, INSTALL/LOAD, settings, PRAGMA and DDL, and stops a query that never ends; the
 * read routes return what the state store and lake hold; mutating calls are audited.
 */
import { tableFromIPC } from 'apache-arrow';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  openWorkspace,
  publishServingSnapshot,
  runPipeline,
  servingDir,
  type Workspace,
} from '../../src/orchestrator/index.js';
import {
  QuerySandbox,
  TokenStore,
  buildApp,
  dashboardRoutes,
  type QueryCache,
} from '../../src/serve/index.js';
import { tempDir, writeFiles } from '../helpers.js';

let ws: Workspace;
let app: FastifyInstance;
let sandbox: QuerySandbox;
let tokens: TokenStore;
const token: Record<'viewer' | 'operator' | 'admin' | 'revoked', string> = {
  viewer: '',
  operator: '',
  admin: '',
  revoked: '',
};
let failedRun: string;
let cache: QueryCache;

beforeAll(async () => {
  const dir = tempDir('trib-api-');
  writeFiles(dir, {
    'tributary.yml': `name: api
sources:
  shop:
    type: files
    path: landing
    tables:
      customers: { files: "customers*.csv" }
      orders: { files: "orders*.csv" }
`,
    'contracts/customers.yml': `primary_key: [customer_id]
columns:
  - { name: customer_id, type: bigint, required: true }
  - { name: region, type: string }
`,
    'contracts/orders.yml': `primary_key: [order_id]
columns:
  - { name: order_id, type: bigint, required: true }
  - { name: customer_id, type: bigint, required: true, references: customers.customer_id }
  - { name: amount, type: "decimal(12,2)", required: true }
`,
    'landing/customers-1.csv': 'customer_id,region\n1,North\n2,South\n',
    'landing/orders-1.csv':
      'order_id,customer_id,amount\n10,1,5.50\n11,2,7.25\n12,9,1.00\n13,1,oops\n',
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: customers }, { name: orders }]
`,
    'models/revenue.sql': `{{ config(materialized='table') }}
select c.region, sum(o.amount) as revenue, count(*) as orders
from {{ source('lake', 'orders') }} o join {{ source('lake', 'customers') }} c using (customer_id)
group by 1`,
    'dashboards/sales.yml': `title: Sales
filters:
  - { name: region, type: select, options_sql: "select distinct region from main.revenue order by 1" }
tiles:
  - id: revenue
    title: Revenue
    type: kpi
    format: currency
    sql: select sum(revenue) as value from main.revenue where ($region is null or region = $region)
  - id: by_region
    title: By region
    type: bar
    sql: select region, revenue from main.revenue where ($region is null or region = $region) order by 1
`,
    'models/revenue.yml': `version: 2
models:
  - name: revenue
    columns:
      - name: region
        tests: [not_null, unique]
`,
  });
  ws = await openWorkspace(dir, 'test');
  const first = await runPipeline(ws);
  expect(first.status).toBe('succeeded');
  process.env.TRIBUTARY_FAULT = 'step:model:revenue';
  failedRun = (await runPipeline(ws, { select: ['revenue'] })).runId;
  delete process.env.TRIBUTARY_FAULT;
  await publishServingSnapshot(ws);
  sandbox = new QuerySandbox({ dir: servingDir(ws) });
  tokens = await TokenStore.open(ws.state.engine);
  for (const role of ['viewer', 'operator', 'admin'] as const)
    token[role] = (await tokens.create(role, `${role}-test`)).token;
  const revoked = await tokens.create('admin', 'gone');
  token.revoked = revoked.token;
  await tokens.revoke(revoked.info.id);
  const service = dashboardRoutes(ws.dashboards, sandbox);
  cache = service.cache;
  app = await buildApp({ ws, tokens, sql: sandbox, version: 'test', dashboards: service });
});

afterAll(async () => {
  await app?.close();
  await sandbox?.close();
  await ws?.close();
});

const auth = (t: string) => ({ authorization: `Bearer ${t}` });

describe('authentication and roles', () => {
  // Which role each route needs, for every caller, is checked in routes-matrix.test.ts, from the
  // app's own route table.
  it('lets anyone see health and the OpenAPI description, which lists every API route', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/health' })).json()).toMatchObject({
      ok: true,
    });
    const spec = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(spec.openapi).toMatch(/^3\./);
    const described = app.routeTable.filter(
      (r) => r.url.startsWith('/api/') && r.method !== 'HEAD' && r.url !== '/api/openapi.json',
    );
    expect(described.length).toBeGreaterThan(20);
    for (const r of described) {
      const path = r.url.replace(/:(\w+)/g, '{$1}');
      expect(Object.keys(spec.paths), path).toContain(path);
      expect(Object.keys(spec.paths[path]!), `${r.method} ${path}`).toContain(
        r.method.toLowerCase(),
      );
    }
  });

  it('logs in with a token into an HttpOnly cookie that then authenticates', async () => {
    const browser = { host: 'localhost:3000', origin: 'http://localhost:3000' };
    const bad = await app.inject({
      method: 'POST',
      url: '/api/session',
      headers: browser,
      payload: { token: 'x' },
    });
    expect(bad.statusCode).toBe(401);
    const res = await app.inject({
      method: 'POST',
      url: '/api/session',
      headers: browser,
      payload: { token: token.viewer },
    });
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/tributary_session=.*HttpOnly; SameSite=Strict/);
    const me = await app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { cookie: cookie.split(';')[0]! },
    });
    expect(me.json()).toMatchObject({ role: 'viewer', name: 'viewer-test' });
  });

  it('audits every mutating call with who, what and the outcome, masking tokens', async () => {
    await app.inject({
      method: 'POST',
      url: '/api/tokens',
      headers: auth(token.admin),
      payload: { role: 'viewer', name: 'bob' },
    });
    await app.inject({
      method: 'POST',
      url: '/api/runs',
      headers: auth(token.viewer),
      payload: {},
    });
    await app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { host: 'localhost:3000', origin: 'http://localhost:3000' },
      payload: { token: token.operator },
    });
    const log = (
      await app.inject({ method: 'GET', url: '/api/audit?limit=10', headers: auth(token.admin) })
    ).json() as {
      tokenName: string | null;
      method: string;
      path: string;
      summary: string;
      status: number;
    }[];
    expect(log).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          tokenName: 'admin-test',
          method: 'POST',
          path: '/api/tokens',
          status: 201,
          summary: '{"role":"viewer","name":"bob"}',
        }),
        expect.objectContaining({ tokenName: 'viewer-test', path: '/api/runs', status: 403 }),
        expect.objectContaining({
          tokenName: 'operator-test',
          path: '/api/session',
          summary: '{"token":"***"}',
          status: 200,
        }),
      ]),
    );
    expect(JSON.stringify(log)).not.toContain(token.operator);
  });
});

describe('the SQL sandbox', () => {
  const query = (body: object, t = token.viewer) =>
    app.inject({ method: 'POST', url: '/api/query', headers: auth(t), payload: body });

  it('runs a SELECT with bound parameters and returns exact numbers', async () => {
    const res = await query({
      sql: 'select region, revenue, orders from main.revenue where region = $region',
      params: { region: 'North' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      rows: [{ region: 'North', revenue: '5.50', orders: '1' }],
      truncated: false,
    });
    expect(res.headers['x-data-version']).toMatch(/^snap_/);
  });

  it('cuts results at the row limit and says so', async () => {
    const res = (await query({ sql: 'select * from range(100)', limit: 7 })).json() as {
      rows: unknown[];
      truncated: boolean;
    };
    expect(res.rows).toHaveLength(7);
    expect(res.truncated).toBe(true);
  });

  it('answers CSV and Arrow', async () => {
    const csv = await query({
      sql: 'select region, orders from main.revenue order by region',
      format: 'csv',
    });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body).toBe('region,orders\nNorth,1\nSouth,1\n');
    const arrow = await query({
      sql: 'select region, orders from main.revenue order by region',
      format: 'arrow',
    });
    expect(arrow.headers['content-type']).toBe('application/vnd.apache.arrow.stream');
    const table = tableFromIPC(arrow.rawPayload);
    expect(table.numRows).toBe(2);
    expect(table.getChild('orders')!.get(0)).toBe(1n);
    expect(String(table.getChild('region')!.get(1))).toBe('South');
  });

  const refused: [string, RegExp][] = [
    ["select * from read_csv('/etc/passwd')", /reads or writes files/],
    ["select * from read_text('/etc/hostname')", /reads or writes files/],
    ["copy (select 1) to '/tmp/tributary-evil.csv'", /reads or writes files|only SELECT/],
    ["attach '/tmp/evil.duckdb' as evil", /only SELECT.*ATTACH/],
    ['install httpfs', /only SELECT.*INSTALL/],
    ['load httpfs', /only SELECT.*(LOAD|INSTALL)/],
    ["set memory_limit = '100GB'", /only SELECT.*SET/],
    ['pragma version', /only SELECT.*PRAGMA/],
    ['pragma database_list', /only SELECT.*PRAGMA/],
    ['create table x as select 1', /only SELECT.*CREATE/],
    ['create temp table x as select 1', /only SELECT.*CREATE/],
    ['insert into main.revenue values (1, 2, 3)', /only SELECT.*INSERT/],
    ['drop table main.revenue', /only SELECT.*DROP/],
    ['select 1; select 2', /one statement at a time/],
    ["select * from glob('/etc/*')", /reads or writes files/],
  ];
  for (const [sql, message] of refused) {
    it(`refuses ${sql}`, async () => {
      const res = await query({ sql });
      expect(res.statusCode, res.body).toBe(400);
      expect((res.json() as { error: { message: string } }).error.message).toMatch(message);
    });
  }

  it('stops a cross join that never ends at the statement timeout', async () => {
    const t0 = performance.now();
    const res = await query({
      sql: 'select count(*) from range(1000000000) a cross join range(1000000000) b',
      timeoutMs: 300,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: { message: expect.stringMatching(/stopped after 300 ms/) },
    });
    expect(performance.now() - t0).toBeLessThan(10_000);
    // The sandbox still answers afterwards.
    expect((await query({ sql: 'select 1 as one' })).json()).toMatchObject({ rows: [{ one: 1 }] });
  });

  it('left the warehouse unchanged', async () => {
    const res = await query({ sql: 'select count(*) as n from main.revenue' });
    expect(res.json()).toMatchObject({ rows: [{ n: '2' }] });
  });
});

describe('read routes', () => {
  const get = (url: string) => app.inject({ method: 'GET', url, headers: auth(token.viewer) });

  it('runs, steps and logs', async () => {
    const runs = get('/api/runs').then((r) => r.json() as { runId: string; status: string }[]);
    expect((await runs).map((r) => r.status)).toEqual(['failed', 'succeeded']);
    const detail = (await get(`/api/runs/${failedRun}`)).json() as {
      steps: { asset: string; status: string }[];
    };
    expect(detail.steps).toEqual([
      expect.objectContaining({ asset: 'model:revenue', status: 'failed' }),
    ]);
    const logs = (await get(`/api/runs/${failedRun}/logs?step=model:revenue`)).json() as {
      line: string;
    }[];
    expect(logs.map((l) => l.line).join('\n')).toMatch(/fault injected at step:model:revenue/);
    expect((await get('/api/runs/run_nope')).statusCode).toBe(404);
  });

  it('column lineage: every asset with its columns, and a column traced both ways', async () => {
    const listed = (await get('/api/lineage/columns')).json() as {
      assets: { asset: string; columns: string[] }[];
    };
    expect(listed.assets.find((a) => a.asset === 'model:revenue')!.columns).toEqual([
      'region',
      'revenue',
      'orders',
    ]);
    const trace = (await get('/api/lineage/columns/model%3Arevenue/revenue')).json() as {
      upstream: { id: string; transform: string }[];
      downstream: { id: string; transform: string }[];
    };
    expect(trace.upstream.map((t) => `${t.id} ${t.transform}`)).toEqual([
      'processed:orders.amount derived',
      'raw:shop.orders.amount identity',
    ]);
    expect(trace.downstream.map((t) => t.id)).toContain('dashboard:sales.revenue.value');
    const up = (await get('/api/lineage/columns/model%3Arevenue/region?direction=upstream')).json();
    expect(up).not.toHaveProperty('downstream');
    const missing = await get('/api/lineage/columns/model%3Arevenue/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      error: { code: 'NOT_FOUND', message: expect.stringMatching(/has no column nope/) },
    });
  });

  it('graph, catalog with schema versions, and quality with quarantine reasons', async () => {
    const graph = (await get('/api/graph')).json() as { assets: { key: string; deps: string[] }[] };
    // Dashboards are in the graph for lineage: sales reads the revenue model.
    expect(graph.assets.find((a) => a.key === 'dashboard:sales')!.deps).toEqual(['model:revenue']);
    expect(graph.assets.find((a) => a.key === 'model:revenue')!.deps.sort()).toEqual([
      'processed:customers',
      'processed:orders',
    ]);
    const catalog = (await get('/api/catalog')).json() as { zone: string; name: string }[];
    expect(catalog.map((c) => `${c.zone}.${c.name}`)).toEqual(
      expect.arrayContaining(['processed.orders']),
    );
    const entry = (await get('/api/catalog/processed/orders')).json() as { versions: unknown[] };
    expect(entry.versions).toHaveLength(1);
    const quality = (await get('/api/quality')).json() as {
      tests: { asset: string; status: string }[];
      quarantine: { table: string; rows: number; reasons: Record<string, number> }[];
    };
    expect(quality.tests.map((t) => t.status)).toEqual(['succeeded', 'succeeded']);
    expect(quality.quarantine.find((q) => q.table === 'orders')).toMatchObject({
      rows: 2,
      reasons: { type: 1, foreign_key: 1 },
    });
    const asOperator = (url: string) =>
      app.inject({ method: 'GET', url, headers: auth(token.operator) });
    const rows = (await asOperator('/api/quarantine/orders')).json() as {
      rows: { _reason: string; order_id: string }[];
    };
    expect(rows.rows.map((r) => `${r.order_id}:${r._reason}`).sort()).toEqual([
      '12:foreign_key',
      '13:type',
    ]);
    expect((await asOperator('/api/quarantine/nope')).statusCode).toBe(404);
    // Rejected rows are raw values: not for viewers (the quarantine zone's read rule).
    expect((await get('/api/quarantine/orders')).statusCode).toBe(403);
  });

  it('dead letters: rows waiting for a parent are not there (processing retries them), and replaying an unknown one is a 404', async () => {
    const dlq = (await get('/api/dlq')).json() as { kind: string; source: string }[];
    expect(dlq).toEqual([]);
    const res = await app.inject({
      method: 'POST',
      url: '/api/dlq/dl_nope/replay',
      headers: auth(token.operator),
    });
    expect(res.statusCode).toBe(404);
  });

  it('answers what does not exist with 404 and code NOT_FOUND, from the error code alone', async () => {
    const cases: [string, RegExp][] = [
      ['/api/runs/run_nope', /^no run run_nope$/],
      ['/api/runs/run_nope/logs', /^no run run_nope$/],
      ['/api/catalog/processed/nope', /^no table processed\.nope in the catalog$/],
      ['/api/partitions/nope', /^no asset matches nope$/],
      ['/api/partitions/revenue', /^model:revenue is not partitioned$/],
      ['/api/dlq/dl_nope', /^no dead letter dl_nope$/],
      ['/api/dashboards/nope', /^no dashboard named nope$/],
      ['/api/dashboards/sales/tiles/nope', /^dashboard sales has no tile nope$/],
      ['/api/dashboards/sales/filters/nope/options', /^dashboard sales has no select filter nope$/],
      ['/api/nope', /^no route GET \/api\/nope$/],
    ];
    for (const [url, message] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ error: { code: 'NOT_FOUND', message } });
    }
    // Quarantined rows are for operators (a viewer gets 403 before the table is looked up).
    const quarantine = await app.inject({
      method: 'GET',
      url: '/api/quarantine/nope',
      headers: auth(token.operator),
    });
    expect(quarantine.statusCode).toBe(404);
    expect(quarantine.json()).toMatchObject({
      error: { code: 'NOT_FOUND', message: 'no table nope' },
    });
    const revoke = await app.inject({
      method: 'DELETE',
      url: '/api/tokens/nope',
      headers: auth(token.admin),
    });
    expect(revoke.statusCode).toBe(404);
    expect(revoke.json()).toMatchObject({
      error: { code: 'NOT_FOUND', message: 'no active token nope' },
    });
  });

  it('POST /api/runs needs the scheduler process', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/runs',
      headers: auth(token.operator),
      payload: {},
    });
    expect(res.statusCode).toBe(409);
  });

  it('tokens: an admin creates, lists and revokes; the secret is never listed', async () => {
    const created = (
      await app.inject({
        method: 'POST',
        url: '/api/tokens',
        headers: auth(token.admin),
        payload: { role: 'operator', name: 'ci' },
      })
    ).json() as { id: string; token: string };
    expect(created.token).toMatch(/^trb_/);
    const listed = (
      await app.inject({ method: 'GET', url: '/api/tokens', headers: auth(token.admin) })
    ).body;
    expect(listed).toContain('"ci"');
    expect(listed).not.toContain(created.token.slice(15));
    expect(
      (await app.inject({ method: 'GET', url: '/api/me', headers: auth(created.token) }))
        .statusCode,
    ).toBe(200);
    await app.inject({
      method: 'DELETE',
      url: `/api/tokens/${created.id}`,
      headers: auth(token.admin),
    });
    expect(
      (await app.inject({ method: 'GET', url: '/api/me', headers: auth(created.token) }))
        .statusCode,
    ).toBe(401);
  });

  it('tokens: a producer key is created with its SigV4 pair and opens nothing in the API', async () => {
    const created = (
      await app.inject({
        method: 'POST',
        url: '/api/tokens',
        headers: auth(token.admin),
        payload: { role: 'producer', name: 'web' },
      })
    ).json() as { id: string; token: string; accessKeyId: string; secretAccessKey: string };
    expect(created.accessKeyId).toMatch(/^TRBP[A-Z0-9]{10}$/);
    expect(created.token).toBe(`trb_${created.id}_${created.secretAccessKey}`);
    const listed = (
      await app.inject({ method: 'GET', url: '/api/tokens', headers: auth(token.admin) })
    ).body;
    expect(listed).toContain(created.accessKeyId);
    expect(listed).not.toContain(created.secretAccessKey);
    for (const url of ['/api/me', '/api/catalog'])
      expect(
        (await app.inject({ method: 'GET', url, headers: auth(created.token) })).statusCode,
      ).toBe(401);
    const login = await app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { host: 'localhost:3000', origin: 'http://localhost:3000' },
      payload: { token: created.token },
    });
    expect(login.statusCode).toBe(401);
  });
});

describe('dashboards', () => {
  const get = (url: string) => app.inject({ method: 'GET', url, headers: auth(token.viewer) });

  it('lists dashboards and describes one without its SQL', async () => {
    expect((await get('/api/dashboards')).json()).toEqual([
      expect.objectContaining({ name: 'sales', title: 'Sales', tiles: 2 }),
    ]);
    const def = (await get('/api/dashboards/sales')).body;
    expect(def).toContain('"by_region"');
    expect(def).not.toMatch(/sum\(|from main/i);
    expect((await get('/api/dashboards/nope')).statusCode).toBe(404);
    expect((await get('/api/dashboards/sales/tiles/nope')).statusCode).toBe(404);
  });

  it('runs every tile with filters as parameters, from the cache the second time', async () => {
    cache.resetStats();
    const all = (await get('/api/dashboards/sales/data')).json() as {
      tiles: Record<string, { value?: string; rows: unknown[]; cached: boolean }>;
    };
    expect(all.tiles.revenue!.value).toBe('12.75');
    expect(all.tiles.by_region!.rows).toHaveLength(2);
    const south = (await get('/api/dashboards/sales/data?region=South')).json() as {
      tiles: Record<string, { value?: string; cached: boolean }>;
    };
    expect(south.tiles.revenue!.value).toBe('7.25');
    const again = (await get('/api/dashboards/sales/data?region=South')).json() as {
      tiles: Record<string, { cached: boolean }>;
    };
    expect(again.tiles.revenue!.cached).toBe(true);
    expect(cache.stats().hits).toBeGreaterThanOrEqual(2);
    // A value that tries to be SQL is only ever a value.
    const evil = (
      await get(`/api/dashboards/sales/data?region=${encodeURIComponent("x' or 1=1 --")}`)
    ).json() as {
      tiles: Record<string, { value?: string | null }>;
    };
    expect(evil.tiles.revenue!.value ?? null).toBeNull();
  });

  it('gives filter options and a tile as CSV', async () => {
    expect((await get('/api/dashboards/sales/filters/region/options')).json()).toEqual({
      options: ['North', 'South'],
    });
    const csv = await get('/api/dashboards/sales/tiles/by_region.csv?region=North');
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/sales-by_region\.csv/);
    expect(csv.body.split(/\r?\n/).filter(Boolean)).toEqual(['region,revenue', 'North,5.50']);
  });
});

describe('responses match the OpenAPI description', () => {
  type Spec = {
    paths: Record<
      string,
      Record<
        string,
        { responses: Record<string, { content?: Record<string, { schema: object }> }> }
      >
    >;
  };
  let spec: Spec;
  let deadLetterId: string;
  beforeAll(async () => {
    spec = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as Spec;
    deadLetterId = (
      await ws.dlq.add({
        kind: 'notification',
        source: 'ops-email',
        payload: { subject: 'run failed' },
        error: 'connect ECONNREFUSED',
        attempts: 1,
      })
    ).id;
  });

  /** Each JSON response the web UI (and any client) reads, with its path in the description. */
  const CHECKED: { method: 'GET' | 'POST' | 'DELETE'; url: string; path: string; body?: object }[] =
    [
      { method: 'GET', url: '/api/health', path: '/api/health' },
      { method: 'POST', url: '/api/session', path: '/api/session', body: { token: 'VIEWER' } },
      { method: 'DELETE', url: '/api/session', path: '/api/session' },
      { method: 'GET', url: '/api/me', path: '/api/me' },
      { method: 'POST', url: '/api/query', path: '/api/query', body: { sql: 'select 1 as x' } },
      { method: 'GET', url: '/api/runs', path: '/api/runs' },
      { method: 'GET', url: '/api/runs/RUN', path: '/api/runs/{id}' },
      { method: 'GET', url: '/api/runs/RUN/logs', path: '/api/runs/{id}/logs' },
      { method: 'GET', url: '/api/graph', path: '/api/graph' },
      { method: 'GET', url: '/api/lineage/columns', path: '/api/lineage/columns' },
      {
        method: 'GET',
        url: '/api/lineage/columns/model%3Arevenue/revenue',
        path: '/api/lineage/columns/{asset}/{column}',
      },
      { method: 'GET', url: '/api/catalog', path: '/api/catalog' },
      { method: 'GET', url: '/api/catalog/processed/orders', path: '/api/catalog/{zone}/{name}' },
      { method: 'GET', url: '/api/quality', path: '/api/quality' },
      { method: 'GET', url: '/api/quarantine/orders', path: '/api/quarantine/{table}' },
      { method: 'GET', url: '/api/dlq', path: '/api/dlq' },
      { method: 'GET', url: '/api/dlq/DEAD', path: '/api/dlq/{id}' },
      { method: 'GET', url: '/api/dashboards', path: '/api/dashboards' },
      { method: 'GET', url: '/api/dashboards/sales', path: '/api/dashboards/{name}' },
      { method: 'GET', url: '/api/dashboards/sales/data', path: '/api/dashboards/{name}/data' },
      {
        method: 'GET',
        url: '/api/dashboards/sales/data?region=North',
        path: '/api/dashboards/{name}/data',
      },
      {
        method: 'GET',
        url: '/api/dashboards/sales/filters/region/options',
        path: '/api/dashboards/{name}/filters/{filter}/options',
      },
      {
        method: 'GET',
        url: '/api/dashboards/sales/tiles/revenue',
        path: '/api/dashboards/{name}/tiles/{tile}',
      },
    ];

  const validator = (path: string, method: string, status = '200') => {
    const schema = spec.paths[path]?.[method.toLowerCase()]?.responses[status]?.content?.[
      'application/json'
    ]?.schema as Parameters<typeof z.fromJSONSchema>[0] | undefined;
    expect(schema, `${method} ${path} documents no ${status} JSON response`).toBeDefined();
    return z.fromJSONSchema(schema!, { defaultTarget: 'openapi-3.0' });
  };

  for (const c of CHECKED) {
    it(`${c.method} ${c.url}`, async () => {
      const body = c.body && 'token' in c.body ? { token: token.viewer } : c.body;
      const res = await app.inject({
        method: c.method,
        url: c.url.replace('RUN', failedRun).replace('DEAD', deadLetterId),
        headers: auth(token.admin),
        ...(body ? { payload: body } : {}),
      });
      expect(res.statusCode, res.body).toBe(200);
      const checked = validator(c.path, c.method).safeParse(res.json());
      expect(checked.success, checked.error && z.prettifyError(checked.error)).toBe(true);
    });
  }

  it('refuses a field the description does not list (the schemas are strict)', async () => {
    const me = (
      await app.inject({ method: 'GET', url: '/api/me', headers: auth(token.viewer) })
    ).json();
    const check = validator('/api/me', 'GET');
    expect(check.safeParse(me).success).toBe(true);
    expect(check.safeParse({ ...me, extra: 1 }).success).toBe(false);
    expect(check.safeParse({ ...me, role: 'owner' }).success).toBe(false);
  });
});
