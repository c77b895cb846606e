// Deterministic e-commerce sample-data generator for the `ecommerce` template: writes customers,
// products, stores, orders, order lines, payments and clickstream files with realistic shape
// (seasonality, growth, repeat buyers, long-tail products) and a known set of injected defects,
// and reports exactly what a processing engine should accept, quarantine and total.

import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Catalog, buildStores, money, storesCsv } from './catalog.js';
import { planClickstream, writeClickstream, type LineSink } from './clickstream.js';
import { ChunkedWriter } from './csv.js';
import { DEFECT_KINDS, Tally, defectCount, placeDefects } from './defects.js';
import type { Reason, TableName } from './defects.js';
import { planCustomers, planMoves, planOrders } from './plan.js';
import { Rng } from './prng.js';
import { writeCustomers, writeLines, writeOrders, writePayments } from './tables.js';
import type { Progress } from './tables.js';

export interface GenerateOptions {
  /** Folder to write the files into (created if missing). */
  outDir: string;
  /** Scale factor > 0: SF1 = 100,000 orders; fractional allowed (0.01 -> 1,000 orders). */
  scale: number;
  /** Integer seed: the same seed and scale give byte-identical files. */
  seed: number;
  /** Called about every 10k rows of each table, and once when a table is complete. */
  onProgress?: (done: number, total: number, label: string) => void;
  /**
   * Where the clickstream events go instead of clickstream.ndjson (`tributary generate --stream`
   * replays them into the collector); called with the number of events to come. The report then
   * lists no clickstream file, but still its expected outcome.
   */
  clickstreamSink?: (events: number) => LineSink;
}

export interface TableExpectation {
  records: number;
  valid: number;
  quarantined: Record<string, number>;
}

export interface GenerateReport {
  scale: number;
  seed: number;
  files: { name: string; table: string; records: number; bytes: number }[];
  injected: Record<string, Record<string, number>>;
  expected: Record<string, TableExpectation>;
  totals: {
    orders: number;
    lines: number;
    quantity: number;
    gross_amount: string;
    discount: string;
    tax_amount: string;
    net_amount: string;
  };
  revenueByMonth: Record<string, string>;
  ordersByMonth: Record<string, number>;
}

const REASONS: readonly Reason[] = [
  'required',
  'type',
  'range',
  'allowed_values',
  'foreign_key',
  'duplicate_key',
];

