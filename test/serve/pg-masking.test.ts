/**
 * PII masking on a PostgreSQL warehouse: the viewer's queries run as the masked role on the
 * masked mirrors and return what the same queries return to a viewer on a DuckDB warehouse (the
 * masked twin), for the same project and data: joins, aliases, unqualified and quoted names,
 * subqueries, a CTE named like a table, a view that renames a PII column, parameters, columns
 * named with their schema (`main.customers.email`), and text with non-ASCII characters before a
 * name. Operators read unmasked values; the masked role reads nothing unmasked even with SQL sent
 * straight to the server. Then the shared mode: replicas on
 * two machines (two project folders on one state and warehouse) publishing keep one password for
 * each role (kept in state), so neither breaks the other's logins. Databases and roles are the
 * test's own, dropped after.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  maskedRoleOf,
  openWorkspace,
  publishServingSnapshot,
  readerCredentialsFile,
  runPipeline,
  warehouseReaderUrl,
  type Workspace,
} from '../../src/orchestrator/index.js';
import { queryRunnerFor } from '../../src/serve/index.js';
import type { ParamValue, SqlResult } from '../../src/serve/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase, uniqueName } from '../sync/support.js';

const available = await serviceAvailable('postgres', postgresTestUrl);
const URL_ENV = 'TRIBUTARY_TEST_PG_MASKING_URL';

const FILES: Record<string, string> = {
  'contracts/customers.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: email, type: string, pii: true }
  - { name: score, type: double, pii: true }
  - { name: city, type: string }
`,
  'landing/customers1.csv': `id,email,score,city
1,Ann@Example.com,3.5,Zürich
2,,1.25,Oslo
3,bo@example.com,,Oslo
4,cy@example.com,7,
`,
  'models/_sources.yml': `version: 2
sources:
  - name: app
    schema: processed
    tables:
      - name: customers
`,
  // A view renaming a PII column: on DuckDB it reads the masked twin, so `contact` is masked.
  'models/stg_customers.sql': `{{ config(materialized='view') }}
select id, lower(email) as email, email as contact, score, city from {{ source('app', 'customers') }}`,
  'models/dim_customers.sql': `{{ config(materialized='table') }}
select id, email, score, city, upper(city) as city_upper from {{ ref('stg_customers') }}`,
  'models/city_stats.sql': `{{ config(materialized='table') }}
select city, count(*) as n from {{ ref('stg_customers') }} group by city`,
};

function project(header: string): string {
  const dir = tempDir('trib-pg-masking-');
  writeFiles(dir, {
    'tributary.yml': `name: masking
${header}
sources:
  app:
    type: files
    path: landing
    tables:
      customers: { files: "customers*.csv" }
`,
    ...FILES,
  });
  return dir;
}

/** The queries a viewer sends, each with what it covers. */
const QUERIES: { sql: string; params?: Record<string, ParamValue> }[] = [
  { sql: 'select * from dim_customers order by id' },
  { sql: 'select id, email, contact, score, city from stg_customers order by id' },
  { sql: 'select id, email, score, city from processed.customers order by id' },
  {
    sql: `select c.id, c.email, s.contact, p.score from main.dim_customers c
          join "main"."stg_customers" as s on s.id = c.id
          left join processed . customers p on p.id = c.id order by c.id`,
  },
  { sql: 'select dim_customers.email, dim_customers.id from main.dim_customers order by 2' },
  {
    sql: `select count(*) as n, count(email) as with_email
          from (select * from main.dim_customers where id in (select id from main.stg_customers)) t`,
  },
  {
    sql: `with dim_customers as (select id, email from main.stg_customers where id > 1)
          select * from dim_customers order by id`,
  },
  { sql: `select 'café ☕ Zürich' as label, email from main.dim_customers where id = 1` },
  { sql: 'select city, n from main.city_stats order by city' },
  { sql: 'select email, contact from main.stg_customers where id = $id', params: { id: 1 } }, // Columns named with their schema (and a catalog): pointed at the mirror with their table.
  {
    sql: `select main.dim_customers.id, main.dim_customers.email, main.dim_customers.score
          from main.dim_customers order by main.dim_customers.id`,
  },
  {
    sql: `select "main"."stg_customers"."id", "main"."stg_customers"."contact", MAIN.Stg_Customers.score,
                 processed.customers.email
          from main.stg_customers join processed . customers on processed.customers.id = main.stg_customers.id
          where main.stg_customers.id < 4 order by main.stg_customers.id`,
  },
];

