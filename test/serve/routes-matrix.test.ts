/**
 * The API's access matrix, derived from the routes the app registered (app.routeTable), not
 * from a list kept by hand: every route is requested with no token and with each role, with
 * real ids in its path (a run, a dead letter, a partitioned model, a table, a dashboard, a tile,
 * a token) on a real project. A role below the route's gets 401/403; a role it allows must not,
 * and must not get a 5xx either; no token, an unknown, malformed or revoked one get 401 (a GET with real ids must answer 200). Routes are closed by
 * default: one registered without a role or `public: true` stops the app from being built.
 */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backfill,
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
  type RouteEntry,
} from '../../src/serve/index.js';
import { tempDir, writeFiles } from '../helpers.js';

const HOST = 'tributary.test:3000';
const ORIGIN = `http://${HOST}`;
const ROLES = ['viewer', 'operator', 'admin'] as const;
const RANK: Record<string, number> = { viewer: 1, operator: 2, admin: 3 };

let ws: Workspace;
let app: FastifyInstance;
let sandbox: QuerySandbox;
let tokens: TokenStore;
const token: Record<(typeof ROLES)[number] | 'revoked', string> = {
  viewer: '',
  operator: '',
  admin: '',
  revoked: '',
};
/** Credentials that are no token at all, as far as a route that needs a role is concerned. */
const BAD_TOKENS: Record<string, () => string> = {
  'an unknown token': () => `trb_0000000000_${'x'.repeat(43)}`,
  'a malformed token': () => 'not a token',
  'a revoked token': () => token.revoked,
};
/** Real ids for the path parameters, keyed by the segment before the parameter and its name. */
const ids: Record<string, string> = {};