/** Generates the e-commerce sample files into `opts.outDir` and reports the expected outcome. */
export async function generateEcommerce(opts: GenerateOptions): Promise<GenerateReport> {
  const { scale, seed, outDir, onProgress } = opts;
  if (!Number.isFinite(scale) || scale <= 0)
    throw new RangeError(`scale must be > 0, got ${scale}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const orderCount = Math.round(100_000 * scale);
  if (orderCount < 20)
    throw new RangeError(`scale ${scale} is too small: need >= 20 orders (scale >= 0.0002)`);
  await mkdir(outDir, { recursive: true });

  const progress = (label: string, total: number): Progress =>
    onProgress === undefined
      ? () => {}
      : (done) => {
          if (done % 10_000 === 0 || done === total) onProgress(done, total, label);
        };
  const files: GenerateReport['files'] = [];
  const injected: Record<string, Record<string, number>> = {};
  const expected: Record<string, TableExpectation> = {};
  const record = async (
    name: string | null,
    table: TableName,
    tally: Tally,
    kinds: readonly number[],
  ) => {
    if (name !== null) {
      const { size } = await stat(join(outDir, name));
      files.push({ name, table, records: tally.records, bytes: size });
    }
    injected[table] = Object.fromEntries(
      Object.keys(DEFECT_KINDS[table]).map((k, i) => [k, kinds[i]]),
    );
    const quarantined: Record<string, number> = {};
    for (const r of REASONS) if (tally.quarantined[r]) quarantined[r] = tally.quarantined[r];
    expected[table] = { records: tally.records, valid: tally.valid, quarantined };
  };

  // Plan the skeleton: reference tables, customers, orders in time, customer moves.
  const stores = buildStores();
  const catalog = new Catalog(
    Math.max(50, Math.round(2000 * Math.sqrt(scale))),
    new Rng(seed, 'products'),
  );
  const customerCount = Math.max(20, Math.round(25_000 * scale));
  const { plan: customers, weightCum } = planCustomers(customerCount, seed);
  const orders = planOrders(orderCount, seed, customers, weightCum, stores);
  planMoves(customers, seed);

  // customers.json
  const cust = await writeCustomers(join(outDir, 'customers.json'), seed, customers, progress);
  await record('customers.json', 'customers', cust.tally, cust.counts);

  // products.csv: unparseable prices go to the least popular products to keep the cascade small.
  const productCount = catalog.products.length;
  const badCount = defectCount(productCount);
  const tail = Math.min(productCount, Math.max(10, 3 * badCount));
  const tailMarks = placeDefects(tail, [badCount], new Rng(seed, 'products.defects'));
  const badPrice = new Set<number>();
  tailMarks.forEach((m, k) => m !== 0 && badPrice.add(catalog.byRank[productCount - 1 - k]));
  await writeWhole(join(outDir, 'products.csv'), catalog.toCsv(badPrice));
  const productOk = new Uint8Array(productCount);
  const productTally = new Tally();
  for (let p = 0; p < productCount; p++) {
    productOk[p] = badPrice.has(p) ? 0 : 1;
    productTally.add(productOk[p] ? null : 'type');
  }
  progress('products', productCount)(productCount);
  await record('products.csv', 'products', productTally, [badCount]);

  // stores.csv: clean reference data.
  await writeWhole(join(outDir, 'stores.csv'), storesCsv(stores));
  const storeTally = new Tally();
  stores.forEach(() => storeTally.add(null));
  progress('stores', stores.length)(stores.length);
  await record('stores.csv', 'stores', storeTally, []);

  // orders.csv
  const ord = await writeOrders(join(outDir, 'orders.csv'), seed, orders, cust.ok, progress);
  await record('orders.csv', 'orders', ord.tally, ord.counts);

  // order_lines.csv, with the report totals over surviving lines.
  const lines = await writeLines(join(outDir, 'order_lines.csv'), {
    seed,
    orders,
    customers,
    stores,
    catalog,
    orderOk: ord.ok,
    productOk,
    progress,
  });
  await record('order_lines.csv', 'order_lines', lines.tally, lines.counts);

  // payments.json
  const pay = await writePayments(
    join(outDir, 'payments.json'),
    seed,
    orders,
    ord.ok,
    lines.amount,
    progress,
  );
  await record('payments.json', 'payments', pay.tally, pay.counts);

  // clickstream.ndjson, or the events replayed into a stream.
  const clickPlan = planClickstream(orders, seed);
  const clickFile = opts.clickstreamSink ? null : 'clickstream.ndjson';
  const clickTally = await writeClickstream(
    opts.clickstreamSink?.(clickPlan.events) ??
      new ChunkedWriter(join(outDir, 'clickstream.ndjson')),
    seed,
    clickPlan,
    orders,
    customers,
    catalog,
    lines.lineProduct,
    progress('clickstream', clickPlan.events),
  );
  await record(clickFile, 'clickstream', clickTally, clickPlan.counts);

  const months = [...lines.months.keys()].sort();
  return {
    scale,
    seed,
    files,
    injected,
    expected,
    totals: {
      orders: lines.totals.orders,
      lines: lines.totals.lines,
      quantity: lines.totals.quantity,
      gross_amount: money(lines.totals.gross),
      discount: money(lines.totals.discount),
      tax_amount: money(lines.totals.tax),
      net_amount: money(lines.totals.gross - lines.totals.discount),
    },
    revenueByMonth: Object.fromEntries(months.map((m) => [m, money(lines.months.get(m)!.net)])),
    ordersByMonth: Object.fromEntries(months.map((m) => [m, lines.months.get(m)!.orders])),
  };
}

/** Writes a small file under a hidden temporary name, then renames it into place. */
async function writeWhole(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  await writeFile(tmp, data);
  await rename(tmp, path);
}
