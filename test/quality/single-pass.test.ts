/**
 * Single passes: a batch is first read once, stopping at the first bad row — straight to Parquet
 * for tables without a primary key (the clean pass), into a table of typed values for tables with
 * one (the typed pass, which then decides foreign and duplicate keys). Both must write exactly
 * what the full pass writes, and a row failing a column check or a malformed record must send
 * the batch to the full pass, which quarantines it.
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
      visits: { files: "visits*.csv" }
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
  'contracts/visits.yml': `partition_by: { column: at, granularity: day }
columns:
  - { name: customer_id, type: bigint, required: true, references: customers.id }
  - { name: at, type: timestamp, required: true }
  - { name: pages, type: integer, min: 1 }
  - { name: path, type: string }
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
const GOOD_VISITS = [
  'customer_id,at,pages,path',
  '1,2025-01-01 10:00:00,3,/home',
  '2,2025-01-02 11:00:00,1,"/search?q=a,b"',
  '1,2025-01-02 12:00:00,,"multi\nline"',
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

/** A project with these landing files; lakes of its own to land them in. */
async function setup(landing: Record<string, string>) {
  const dir = tempDir('trib-single-');
  writeFiles(dir, { 'tributary.yml': CONFIG, ...CONTRACTS });
  writeFiles(join(dir, 'landing'), landing);
  const project = await loadProject(dir);
  const landed = new Set(Object.keys(landing).map((f) => f.replace(/[_.].*$/, '')));
  /** A lake holding every landing file, raw only. */
  const lake = async (name: string): Promise<Lake> => {
    const l = {
      store: new LocalObjectStore(join(dir, name)),
      tmpDir: join(dir, `${name}-tmp`),
      manifests: new Map(),
    };
    for (const table of project.tables.filter((t) => landed.has(t.table))) {
      await sourceFor(table).land({
        store: l.store,
        tmpDir: l.tmpDir,
        progress: silentProgress,
        now: new Date('2026-01-01T00:00:00Z'),
      });
    }
    return l;
  };
  const table = (name: string) => project.tables.find((t) => t.table === name)!;
  return { lake, table };
}

async function processIn(l: Lake, table: SourceTable, singlePass = true): Promise<ProcessResult> {
  const result = await processTable(
    { engine, store: l.store, tmpDir: l.tmpDir, progress: silentProgress, singlePass },
    table,
    l.manifests,
  );
  l.manifests.set(table.table, result.manifest);
  return result;
}

/** Every row of a table's processed files (or quarantine files), in a stable order. */
async function rowsOf(
  l: Lake,
  table: string,
  orderBy: string,
  zone: 'files' | 'quarantine' = 'files',
): Promise<unknown[]> {
  const files = l.manifests.get(table)![zone].map((f) => `'${l.store.readableLocation(f.key)}'`);
  if (!files.length) return [];
  // `_loaded_at` is when each pass committed: the one column two passes may not share.
  const { rows } = await engine.query(
    `SELECT * FROM read_parquet([${files.join(', ')}], hive_partitioning = false) ORDER BY ${orderBy}`,
  );
  return rows.map(({ _loaded_at: _, ...rest }) => rest);
}

/** Column names and Parquet types of a table's first processed file. */
async function schemaOf(l: Lake, table: string): Promise<unknown[]> {
  const file = l.store.readableLocation(l.manifests.get(table)!.files[0]!.key);
  const { rows } = await engine.query(
    `SELECT name, type, logical_type FROM parquet_schema('${file}') ORDER BY name`,
  );
  return rows;
}