beforeAll(async () => {
  const dir = tempDir('trib-matrix-');
  writeFiles(dir, {
    'tributary.yml': `name: matrix
sources:
  shop:
    type: files
    path: landing
    tables:
      orders: { files: "orders*.csv" }
assets:
  daily: { partitions: { start: 2025-01-01, end: 2025-01-02 } }
destinations:
  hook: { type: webhook, url: "http://127.0.0.1:9/hook", secret: { env: MATRIX_HOOK_SECRET } }
`,
    // A sync for GET /api/syncs/:name/runs (never run here: no receiver listens).
    'syncs/daily_out.yml': `source: ref('daily')
destination: hook
object: daily
match: { source: day, destination: day }
fields: [{ source: amount, destination: amount }]
`,
    'contracts/orders.yml': `primary_key: [order_id]
columns:
  - { name: order_id, type: bigint, required: true }
  - { name: day, type: date, required: true }
  - { name: amount, type: "decimal(12,2)", required: true }
`,
    'landing/orders-1.csv':
      'order_id,day,amount\n1,2025-01-01,5.50\n2,2025-01-02,7.25\n3,2025-01-02,oops\n',
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: orders }]
`,
    'models/daily.sql': `{{ config(materialized='incremental', unique_key='day') }}
select day, count(*) as orders, sum(amount) as amount
from {{ source('lake', 'orders') }}
{% if var('partition_start', none) %}
where day >= cast('{{ var("partition_start") }}' as date) and day < cast('{{ var("partition_end") }}' as date)
{% endif %}
group by day`,
    'dashboards/sales.yml': `title: Sales
filters:
  - { name: day, type: select, options_sql: "select distinct cast(day as varchar) from main.daily order by 1" }
tiles:
  - id: amount
    title: Amount
    type: kpi
    sql: select sum(amount) as value from main.daily where ($day is null or cast(day as varchar) = $day)
`,
  });
  ws = await openWorkspace(dir, 'test');
  const first = await runPipeline(ws, { exclude: ['daily', 'kind:sync'] });
  expect(first.status).toBe('succeeded');
  expect((await backfill(ws, 'daily', { partitions: ['2025-01-01'] })).status).toBe('succeeded');
  await publishServingSnapshot(ws);
  sandbox = new QuerySandbox({ dir: servingDir(ws) });
  tokens = await TokenStore.open(ws.state.engine);
  for (const role of ROLES) token[role] = (await tokens.create(role, `${role}-matrix`)).token;
  const revoked = await tokens.create('admin', 'revoked-matrix');
  token.revoked = revoked.token;
  await tokens.revoke(revoked.info.id);
  const dead = await ws.dlq.add({
    kind: 'event',
    source: 'trigger:landing',
    payload: { select: ['orders'], exclude: [], command: 'trigger landing (orders)' },
    error: 'the run could not start',
    attempts: 1,
  });
  Object.assign(ids, {
    'runs/:id': first.runId,
    'dlq/:id': dead.id,
    'tokens/:id': (await tokens.create('viewer', 'to-revoke')).info.id,
    'catalog/:zone': 'processed',
    ':zone/:name': 'orders',
    'partitions/:asset': 'model:daily',
    'quarantine/:table': 'orders',
    'dashboards/:name': 'sales',
    'filters/:filter': 'day',
    'tiles/:tile': 'amount',
    'syncs/:name': 'daily_out',
    'columns/:asset': 'model:daily',
    ':asset/:column': 'amount',
  });
  app = await buildApp({
    ws,
    tokens,
    sql: sandbox,
    version: 'test',
    dashboards: dashboardRoutes(ws.dashboards, sandbox),
  });
});

afterAll(async () => {
  await app?.close();
  await sandbox?.close();
  await ws?.close();
});

/** The route's URL with a real id for each parameter; throws for a parameter it has none for. */
function concreteUrl(url: string): string {
  const parts = url.split('/');
  return parts
    .map((part, i) => {
      if (!part.startsWith(':')) return part;
      const value = ids[`${parts[i - 1]}/${part}`];
      if (value === undefined)
        throw new Error(`no real id for ${part} in ${url}: add one to ids in this test`);
      return encodeURIComponent(value);
    })
    .join('/');
}

/** A valid body for the routes that take one. */
function bodyOf(method: string, url: string): object | undefined {
  if (method === 'GET' || method === 'HEAD') return undefined;
  const bodies: Record<string, object> = {
    'POST /api/query': { sql: 'select sum(amount) as amount from main.daily' },
    'POST /api/session': { token: token.viewer },
    'POST /api/tokens': { role: 'viewer', name: 'from-the-matrix' },
    'POST /api/runs': { select: ['orders'] },
  };
  return bodies[`${method} ${url}`] ?? {};
}

type Caller = 'no token' | keyof typeof BAD_TOKENS | (typeof ROLES)[number];

const authorization = (caller: Caller): Record<string, string> => {
  if (caller === 'no token') return {};
  const bad = BAD_TOKENS[caller];
  return { authorization: `Bearer ${bad ? bad() : token[caller as (typeof ROLES)[number]]}` };
};

/** What is wrong with how a route answered each caller; empty when every answer is right. */
async function matrixProblems(target: FastifyInstance, route: RouteEntry): Promise<string[]> {
  const problems: string[] = [];
  const url = concreteUrl(route.url);
  const payload = bodyOf(route.method, route.url);
  for (const caller of ['no token', ...Object.keys(BAD_TOKENS), ...ROLES] as Caller[]) {
    const res = await target.inject({
      method: route.method as InjectOptions['method'],
      url,
      headers: {
        host: HOST,
        origin: ORIGIN,
        ...authorization(caller),
      },
      ...(payload ? { payload } : {}),
    });
    const what = `${route.method} ${url} as ${caller}: ${res.statusCode} ${res.body.slice(0, 300)}`;
    const rank = RANK[caller];
    const allowed = !route.role || (rank !== undefined && rank >= RANK[route.role]!);
    if (!allowed) {
      const expected = rank === undefined ? 401 : 403;
      if (res.statusCode !== expected) problems.push(`expected ${expected}: ${what}`);
    } else if ([401, 403].includes(res.statusCode) || res.statusCode >= 500) {
      problems.push(`an allowed caller was refused or failed: ${what}`);
    } else if ((route.method === 'GET' || route.method === 'HEAD') && res.statusCode !== 200) {
      problems.push(`a read with real ids did not answer 200: ${what}`);
    }
  }
  return problems;
}

describe('the access matrix, from the route table', () => {
  it('covers the routes a hand-written list used to miss', () => {
    const routes = app.routeTable.map((r) => `${r.method} ${r.url}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /api/catalog/:zone/:name',
        'GET /api/partitions/:asset',
        'GET /api/dlq/:id',
        'POST /api/dlq/:id/replay',
        'GET /api/dashboards/:name/tiles/:tile',
      ]),
    );
  });

  it('has a real id for every path parameter of every route', () => {
    for (const r of app.routeTable) expect(() => concreteUrl(r.url), r.url).not.toThrow();
  });

  it('answers every route right for no token and each role', async () => {
    const problems: string[] = [];
    // In route-table order: reads of an id come before the change that might alter it.
    for (const route of app.routeTable) problems.push(...(await matrixProblems(app, route)));
    expect(problems).toEqual([]);
  });

  it('answers the reads the old list never made with real data', async () => {
    const get = async (url: string) => {
      const res = await app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${token.viewer}` },
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    expect(await get('/api/catalog/processed/orders')).toMatchObject({
      zone: 'processed',
      name: 'orders',
      versions: [expect.objectContaining({ version: 1 })],
    });
    expect(await get('/api/partitions/daily')).toMatchObject({
      asset: 'model:daily',
      partitions: [
        { partition: '2025-01-01', status: 'succeeded' },
        { partition: '2025-01-02', status: 'missing' },
      ],
    });
    expect(await get(`/api/dlq/${ids['dlq/:id']}`)).toMatchObject({
      id: ids['dlq/:id'],
      kind: 'event',
      source: 'trigger:landing',
    });
  });

  it('fails a route whose allowed role gets a 500', async () => {
    const broken = await buildApp({ ws, tokens, sql: sandbox, version: 'test' });
    broken.get('/api/broken', { config: { role: 'viewer' } }, async () => {
      throw new Error('a bug');
    });
    await broken.ready();
    const problems = await matrixProblems(broken, {
      method: 'GET',
      url: '/api/broken',
      role: 'viewer',
    });
    await broken.close();
    // Viewer, operator and admin each got the 500; the others were refused, as they should be.
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(
      /allowed caller was refused or failed: GET \/api\/broken as viewer: 500/,
    );
  });
});

describe('routes are closed by default', () => {
  const build = async (register: (app: FastifyInstance) => void) => {
    const built = await buildApp({ ws, tokens, sql: sandbox, version: 'test' });
    try {
      register(built);
      await built.ready();
    } finally {
      await built.close();
    }
  };

  it('refuses to register a route that names no role and is not public', async () => {
    await expect(
      build((a) => a.get('/api/forgotten', async () => ({ secret: true }))),
    ).rejects.toThrow(/route GET \/api\/forgotten names no role: add config: \{ role:/);
    // Inside a plugin too: the rule is the app's, whatever scope a route is registered in.
    await expect(
      build((a) => {
        void a.register(async (scope) => {
          scope.post('/api/also-forgotten', async () => ({}));
        });
      }),
    ).rejects.toThrow(/route POST \/api\/also-forgotten names no role/);
  });

  it('refuses a route that says both a role and public', async () => {
    await expect(
      build((a) =>
        a.get('/api/both', { config: { role: 'admin', public: true } }, async () => ({})),
      ),
    ).rejects.toThrow(/says both role admin and public/);
  });

  it('takes a route marked public, and lets anyone call it', async () => {
    const built = await buildApp({ ws, tokens, sql: sandbox, version: 'test' });
    built.get('/api/open', { config: { public: true } }, async () => ({ open: true }));
    const res = await built.inject({ method: 'GET', url: '/api/open' });
    await built.close();
    expect(res.json()).toEqual({ open: true });
  });
});
