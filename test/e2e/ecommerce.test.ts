/**
 * The e-commerce template end to end at a small scale: generated data with known defects (the
 * clickstream sent through the collector into the stream log) goes through the whole pipeline, and the results are checked against what the generator knows
 * independently (its clean rows and its count of every injected defect).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWithOwnCollector } from '../../src/cli/commands/generate.js';
import { initProject } from '../../src/cli/commands/init.js';
import { silentProgress } from '../../src/core/index.js';
import { lakeKeys, readManifest, type TableManifest } from '../../src/lake/index.js';
import { runPipeline, type RunResult, type Workspace } from '../../src/orchestrator/index.js';
import type { GenerateReport } from '../../templates/ecommerce/generator/index.js';
import { connectTemplateCrm, startTemplateCrm, type CrmStandIn } from '../crm-standin.js';
import { tempDir, withWorkspace } from '../helpers.js';

const SCALE = 0.02;
const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');
const TABLES = [
  'customers',
  'products',
  'stores',
  'orders',
  'order_lines',
  'payments',
  'clickstream',
];

// The template's last step syncs customers to the CRM: its stand-in listens for every test here.
let crm: CrmStandIn | undefined;
beforeAll(async () => {
  crm = await startTemplateCrm();
}, 60_000);
afterAll(async () => {
  await crm?.close();
});

async function newProject(): Promise<{ dir: string; report: GenerateReport }> {
  const dir = await initProject(join(tempDir('trib-e2e-'), 'shop'), 'ecommerce');
  connectTemplateCrm(dir);
  // The clickstream goes through the collector (Kinesis PutRecords) into the stream, as the demo does.
  const { report } = await generateWithOwnCollector(dir, {
    scale: SCALE,
    seed: 7,
    progress: silentProgress,
  });
  return { dir, report };
}

const runAll = (dir: string) => withWorkspace(dir, (ws) => runPipeline(ws));

/** Everything a user could observe of the lake and warehouse: object keys and sizes, manifests, table contents. */
async function snapshot(ws: Workspace): Promise<Record<string, unknown>> {
  const objects = await ws.store.list('');
  const manifests: Record<string, unknown> = {};
  for (const o of objects.filter((x) => x.key.endsWith('_manifest.json')))
    manifests[o.key] = JSON.parse((await ws.store.get(o.key))!.toString());
  const tables: Record<string, unknown> = {};
  for (const t of await ws.warehouse.listTables('main')) {
    // `_loaded_at` says when a row was loaded, and a streamed event's `_arrival_ts` when the
    // collector took it: the columns two equal builds (of two replays) do not share.
    const described = await ws.warehouse.describe('main', t.name);
    const when = ['_loaded_at', '_arrival_ts'].filter((w) => described?.some((c) => c.name === w));
    const { rows } = await ws.warehouse.query(
      `SELECT count(*) AS n, md5(string_agg(CAST(t AS VARCHAR), '|' ORDER BY CAST(t AS VARCHAR))) AS digest
         FROM (SELECT * ${when.length ? `EXCLUDE (${when.join(', ')})` : ''} FROM main."${t.name}") AS t`,
    );
    tables[t.name] = rows[0];
  }
  return { objects, manifests, tables };
}

async function factTotals(ws: Workspace) {
  const { rows } = await ws.warehouse
    .query(`SELECT count(*) AS lines, count(DISTINCT order_id) AS orders, sum(quantity) AS quantity,
      sum(gross_amount) AS gross_amount, sum(discount) AS discount, sum(tax_amount) AS tax_amount, sum(net_amount) AS net_amount FROM fct_sales`);
  const r = rows[0]!;
  return {
    lines: Number(r.lines),
    orders: Number(r.orders),
    quantity: Number(r.quantity),
    gross_amount: r.gross_amount,
    discount: r.discount,
    tax_amount: r.tax_amount,
    net_amount: r.net_amount,
  };
}

