// Tests for the e-commerce sample-data generator: determinism, scale, file formats, the shape of
// the data, and that the injected defects and expected outcomes agree with an independent
// re-parse and re-simulation of the written files.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEcommerce } from './index.js';
import type { GenerateReport } from './index.js';

// ---------------------------------------------------------------------------------------------
// Independent readers

/** RFC 4180 parser: quoted fields, doubled quotes, commas and line breaks inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

type Row = Record<string, string | undefined>;

/** CSV text -> header-keyed rows (BOM stripped). */
function csvRows(text: string): Row[] {
  const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ''));
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

/** Flattens a JSON object to dotted string fields (numbers/booleans stringified, null dropped). */
function flat(obj: Record<string, unknown>, prefix = ''): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object')
      Object.assign(out, flat(v as Record<string, unknown>, `${prefix}${k}.`));
    else if (v !== null && v !== undefined) out[prefix + k] = String(v);
  }
  return out;
}

const isInt = (s: string) => /^-?\d+$/.test(s);
const isDecimal = (s: string) => /^-?\d+(\.\d+)?$/.test(s);
function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}
function isTimestamp(s: string): boolean {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{3})?Z?$/.exec(s);
  return m !== null && isDate(m[1]) && +m[2] < 24 && +m[3] < 60 && +m[4] < 60;
}

// ---------------------------------------------------------------------------------------------
// Independent re-simulation of the processing contracts

type Check = {
  col: string;
  required?: boolean;
  type?: 'int' | 'decimal' | 'date' | 'timestamp';
  min?: number;
  allowed?: readonly string[];
};
interface Contract {
  checks: Check[];
  fks: { col: string; parent: Set<string> }[];
  pk: (r: Row) => string;
}

function simulate(
  rows: Row[],
  contract: Contract,
): { quarantined: Record<string, number>; passed: Row[] } {
  const quarantined: Record<string, number> = {};
  const passed: Row[] = [];
  const seen = new Set<string>();
  const fail = (reason: string) => (quarantined[reason] = (quarantined[reason] ?? 0) + 1);
  rows: for (const r of rows) {
    for (const c of contract.checks) {
      const v = r[c.col];
      if (v === undefined || v === '') {
        if (c.required) {
          fail('required');
          continue rows;
        }
        continue;
      }
      const typeOk =
        c.type === undefined ||
        (c.type === 'int' && isInt(v)) ||
        (c.type === 'decimal' && isDecimal(v)) ||
        (c.type === 'date' && isDate(v)) ||
        (c.type === 'timestamp' && isTimestamp(v));
      if (!typeOk) {
        fail('type');
        continue rows;
      }
      if (c.min !== undefined && Number(v) < c.min) {
        fail('range');
        continue rows;
      }
      if (c.allowed && !c.allowed.includes(v)) {
        fail('allowed_values');
        continue rows;
      }
    }
    if (contract.fks.some((fk) => !fk.parent.has(r[fk.col] ?? ''))) {
      fail('foreign_key');
      continue;
    }
    const key = contract.pk(r);
    if (seen.has(key)) {
      fail('duplicate_key');
      continue;
    }
    seen.add(key);
    passed.push(r);
  }
  return { quarantined, passed };
}

const cents = (s: string) => Math.round(Number(s) * 100);
const money = (c: number) => `${Math.trunc(c / 100)}.${String(Math.abs(c % 100)).padStart(2, '0')}`;

// ---------------------------------------------------------------------------------------------

interface Dataset {
  dir: string;
  report: GenerateReport;
  text: Record<string, string>;
  customers: Row[];
  customerObjects: unknown[];
  products: Row[];
  stores: Row[];
  orders: Row[];
  lines: Row[];
  payments: Row[];
  clicks: Row[];
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-ecommerce-'));
  dirs.push(dir);
  return dir;
}

