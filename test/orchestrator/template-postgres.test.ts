/**
 * The e-commerce template with `warehouse: {engine: postgres}`: the same generated data run once
 * on the default DuckDB warehouse and once on a PostgreSQL database of the test's own (dropped
 * after), from landing through processing (Parquet loaded into PostgreSQL), models, the snapshot,
 * tests, reports and forecasts. Every mart, the snapshot and the reports must come out the same:
 * row counts and the sum of every numeric column. (The CRM sync is left out: its token is the
 * user's to provide; syncs on PostgreSQL are covered by test/sync.)
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWithOwnCollector } from '../../src/cli/commands/generate.js';
import { initProject } from '../../src/cli/commands/init.js';
import { silentProgress } from '../../src/core/index.js';
import {
  publishServingSnapshot,
  runPipeline,
  type RunResult,
} from '../../src/orchestrator/index.js';
import { queryProject } from '../../src/cli/commands/query.js';
import { queryRunnerFor } from '../../src/serve/index.js';
import { tempDir, withWorkspace } from '../helpers.js';
import { allFigures, dashboardTiles, martsOf, type Figures } from '../warehouse-figures.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase } from '../sync/support.js';

const available = await serviceAvailable('postgres', postgresTestUrl);
const URL_ENV = 'TRIBUTARY_TEST_PGWH_URL';

describe.skipIf(!available)('the e-commerce template on a PostgreSQL warehouse', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let duckRun: RunResult;
  let pgRun: RunResult;
  let duckDir: string;
  let pgDir: string;
  let marts: Map<string, string[]>;
  let duckFigures: Record<string, Figures>;

  beforeAll(async () => {
    const root = tempDir('trib-pgwh-');
    duckDir = await initProject(join(root, 'duck'), 'ecommerce');
    await generateWithOwnCollector(duckDir, { scale: 0.01, seed: 5, progress: silentProgress });
    // The same landing files and stream log, so both runs read the same data.
    pgDir = join(root, 'pg');
    cpSync(duckDir, pgDir, { recursive: true });
    db = await freshPostgresDatabase('pgwh');
    process.env[URL_ENV] = db.url;
    const yml = join(pgDir, 'tributary.yml');
    writeFileSync(
      yml,
      readFileSync(yml, 'utf8').replace(
        /^models:/m,
        `warehouse: { engine: postgres, url: { env: ${URL_ENV} } }\n\nmodels:`,
      ),
    );
    await withWorkspace(duckDir, async (ws) => {
      duckRun = await runPipeline(ws, { exclude: ['kind:sync'] });
      marts = await martsOf(ws);
      duckFigures = await allFigures(ws, marts);
    });
    pgRun = await withWorkspace(pgDir, (ws) => runPipeline(ws, { exclude: ['kind:sync'] }));
  }, 600_000);

  afterAll(async () => {
    delete process.env[URL_ENV];
    await db?.drop();
  });

  it('runs every step on PostgreSQL as on DuckDB', () => {
    const failed = (r: RunResult) =>
      r.steps.filter((s) => s.status === 'failed').map((s) => [s.asset, s.message]);
    expect(failed(duckRun)).toEqual([]);
    expect(failed(pgRun)).toEqual([]);
    expect(pgRun.steps.map((s) => s.asset).sort()).toEqual(
      duckRun.steps.map((s) => s.asset).sort(),
    );
  });

  it('builds every mart and snapshot with the same row counts and sums', async () => {
    expect(marts.size).toBeGreaterThan(8);
    await withWorkspace(pgDir, async (ws) => {
      expect(ws.warehouse.kind).toBe('postgres');
      const pgFigures = await allFigures(ws, marts);
      for (const [relation, want] of Object.entries(duckFigures)) {
        const got = pgFigures[relation]!;
        expect(got.rows, relation).toBe(want.rows);
        expect(want.rows, `${relation} has rows`).toBeGreaterThan(0);
        for (const [column, sum] of Object.entries(want.sums)) {
          // Sums of doubles differ in their last bits with the order rows are added in.
          if (sum === null) expect(got.sums[column], `${relation}.${column}`).toBeNull();
          else expect(got.sums[column], `${relation}.${column}`).toBeCloseTo(sum, 4);
        }
      }
    });
  });

  it('loads the processed tables into PostgreSQL, each file once', async () => {
    await withWorkspace(pgDir, async (ws) => {
      const { rows } = await ws.warehouse.query(`select count(*) as n from processed.orders`);
      const manifestRows = JSON.parse(
        readFileSync(join(ws.project.paths.lake, 'processed/orders/_manifest.json'), 'utf8'),
      ) as { files: { rows: number }[] };
      expect(Number(rows[0]!.n)).toBe(manifestRows.files.reduce((n, f) => n + f.rows, 0));
      const files = await ws.warehouse.query(
        `select count(*) as n, count(distinct file_key) as keys from tributary.lake_files where table_name = 'orders'`,
      );
      expect(files.rows[0]!.n).toBe(files.rows[0]!.keys);
      expect(Number(files.rows[0]!.n)).toBe(manifestRows.files.length);
      // processed.orders shows the manifest's columns only, as on DuckDB (no bookkeeping).
      const { columns } = await ws.warehouse.query(`select * from processed.orders limit 0`);
      expect(columns.map((c) => c.name)).not.toContain('_tributary_file');
    });
  });

  it('writes the same reports (numbers equal, whatever their scale: 218.9 is 218.90)', () => {
    const cells = (dir: string, report: string) =>
      readFileSync(join(dir, '.tributary/reports', `${report}.csv`), 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(',').map((v) => (/^-?[0-9.]+$/.test(v) ? Number(v) : v)));
    for (const report of ['revenue_by_month', 'top_categories']) {
      const want = cells(duckDir, report);
      expect(want.length, report).toBeGreaterThan(3);
      expect(cells(pgDir, report), report).toEqual(want);
    }
  });

  it('answers `tributary query` through the read-only role, as DuckDB does', async () => {
    const sql = 'select count(*) as n, sum(net_amount) as revenue from fct_sales';
    const pg = await queryProject(pgDir, sql);
    const duck = await queryProject(duckDir, sql);
    expect(pg.rows).toEqual(duck.rows);
    const limited = await queryProject(pgDir, 'select * from processed.orders', { rowLimit: 5 });
    expect(limited.rows).toHaveLength(5);
    expect(limited.truncated).toBe(true);
  });

  it('keeps queries away from bookkeeping, writes, settings and long runs', async () => {
    await expect(queryProject(pgDir, 'select * from tributary.lake_files')).rejects.toThrow(
      /permission denied for schema tributary/,
    );
    // The loaded rows with their file ids: read only through processed.<table>, never directly.
    await expect(queryProject(pgDir, 'select * from tributary_lake.orders')).rejects.toThrow(
      /permission denied for schema tributary_lake/,
    );
    await expect(queryProject(pgDir, 'delete from fct_sales')).rejects.toThrow(/syntax error/);
    await expect(
      queryProject(pgDir, `select set_config('role', 'postgres', false) as r`),
    ).rejects.toThrow(/permission denied/);
    await expect(
      queryProject(pgDir, 'select pg_sleep(5) as slept', { timeoutMs: 200 }),
    ).rejects.toThrow(/interrupted after 200 ms/);
    const { rows } = await queryProject(pgDir, 'select count(*) as n from fct_sales');
    expect(Number(rows[0]!.n)).toBe(duckFigures['main.fct_sales']!.rows);
  });

  it('masks personal data for the viewer as DuckDB does, and shows it to the operator', async () => {
    /** Each query's rows (values as text) as `role` reads them. */
    const answers = (dir: string, role: 'viewer' | 'operator') =>
      withWorkspace(dir, async (ws) => {
        const snapshot = await publishServingSnapshot(ws);
        // Every relation with PII has a masked view (none withheld), on either warehouse.
        expect(snapshot.masked.withheld).toEqual([]);
        if (ws.warehouse.kind === 'postgres')
          expect(Object.keys(snapshot.masked.columns)).toContain('main.stg_shop_customers');
        const runner = queryRunnerFor(ws, { role });
        try {
          const out: string[][][] = [];
          for (const sql of [
            `select customer_id, full_name, email, city, postal_code from dim_customers
              where is_current order by customer_id limit 25`,
            `select customer_id, email, street from stg_shop_customers order by customer_id, updated_at limit 25`,
            `select count(*) as n, count(email) as emails, count(distinct email) as distinct_emails
               from main.stg_shop_customers`,
            `select c.customer_id, c.email, count(*) as orders from main.fct_sales f
               join dim_customers c on c.customer_key = f.customer_key
              group by 1, 2 order by 3 desc, 1 limit 10`,
            `select email, phone from processed.customers order by customer_id, updated_at limit 10`,
          ]) {
            const { rows } = await runner.query(sql);
            out.push(rows.map((r) => Object.values(r).map((v) => String(v))));
          }
          return out;
        } finally {
          await runner.close();
        }
      });
    const duck = await answers(duckDir, 'viewer');
    expect(duck[0]!.length).toBe(25);
    expect(duck[0]![0]!.slice(1, 3)).toEqual(['****', '****']);
    expect(await answers(pgDir, 'viewer')).toEqual(duck);
    const operator = await answers(pgDir, 'operator');
    expect(operator[0]![0]![2]).toMatch(/@/);
    expect(operator).toEqual(await answers(duckDir, 'operator'));
  });

  it('serves the quarantine as DuckDB does: the same rejected rows, refused to the viewer', async () => {
    /** Every table's quarantined rows as the operator reads them (values as text). */
    const quarantines = (dir: string) =>
      withWorkspace(dir, async (ws) => {
        await publishServingSnapshot(ws);
        const runner = queryRunnerFor(ws, { role: 'operator' });
        const out: Record<string, string[][]> = {};
        try {
          for (const t of ws.project.tables) {
            const { rows } = await runner.query(
              `SELECT _source_file, _record, _line, _column, _reason, _value, _message
               FROM quarantine.${t.table} ORDER BY _source_file, _record, _column`,
            );
            out[t.table] = rows.map((r) => Object.values(r).map((v) => String(v)));
          }
        } finally {
          await runner.close();
        }
        return out;
      });
    const duck = await quarantines(duckDir);
    expect(Object.values(duck).flat().length).toBeGreaterThan(0);
    expect(await quarantines(pgDir)).toEqual(duck);
    await withWorkspace(pgDir, async (ws) => {
      const table = Object.entries(duck).find(([, rows]) => rows.length)![0];
      const viewer = queryRunnerFor(ws, { role: 'viewer' });
      try {
        await expect(viewer.query(`select * from quarantine.${table}`)).rejects.toThrow(
          /in the quarantine zone, which the viewer role may not read/,
        );
      } finally {
        await viewer.close();
      }
    });
  });

  it('runs every dashboard tile on PostgreSQL (admin and viewer) with the rows DuckDB gives', async () => {
    /** Each tile's row count, or its error, for every dashboard of a project. */
    const tiles = (dir: string, role: 'admin' | 'viewer') =>
      withWorkspace(dir, (ws) => dashboardTiles(ws, role));
    const duck = await tiles(duckDir, 'admin');
    expect(Object.keys(duck).length).toBeGreaterThan(10);
    expect(await tiles(pgDir, 'admin')).toEqual(duck);
    // The viewer's tiles read the masked mirrors: none is refused, each has the same rows.
    expect(await tiles(pgDir, 'viewer')).toEqual(await tiles(duckDir, 'viewer'));
  });
});