/** Rows as text (DuckDB and PostgreSQL give numbers their own JavaScript types). */
const cells = (r: SqlResult) =>
  r.rows.map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? null : String(v)])),
  );

async function answers(ws: Workspace, role: 'viewer' | 'operator') {
  const runner = queryRunnerFor(ws, { role });
  try {
    const out: Record<string, unknown>[][] = [];
    for (const q of QUERIES) out.push(cells(await runner.query(q.sql, q.params ?? {})));
    return out;
  } finally {
    await runner.close();
  }
}

/** Whether a SCRAM-SHA-256 verifier (pg_authid.rolpassword) is of `password`. */
function scramMatches(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):/.exec(verifier);
  if (!m) return false;
  const salted = pbkdf2Sync(password, Buffer.from(m[2]!, 'base64'), Number(m[1]), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return createHash('sha256').update(clientKey).digest('base64') === m[3];
}

describe.skipIf(!available)('PII masking on a PostgreSQL warehouse', () => {
  const readRole = uniqueName('mreader');
  const sharedRole = uniqueName('msreader');
  const databases: Awaited<ReturnType<typeof freshPostgresDatabase>>[] = [];
  let duckDir: string;
  let pgDir: string;

  beforeAll(async () => {
    const db = await freshPostgresDatabase('masking');
    databases.push(db);
    process.env[URL_ENV] = db.url;
    duckDir = project('');
    pgDir = project(
      `warehouse: { engine: postgres, url: { env: ${URL_ENV} }, read_role: ${readRole} }`,
    );
    for (const dir of [duckDir, pgDir])
      await withWorkspace(dir, async (ws) => {
        const run = await runPipeline(ws, {});
        expect(run.steps.filter((s) => s.status === 'failed')).toEqual([]);
        await publishServingSnapshot(ws);
      });
  }, 120_000);

  afterAll(async () => {
    delete process.env[URL_ENV];
    for (const db of databases) await db.drop();
    const admin = new pg.Client({ connectionString: postgresTestUrl });
    await admin.connect();
    for (const role of [readRole, sharedRole])
      for (const name of [role, maskedRoleOf(role)])
        await admin.query(`DROP ROLE IF EXISTS "${name}"`).catch(() => undefined);
    await admin.end();
  });

  it("gives a viewer the DuckDB viewer's masked results, and an operator the values", async () => {
    const duck = await withWorkspace(duckDir, (ws) => answers(ws, 'viewer'));
    const viewer = await withWorkspace(pgDir, (ws) => answers(ws, 'viewer'));
    expect(viewer).toEqual(duck);
    // Masked as the twin masks: text ****, other types NULL, NULL staying NULL.
    expect(duck[0]![0]).toMatchObject({ id: '1', email: '****', score: null, city: 'Zürich' });
    expect(duck[0]![1]).toMatchObject({ id: '2', email: null });
    expect(duck[1]![0]).toMatchObject({ contact: '****' });
    expect(duck[3]!.length).toBe(4);
    expect(duck[6]!.map((r) => r.id)).toEqual(['2', '3', '4']);
    expect(duck[10]![0]).toMatchObject({ id: '1', email: '****', score: null });
    expect(duck[11]!.map((r) => [r.contact, r.email])).toEqual([
      ['****', '****'],
      [null, null],
      ['****', '****'],
    ]);
    const operator = await withWorkspace(pgDir, (ws) => answers(ws, 'operator'));
    expect(operator).toEqual(await withWorkspace(duckDir, (ws) => answers(ws, 'operator')));
    expect(operator[0]![0]).toMatchObject({ email: 'ann@example.com', score: '3.5' });
    expect(operator[1]![0]).toMatchObject({ contact: 'Ann@Example.com' });
  });

  it('leaves the masked role nothing unmasked to read, whatever SQL it sends', async () => {
    await withWorkspace(pgDir, async (ws) => {
      const client = new pg.Client({ connectionString: await warehouseReaderUrl(ws, true) });
      await client.connect();
      try {
        const { rows } = await client.query(
          'select email, contact from main__masked.stg_customers where id = 1',
        );
        expect(rows).toEqual([{ email: '****', contact: '****' }]);
        for (const sql of [
          'select email from main.dim_customers',
          'select email from main.stg_customers',
          'select email from processed.customers',
          'select * from quarantine.customers',
          'select * from processed__masked.nothing_here union all select 1',
          // A column named with the original's schema reads nothing, whatever FROM says.
          'select main.dim_customers.email from main__masked.dim_customers',
          'select main.dim_customers.email from main.dim_customers',
        ])
          await expect(client.query(sql), sql).rejects.toThrow(
            /permission denied|does not exist|FROM-clause/,
          );
        await expect(client.query('select email from main.dim_customers')).rejects.toThrow(
          /permission denied for schema main/,
        );
      } finally {
        await client.end();
      }
      // Through the runner, a qualified name with a parameter is pointed at the mirror too.
      const runner = queryRunnerFor(ws, { role: 'viewer' });
      try {
        await expect(
          runner.query(`select email from main.dim_customers where id = 1 and $x = 1`, { x: 1 }),
        ).resolves.toMatchObject({ rows: [{ email: '****' }] });
        await expect(
          runner.query(
            `select main.dim_customers.email, "main".dim_customers."score" from MAIN.dim_customers where main.dim_customers.id = 1`,
          ),
        ).resolves.toMatchObject({ rows: [{ email: '****', score: null }] });
        await expect(runner.query(`select * from quarantine.customers`)).rejects.toThrow(
          /quarantine zone, which the viewer role may not read/,
        );
        await expect(
          runner.query(`select email from main.dim_customers; select 1`),
        ).rejects.toThrow(/refused: the viewer role's queries must be one SELECT/);
      } finally {
        await runner.close();
      }
    });
  });

  it('rebuilds the mirrors at each publish, dropping those of relations gone', async () => {
    await withWorkspace(pgDir, async (ws) => {
      await ws.warehouse.exec('create table main.scratch as select 1 as x');
      // A mirror whose schema is gone goes; one of a schema that exists (another project's) stays.
      await ws.warehouse.exec(
        `create schema gone__masked; comment on schema gone__masked is 'tributary masked mirror of gone';
         create schema other; create schema other__masked;
         comment on schema other__masked is 'tributary masked mirror of other'`,
      );
      const snapshot = await publishServingSnapshot(ws, { force: true });
      expect(snapshot.masked.withheld).toEqual([]);
      expect(snapshot.masked.columns).toEqual({
        'main.dim_customers': ['email', 'score'],
        'main.stg_customers': ['email', 'score'],
        'processed.customers': ['email', 'score'],
      });
      const mirrored = async () =>
        (
          await ws.warehouse.query(
            `select table_name from information_schema.views where table_schema = 'main__masked' order by 1`,
          )
        ).rows.map((r) => r.table_name);
      expect(await mirrored()).toEqual(['city_stats', 'dim_customers', 'scratch', 'stg_customers']);
      const schemas = await ws.warehouse.query(
        `select nspname from pg_namespace where nspname in ('gone__masked', 'other__masked')`,
      );
      expect(schemas.rows).toEqual([{ nspname: 'other__masked' }]);
      await ws.warehouse.exec('drop table main.scratch cascade');
      await publishServingSnapshot(ws, { force: true });
      expect(await mirrored()).toEqual(['city_stats', 'dim_customers', 'stg_customers']);
      // One process: the passwords stay in this machine's file.
      const file = JSON.parse(readFileSync(readerCredentialsFile(ws), 'utf8')) as {
        role: string;
        masked: { role: string };
      };
      expect([file.role, file.masked.role]).toEqual([readRole, maskedRoleOf(readRole)]);
    });
  });

  it("publishing while a run's step swaps a table in waits for the step and never fails it", async () => {
    await withWorkspace(pgDir, async (ws) => {
      const step = new pg.Client({ connectionString: process.env[URL_ENV]! });
      await step.connect();
      try {
        // What a step rebuilding a table does (engines/postgres: swap, then drop the old one with
        // CASCADE, which takes its mirror view): here, half done when the publish starts.
        await step.query('begin');
        await step.query('alter table main.city_stats rename to city_stats_old');
        const publish = publishServingSnapshot(ws, { force: true });
        await new Promise((r) => setTimeout(r, 600));
        await step.query(
          `create table main.city_stats as select city, n + 100 as n from main.city_stats_old`,
        );
        await step.query('drop table main.city_stats_old cascade');
        await step.query('commit');
        await publish;
      } finally {
        await step.end();
      }
      const runner = queryRunnerFor(ws, { role: 'viewer' });
      try {
        const { rows } = await runner.query('select min(n) as n from city_stats');
        expect(Number(rows[0]!.n)).toBeGreaterThan(100);
      } finally {
        await runner.close();
      }
    });
  });

  it('lets an incremental model drop and retype columns its mirror view reads', async () => {
    const model = join(pgDir, 'models', 'visits.sql');
    const config = `{{ config(materialized='incremental', on_schema_change='sync_all_columns') }}`;
    writeFileSync(
      model,
      `${config}\nselect id, city, email, score from {{ ref('dim_customers') }}`,
    );
    await withWorkspace(pgDir, async (ws) => {
      expect((await runPipeline(ws, {})).status).toBe('succeeded');
      await publishServingSnapshot(ws);
    });
    // city goes, score becomes text: PostgreSQL refuses both while a view reads the columns.
    writeFileSync(
      model,
      `${config}\nselect id, email, cast(score as text) as score from {{ ref('dim_customers') }}`,
    );
    try {
      await withWorkspace(pgDir, async (ws) => {
        const run = await runPipeline(ws, {});
        expect(run.steps.filter((st) => st.status === 'failed')).toEqual([]);
        await publishServingSnapshot(ws);
        const runner = queryRunnerFor(ws, { role: 'viewer' });
        try {
          const { rows } = await runner.query('select * from visits where id = 1 limit 1');
          expect(rows[0]).toEqual({ id: rows[0]!.id, email: '****', score: '****' });
        } finally {
          await runner.close();
        }
      });
    } finally {
      rmSync(model);
    }
  }, 60_000);

  it('replicas on two machines publishing keep one password per role, in state', async () => {
    const db = await freshPostgresDatabase('masking_shared');
    databases.push(db);
    const env = 'TRIBUTARY_TEST_PG_MASKING_SHARED_URL';
    process.env[env] = db.url;
    const header = `state: { store: postgres, url: { env: ${env} }, schema: state }
warehouse: { engine: postgres, url: { env: ${env} }, read_role: ${sharedRole} }`;
    // Two project folders: two machines, each with its own .tributary folder.
    const [dirA, dirB] = [project(header), project(header)];
    const a = await openWorkspace(dirA, 'serve');
    const b = await openWorkspace(dirB, 'serve');
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const verifier = async (role: string) =>
      String(
        (await admin.query('select rolpassword from pg_authid where rolname = $1', [role])).rows[0]!
          .rolpassword,
      );
    const password = async (ws: Workspace, masked: boolean) =>
      decodeURIComponent(new URL(await warehouseReaderUrl(ws, masked)).password);
    const viewerA = queryRunnerFor(a, { role: 'viewer' });
    const operatorA = queryRunnerFor(a, { role: 'operator' });
    try {
      expect((await runPipeline(a, {})).status).toBe('succeeded');
      await publishServingSnapshot(a);
      const sql = 'select email from dim_customers where id = 1';
      expect((await viewerA.query(sql)).rows).toEqual([{ email: '****' }]);
      expect((await operatorA.query(sql)).rows).toEqual([{ email: 'ann@example.com' }]);
      const before = [await password(a, false), await password(a, true)];
      // b publishes on its machine (no credentials file there): the passwords stay.
      await publishServingSnapshot(b, { force: true });
      expect([await password(b, false), await password(b, true)]).toEqual(before);
      expect(scramMatches(await verifier(sharedRole), before[0]!)).toBe(true);
      expect(scramMatches(await verifier(maskedRoleOf(sharedRole)), before[1]!)).toBe(true);
      for (const ws of [a, b]) expect(existsSync(readerCredentialsFile(ws))).toBe(false);
      // Both at once: the roles and the mirrors change one publisher at a time, neither fails.
      for (let i = 0; i < 3; i++)
        await Promise.all([
          publishServingSnapshot(a, { force: true }),
          publishServingSnapshot(b, { force: true }),
        ]);
      expect(scramMatches(await verifier(maskedRoleOf(sharedRole)), before[1]!)).toBe(true);
      // a's open pools and new ones, and b's, all still read.
      expect((await viewerA.query(sql)).rows).toEqual([{ email: '****' }]);
      expect((await operatorA.query(sql)).rows).toEqual([{ email: 'ann@example.com' }]);
      const viewerB = queryRunnerFor(b, { role: 'viewer' });
      try {
        expect((await viewerB.query(sql)).rows).toEqual([{ email: '****' }]);
      } finally {
        await viewerB.close();
      }
    } finally {
      await viewerA.close();
      await operatorA.close();
      await admin.end();
      await a.close();
      await b.close();
      delete process.env[env];
    }
  }, 120_000);
});
