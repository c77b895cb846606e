/**
 * Processed lake tables loaded into a PostgreSQL warehouse (catalog/lake-load.ts): exactly the
 * rows of the files the manifest lists, new files only on the next load, a whole reload when files
 * went away or the columns changed, and a failed load that leaves nothing behind; the table's
 * quarantine loaded beside it as DuckDB's view reads it. Real Parquet
 * files written by DuckDB, a real PostgreSQL database of the test's own.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLakeTable } from '../../src/catalog/index.js';
import { openDuckDB, openPostgres, type Engine } from '../../src/engines/index.js';
import {
  LocalObjectStore,
  schemaHash,
  type ColumnSchema,
  type DataFile,
  type QuarantineFile,
  type TableManifest,
} from '../../src/lake/index.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase } from '../sync/support.js';

const available = await serviceAvailable('postgres', postgresTestUrl);

const v1: ColumnSchema[] = [
  { name: 'id', type: 'bigint' },
  { name: 'name', type: 'string' },
  { name: 'amount', type: 'decimal(12,2)' },
  { name: 'ordered_on', type: 'date' },
  { name: '_loaded_at', type: 'timestamp' },
];
const v2: ColumnSchema[] = [...v1, { name: 'vip', type: 'boolean' }];

describe.skipIf(!available)('loading processed tables into PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let pg: Engine;
  let duck: Engine;
  let store: LocalObjectStore;
  let root: string;

  beforeAll(async () => {
    db = await freshPostgresDatabase('lakeload');
    pg = await openPostgres({ url: db.url, poolSize: 3 });
    duck = await openDuckDB({ path: ':memory:' });
    root = tempDir('trib-lakeload-');
    store = new LocalObjectStore(root);
  });
  afterAll(async () => {
    await pg?.close();
    await duck?.close();
    await db?.drop();
  });

  /** Writes a Parquet file of `n` rows (ids from `first`) with `columns`, as processing would. */
  async function parquet(
    key: string,
    first: number,
    n: number,
    columns: ColumnSchema[],
  ): Promise<DataFile> {
    mkdirSync(join(root, key, '..'), { recursive: true });
    const vip = columns.some((c) => c.name === 'vip') ? ', (i % 2 = 0) AS vip' : '';
    await duck.exec(
      `COPY (SELECT i::BIGINT AS id, CASE WHEN i % 5 = 0 THEN NULL WHEN i % 7 = 0 THEN '' ELSE 'n,"' || i END AS name,
                    (i * 1.25)::DECIMAL(12,2) AS amount, DATE '2025-01-01' + (i % 30)::INT AS ordered_on,
                    TIMESTAMP '2025-02-01 10:00:00.123456' AS _loaded_at${vip}
               FROM range(${first}, ${first + n}) t(i))
       TO '${store.readableLocation(key)}' (FORMAT parquet)`,
    );
    return { key, rows: n, bytes: 0, batch: key.split('/').pop()!, schema: schemaHash(columns) };
  }

  function manifest(table: string, files: DataFile[], columns = v1, version = 1): TableManifest {
    return {
      format: 1,
      table,
      version,
      updatedAt: '',
      columns,
      files,
      quarantine: [],
      batches: {},
      rejected: {},
    };
  }

  const statsSql = (from: string) =>
    `SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(amount) AS amount,
            count(*) FILTER (WHERE name IS NULL) AS nulls, count(*) FILTER (WHERE name = '') AS empties,
            min(ordered_on) AS first_day, max(_loaded_at) AS loaded_at
       FROM ${from}`;
  const stats = async (table: string) => (await pg.query(statsSql(`processed.${table}`))).rows[0];
  /** The same figures read by DuckDB straight from the files: what the table must hold. */
  const expected = async (files: DataFile[]) =>
    (
      await duck.query(
        statsSql(
          `read_parquet([${files.map((f) => `'${store.readableLocation(f.key)}'`).join(', ')}])`,
        ),
      )
    ).rows[0];

  it('loads every listed file once, then only the files added since', async () => {
    const a = await parquet('processed/orders/part-a.parquet', 0, 55_000, v1);
    // The first loads of a warehouse, side by side on two sessions, both create its bookkeeping.
    const c = await parquet('processed/refunds/part-c.parquet', 0, 3, v1);
    const [other, reader] = [await pg.fork(), await duck.fork()];
    const [first, refunds] = await Promise.all([
      loadLakeTable(pg, duck, store, manifest('orders', [a])),
      loadLakeTable(other, reader, store, manifest('refunds', [c])),
    ]).finally(() => Promise.all([other.close(), reader.close()]));
    expect(first).toEqual({ files: 1, rows: 55_000, deleted: 0, reloaded: false });
    expect(refunds).toEqual({ files: 1, rows: 3, deleted: 0, reloaded: false });
    const b = await parquet('processed/orders/part-b.parquet', 55_000, 10, v1);
    const second = await loadLakeTable(pg, duck, store, manifest('orders', [a, b], v1, 2));
    expect(second).toEqual({ files: 1, rows: 10, deleted: 0, reloaded: false });
    expect(await loadLakeTable(pg, duck, store, manifest('orders', [a, b], v1, 2))).toEqual({
      files: 0,
      rows: 0,
      deleted: 0,
      reloaded: false,
    });
    expect(await stats('orders')).toEqual(await expected([a, b]));
    expect((await stats('orders'))!.empties).not.toBe('0');
    const { rows } = await pg.query(
      `SELECT name, amount, ordered_on, _loaded_at FROM processed.orders WHERE id = 1`,
    );
    expect(rows[0]).toEqual({
      name: 'n,"1',
      amount: '1.25',
      ordered_on: '2025-01-02',
      _loaded_at: '2025-02-01 10:00:00.123456',
    });
  });

  it('reloads the table whole when a file is no longer listed (a replace batch)', async () => {
    const a = await parquet('processed/stores/part-a.parquet', 0, 50, v1);
    await loadLakeTable(pg, duck, store, manifest('stores', [a]));
    const b = await parquet('processed/stores/part-b.parquet', 1000, 7, v1);
    expect(await loadLakeTable(pg, duck, store, manifest('stores', [b], v1, 2))).toEqual({
      files: 1,
      rows: 7,
      deleted: 50,
      reloaded: true,
    });
    const { rows } = await pg.query(`SELECT min(id) AS lo, count(*) AS n FROM processed.stores`);
    expect(rows[0]).toEqual({ lo: '1000', n: '7' });
  });

  it('recreates the table when its columns change, older files reading NULL for new ones', async () => {
    const a = await parquet('processed/customers/part-a.parquet', 0, 4, v1);
    await loadLakeTable(pg, duck, store, manifest('customers', [a]));
    const b = await parquet('processed/customers/part-b.parquet', 4, 4, v2);
    const result = await loadLakeTable(pg, duck, store, manifest('customers', [a, b], v2, 2));
    expect(result).toEqual({ files: 2, rows: 8, deleted: 4, reloaded: true });
    const { rows } = await pg.query(
      `SELECT count(*) FILTER (WHERE vip IS NULL) AS old, count(*) FILTER (WHERE vip) AS vip FROM processed.customers`,
    );
    expect(rows[0]).toEqual({ old: '4', vip: '2' });
  });

  it('leaves the table and its record as they were when a load fails part-way', async () => {
    const a = await parquet('processed/payments/part-a.parquet', 0, 10, v1);
    await loadLakeTable(pg, duck, store, manifest('payments', [a]));
    const b = await parquet('processed/payments/part-b.parquet', 10, 10, v1);
    const missing: DataFile = { ...b, key: 'processed/payments/part-gone.parquet', batch: 'gone' };
    await expect(
      loadLakeTable(pg, duck, store, manifest('payments', [a, b, missing], v1, 2)),
    ).rejects.toThrow(/part-gone/);
    expect((await stats('payments'))!.n).toBe('10');
    // Once the manifest is right again, the next load brings exactly the missing file.
    expect(await loadLakeTable(pg, duck, store, manifest('payments', [a, b], v1, 3))).toEqual({
      files: 1,
      rows: 10,
      deleted: 0,
      reloaded: false,
    });
    const { rows } = await pg.query(
      `SELECT count(*) AS n FROM tributary.lake_files WHERE table_name = 'payments'`,
    );
    expect(rows[0]!.n).toBe('2');
    expect((await stats('payments'))!.ids).toBe('20');
  });

  /** A quarantine file as processing writes one: reasons, then each column's original text. */
  async function quarantined(
    key: string,
    first: number,
    n: number,
    extra = '',
  ): Promise<QuarantineFile> {
    mkdirSync(join(root, key, '..'), { recursive: true });
    await duck.exec(
      `COPY (SELECT 'landing/orders-' || i || '.csv' AS _source_file, i::BIGINT AS _record,
                    (i + 1)::BIGINT AS _line, 'amount' AS _column, 'type' AS _reason,
                    'x' || i AS _value, 'not a number' AS _message, CAST(i AS VARCHAR) AS id,
                    'x' || i AS amount${extra}
               FROM range(${first}, ${first + n}) t(i))
       TO '${store.readableLocation(key)}' (FORMAT parquet)`,
    );
    return {
      key,
      rows: n,
      bytes: 0,
      batch: key.split('/').pop()!,
      schema: '',
      reasons: { type: n },
    };
  }

  it('loads the quarantine beside the table, as DuckDB reads it', async () => {
    const a = await parquet('processed/returns/part-a.parquet', 0, 5, v1);
    const qa = await quarantined('quarantine/returns/qa.parquet', 0, 3);
    const withQuarantine = (files: DataFile[], quarantine: QuarantineFile[], version: number) => ({
      ...manifest('returns', files, v1, version),
      quarantine,
    });
    await loadLakeTable(pg, duck, store, withQuarantine([a], [qa], 1));
    const rowsSql = (from: string) =>
      `SELECT _source_file, _record, _line, _reason, _value, id, amount FROM ${from} ORDER BY _record`;
    const duckRows = async (files: DataFile[]) =>
      (
        await duck.query(
          rowsSql(
            `read_parquet([${files.map((f) => `'${store.readableLocation(f.key)}'`).join(', ')}], union_by_name = true)`,
          ),
        )
      ).rows.map((r) => ({ ...r, _record: String(r._record), _line: String(r._line) }));
    expect((await pg.query(rowsSql('quarantine.returns'))).rows).toEqual(await duckRows([qa]));
    // A later batch's rejects are added; one with a column more rebuilds the table with it.
    const qb = await quarantined('quarantine/returns/qb.parquet', 3, 2, `, 'late' AS note`);
    await loadLakeTable(pg, duck, store, withQuarantine([a], [qa, qb], 2));
    expect((await pg.query(rowsSql('quarantine.returns'))).rows).toEqual(await duckRows([qa, qb]));
    const notes = await pg.query(
      `SELECT count(note) AS notes, count(*) AS n FROM quarantine.returns`,
    );
    expect(notes.rows[0]).toEqual({ notes: '2', n: '5' });
    // A file that went away (its rows let in by a retry) leaves the quarantine with it.
    await loadLakeTable(pg, duck, store, withQuarantine([a], [qb], 3));
    expect((await pg.query(rowsSql('quarantine.returns'))).rows).toEqual(await duckRows([qb]));
    // Without quarantine files the table is there, empty, with the quarantine's columns.
    const b = await parquet('processed/clean/part-a.parquet', 0, 2, v1);
    await loadLakeTable(pg, duck, store, manifest('clean', [b]));
    const { rows, columns } = await pg.query(`SELECT * FROM quarantine.clean`);
    expect(rows).toEqual([]);
    expect(columns.map((c) => c.name)).toEqual([
      '_source_file',
      '_record',
      '_line',
      '_column',
      '_reason',
      '_value',
      '_message',
      'id',
      'name',
      'amount',
      'ordered_on',
    ]);
  });
});
