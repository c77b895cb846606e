/**
 * `npm run bench:lake-load`: loading a merge table's batches into a PostgreSQL warehouse
 * (src/catalog/lake-load.ts), incrementally against reloading the table whole, in the same run.
 *
 * The table starts as --files append batches of --rows rows (one Parquet file each, as
 * ingestion writes them), loaded once. Then --batches merge batches follow, each made as
 * ingestion makes one (quality/batch-io's `rewriteWithoutKeys`: every file holding a key the
 * batch brings is rewritten without those rows, then the batch's own file is added): --updates
 * keys updated and --new new keys per batch. Which keys are updated (--spread): `recent` picks
 * them among the newest --rows keys (orders updated shortly after they were placed: the newest
 * file or two get rewritten), `uniform` among all keys (every file rewritten: the worst case,
 * where incremental loading copies nearly everything too).
 *
 * Each batch is loaded twice, into two tables of one database of the bench's own: `incremental`
 * as Tributary loads it now (the removed files' rows deleted, the new files copied), and `whole`
 * reloaded whole in one transaction as the code before file ids did for a merge batch (the table
 * recreated empty and every file copied: a little cheaper than the old DELETE of every row).
 * Prints the seconds of each per batch, the rows copied, and the ratio of the totals.
 *   npm run bench:lake-load -- [--files 10] [--rows 50000] [--batches 5] [--updates 2000]
 *                              [--new 5000] [--spread recent|uniform] [--url postgres://…]
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './args.js';
import pg from 'pg';
import { loadLakeTable, LOADS_SCHEMA } from '../src/catalog/index.js';
import { openDuckDB, openPostgres, type Engine } from '../src/engines/index.js';
import {
  LocalObjectStore,
  schemaHash,
  type ColumnSchema,
  type DataFile,
  type TableManifest,
} from '../src/lake/index.js';
import type { SourceTable } from '../src/project/index.js';
import { rewriteWithoutKeys } from '../src/quality/batch-io.js';

const { values } = benchArgs(
  {
    options: {
      files: { type: 'string', default: '10' },
      rows: { type: 'string', default: '50000' },
      batches: { type: 'string', default: '5' },
      updates: { type: 'string', default: '2000' },
      new: { type: 'string', default: '5000' },
      spread: { type: 'string', default: 'recent' },
      url: {
        type: 'string',
        default:
          process.env.TRIBUTARY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      },
    },
  },
  import.meta.url,
);
const FILES = Number(values.files);
const ROWS = Number(values.rows);
const BATCHES = Number(values.batches);
const UPDATES = Number(values.updates);
const NEW = Number(values.new);
const SPREAD = values.spread === 'uniform' ? 'uniform' : 'recent';

const COLUMNS: ColumnSchema[] = [
  { name: 'id', type: 'bigint' },
  { name: 'customer', type: 'string' },
  { name: 'amount', type: 'decimal(12,2)' },
  { name: 'ordered_on', type: 'date' },
  { name: '_loaded_at', type: 'timestamp' },
];

/** A database of the bench's own (dropped after). */
async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `lakeload_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: values.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(values.url!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: values.url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Writes batch `n`'s file: the rows of the keys in `keysSql` (a DuckDB relation of `i`). */
async function batchFile(
  duck: Engine,
  store: LocalObjectStore,
  n: number,
  keysSql: string,
): Promise<DataFile> {
  const key = `processed/orders/b${n}.parquet`;
  mkdirSync(join(store.readableLocation(key), '..'), { recursive: true });
  await duck.exec(
    `COPY (SELECT i::BIGINT AS id, 'customer ' || (i % 9973) || ' v${n}' AS customer,
                  (i % 1000 * 1.25 + ${n})::DECIMAL(12,2) AS amount,
                  DATE '2025-01-01' + (i % 365)::INT AS ordered_on,
                  TIMESTAMP '2025-02-01 10:00:00' + INTERVAL ${n} MINUTE AS _loaded_at
             FROM (${keysSql}) AS keys(i))
     TO '${store.readableLocation(key)}' (FORMAT parquet, COMPRESSION zstd)`,
  );
  const rows = Number(
    (await duck.query(`SELECT count(*) AS n FROM '${store.readableLocation(key)}'`)).rows[0]!.n,
  );
  return { key, rows, bytes: 0, batch: `b${n}`, schema: schemaHash(COLUMNS) };
}

/** Merge batch `n` as ingestion makes it: the files after it. `top` is the next new key. */
async function mergeBatch(
  duck: Engine,
  store: LocalObjectStore,
  files: DataFile[],
  n: number,
  top: number,
): Promise<DataFile[]> {
  const from = SPREAD === 'recent' ? Math.max(0, top - ROWS) : 0;
  // Distinct keys spread over [from, top): the updated rows; then NEW keys above.
  const step = Math.max(1, Math.floor((top - from) / UPDATES));
  const keys = `(SELECT i FROM range(${from}, ${top}, ${step}) t(i) LIMIT ${UPDATES})
                UNION ALL (SELECT i FROM range(${top}, ${top + NEW}) t(i))`;
  await duck.exec(
    `CREATE OR REPLACE TABLE _tb_checked AS SELECT i::BIGINT AS id, CAST(NULL AS VARCHAR) AS _fail FROM (${keys}) AS k(i)`,
  );
  const table = { contract: { primary_key: ['id'] } } as unknown as SourceTable;
  const staging = await mkdtemp(join(tmpdir(), 'trib-bench-lakeload-'));
  try {
    const kept = await rewriteWithoutKeys({ engine: duck, store }, table, files, `m${n}`, staging);
    return [...kept, await batchFile(duck, store, n, keys)];
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

const manifestOf = (table: string, files: DataFile[], version: number): TableManifest => ({
  format: 1,
  table,
  version,
  updatedAt: '',
  columns: COLUMNS,
  files,
  quarantine: [],
  batches: {},
  rejected: {},
});

/** The old whole reload: the table recreated (its recorded columns forgotten) and every file copied. */
async function reloadWhole(
  warehouse: Engine,
  duck: Engine,
  store: LocalObjectStore,
  manifest: TableManifest,
) {
  await warehouse.query(
    `UPDATE ${LOADS_SCHEMA}.lake_tables SET schema_hash = '' WHERE table_name = $1`,
    [manifest.table],
  );
  return loadLakeTable(warehouse, duck, store, manifest);
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await f();
  return [result, (performance.now() - start) / 1000];
}

async function main(): Promise<void> {
  const db = await freshDatabase();
  const root = await mkdtemp(join(tmpdir(), 'trib-bench-lake-'));
  const store = new LocalObjectStore(root);
  const duck = await openDuckDB({ path: ':memory:' });
  const warehouse = await openPostgres({ url: db.url, poolSize: 2 });
  try {
    let files: DataFile[] = [];
    for (let n = 0; n < FILES; n++)
      files.push(
        await batchFile(duck, store, n, `SELECT i FROM range(${n * ROWS}, ${(n + 1) * ROWS}) t(i)`),
      );
    let top = FILES * ROWS;
    await loadLakeTable(warehouse, duck, store, manifestOf('incremental', files, 1));
    await loadLakeTable(warehouse, duck, store, manifestOf('whole', files, 1));
    console.log(
      `lake-load: ${FILES} files × ${ROWS} rows, then ${BATCHES} merge batches of ${UPDATES} updated (${SPREAD}) + ${NEW} new keys; load ${loadavg()[0]!.toFixed(1)}`,
    );
    let [incrementalS, wholeS] = [0, 0];
    for (let b = 1; b <= BATCHES; b++) {
      const before = new Set(files.map((f) => f.key));
      files = await mergeBatch(duck, store, files, FILES + b, top);
      top += NEW;
      const rewritten = files.filter((f) => !before.has(f.key)).length - 1;
      // Alternating which goes first, so neither always finds the caches warmer.
      const runs = [
        () =>
          timed(() =>
            loadLakeTable(warehouse, duck, store, manifestOf('incremental', files, b + 1)),
          ),
        () => timed(() => reloadWhole(warehouse, duck, store, manifestOf('whole', files, b + 1))),
      ] as const;
      const [[inc, incS], [whole, wS]] =
        b % 2
          ? [await runs[0](), await runs[1]()]
          : await (async () => {
              const w = await runs[1]();
              return [await runs[0](), w] as const;
            })();
      incrementalS += incS;
      wholeS += wS;
      console.log(
        `  batch ${b}: ${rewritten} file(s) rewritten; incremental ${incS.toFixed(2)} s (${inc.rows} rows copied, ${inc.deleted} deleted), whole ${wS.toFixed(2)} s (${whole.rows} rows copied)`,
      );
    }
    const same = await warehouse.query(
      `SELECT (SELECT count(*) FROM (TABLE processed.incremental EXCEPT ALL TABLE processed.whole) a) +
              (SELECT count(*) FROM (TABLE processed.whole EXCEPT ALL TABLE processed.incremental) b) AS n`,
    );
    if (same.rows[0]!.n !== '0') throw new Error('the two tables differ: the bench is wrong');
    console.log(
      `  total: incremental ${incrementalS.toFixed(2)} s, whole ${wholeS.toFixed(2)} s: incremental takes ${(incrementalS / wholeS).toFixed(3)}× the time (${(wholeS / incrementalS).toFixed(1)}× faster); both tables equal`,
    );
  } finally {
    await warehouse.close();
    await duck.close();
    await db.drop();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
