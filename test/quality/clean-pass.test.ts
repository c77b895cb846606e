/**
 * The clean pass: a batch without bad rows is read, checked and written to Parquet in one
 * streaming statement. It must write exactly what the full pass writes, and any bad row, bad
 * record or key conflict must send the batch to the full pass, which quarantines it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentProgress } from '../../src/core/index.js';
import { openDuckDB, type Engine } from '../../src/engines/index.js';
import { LocalObjectStore, type TableManifest } from '../../src/lake/index.js';
import { loadProject, type SourceTable } from '../../src/project/index.js';
import { processTable, type ProcessResult } from '../../src/quality/index.js';
import { sourceFor } from '../../src/sources/index.js';
import { tempDir, writeFiles } from '../helpers.js';

let engine: Engine;
beforeAll(async () => {
  engine = await openDuckDB({ path: ':memory:' });
});
afterAll(() => engine.close());

const CONFIG = `name: t
sources:
  app:
    type: files
    path: landing
    tables:
      customers: { files: "customers*.csv" }
      orders: { files: "orders*.csv" }
      events: { files: "events*.ndjson", format: ndjson }
`;
const CONTRACTS = {
  'contracts/customers.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: name, type: string }
`,
  'contracts/orders.yml': `primary_key: [order_id]
partition_by: { column: ts, granularity: day }
columns:
  - { name: order_id, type: bigint, required: true }
  - { name: customer_id, type: bigint, required: true, references: customers.id }
  - { name: ts, type: timestamp, required: true }
  - { name: day, type: date }
  - { name: qty, type: integer, min: 1, max: 100 }
  - { name: price, type: "decimal(12,2)" }
  - { name: weight, type: double }
  - { name: gift, type: boolean }
  - { name: status, type: string, allowed: [open, closed] }
  - { name: note, type: string }
`,
  'contracts/events.yml': `columns:
  - { name: id, type: string, required: true }
  - { name: order_id, type: bigint, from: meta.order }
  - { name: at, type: timestamp, from: meta.at }
`,
};
const CUSTOMERS = 'id,name\n1,Ann\n2,"Bob, ""the"" builder"\n3,\n';
const GOOD_ORDERS = [
  'order_id,customer_id,ts,day,qty,price,weight,gift,status,note',
  '10,1,2025-01-01 10:00:00,2025-01-01,1,9.99,1.5,true,open,plain',
  '11,2,2025-01-01 23:59:59,2025-01-01,100,0.10,0,false,closed,"two\nlines"',
  '12,3,2025-01-02 00:00:00,,2,1234567890.12,-2.5e3,,open,""',
  '13,1,2025-01-03 08:30:00.123456,2025-01-03,,,,,,"quote "" inside, and comma"',
].join('\n');
const GOOD_EVENTS = [
  '{"id":"e1","meta":{"order":10,"at":"2025-01-01 10:00:00"}}',
  '{"id":"e2","meta":{}}',
  '{"id":"e3","meta":{"order":12,"at":null},"extra":[1,2]}',
].join('\n');

interface Lake {
  store: LocalObjectStore;
  tmpDir: string;
  manifests: Map<string, TableManifest>;
}

/** A project with these landing files, landed into two lakes of its own. */
async function setup(landing: Record<string, string>) {
  const dir = tempDir('trib-clean-');
  writeFiles(dir, { 'tributary.yml': CONFIG, ...CONTRACTS });
  writeFiles(join(dir, 'landing'), landing);
  const project = await loadProject(dir);
  const lake = (name: string): Lake => ({
    store: new LocalObjectStore(join(dir, name)),
    tmpDir: join(dir, `${name}-tmp`),
    manifests: new Map(),
  });
  const landed = new Set(Object.keys(landing).map((f) => f.replace(/[_.].*$/, '')));
  const land = async (l: Lake) => {
    for (const table of project.tables.filter((t) => landed.has(t.table))) {
      await sourceFor(table).land({
        store: l.store,
        tmpDir: l.tmpDir,
        progress: silentProgress,
        now: new Date('2026-01-01T00:00:00Z'),
      });
    }
  };
  const table = (name: string) => project.tables.find((t) => t.table === name)!;
  return { dir, project, lake, land, table };
}

async function processIn(l: Lake, table: SourceTable, cleanPass: boolean): Promise<ProcessResult> {
  const result = await processTable(
    { engine, store: l.store, tmpDir: l.tmpDir, progress: silentProgress, cleanPass },
    table,
    l.manifests,
  );
  l.manifests.set(table.table, result.manifest);
  return result;
}

/** Every processed row of a table, in a stable order, with values as text. */
async function rowsOf(l: Lake, table: string, orderBy: string): Promise<unknown[]> {
  const files = l.manifests.get(table)!.files.map((f) => `'${l.store.readableLocation(f.key)}'`);
  if (!files.length) return [];
  const { rows } = await engine.query(
    `SELECT * FROM read_parquet([${files.join(', ')}], hive_partitioning = false) ORDER BY ${orderBy}`,
  );
  return rows;
}

/** Column names and Parquet types of a table's first processed file. */
async function schemaOf(l: Lake, table: string): Promise<unknown[]> {
  const file = l.store.readableLocation(l.manifests.get(table)!.files[0]!.key);
  const { rows } = await engine.query(
    `SELECT name, type, logical_type FROM parquet_schema('${file}') ORDER BY name`,
  );
  return rows;
}