async function load(scale: number, seed: number): Promise<Dataset> {
  const dir = await tempDir();
  const report = await generateEcommerce({ outDir: dir, scale, seed });
  const text: Record<string, string> = {};
  for (const name of await readdir(dir)) text[name] = await readFile(join(dir, name), 'utf8');
  const customerObjects = JSON.parse(text['customers.json']) as Record<string, unknown>[];
  const payments = JSON.parse(text['payments.json']) as Record<string, unknown>[];
  return {
    dir,
    report,
    text,
    customerObjects,
    customers: customerObjects.map((o) => flat(o)),
    products: csvRows(text['products.csv']),
    stores: csvRows(text['stores.csv']),
    orders: csvRows(text['orders.csv']),
    lines: csvRows(text['order_lines.csv']),
    payments: payments.map((o) => flat(o)),
    clicks: text['clickstream.ndjson']
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => flat(JSON.parse(l) as Record<string, unknown>)),
  };
}

const SCALE = 0.02;
const SEED = 7;
let ds: Dataset;

beforeAll(async () => {
  ds = await load(SCALE, SEED);
});

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('generateEcommerce', () => {
  it('produces byte-identical files for the same seed and scale, and different files for another seed', async () => {
    const [a, b, c] = [await tempDir(), await tempDir(), await tempDir()];
    await generateEcommerce({ outDir: a, scale: 0.01, seed: 123 });
    await generateEcommerce({ outDir: b, scale: 0.01, seed: 123 });
    await generateEcommerce({ outDir: c, scale: 0.01, seed: 124 });
    const names = (await readdir(a)).sort();
    expect(names).toEqual([
      'clickstream.ndjson',
      'customers.json',
      'order_lines.csv',
      'orders.csv',
      'payments.json',
      'products.csv',
      'stores.csv',
    ]);
    for (const name of names) {
      const fa = await readFile(join(a, name));
      expect(fa.equals(await readFile(join(b, name))), name).toBe(true);
      if (name !== 'stores.csv') expect(fa.equals(await readFile(join(c, name))), name).toBe(false);
    }
  });

  it('scales row counts with the scale factor, with exactly round(100000 x scale) distinct orders', () => {
    const { report } = ds;
    expect(new Set(ds.orders.map((o) => o.order_id)).size).toBe(Math.round(100_000 * SCALE));
    expect(new Set(ds.customers.map((c) => c.customer_id)).size).toBe(Math.round(25_000 * SCALE));
    expect(ds.products.length).toBe(Math.round(2000 * Math.sqrt(SCALE)));
    expect(ds.stores.length).toBe(60);
    const orders = Math.round(100_000 * SCALE);
    expect(ds.lines.length / orders).toBeGreaterThan(2.2);
    expect(ds.lines.length / orders).toBeLessThan(2.8);
    expect(ds.clicks.length / orders).toBeGreaterThan(2.0);
    expect(ds.clicks.length / orders).toBeLessThan(3.0);
    // One charge per non-cancelled order (an order whose status was corrupted may be either).
    const statuses = ['placed', 'shipped', 'delivered', 'returned'];
    const payable = new Set(
      ds.orders.filter((o) => statuses.includes(o.status ?? '')).map((o) => o.order_id),
    );
    const unknown = ds.orders.filter(
      (o) => !statuses.includes(o.status ?? '') && o.status !== 'cancelled',
    );
    expect(ds.payments.length).toBeGreaterThanOrEqual(payable.size);
    expect(ds.payments.length).toBeLessThanOrEqual(payable.size + unknown.length);
    const reported = Object.fromEntries(report.files.map((f) => [f.table, f.records]));
    expect(reported).toEqual({
      customers: ds.customers.length,
      products: ds.products.length,
      stores: 60,
      orders: ds.orders.length,
      order_lines: ds.lines.length,
      payments: ds.payments.length,
      clickstream: ds.clicks.length,
    });
    for (const f of report.files) expect(f.bytes).toBe(Buffer.byteLength(ds.text[f.name]));
  });

  it('injects every defect kind at least once, matching what a re-parse of the files finds', () => {
    const found: Record<string, Record<string, number>> = {
      customers: { missing_email: 0, duplicate_record: 0 },
      products: { unparseable_price: 0 },
      stores: {},
      orders: {
        missing_customer_id: 0,
        unparseable_date: 0,
        unknown_customer: 0,
        duplicate_id: 0,
        invalid_status: 0,
      },
      order_lines: {
        unparseable_quantity: 0,
        unparseable_price: 0,
        negative_quantity: 0,
        unknown_product: 0,
        missing_product_id: 0,
      },
      payments: { missing_order_id: 0 },
      clickstream: { invalid_event_type: 0, unparseable_timestamp: 0 },
    };
    const seenCustomers = new Set<string>();
    for (const o of ds.customerObjects) {
      const json = JSON.stringify(o);
      if (seenCustomers.has(json)) found.customers.duplicate_record++;
      seenCustomers.add(json);
      if ((o as { email: string }).email === '') found.customers.missing_email++;
    }
    for (const p of ds.products)
      if (!/^\d+\.\d{2}$/.test(p.unit_price ?? '')) found.products.unparseable_price++;
    const customerIds = new Set(ds.customers.map((c) => c.customer_id));
    const seenOrders = new Set<string>();
    for (const o of ds.orders) {
      const key = JSON.stringify(o);
      if (seenOrders.has(key)) found.orders.duplicate_id++;
      seenOrders.add(key);
      if (o.customer_id === '') found.orders.missing_customer_id++;
      else if (!customerIds.has(o.customer_id)) found.orders.unknown_customer++;
      if (!isTimestamp(o.order_ts ?? '')) found.orders.unparseable_date++;
      if (!['placed', 'shipped', 'delivered', 'cancelled', 'returned'].includes(o.status ?? ''))
        found.orders.invalid_status++;
    }
    const productIds = new Set(ds.products.map((p) => p.product_id));
    for (const l of ds.lines) {
      if (!isInt(l.quantity ?? '')) found.order_lines.unparseable_quantity++;
      else if (Number(l.quantity) < 1) found.order_lines.negative_quantity++;
      if (!isDecimal(l.unit_price ?? '')) found.order_lines.unparseable_price++;
      if (l.product_id === '') found.order_lines.missing_product_id++;
      else if (!productIds.has(l.product_id)) found.order_lines.unknown_product++;
    }
    for (const p of ds.payments)
      if (p['metadata.order_id'] === undefined) found.payments.missing_order_id++;
    const eventTypes = [
      'page_view',
      'product_view',
      'add_to_cart',
      'remove_from_cart',
      'checkout_start',
      'purchase',
    ];
    for (const e of ds.clicks) {
      if (!eventTypes.includes(e.event_type ?? '')) found.clickstream.invalid_event_type++;
      if (!isTimestamp(e.event_ts ?? '')) found.clickstream.unparseable_timestamp++;
    }
    expect(found).toEqual(ds.report.injected);
    for (const kinds of Object.values(found))
      for (const n of Object.values(kinds)) expect(n).toBeGreaterThanOrEqual(1);
  });

  it('injects every defect kind even at the smallest scale, and rejects scales below it', async () => {
    const report = await generateEcommerce({ outDir: await tempDir(), scale: 0.0002, seed: 1 });
    for (const kinds of Object.values(report.injected))
      for (const n of Object.values(kinds)) expect(n).toBeGreaterThanOrEqual(1);
    await expect(
      generateEcommerce({ outDir: await tempDir(), scale: 0.0001, seed: 1 }),
    ).rejects.toThrow(RangeError);
  });

  it('reports expected outcomes where valid plus quarantined equals records for every table', () => {
    const reasons = ['required', 'type', 'range', 'allowed_values', 'foreign_key', 'duplicate_key'];
    for (const [table, e] of Object.entries(ds.report.expected)) {
      const quarantined = Object.values(e.quarantined).reduce((a, b) => a + b, 0);
      expect(e.valid + quarantined, table).toBe(e.records);
      for (const reason of Object.keys(e.quarantined)) expect(reasons).toContain(reason);
    }
  });

  it('reports expected outcomes and totals that an independent simulation of the contracts reproduces', () => {
    const { report } = ds;
    const ALL = (rows: Row[], col: string) => new Set(rows.map((r) => r[col] ?? ''));
    const customers = simulate(ds.customers, {
      checks: [
        { col: 'customer_id', required: true, type: 'int' },
        { col: 'email', required: true },
        { col: 'segment', allowed: ['consumer', 'business'] },
        { col: 'signup_date', required: true, type: 'date' },
        { col: 'updated_at', required: true, type: 'timestamp' },
      ],
      fks: [],
      pk: (r) => `${r.customer_id}|${r.updated_at}`,
    });
    const products = simulate(ds.products, {
      checks: [
        { col: 'product_id', required: true, type: 'int' },
        { col: 'product_name', required: true },
        { col: 'category', required: true },
        { col: 'unit_price', required: true, type: 'decimal', min: 0 },
      ],
      fks: [],
      pk: (r) => r.product_id ?? '',
    });
    const stores = simulate(ds.stores, {
      checks: [{ col: 'location_id', required: true, type: 'int' }],
      fks: [],
      pk: (r) => r.location_id ?? '',
    });
    const orders = simulate(ds.orders, {
      checks: [
        { col: 'order_id', required: true, type: 'int' },
        { col: 'customer_id', required: true, type: 'int' },
        { col: 'location_id', required: true, type: 'int' },
        { col: 'order_ts', required: true, type: 'timestamp' },
        { col: 'status', allowed: ['placed', 'shipped', 'delivered', 'cancelled', 'returned'] },
        { col: 'channel', allowed: ['web', 'mobile', 'store'] },
      ],
      fks: [
        { col: 'customer_id', parent: ALL(customers.passed, 'customer_id') },
        { col: 'location_id', parent: ALL(stores.passed, 'location_id') },
      ],
      pk: (r) => r.order_id ?? '',
    });
    const lines = simulate(ds.lines, {
      checks: [
        { col: 'line_id', required: true, type: 'int' },
        { col: 'order_id', required: true, type: 'int' },
        { col: 'product_id', required: true, type: 'int' },
        { col: 'quantity', required: true, type: 'int', min: 1 },
        { col: 'unit_price', required: true, type: 'decimal', min: 0 },
        { col: 'discount', type: 'decimal', min: 0 },
        { col: 'tax_amount', type: 'decimal', min: 0 },
      ],
      fks: [
        { col: 'order_id', parent: ALL(orders.passed, 'order_id') },
        { col: 'product_id', parent: ALL(products.passed, 'product_id') },
      ],
      pk: (r) => r.line_id ?? '',
    });
    const payments = simulate(ds.payments, {
      checks: [
        { col: 'id', required: true },
        { col: 'amount', required: true, type: 'int', min: 0 },
        { col: 'created', required: true, type: 'int' },
        { col: 'metadata.order_id', required: true },
      ],
      fks: [{ col: 'metadata.order_id', parent: ALL(orders.passed, 'order_id') }],
      pk: (r) => r.id ?? '',
    });
    const clicks = simulate(ds.clicks, {
      checks: [
        { col: 'event_id', required: true },
        {
          col: 'event_type',
          required: true,
          allowed: [
            'page_view',
            'product_view',
            'add_to_cart',
            'remove_from_cart',
            'checkout_start',
            'purchase',
          ],
        },
        { col: 'event_ts', required: true, type: 'timestamp' },
      ],
      fks: [],
      pk: (r) => r.event_id ?? '',
    });
    const sims = {
      customers,
      products,
      stores,
      orders,
      order_lines: lines,
      payments,
      clickstream: clicks,
    };
    const records = {
      customers: ds.customers,
      products: ds.products,
      stores: ds.stores,
      orders: ds.orders,
      order_lines: ds.lines,
      payments: ds.payments,
      clickstream: ds.clicks,
    };
    for (const [table, sim] of Object.entries(sims)) {
      const rows = records[table as keyof typeof records].length;
      expect(report.expected[table], table).toEqual({
        records: rows,
        valid: sim.passed.length,
        quarantined: sim.quarantined,
      });
    }
    // Cascades actually happen: some lines/payments fail only because their order did not survive.
    expect(report.expected.order_lines.quarantined.foreign_key).toBeGreaterThan(
      report.injected.order_lines.unknown_product,
    );
    expect(report.expected.payments.quarantined.foreign_key).toBeGreaterThan(0);

    const orderMonth = new Map(
      orders.passed.map((o) => [o.order_id, (o.order_ts ?? '').slice(0, 7)]),
    );
    const t = { quantity: 0, gross: 0, discount: 0, tax: 0 };
    const revenue = new Map<string, number>();
    const ordersByMonth = new Map<string, Set<string>>();
    for (const l of lines.passed) {
      const gross = Number(l.quantity) * cents(l.unit_price ?? '');
      const discount = cents(l.discount ?? '');
      t.quantity += Number(l.quantity);
      t.gross += gross;
      t.discount += discount;
      t.tax += cents(l.tax_amount ?? '');
      const month = orderMonth.get(l.order_id)!;
      revenue.set(month, (revenue.get(month) ?? 0) + gross - discount);
      ordersByMonth.set(month, (ordersByMonth.get(month) ?? new Set()).add(l.order_id ?? ''));
    }
    expect(report.totals).toEqual({
      orders: new Set(lines.passed.map((l) => l.order_id)).size,
      lines: lines.passed.length,
      quantity: t.quantity,
      gross_amount: money(t.gross),
      discount: money(t.discount),
      tax_amount: money(t.tax),
      net_amount: money(t.gross - t.discount),
    });
    const months = [...revenue.keys()].sort();
    expect(report.revenueByMonth).toEqual(
      Object.fromEntries(months.map((m) => [m, money(revenue.get(m)!)])),
    );
    expect(report.ordersByMonth).toEqual(
      Object.fromEntries(months.map((m) => [m, ordersByMonth.get(m)!.size])),
    );
  });

  it('writes products.csv with a BOM, quoted fields with embedded newlines, commas and quotes, and zero-padded postal codes', async () => {
    const raw = await readFile(join(ds.dir, 'products.csv'));
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(ds.text['products.csv'].split('\n')[0]).toBe(
      '\uFEFFproduct_id,sku,product_name,category,subcategory,brand,unit_price,cost,active,created_at',
    );
    expect(
      ds.products.some((p) => p.product_name?.includes(',') && p.product_name.includes('"')),
    ).toBe(true);
    expect(ds.text['products.csv']).toMatch(/,"[^"\n]*""[^"\n]*""[^"\n]*,[^"\n]*",/);
    expect(ds.stores.some((s) => s.store_name?.includes('"'))).toBe(true);
    expect(ds.stores.some((s) => s.store_name?.includes(','))).toBe(true);
    const notes = ds.orders.map((o) => o.notes ?? '');
    expect(notes.some((n) => n.includes('\n') && n.includes(',') && n.includes('"'))).toBe(true);
    expect(notes.filter((n) => n === '').length / notes.length).toBeGreaterThan(0.9);
    const storeZips = ds.stores.map((s) => s.postal_code);
    for (const zip of ['02139', '06103', '07302']) expect(storeZips).toContain(zip);
    expect(ds.customers.some((c) => /^0\d{4}$/.test(c['address.postal_code'] ?? ''))).toBe(true);
    for (const c of ds.customerObjects as { address: { postal_code: unknown } }[]) {
      expect(typeof c.address.postal_code).toBe('string');
    }
    expect(ds.text['orders.csv'].split('\n')[0]).toBe(
      'order_id,customer_id,location_id,order_ts,status,channel,notes',
    );
    expect(ds.text['order_lines.csv'].split('\n')[0]).toBe(
      'line_id,order_id,product_id,quantity,unit_price,discount,tax_amount',
    );
    expect(ds.text['stores.csv'].split('\n')[0]).toBe(
      'location_id,store_name,channel,street,city,state,postal_code,region,country',
    );
    expect(ds.text['customers.json'].startsWith('[\n{"customer_id":1,')).toBe(true);
    expect(ds.text['payments.json'].startsWith('[\n{"id":"ch_')).toBe(true);
  });

  it('gives November the highest order count of each year', () => {
    for (const year of ['2024', '2025']) {
      const counts = Object.entries(ds.report.ordersByMonth).filter(([m]) => m.startsWith(year));
      expect(counts.reduce((a, b) => (b[1] > a[1] ? b : a))[0]).toBe(`${year}-11`);
    }
    const byMonth = new Map<string, Set<string>>();
    for (const o of ds.orders) {
      if (!isTimestamp(o.order_ts ?? '')) continue;
      const m = (o.order_ts ?? '').slice(0, 7);
      byMonth.set(m, (byMonth.get(m) ?? new Set()).add(o.order_id ?? ''));
    }
    for (const year of ['2024', '2025']) {
      const months = [...byMonth]
        .filter(([m]) => m.startsWith(year))
        .map(([m, s]) => [m, s.size] as const);
      expect(months).toHaveLength(12);
      expect(months.reduce((a, b) => (b[1] > a[1] ? b : a))[0]).toBe(`${year}-11`);
    }
  });

  it('shapes the data like a real shop: growth, weekend online traffic, repeat buyers, movers and refunds', () => {
    const valid = ds.orders.filter((o) => isTimestamp(o.order_ts ?? ''));
    const year = (y: string) => valid.filter((o) => o.order_ts?.startsWith(y)).length;
    expect(year('2025') / year('2024')).toBeGreaterThan(1.1);
    expect(year('2025') / year('2024')).toBeLessThan(1.3);
    const onlineShare = (weekend: boolean) => {
      const days = valid.filter(
        (o) =>
          [0, 6].includes(new Date(`${o.order_ts?.slice(0, 10)}T00:00:00Z`).getUTCDay()) ===
          weekend,
      );
      return days.filter((o) => o.channel !== 'store').length / days.length;
    };
    expect(onlineShare(true)).toBeGreaterThan(onlineShare(false));
    for (const o of valid) expect(o.channel === 'store', o.order_id).toBe(o.location_id !== '1');
    const perCustomer = new Map<string, number>();
    for (const o of valid)
      perCustomer.set(o.customer_id ?? '', (perCustomer.get(o.customer_id ?? '') ?? 0) + 1);
    expect(Math.max(...perCustomer.values())).toBeGreaterThanOrEqual(10);
    expect([...perCustomer.values()].filter((n) => n >= 2).length).toBeGreaterThan(
      perCustomer.size / 3,
    );
    const versions = new Map<string, number>();
    for (const c of new Set(ds.customerObjects.map((o) => JSON.stringify(o)))) {
      const id = String((JSON.parse(c) as { customer_id: number }).customer_id);
      versions.set(id, (versions.get(id) ?? 0) + 1);
    }
    const movers = [...versions.values()].filter((n) => n === 2).length / versions.size;
    expect(movers).toBeGreaterThan(0.04);
    expect(movers).toBeLessThan(0.06);
    const returned = valid.filter((o) => o.status === 'returned').length / valid.length;
    expect(returned).toBeGreaterThan(0.01);
    expect(returned).toBeLessThan(0.08);
    const refunded = ds.payments.filter((p) => p.refunded === 'true');
    expect(refunded.every((p) => p.amount_refunded === p.amount)).toBe(true);
    expect(
      ds.payments.every(
        (p) =>
          /^ch_[A-Za-z0-9]{24}$/.test(p.id ?? '') &&
          /^\d{4}$/.test(p['payment_method_details.card.last4'] ?? ''),
      ),
    ).toBe(true);
  });

  it('charges each order the sum of its lines plus tax', () => {
    const due = new Map<string, number>();
    const dirty = new Set<string>();
    for (const l of ds.lines) {
      if (!isInt(l.quantity ?? '') || !isDecimal(l.unit_price ?? '') || Number(l.quantity) < 1)
        dirty.add(l.order_id ?? '');
      const gross = Number(l.quantity) * cents(l.unit_price ?? '');
      due.set(
        l.order_id ?? '',
        (due.get(l.order_id ?? '') ?? 0) +
          gross -
          cents(l.discount ?? '') +
          cents(l.tax_amount ?? ''),
      );
    }
    let checked = 0;
    for (const p of ds.payments) {
      const id = p['metadata.order_id'];
      if (id === undefined || dirty.has(id)) continue;
      expect(Number(p.amount), id).toBe(due.get(id));
      checked++;
    }
    expect(checked).toBeGreaterThan(ds.payments.length * 0.9);
  });

  it('reports progress per table', async () => {
    const labels = new Set<string>();
    let last: [number, number] = [0, 0];
    await generateEcommerce({
      outDir: await tempDir(),
      scale: 0.05,
      seed: 3,
      onProgress: (done, total, label) => {
        labels.add(label);
        last = [done, total];
      },
    });
    expect([...labels].sort()).toEqual([
      'clickstream',
      'customers',
      'order_lines',
      'orders',
      'payments',
      'products',
      'stores',
    ]);
    expect(last[0]).toBe(last[1]);
  });
});
