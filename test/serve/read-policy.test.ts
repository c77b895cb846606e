/**
 * What each role may read through the SQL sandbox (issue 12 item 9), attacked over the API on
 * the e-commerce template's data (customers' email, phone and street are PII in its contract,
 * full_name in its dbt properties): a viewer reads the warehouse and the processed zone with PII
 * masked, and is refused file functions, raw and quarantine, server paths and long timeouts with
 * messages that name what was refused and which role may; an operator reads the lake's files by
 * lake-relative paths and sees PII but no server paths; an admin sees everything the sandbox
 * allows. Dashboards keep working for viewers.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTemplateCrm, startTemplateCrm, type CrmStandIn } from '../crm-standin.js';
import { generateWithOwnCollector } from '../../src/cli/commands/generate.js';
import { initProject } from '../../src/cli/commands/init.js';
import { silentProgress } from '../../src/core/index.js';
import {
  openWorkspace,
  publishServingSnapshot,
  runPipeline,
  servingDir,
  type ServingSnapshot,
  type Workspace,
} from '../../src/orchestrator/index.js';
import {
  QuerySandbox,
  TokenStore,
  buildApp,
  dashboardRoutes,
  type SqlResult,
} from '../../src/serve/index.js';
import { tempDir } from '../helpers.js';

type Role = 'viewer' | 'operator' | 'admin';
let ws: Workspace;
let app: FastifyInstance;
let sandbox: QuerySandbox;
let lake: string;
let project: string;
let crm: CrmStandIn | undefined;
let snapshot: ServingSnapshot;
const token: Record<Role, string> = { viewer: '', operator: '', admin: '' };

beforeAll(async () => {
  project = await initProject(join(tempDir('trib-read-policy-'), 'shop'), 'ecommerce');
  // The template's last step syncs customers to the CRM: its stand-in listens meanwhile.
  crm = await startTemplateCrm();
  connectTemplateCrm(project);
  await generateWithOwnCollector(project, { scale: 0.01, seed: 7, progress: silentProgress });
  ws = await openWorkspace(project, 'test');
  expect((await runPipeline(ws)).status).toBe('succeeded');
  snapshot = await publishServingSnapshot(ws);
  lake = ws.project.paths.lake;
  sandbox = new QuerySandbox({ dir: servingDir(ws) });
  const tokens = await TokenStore.open(ws.state.engine);
  for (const role of ['viewer', 'operator', 'admin'] as const)
    token[role] = (await tokens.create(role, `${role}-policy`)).token;
  const dashboards = dashboardRoutes(ws.dashboards, sandbox);
  app = await buildApp({ ws, tokens, sql: sandbox, version: 'test', dashboards });
}, 240_000);

afterAll(async () => {
  await crm?.close();
  await app?.close();
  sandbox?.close();
  await ws?.close();
});

const query = (role: Role, sql: string, extra: object = {}) =>
  app.inject({
    method: 'POST',
    url: '/api/query',
    headers: { authorization: `Bearer ${token[role]}` },
    payload: { sql, ...extra },
  });

async function rows(role: Role, sql: string): Promise<SqlResult['rows']> {
  const res = await query(role, sql);
  expect(res.statusCode, `${role}: ${sql}: ${res.body}`).toBe(200);
  return (res.json() as SqlResult).rows;
}

async function refusal(role: Role, sql: string, extra: object = {}): Promise<string> {
  const res = await query(role, sql, extra);
  expect(res.statusCode, `${role}: ${sql}: ${res.body}`).toBe(400);
  return (res.json() as { error: { message: string } }).error.message;
}

/** A raw file of a table, lake-relative (`raw/shop/customers/ingest_date=…/….json`). */
function rawFile(table: string): string {
  const base = join(lake, 'raw', 'shop', table);
  const day = readdirSync(base).find((d) => d.startsWith('ingest_date='))!;
  const file = readdirSync(join(base, day)).find((f) => !f.startsWith('_'))!;
  return `raw/shop/${table}/${day}/${file}`;
}