describe('the clean pass', () => {
  it('writes a batch without bad rows in one pass, exactly as the full pass writes it', async () => {
    const t = await setup({
      'customers.csv': CUSTOMERS,
      'orders.csv': GOOD_ORDERS,
      'events.ndjson': GOOD_EVENTS,
    });
    const clean = t.lake('clean');
    const full = t.lake('full');
    await t.land(clean);
    await t.land(full);
    for (const [name, order] of [
      ['customers', 'id'],
      ['orders', 'order_id'],
      ['events', 'id'],
    ] as const) {
      const a = await processIn(clean, t.table(name), true);
      const b = await processIn(full, t.table(name), false);
      expect(a.cleanBatches, name).toBe(1);
      expect(b.cleanBatches, name).toBe(0);
      expect({ in: a.rowsIn, out: a.rowsOut, rejected: a.rowsRejected }).toEqual({
        in: b.rowsIn,
        out: b.rowsOut,
        rejected: 0,
      });
      expect(await rowsOf(clean, name, order)).toEqual(await rowsOf(full, name, order));
      expect(await schemaOf(clean, name)).toEqual(await schemaOf(full, name));
      const files = (l: Lake) =>
        l.manifests.get(name)!.files.map((f) => ({ key: f.key, rows: f.rows, p: f.partition }));
      expect(files(clean)).toEqual(files(full));
    }
    expect(clean.manifests.get('orders')!.files.map((f) => f.partition)).toEqual([
      { ts_day: '2025-01-01' },
      { ts_day: '2025-01-02' },
      { ts_day: '2025-01-03' },
    ]);
    expect(await rowsOf(clean, 'orders', 'order_id')).toContainEqual(
      expect.objectContaining({ order_id: '11', note: 'two\nlines', price: '0.10' }),
    );
  });

  const badRows: [reason: string, row: string][] = [
    ['required', '20,,2025-01-05 10:00:00,,1,,,,open,'],
    ['type', '20,1,2025-01-05 10:00:00,,7.5,,,,open,'],
    ['range', '20,1,2025-01-05 10:00:00,,0,,,,open,'],
    ['allowed_values', '20,1,2025-01-05 10:00:00,,1,,,,lost,'],
    ['foreign_key', '20,99,2025-01-05 10:00:00,,1,,,,open,'],
    ['duplicate_key', '10,1,2025-01-05 10:00:00,,1,,,,open,'],
    ['malformed', '20,1,2025-01-05 10:00:00,,1,,,,open,,too many'],
  ];
  it.each(badRows)(
    'sends a batch with a %s failure to the full pass, which quarantines that row only',
    async (reason, row) => {
      const t = await setup({
        'customers.csv': CUSTOMERS,
        'orders.csv': `${GOOD_ORDERS}\n${row}\n`,
      });
      const l = t.lake('lake');
      await t.land(l);
      await processIn(l, t.table('customers'), true);
      const result = await processIn(l, t.table('orders'), true);
      expect(result.cleanBatches).toBe(0);
      expect(result.reasons).toEqual({ [reason]: 1 });
      expect(result.rowsOut).toBe(4);
      expect(l.manifests.get('orders')!.quarantine).toHaveLength(1);
    },
  );

  it('sends a batch whose key was loaded by an earlier batch to the full pass (append)', async () => {
    const t = await setup({
      'customers.csv': CUSTOMERS,
      'customers_2.csv': 'id,name\n4,Dee\n1,Ann again\n',
    });
    const l = t.lake('lake');
    await t.land(l);
    const result = await processIn(l, t.table('customers'), true);
    expect(result.batches).toBe(2);
    expect(result.cleanBatches).toBe(1);
    expect(result.reasons).toEqual({ duplicate_key: 1 });
    expect((await rowsOf(l, 'customers', 'id')).map((r) => (r as { id: string }).id)).toEqual([
      '1',
      '2',
      '3',
      '4',
    ]);
  });

  it('rewrites the loaded files holding a merged key, from the keys it wrote', async () => {
    const t = await setup({
      'customers.csv': CUSTOMERS,
      'customers_2.csv': 'id,name\n4,Dee\n1,Ann again\n',
    });
    const merged = { ...t.table('customers'), disposition: 'merge' } as SourceTable;
    const clean = t.lake('clean');
    const full = t.lake('full');
    await t.land(clean);
    await t.land(full);
    const a = await processIn(clean, merged, true);
    await processIn(full, merged, false);
    expect(a.cleanBatches).toBe(2);
    expect(await rowsOf(clean, 'customers', 'id')).toEqual(await rowsOf(full, 'customers', 'id'));
    expect(await rowsOf(clean, 'customers', 'id')).toContainEqual({ id: '1', name: 'Ann again' });
  });

  it('leaves a batch that fails the clean pass with no staged files before the full pass', async () => {
    const t = await setup({
      'customers.csv': CUSTOMERS,
      'orders.csv': `${GOOD_ORDERS}\n20,1,2025-01-09 10:00:00,,1,,,,lost,\n`,
    });
    const l = t.lake('lake');
    await t.land(l);
    await processIn(l, t.table('customers'), true);
    await processIn(l, t.table('orders'), true);
    // Only the full pass's files are listed: one per day of the valid rows, none for 2025-01-09.
    expect(l.manifests.get('orders')!.files.map((f) => f.partition?.ts_day)).toEqual([
      '2025-01-01',
      '2025-01-02',
      '2025-01-03',
    ]);
    const listed = new Set(l.manifests.get('orders')!.files.map((f) => f.key));
    const onDisk = await l.store.list('processed/orders/');
    expect(onDisk.filter((o) => o.key.endsWith('.parquet')).every((o) => listed.has(o.key))).toBe(
      true,
    );
  });
});