describe('the e-commerce pipeline', () => {
  let dir: string;
  let report: GenerateReport;
  let first: RunResult;

  beforeAll(async () => {
    ({ dir, report } = await newProject());
    first = await runAll(dir);
  });

  it('runs every asset successfully', () => {
    expect(first.steps.filter((s) => s.status !== 'succeeded')).toEqual([]);
    expect(first.status).toBe('succeeded');
  });

  it('quarantines every injected defect with the right reason, and keeps every clean row', async () => {
    await withWorkspace(dir, async (ws) => {
      for (const table of TABLES) {
        const manifest = await readManifest<TableManifest>(
          ws.store,
          lakeKeys.processedManifest(table),
        );
        const reasons: Record<string, number> = {};
        for (const q of manifest!.quarantine)
          for (const [k, n] of Object.entries(q.reasons)) reasons[k] = (reasons[k] ?? 0) + n;
        expect({ table, reasons }).toEqual({ table, reasons: report.expected[table]!.quarantined });
        const { rows } = await ws.warehouse.query(`SELECT count(*) AS n FROM processed."${table}"`);
        expect({ table, rows: Number(rows[0]!.n) }).toEqual({
          table,
          rows: report.expected[table]!.valid,
        });
      }
    });
  });

  it('builds a fact table whose totals equal the totals of the generator’s clean rows', async () => {
    const totals = await withWorkspace(dir, factTotals);
    expect(totals).toEqual(report.totals);
  });

  it('reports revenue by month exactly as the generator computed it', async () => {
    const { rows } = await withWorkspace(dir, (ws) =>
      ws.warehouse.query(
        `SELECT month, revenue, orders FROM read_csv('${ws.project.paths.reports}/revenue_by_month.csv', all_varchar = true)`,
      ),
    );
    expect(Object.fromEntries(rows.map((r) => [r.month, Number(r.revenue).toFixed(2)]))).toEqual(
      report.revenueByMonth,
    );
    expect(Object.fromEntries(rows.map((r) => [r.month, Number(r.orders)]))).toEqual(
      report.ordersByMonth,
    );
  });

  it('keeps postal codes with leading zeros, quoted text, and strips the byte-order mark', async () => {
    await withWorkspace(dir, async (ws) => {
      const zips = await ws.warehouse.query(
        `SELECT count(*) AS n FROM processed.stores WHERE postal_code LIKE '0%'`,
      );
      expect(Number(zips.rows[0]!.n)).toBeGreaterThan(0);
      const notes = await ws.warehouse.query(
        `SELECT count(*) AS n FROM processed.orders WHERE contains(notes, chr(10)) AND contains(notes, '"')`,
      );
      expect(Number(notes.rows[0]!.n)).toBeGreaterThan(0);
      const names = await ws.warehouse.query(
        `SELECT count(*) AS n FROM processed.products WHERE contains(product_name, ',') OR contains(product_name, '"')`,
      );
      expect(Number(names.rows[0]!.n)).toBeGreaterThan(0);
      const first = await ws.warehouse.query(`SELECT * FROM processed.products LIMIT 0`);
      expect(first.columns[0]!.name).toBe('product_id');
    });
  });

  it('fills the catalog with columns, row counts, partitions and schema versions', async () => {
    const catalog = await withWorkspace(dir, (ws) => ws.state.listCatalog());
    const orders = catalog.find((e) => e.zone === 'processed' && e.name === 'orders')!;
    expect(orders.rowCount).toBe(report.expected.orders!.valid);
    expect(orders.partitions).toContain('order_ts_month=2024-11');
    expect(orders.schemaVersion).toBe(1);
    expect(orders.columns.map((c) => c.name)).toEqual([
      'order_id',
      'customer_id',
      'location_id',
      'order_ts',
      'status',
      'channel',
      'notes',
      '_loaded_at',
    ]);
    const raw = catalog.find((e) => e.zone === 'raw' && e.name === 'shop.customers')!;
    expect(raw.columns.map((c) => c.name)).toEqual(
      expect.arrayContaining(['customer_id', 'address.postal_code']),
    );
    expect(
      catalog.find((e) => e.zone === 'warehouse' && e.name === 'main.fct_sales')!.rowCount,
    ).toBe(report.totals.lines);
  });

  it('records the run and each step with status, timings and row counts', async () => {
    const steps = await withWorkspace(dir, (ws) => ws.state.listSteps(first.runId));
    const orders = steps.find((s) => s.asset === 'processed:orders')!;
    expect(orders).toMatchObject({ status: 'succeeded', rowsOut: report.expected.orders!.valid });
    expect(orders.finishedAt! >= orders.startedAt).toBe(true);
    expect(steps).toHaveLength(first.steps.length);
  });

  it('changes nothing in the lake or warehouse when run a second time', async () => {
    const before = await withWorkspace(dir, snapshot);
    const second = await runAll(dir);
    const after = await withWorkspace(dir, snapshot);
    expect(after).toEqual(before);
    expect(
      second.steps.filter(
        (s) => ['raw', 'processed', 'model'].includes(s.kind) && s.status !== 'up_to_date',
      ),
    ).toEqual([]);
  });
});