describe('a viewer', () => {
  const files = (): [string, RegExp][] => [
    ["select * from glob('raw/**')", /glob\(\) reads or writes files.*operator and admin may/],
    [`select * from glob('${lake}/**')`, /glob\(\) reads or writes files/],
    [
      `select email from read_json('${rawFile('customers')}')`,
      /read_json\(\) reads or writes files, which the viewer role may not do here \(operator and admin may/,
    ],
    [`select * from read_json_auto('${lake}/${rawFile('customers')}')`, /read_json_auto\(\)/],
    [`select * from read_csv('${rawFile('orders')}')`, /read_csv\(\) reads or writes files/],
    [`select * from read_csv_auto('${lake}/${rawFile('orders')}')`, /read_csv_auto\(\)/],
    ["select * from read_parquet('processed/customers/**/*.parquet')", /read_parquet\(\)/],
    [`select * from parquet_metadata('${lake}/processed/customers/*.parquet')`, /parquet_metadata/],
    [
      "select * from 'processed/customers/*.parquet'",
      /reads a file by its name.*operator and admin may/,
    ],
    [`select * from "${lake}/processed/customers/x.parquet"`, /reads a file by its name/],
    ["select content from read_text('raw/shop/customers/_manifest.json')", /read_text\(\)/],
    ["select * from read_blob('raw/**')", /read_blob\(\)/],
    // Hidden in a subquery, a CTE, a comment-split call, a quoted name: the parse tree sees it.
    ["select 1 where exists (select * from glob('raw/*'))", /glob\(\)/],
    [
      "with f as (select * from read_json('raw/**/*.json')) select count(*) from f",
      /read_json\(\)/,
    ],
    ['select * from "READ_CSV" /* x */ (\'raw/a.csv\')', /READ_CSV\(\)|read_csv\(\)/i],
    ["describe select * from read_parquet('processed/**/*.parquet')", /read_parquet\(\)/],
  ];

  it('is refused every file function, naming the function and who may', async () => {
    for (const [sql, message] of files()) expect(await refusal('viewer', sql)).toMatch(message);
  });

  it('is refused the raw and quarantine zones', async () => {
    expect(await refusal('viewer', 'select * from quarantine.customers')).toMatch(
      /quarantine\.customers is in the quarantine zone, which the viewer role may not read \(operator and admin may\)/,
    );
    expect(await refusal('viewer', 'select count(*) from "QUARANTINE"."orders"')).toMatch(
      /quarantine zone/,
    );
  });

  it('is refused what shows server paths, naming who may', async () => {
    const attacks: [string, RegExp][] = [
      [
        'select * from duckdb_settings()',
        /duckdb_settings\(\) shows the server's settings or folders \(only admin may\)/,
      ],
      ['select * from duckdb_databases()', /duckdb_databases\(\)/],
      ['select * from duckdb_views()', /duckdb_views\(\)/],
      ['select sql from duckdb_views', /duckdb_views shows view definitions/],
      ['select sql from main.duckdb_views', /duckdb_views/],
      ['select * from duckdb_extensions()', /duckdb_extensions\(\)/],
      ['select * from pragma_database_list', /pragma_database_list/],
      ['select view_definition from information_schema.views', /information_schema\.views/],
      ['select definition from pg_catalog.pg_views', /pg_views/],
      ['select sql from sqlite_master', /sqlite_master/],
      ["select current_setting('temp_directory')", /current_setting\(\)/],
      [
        "select * from query('select * from duckdb_settings()')",
        /query\(\) runs SQL given as text/,
      ],
      // A CTE named like the catalog view does not make it harmless.
      ['with duckdb_views as (select 1 as sql) select sql from duckdb_views', /duckdb_views/],
      ['select * from range(3) r, duckdb_temporary_files()', /duckdb_temporary_files/],
    ];
    for (const [sql, message] of attacks) {
      const text = await refusal('viewer', sql);
      expect(text).toMatch(message);
      expect(text).not.toContain(lake);
    }
    // What the catalog shows a viewer carries no server folder.
    for (const sql of [
      'show databases',
      'show all tables',
      'select * from duckdb_tables()',
      'select * from duckdb_columns()',
      "select * from pragma_table_info('processed.customers')",
      'summarize processed.customers',
    ]) {
      const res = await query('viewer', sql);
      expect(res.statusCode, `${sql}: ${res.body}`).toBe(200);
      expect(res.body, sql).not.toContain(lake);
    }
    // Other table functions than the viewer's list: refused, naming the list in the hint.
    const res = await query('viewer', "select * from sniff_csv('raw/a.csv')");
    expect(res.statusCode).toBe(400);
    expect(await refusal('viewer', 'select * from json_execute_serialized_sql(1)')).toMatch(
      /json_execute_serialized_sql\(\)/,
    );
  });

  it('is refused a timeoutMs over 30 s, naming the cap; 30 s is allowed', async () => {
    expect(await refusal('viewer', 'select 1', { timeoutMs: 300_000 })).toMatch(
      /timeoutMs 300000 is over the viewer role's cap of 30000 ms/,
    );
    expect(await rows('viewer', 'select 1 as one')).toEqual([{ one: 1 }]);
    expect((await query('viewer', 'select 1', { timeoutMs: 30_000 })).statusCode).toBe(200);
  });

  it('reads the warehouse and the processed zone through relations, PII masked', async () => {
    const processed = await rows(
      'viewer',
      'select first_name, email, phone, street, city from processed.customers where phone is not null limit 20',
    );
    expect(processed.length).toBeGreaterThan(0);
    for (const r of processed) {
      expect(r).toMatchObject({ first_name: '****', email: '****', phone: '****', street: '****' });
      expect(r.city).not.toBe('****');
    }
    // Through a dbt view over it, a snapshot table and a mart table (the same column names),
    // and full_name marked in the dbt properties (meta: {pii: true}).
    for (const sql of [
      'select email, street, full_name from main.stg_shop_customers limit 20',
      'select email, full_name from snapshots.customers_snapshot limit 20',
      'select email, full_name, city from main.dim_customers limit 20',
    ]) {
      const got = await rows('viewer', sql);
      expect(got.length, sql).toBeGreaterThan(0);
      for (const r of got)
        for (const col of ['email', 'street', 'full_name'])
          if (col in r) expect(r[col], `${sql}: ${col}`).toBe('****');
    }
    // Aggregates keep counting: masking keeps NULL as NULL and each row.
    const [viewerCount] = await rows(
      'viewer',
      'select count(*) as n, count(phone) as phones from processed.customers',
    );
    const [operatorCount] = await rows(
      'operator',
      'select count(*) as n, count(phone) as phones from processed.customers',
    );
    expect(viewerCount).toEqual(operatorCount);
    // No unmasked value is reachable under another name in the viewer's copy.
    const emails = await rows(
      'viewer',
      "select count(*) as n from main.dim_customers where email like '%@%'",
    );
    expect(emails).toEqual([{ n: '0' }]);
  });

  it('sees lake-relative paths, not the server folders, in error messages', async () => {
    const table = await rows('viewer', 'select count(*) as n from main.fct_sales');
    expect(Number(table[0]!.n)).toBeGreaterThan(0);
    const text = await refusal('viewer', "select * from glob('/etc/*')");
    expect(text).not.toContain(lake);
  });

  it('has working dashboards', async () => {
    for (const name of ['executive', 'customer', 'geographic', 'product']) {
      const res = await app.inject({
        method: 'GET',
        url: `/api/dashboards/${name}/data`,
        headers: { authorization: `Bearer ${token.viewer}` },
      });
      expect(res.statusCode, res.body).toBe(200);
      const tiles = (res.json() as { tiles: Record<string, { error?: unknown }> }).tiles;
      expect(Object.values(tiles).filter((t) => t.error)).toEqual([]);
      expect(Object.keys(tiles).length).toBeGreaterThan(0);
    }
  });
});

describe('an operator', () => {
  it('reads raw and quarantine files by lake-relative paths, PII unmasked', async () => {
    const raw = await rows(
      'operator',
      `select email from read_json('${rawFile('customers')}') where email is not null limit 5`,
    );
    expect(raw.length).toBeGreaterThan(0);
    for (const r of raw) expect(String(r.email)).toContain('@');
    const orders = await rows(
      'operator',
      `select count(*) as n from read_csv('${rawFile('orders')}')`,
    );
    expect(Number(orders[0]!.n)).toBeGreaterThan(0);
    const processed = await rows(
      'operator',
      'select email from processed.customers where email is not null limit 5',
    );
    for (const r of processed) expect(String(r.email)).toContain('@');
    await rows('operator', 'select count(*) as n from quarantine.customers');
  });

  it('sees lake-relative file names, never the lake folder', async () => {
    const files = await rows(
      'operator',
      "select file from glob('raw/shop/customers/**') order by 1",
    );
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(String(f.file)).toMatch(/^raw\/shop\/customers\//);
      expect(String(f.file)).not.toContain(lake);
    }
    const missing = await refusal('operator', "select * from read_parquet('raw/nope/*.parquet')");
    expect(missing).toMatch(/raw\/nope/);
    expect(missing).not.toContain(lake);
  });

  it('cannot leave the lake, even by a relative path', async () => {
    expect(
      await refusal('operator', "select * from read_text('../../../../etc/hostname')"),
    ).toMatch(/reads or writes files/);
    expect(await refusal('operator', "select * from read_text('/etc/hostname')")).toMatch(
      /reads or writes files/,
    );
  });

  it('is refused server paths (only admin may) and a timeoutMs over 120 s', async () => {
    expect(await refusal('operator', 'select * from duckdb_settings()')).toMatch(/only admin may/);
    expect(await refusal('operator', 'select sql from duckdb_views()')).toMatch(/only admin may/);
    expect(await refusal('operator', 'select * from enable_logging()')).toMatch(
      /enable_logging\(\) changes the server's state.*only admin may/,
    );
    expect(await refusal('operator', 'select 1', { timeoutMs: 300_000 })).toMatch(
      /over the operator role's cap of 120000 ms/,
    );
    expect((await query('operator', 'select 1', { timeoutMs: 120_000 })).statusCode).toBe(200);
  });

  it('reads quarantined rows over /api/quarantine, which a viewer may not', async () => {
    const as = (role: Role) =>
      app.inject({
        method: 'GET',
        url: '/api/quarantine/customers',
        headers: { authorization: `Bearer ${token[role]}` },
      });
    expect((await as('operator')).statusCode).toBe(200);
    expect((await as('viewer')).statusCode).toBe(403);
  });
});

describe('an admin', () => {
  it('sees settings, view definitions and absolute paths, and may ask 300 s', async () => {
    const settings = await rows(
      'admin',
      "select value from duckdb_settings() where name = 'allowed_directories'",
    );
    expect(JSON.stringify(settings)).toContain(lake);
    const views = await rows(
      'admin',
      "select sql from duckdb_views() where schema_name = 'processed'",
    );
    expect(JSON.stringify(views)).toContain(lake);
    const files = await rows('admin', "select file from glob('raw/shop/customers/**')");
    expect(String(files[0]!.file).startsWith(lake)).toBe(true);
    expect((await query('admin', 'select 1', { timeoutMs: 300_000 })).statusCode).toBe(200);
    const pii = await rows('admin', 'select email from main.dim_customers limit 3');
    for (const r of pii) expect(String(r.email)).toContain('@');
  });
});

describe('the published snapshot', () => {
  it('records which columns its masked twin masks', () => {
    expect(snapshot.masked.file).not.toBe(snapshot.file);
    expect(snapshot.masked.columns['processed.customers']).toEqual([
      'first_name',
      'last_name',
      'email',
      'phone',
      'street',
    ]);
    expect(snapshot.masked.columns['main.dim_customers']).toEqual(['full_name', 'email']);
    expect(snapshot.masked.withheld).toEqual([]);
  });
});

// Last: it breaks the processed customers' files.
describe('an error from DuckDB naming a file', () => {
  it('shows the viewer a lake-relative path', async () => {
    const dir = join(lake, 'processed', 'customers');
    for (const f of readdirSync(dir, { recursive: true }) as string[])
      if (f.endsWith('.parquet')) rmSync(join(dir, f));
    const text = await refusal('viewer', 'select count(*) from processed.customers');
    expect(text).toMatch(/processed\/customers\//);
    expect(text).not.toContain(lake);
    expect(text).not.toContain(project);
    // An admin sees where the file was.
    expect(await refusal('admin', 'select count(*) from processed.customers')).toContain(lake);
  });
});