/** Processes the tables in both lakes, a single pass allowed in one, and compares them. */
async function expectSameAsFullPass(
  single: Lake,
  full: Lake,
  table: SourceTable,
  orderBy: string,
): Promise<ProcessResult> {
  const a = await processIn(single, table);
  const b = await processIn(full, table, false);
  expect(b.singlePassBatches).toBe(0);
  const counts = (r: ProcessResult) => ({
    in: r.rowsIn,
    out: r.rowsOut,
    rejected: r.rowsRejected,
    reasons: r.reasons,
  });
  expect(counts(a)).toEqual(counts(b));
  expect(await rowsOf(single, table.table, orderBy)).toEqual(
    await rowsOf(full, table.table, orderBy),
  );
  expect(await rowsOf(single, table.table, '_record', 'quarantine')).toEqual(
    await rowsOf(full, table.table, '_record', 'quarantine'),
  );
  if (a.rowsOut)
    expect(await schemaOf(single, table.table)).toEqual(await schemaOf(full, table.table));
  const files = (l: Lake) =>
    l.manifests.get(table.table)!.files.map((f) => ({ key: f.key, rows: f.rows, p: f.partition }));
  expect(files(single)).toEqual(files(full));
  return a;
}

describe('single passes', () => {
  it('write batches without bad rows exactly as the full pass writes them', async () => {
    const t = await setup({
      'customers.csv': CUSTOMERS,
      'orders.csv': GOOD_ORDERS,
      'visits.csv': GOOD_VISITS,
      'events.ndjson': GOOD_EVENTS,
    });
    const single = await t.lake('single');
    const full = await t.lake('full');
    for (const [name, order] of [
      ['customers', 'id'],
      ['orders', 'order_id'],
      ['visits', '"at"'],
      ['events', 'id'],
    ] as const) {
      const result = await expectSameAsFullPass(single, full, t.table(name), order);
      expect(result.singlePassBatches, name).toBe(1);
      expect(result.rowsRejected, name).toBe(0);
    }
    expect(single.manifests.get('orders')!.files.map((f) => f.partition)).toEqual([
      { ts_day: '2025-01-01' },
      { ts_day: '2025-01-02' },
      { ts_day: '2025-01-03' },
    ]);
    expect(await rowsOf(single, 'orders', 'order_id')).toContainEqual(
      expect.objectContaining({ order_id: '11', note: 'two\nlines', price: '0.10' }),
    );
  });

  const columnFailures: [reason: string, row: string][] = [
    ['required', '20,,2025-01-05 10:00:00,,1,,,,open,'],
    ['type', '20,1,2025-01-05 10:00:00,,7.5,,,,open,'],
    ['range', '20,1,2025-01-05 10:00:00,,0,,,,open,'],
    ['allowed_values', '20,1,2025-01-05 10:00:00,,1,,,,lost,'],
    ['malformed', '20,1,2025-01-05 10:00:00,,1,,,,open,,too many'],
  ];
  it.each(columnFailures)(
    'sends a batch with a %s failure to the full pass, which quarantines that row only',
    async (reason, row) => {
      const t = await setup({
        'customers.csv': CUSTOMERS,
        'orders.csv': `${GOOD_ORDERS}\n${row}\n`,
      });
      const l = await t.lake('lake');
      await processIn(l, t.table('customers'));
      const result = await processIn(l, t.table('orders'));
      expect(result.singlePassBatches).toBe(0);
      expect(result.reasons).toEqual({ [reason]: 1 });
      expect(result.rowsOut).toBe(4);
      expect(l.manifests.get('orders')!.quarantine).toHaveLength(1);
    },
  );

  const keyFailures: [reason: string, rows: string][] = [
    ['foreign_key', '20,99,2025-01-05 10:00:00,,1,,,,open,\n21,98,2025-01-05 10:00:00,,1,,,,open,'],
    ['duplicate_key', '10,1,2025-01-05 10:00:00,,1,,,,open,\n11,1,2025-01-05 10:00:00,,5,,,,open,'],
  ];
  it.each(keyFailures)(
    'decides %s failures in the typed pass, quarantining them as the full pass does',
    async (reason, rows) => {
      const t = await setup({
        'customers.csv': CUSTOMERS,
        'orders.csv': `${GOOD_ORDERS}\n${rows}\n`,
      });
      const single = await t.lake('single');
      const full = await t.lake('full');
      await processIn(single, t.table('customers'));
      await processIn(full, t.table('customers'));
      const result = await expectSameAsFullPass(single, full, t.table('orders'), 'order_id');
      expect(result.singlePassBatches).toBe(1);
      expect(result.reasons).toEqual({ [reason]: 2 });
      const quarantined = (await rowsOf(single, 'orders', '_record', 'quarantine')) as {
        _line: string;
        _value: string;
      }[];
      // Lines count the header and the quoted newline of order 11.
      expect(quarantined.map((r) => [r._line, r._value])).toEqual(
        reason === 'foreign_key'
          ? [
              ['7', '99'],
              ['8', '98'],
            ]
          : [
              ['7', '10'],
              ['8', '11'],
            ],
      );
    },
  );

  const visitFailures: [reason: string, row: string][] = [
    ['required', ',2025-01-05 10:00:00,1,/x'],
    ['type', '1,yesterday,1,/x'],
    ['range', '1,2025-01-05 10:00:00,0,/x'],
    ['foreign_key', '99,2025-01-05 10:00:00,1,/x'],
    ['malformed', '1,2025-01-05 10:00:00,1,/x,extra'],
  ];
  it.each(visitFailures)(
    'sends a batch without a primary key and with a %s failure to the full pass',
    async (reason, row) => {
      const t = await setup({
        'customers.csv': CUSTOMERS,
        'visits.csv': `${GOOD_VISITS}\n${row}\n`,
      });
      const l = await t.lake('lake');
      await processIn(l, t.table('customers'));
      const result = await processIn(l, t.table('visits'));
      expect(result.singlePassBatches).toBe(0);
      expect(result.reasons).toEqual({ [reason]: 1 });
      expect(result.rowsOut).toBe(3);
      // Nothing the stopped clean pass wrote is left: only the full pass's files, one per day.
      const listed = l.manifests.get('visits')!.files.map((f) => f.key);
      expect(l.manifests.get('visits')!.files.map((f) => f.partition?.at_day)).toEqual([
        '2025-01-01',
        '2025-01-02',
      ]);
      const onDisk = (await l.store.list('processed/visits/')).filter((o) =>
        o.key.endsWith('.parquet'),
      );
      expect(onDisk.map((o) => o.key).sort()).toEqual([...listed].sort());
    },
  );

  it('quarantines a key loaded by an earlier batch (append) in the typed pass', async () => {
    const t = await setup({
      'customers.csv': CUSTOMERS,
      'customers_2.csv': 'id,name\n4,Dee\n1,Ann again\n',
    });
    const single = await t.lake('single');
    const full = await t.lake('full');
    const result = await expectSameAsFullPass(single, full, t.table('customers'), 'id');
    expect(result.batches).toBe(2);
    expect(result.singlePassBatches).toBe(2);
    expect(result.reasons).toEqual({ duplicate_key: 1 });
    expect((await rowsOf(single, 'customers', 'id')).map((r) => (r as { id: string }).id)).toEqual([
      '1',
      '2',
      '3',
      '4',
    ]);
  });

  it('merges keys loaded by an earlier batch, rewriting the files holding them', async () => {
    const t = await setup({
      'customers.csv': CUSTOMERS,
      'customers_2.csv': 'id,name\n4,Dee\n1,Ann again\n4,Dee later\n',
    });
    const merged = { ...t.table('customers'), disposition: 'merge' } as SourceTable;
    const single = await t.lake('single');
    const full = await t.lake('full');
    const result = await expectSameAsFullPass(single, full, merged, 'id');
    expect(result.singlePassBatches).toBe(2);
    expect(await rowsOf(single, 'customers', 'id')).toEqual([
      { id: '1', name: 'Ann again' },
      { id: '2', name: 'Bob, "the" builder' },
      { id: '3', name: null },
      { id: '4', name: 'Dee later' },
    ]);
  });
});