describe('the customers snapshot (SCD2)', () => {
  it('gives a customer whose record changes after the first run a second version, and keeps facts pointing at the version valid when they happened', async () => {
    const { dir, report } = await newProject();
    expect((await runAll(dir)).status).toBe('succeeded');
    const versions = (ws: Workspace) =>
      ws.warehouse.query(
        `SELECT customer_id, city, is_current FROM dim_customers WHERE customer_id IN (1, 2, 3) ORDER BY customer_id, valid_from`,
      );
    const before = await withWorkspace(dir, versions);
    expect(before.rows.map((r) => r.customer_id)).toEqual(['1', '2', '3']);
    // The app database's export of the next day: customers 1 and 2 moved to a new city.
    const [c1, c2] = before.rows;
    const moved = [c1!, c2!].map((c) => ({
      customer_id: Number(c.customer_id),
      first_name: 'Moved',
      last_name: 'Customer',
      email: `moved${String(c.customer_id)}@example.com`,
      address: {
        street: '1 New Street',
        city: 'Newtown',
        state: 'NY',
        postal_code: '10001',
        country: 'US',
      },
      segment: 'consumer',
      signup_date: '2020-01-01',
      updated_at: '2031-01-01T00:00:00Z',
    }));
    writeFileSync(join(dir, 'landing', 'customers_update.json'), JSON.stringify(moved));
    const second = await runAll(dir);
    expect(second.status, JSON.stringify(second.steps.filter((s) => s.status === 'failed'))).toBe(
      'succeeded',
    );
    const after = await withWorkspace(dir, versions);
    expect(after.rows).toEqual([
      { customer_id: '1', city: c1!.city, is_current: false },
      { customer_id: '1', city: 'Newtown', is_current: true },
      { customer_id: '2', city: c2!.city, is_current: false },
      { customer_id: '2', city: 'Newtown', is_current: true },
      { customer_id: '3', city: before.rows[2]!.city, is_current: true },
    ]);
    expect(await withWorkspace(dir, factTotals)).toEqual(report.totals);
  });
});

describe('the incremental fact', () => {
  /** Keys of rows that exist: a customer with an early version, a store and a product. */
  async function someKeys(dir: string) {
    return withWorkspace(dir, async (ws) => {
      const one = async (sql: string) => String((await ws.warehouse.query(sql)).rows[0]!.k);
      return {
        customer: await one(
          `SELECT customer_id AS k FROM dim_customers WHERE valid_from <= TIMESTAMP '2024-01-02' ORDER BY 1 LIMIT 1`,
        ),
        store: await one('SELECT location_id AS k FROM processed.stores ORDER BY 1 LIMIT 1'),
        product: await one('SELECT product_id AS k FROM processed.products ORDER BY 1 LIMIT 1'),
        lastOrder: Number(await one('SELECT max(order_id) AS k FROM processed.orders')),
        lastLine: Number(await one('SELECT max(line_id) AS k FROM processed.order_lines')),
      };
    });
  }

  const salesOf = (dir: string, keys: number[]) =>
    withWorkspace(dir, async (ws) =>
      (
        await ws.warehouse.query(
          `SELECT sale_key, quantity FROM fct_sales WHERE sale_key IN (${keys.join(', ')}) ORDER BY 1`,
        )
      ).rows.map((r) => [Number(r.sale_key), Number(r.quantity)]),
    );

  it('takes every new batch whatever its order dates: a late file, and lines that waited for their order', async () => {
    const { dir, report } = await newProject();
    expect((await runAll(dir)).status).toBe('succeeded');
    const k = await someKeys(dir);
    const [order1, order2] = [k.lastOrder + 1, k.lastOrder + 2];
    const [line1, line2, line3] = [k.lastLine + 1, k.lastLine + 2, k.lastLine + 3];
    // A late export of an order placed in the first days of the data, months before the newest.
    writeFileSync(
      join(dir, 'landing', 'orders_late.csv'),
      `order_id,customer_id,location_id,order_ts,status,channel,notes\n${order1},${k.customer},${k.store},2024-01-02 09:00:00,delivered,web,\n`,
    );
    writeFileSync(
      join(dir, 'landing', 'order_lines_late.csv'),
      `line_id,order_id,product_id,quantity,unit_price,discount,tax_amount\n${line1},${order1},${k.product},2,10.00,0.00,1.00\n${line2},${order2},${k.product},3,10.00,0.00,1.00\n`,
    );
    const second = await runAll(dir);
    expect(second.status).toBe('succeeded');
    // Line 2 belongs to an order not exported yet: it waits in quarantine.
    expect(await salesOf(dir, [line1, line2])).toEqual([[line1, 2]]);
    writeFileSync(
      join(dir, 'landing', 'orders_later.csv'),
      `order_id,customer_id,location_id,order_ts,status,channel,notes\n${order2},${k.customer},${k.store},2024-01-03 09:00:00,delivered,web,\n`,
    );
    writeFileSync(
      join(dir, 'landing', 'order_lines_later.csv'),
      `line_id,order_id,product_id,quantity,unit_price,discount,tax_amount\n${line3},${order2},${k.product},4,10.00,0.00,1.00\n`,
    );
    expect((await runAll(dir)).status).toBe('succeeded');
    expect(await salesOf(dir, [line1, line2, line3])).toEqual([
      [line1, 2],
      [line2, 3],
      [line3, 4],
    ]);
    // Everything else is as the generator computed it, plus these three lines exactly once.
    const totals = await withWorkspace(dir, factTotals);
    expect(totals.lines).toBe(report.totals.lines + 3);
    expect(totals.quantity).toBe(report.totals.quantity + 9);
  });
});

