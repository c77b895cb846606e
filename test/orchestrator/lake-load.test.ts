/**
 * Processed lake tables loaded into a PostgreSQL warehouse (catalog/lake-load.ts): exactly the
 * rows of the files the manifest lists, new files only on the next load, the rows of removed
 * files only deleted (merge batches), a whole reload when every file went away or the columns
 * changed, a table of the older whole-table form migrated, and a failed load that leaves nothing
 * behind; the table's
 * quarantine loaded beside it as DuckDB's view reads it. Real Parquet
 * files written by DuckDB, a real PostgreSQL database of the test's own.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLakeTable, registerLakeViews } from '../../src/catalog/index.js';
import { openDuckDB, openPostgres, type Engine } from '../../src/engines/index.js';
import {
  LocalObjectStore,
  schemaHash,
  type ColumnSchema,
  type DataFile,
  type QuarantineFile,
  type TableManifest,
} from '../../src/lake/index.js';
import type { SourceTable } from '../../src/project/index.js';
import { rewriteWithoutKeys } from '../../src/quality/batch-io.js';
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

  /**
   * A batch file of a merge table: the rows of `ids` as batch `n` writes them (its own names,
   * amounts and load time, so an updated key reads differently from its older version).
   */
  async function batchFile(key: string, ids: number[], n: number): Promise<DataFile> {
    mkdirSync(join(root, key, '..'), { recursive: true });
    await duck.exec(
      `COPY (SELECT i::BIGINT AS id, CASE WHEN i % 9 = 0 THEN NULL ELSE 'b${n}-' || i END AS name,
                    (i * 1.25 + ${n * 1000})::DECIMAL(12,2) AS amount,
                    DATE '2025-01-01' + ((i + ${n}) % 30)::INT AS ordered_on,
                    TIMESTAMP '2025-02-01 10:00:00' + INTERVAL ${n} HOUR AS _loaded_at
               FROM unnest([${ids.join(', ')}]::BIGINT[]) t(i))
       TO '${store.readableLocation(key)}' (FORMAT parquet)`,
    );
    return { key, rows: ids.length, bytes: 0, batch: `b${n}`, schema: schemaHash(v1) };
  }

  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

  /**
   * The files after a merge batch, as ingestion makes them (quality/batch-io's rewrite): every
   * loaded file holding a key the batch updates or deletes is rewritten without those rows (or
   * dropped when none is left), then the batch's own file (the updated and new keys) is added.
   */
  async function mergeBatch(
    before: DataFile[],
    n: number,
    upserted: number[],
    deleted: number[],
  ): Promise<DataFile[]> {
    const touched = [...upserted, ...deleted];
    await duck.exec(
      `CREATE OR REPLACE TABLE _tb_checked AS
         SELECT i::BIGINT AS id, CAST(NULL AS VARCHAR) AS _fail FROM unnest([${touched.join(', ')}]::BIGINT[]) t(i)`,
    );
    const table = { contract: { primary_key: ['id'] } } as unknown as SourceTable;
    const staging = tempDir('trib-lakeload-merge-');
    // As ingestion does: nothing to rewrite before the first file.
    const kept = before.length
      ? await rewriteWithoutKeys({ engine: duck, store }, table, before, `m${n}`, staging)
      : [];
    if (upserted.length === 0) return kept;
    return [...kept, await batchFile(`processed/accounts/b${n}.parquet`, upserted, n)];
  }

  /**
   * Row for row, `processed.<table>` in PostgreSQL against DuckDB's view over the same manifest's
   * files (its rows copied into a scratch table of PostgreSQL): EXCEPT ALL both ways, both empty.
   */
  async function expectSameAsDuckDB(m: TableManifest): Promise<void> {
    await registerLakeViews(duck, store, m);
    const names = m.columns.map((c) => c.name);
    const { rows } = await duck.query(
      `SELECT ${names.map((n) => `CAST(${n} AS VARCHAR) AS ${n}`).join(', ')} FROM processed.${m.table}`,
    );
    await pg.exec(`DROP TABLE IF EXISTS public.duck_rows`);
    await pg.exec(
      `CREATE TABLE public.duck_rows AS SELECT * FROM processed.${m.table} WHERE false`,
    );
    await pg.insertRows(
      'public',
      'duck_rows',
      names,
      rows.map((r) => names.map((n) => (r[n] === null ? null : String(r[n])))),
    );
    const differences = async (a: string, b: string) =>
      (await pg.query(`SELECT count(*) AS n FROM (TABLE ${a} EXCEPT ALL TABLE ${b}) AS d`)).rows[0]!
        .n;
    const pgRows = await pg.query(`SELECT * FROM processed.${m.table}`);
    // The bookkeeping column is nowhere a reader looks: `select *` gives the manifest's columns.
    expect(pgRows.columns.map((c) => c.name)).toEqual(names);
    expect(pgRows.rows.length).toBe(rows.length);
    expect(await differences(`processed.${m.table}`, 'public.duck_rows')).toBe('0');
    expect(await differences('public.duck_rows', `processed.${m.table}`)).toBe('0');
  }

  it('deletes only the rows of files a merge batch rewrote, and copies only the new files', async () => {
    // Three batches of new keys (three files, none rewritten), then merges of updates and deletes.
    const batches: [number[], number[]][] = [
      [range(0, 1000), []],
      [range(1000, 2000), []],
      [range(2000, 3000), []],
      [[...range(10, 20), ...range(2500, 2520)], range(100, 105)], // updates and deletes
      [
        [...range(15, 25), ...range(3000, 3100)],
        [2510, 7],
      ], // updated keys again, new keys
      [[], range(2990, 3010)], // deletes only: rows leave two files, no file comes
      [[1500], [1501]], // one key in, one out: a file rewritten, a one-row file added
    ];
    let files: DataFile[] = [];
    let copied = 0;
    let reloadWhole = 0;
    for (const [i, [upserted, deleted]] of batches.entries()) {
      const before = files;
      files = await mergeBatch(before, i, upserted, deleted);
      const m = manifest('accounts', files, v1, i + 1);
      const added = files.filter((f) => !before.some((b) => b.key === f.key));
      const removed = before.filter((b) => !files.some((f) => f.key === b.key));
      const result = await loadLakeTable(pg, duck, store, m);
      // Only the new files' rows are copied; only the removed files' rows are deleted.
      expect(result).toEqual({
        files: added.length,
        rows: added.reduce((n, f) => n + f.rows, 0),
        deleted: removed.reduce((n, f) => n + f.rows, 0),
        reloaded: false,
      });
      if (i >= 3) expect(removed.length).toBeGreaterThan(0); // every merge rewrote some file
      copied += result.rows;
      reloadWhole += files.reduce((n, f) => n + f.rows, 0);
      await expectSameAsDuckDB(m);
      const ids = await pg.query(
        `SELECT count(*) AS n, count(DISTINCT id) AS ids FROM processed.accounts`,
      );
      expect(ids.rows[0]!.n).toBe(ids.rows[0]!.ids); // one row per key, as a merge table has
    }
    // Over the batches, far fewer rows were copied than reloading whole each time would have.
    expect(copied).toBeLessThan(reloadWhole / 2);
    const { rows } = await pg.query(
      `SELECT count(*) AS n, count(DISTINCT file_id) AS ids FROM tributary.lake_files WHERE table_name = 'accounts'`,
    );
    expect(rows[0]).toEqual({ n: String(files.length), ids: String(files.length) });
    // A replace batch (every file gone) empties the table and loads the new files.
    const only = await batchFile('processed/accounts/replace.parquet', range(0, 5), 9);
    const live = (await stats('accounts'))!.n;
    expect(await loadLakeTable(pg, duck, store, manifest('accounts', [only], v1, 9))).toEqual({
      files: 1,
      rows: 5,
      deleted: Number(live),
      reloaded: true,
    });
    await expectSameAsDuckDB(manifest('accounts', [only], v1, 9));
  });

  it('migrates a table loaded whole by an older Tributary, once, keeping the views built on it', async () => {
    // A warehouse as the code before file ids left it: its own database, the old bookkeeping.
    const old = await freshPostgresDatabase('lakeloadold');
    const warehouse = await openPostgres({ url: old.url, poolSize: 2 });
    try {
      const a = await parquet('processed/legacy/part-a.parquet', 0, 40, v1);
      const b = await parquet('processed/legacy/part-b.parquet', 40, 20, v1);
      await warehouse.exec(`CREATE SCHEMA tributary; CREATE SCHEMA processed; CREATE SCHEMA marts;
        CREATE TABLE tributary.lake_tables (table_name VARCHAR(255) PRIMARY KEY,
          schema_hash VARCHAR(64) NOT NULL, manifest_version BIGINT NOT NULL);
        CREATE TABLE tributary.lake_files (table_name VARCHAR(255) NOT NULL,
          file_key VARCHAR(1024) NOT NULL, batch VARCHAR(128) NOT NULL, row_count BIGINT NOT NULL,
          loaded_at TIMESTAMP NOT NULL, PRIMARY KEY (table_name, file_key));
        CREATE TABLE processed.legacy (id BIGINT, name TEXT, amount NUMERIC(12,2), ordered_on DATE,
          _loaded_at TIMESTAMP);
        INSERT INTO tributary.lake_tables VALUES ('legacy', '${schemaHash(v1)}', 1);
        INSERT INTO tributary.lake_files VALUES
          ('legacy', '${a.key}', '${a.batch}', 40, now()), ('legacy', '${b.key}', '${b.batch}', 20, now());
        CREATE VIEW marts.legacy_totals AS SELECT count(*) AS n, sum(amount) AS amount FROM processed.legacy`);
      const names = v1.map((c) => c.name);
      const { rows } = await duck.query(
        `SELECT ${names.map((n) => `CAST(${n} AS VARCHAR) AS ${n}`).join(', ')}
           FROM read_parquet(['${store.readableLocation(a.key)}', '${store.readableLocation(b.key)}'])`,
      );
      await warehouse.insertRows(
        'processed',
        'legacy',
        names,
        rows.map((r) => names.map((n) => (r[n] === null ? null : String(r[n])))),
      );
      const totals = async () =>
        (await warehouse.query(`SELECT n, amount FROM marts.legacy_totals`)).rows[0];
      const before = await totals();
      // The first load moves it under the view and reloads it whole, once.
      expect(await loadLakeTable(warehouse, duck, store, manifest('legacy', [a, b]))).toEqual({
        files: 2,
        rows: 60,
        deleted: 60,
        reloaded: true,
      });
      const kinds = await warehouse.query(
        `SELECT table_schema || '.' || table_name AS name, table_type AS type
           FROM information_schema.tables WHERE table_name = 'legacy' AND table_schema <> 'quarantine' ORDER BY 1`,
      );
      expect(kinds.rows).toEqual([
        { name: 'processed.legacy', type: 'VIEW' },
        { name: 'tributary_lake.legacy', type: 'BASE TABLE' },
      ]);
      expect(await totals()).toEqual(before); // the model's view still reads the same rows
      expect(
        (await warehouse.query(`SELECT * FROM processed.legacy LIMIT 1`)).columns.map(
          (c) => c.name,
        ),
      ).toEqual(names);
      // From then on, loads are incremental: a file gone costs only its rows.
      expect(await loadLakeTable(warehouse, duck, store, manifest('legacy', [a], v1, 2))).toEqual({
        files: 0,
        rows: 0,
        deleted: 20,
        reloaded: false,
      });
      expect(await totals()).toEqual(
        (
          await duck.query(
            `SELECT count(*) AS n, CAST(sum(amount) AS VARCHAR) AS amount FROM read_parquet('${store.readableLocation(a.key)}')`,
          )
        ).rows.map((r) => ({ n: String(r.n), amount: r.amount }))[0],
      );
    } finally {
      await warehouse.close();
      await old.drop();
    }
  });

  it('refuses a table with a column of the bookkeeping name, saying what to rename', async () => {
    const columns = [...v1, { name: '_tributary_file', type: 'bigint' }];
    await expect(loadLakeTable(pg, duck, store, manifest('clash', [], columns))).rejects.toThrow(
      /clash has a column named _tributary_file/,
    );
  });
});