describe('running assets side by side', () => {
  it('builds the same warehouse one at a time as four at a time', async () => {
    const tables = async (concurrency: number) => {
      const { dir } = await newProject();
      const result = await withWorkspace(dir, (ws) => runPipeline(ws, { concurrency }));
      expect(result.status).toBe('succeeded');
      return withWorkspace(dir, async (ws) => ((await snapshot(ws)) as { tables: unknown }).tables);
    };
    expect(await tables(4)).toEqual(await tables(1));
  });
});

describe('a failure between writing and committing', () => {
  it('leaves no visible partial data when a step throws there, and the next run completes exactly once', async () => {
    const { dir, report } = await newProject();
    process.env.TRIBUTARY_FAULT = 'before-commit:orders';
    let failed: RunResult;
    try {
      failed = await runAll(dir);
    } finally {
      delete process.env.TRIBUTARY_FAULT;
    }
    expect(failed.steps.find((s) => s.asset === 'processed:orders')).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/fault injected/),
    });
    expect(failed.steps.find((s) => s.asset === 'processed:order_lines')!.status).toBe('skipped');
    await withWorkspace(dir, async (ws) => {
      expect(await readManifest(ws.store, lakeKeys.processedManifest('orders'))).toBeUndefined();
      const { rows } = await ws.warehouse.query('SELECT count(*) AS n FROM processed.orders');
      expect(Number(rows[0]!.n)).toBe(0);
    });
    const recovered = await runAll(dir);
    expect(recovered.status).toBe('succeeded');
    await withWorkspace(dir, async (ws) => {
      expect(await factTotals(ws)).toEqual(report.totals);
      const manifest = (await readManifest<TableManifest>(
        ws.store,
        lakeKeys.processedManifest('orders'),
      ))!;
      const onDisk = (await ws.store.list('processed/orders/'))
        .filter((o) => o.key.endsWith('.parquet'))
        .map((o) => o.key);
      expect(onDisk.sort()).toEqual(manifest.files.map((f) => f.key).sort());
    });
  });

  it('recovers from the process being killed there', async () => {
    expect(
      existsSync(resolve(import.meta.dirname, '../../dist/src/cli/index.js')),
      'run `npm run build` first (npm test does)',
    ).toBe(true);
    const { dir, report } = await newProject();
    const crashed = spawnSync(process.execPath, [CLI, '-p', dir, 'run'], {
      env: { ...process.env, TRIBUTARY_FAULT: 'crash:before-commit:order_lines' },
      encoding: 'utf8',
    });
    expect(crashed.status).toBe(137);
    expect(crashed.stderr).toMatch(/crashing at before-commit:order_lines/);
    await withWorkspace(dir, async (ws) => {
      expect(
        await readManifest(ws.store, lakeKeys.processedManifest('order_lines')),
      ).toBeUndefined();
      const runs = await ws.state.listRuns();
      expect(runs[0]!.status).toBe('failed'); // the killed run, found "running" and marked when reopened
    });
    const rerun = spawnSync(process.execPath, [CLI, '-p', dir, 'run'], { encoding: 'utf8' });
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(await withWorkspace(dir, factTotals)).toEqual(report.totals);
  });
});
