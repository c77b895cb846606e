/**
 * Lake tables loaded into a warehouse that cannot read files (PostgreSQL): each processed table
 * becomes a real table holding exactly the rows of the Parquet files its manifest lists, kept up
 * to date incrementally. An embedded DuckDB reads the files; the rows go in through the engine's
 * bulk load (COPY … FROM STDIN on PostgreSQL).
 *
 * Which files a table holds is recorded in the warehouse itself (`tributary.lake_files`), in the
 * same transaction as the rows they brought, so a crash at any point leaves the table and the
 * record agreeing: a file is loaded once, never twice, never half. A table whose files only grew
 * since the last load gets just the new files; one whose files were removed (a `replace` batch, a
 * `merge` batch rewriting older files, a foreign-key retry) or whose columns changed is reloaded
 * whole, still in one transaction, so readers see the old rows or the new, never a mix. The
 * table's quarantine (`quarantine.<table>`: rejected rows with their reasons) is loaded in the same
 * transaction, as DuckDB's view over the quarantine files shows it.
 */
import type { Engine, LogicalType } from '../engines/index.js';
import {
  parquetScan,
  schemaHash,
  type DataFile,
  type ObjectStore,
  type TableManifest,
} from '../lake/index.js';
import {
  PROCESSED_SCHEMA,
  QUARANTINE_SCHEMA,
  quarantineSelect,
  registerLakeViews,
} from './lake-views.js';

/** The schema of Tributary's own bookkeeping in a PostgreSQL warehouse (never granted to readers). */
export const LOADS_SCHEMA = 'tributary';
/** Rows read from a file and sent at once: bounds memory whatever the file's size. */
const CHUNK_ROWS = 50_000;

export interface LakeLoadResult {
  /** Files loaded by this call (0 when the table was up to date). */
  files: number;
  rows: number;
  /** The table was emptied and loaded whole (files removed, or its columns changed). */
  reloaded: boolean;
}

/**
 * Creates a table unless it exists. Two sessions creating it at once (steps loading different
 * tables side by side) is fine: the loser's error is ignored once the winner's table is there.
 */
async function createIfMissing(
  warehouse: Engine,
  schema: string,
  name: string,
  columns: string,
): Promise<void> {
  if (await warehouse.describe(schema, name)) return;
  const q = warehouse.dialect.quoteIdentifier;
  try {
    await warehouse.exec(`CREATE TABLE IF NOT EXISTS ${q(schema)}.${q(name)} (${columns})`);
  } catch (err) {
    if (!(await warehouse.describe(schema, name))) throw err;
  }
}

/** Creates the bookkeeping tables once per warehouse (idempotent, safe side by side). */
async function ensureLoadTables(warehouse: Engine): Promise<void> {
  await warehouse.ensureSchema(LOADS_SCHEMA);
  await warehouse.ensureSchema(PROCESSED_SCHEMA);
  await warehouse.ensureSchema(QUARANTINE_SCHEMA);
  await createIfMissing(
    warehouse,
    LOADS_SCHEMA,
    'lake_tables',
    `table_name VARCHAR(255) PRIMARY KEY,
     schema_hash VARCHAR(64) NOT NULL,
     manifest_version BIGINT NOT NULL`,
  );
  await createIfMissing(
    warehouse,
    LOADS_SCHEMA,
    'lake_files',
    `table_name VARCHAR(255) NOT NULL,
     file_key VARCHAR(1024) NOT NULL,
     batch VARCHAR(128) NOT NULL,
     row_count BIGINT NOT NULL,
     loaded_at TIMESTAMP NOT NULL,
     PRIMARY KEY (table_name, file_key)`,
  );
}

/**
 * Brings `processed.<table>` in the warehouse up to the committed manifest: new files are
 * copied in, and the table is reloaded whole when files went away or its columns changed.
 * `reader` is an engine that reads Parquet (DuckDB). Safe to call again at any time.
 */
export async function loadLakeTable(
  warehouse: Engine,
  reader: Engine,
  store: ObjectStore,
  manifest: TableManifest,
): Promise<LakeLoadResult> {
  await ensureLoadTables(warehouse);
  const q = warehouse.dialect.quoteIdentifier;
  const loads = `${q(LOADS_SCHEMA)}.lake_tables`;
  const files = `${q(LOADS_SCHEMA)}.lake_files`;
  const target = `${q(PROCESSED_SCHEMA)}.${q(manifest.table)}`;
  const hash = schemaHash(manifest.columns);
  return warehouse.transaction(async (tx) => {
    // The table's bookkeeping row, locked: two loaders of one table take turns.
    await tx.query(
      `INSERT INTO ${loads} (table_name, schema_hash, manifest_version) VALUES ($1, '', 0)
       ON CONFLICT (table_name) DO NOTHING`,
      [manifest.table],
    );
    const { rows } = await tx.query(
      `SELECT schema_hash FROM ${loads} WHERE table_name = $1 FOR UPDATE`,
      [manifest.table],
    );
    const exists = (await tx.describe(PROCESSED_SCHEMA, manifest.table)) !== undefined;
    let toLoad: DataFile[];
    let reloaded = false;
    if (!exists || rows[0]!.schema_hash !== hash) {
      // New, or its columns changed: created afresh with the manifest's columns. Views built on
      // it go with it (CASCADE); the models reading it are rebuilt, as their input changed.
      await tx.dropRelation(PROCESSED_SCHEMA, manifest.table);
      const columns = manifest.columns.map(
        (c) => `${q(c.name)} ${warehouse.dialect.typeName(c.type as LogicalType)}`,
      );
      await tx.exec(`CREATE TABLE ${target} (${columns.join(', ')})`);
      await tx.query(`DELETE FROM ${files} WHERE table_name = $1`, [manifest.table]);
      toLoad = manifest.files;
      reloaded = exists;
    } else {
      const loaded = new Set(
        (
          await tx.query(`SELECT file_key FROM ${files} WHERE table_name = $1`, [manifest.table])
        ).rows.map((r) => String(r.file_key)),
      );
      const live = new Set(manifest.files.map((f) => f.key));
      if ([...loaded].some((k) => !live.has(k))) {
        await tx.exec(`DELETE FROM ${target}`);
        await tx.query(`DELETE FROM ${files} WHERE table_name = $1`, [manifest.table]);
        toLoad = manifest.files;
        reloaded = true;
      } else {
        toLoad = manifest.files.filter((f) => !loaded.has(f.key));
      }
    }
    let total = 0;
    for (const file of toLoad) {
      const n = await copyFile(tx, reader, store, manifest, file);
      await tx.query(
        `INSERT INTO ${files} (table_name, file_key, batch, row_count, loaded_at)
         VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)`,
        [manifest.table, file.key, file.batch, n],
      );
      total += n;
    }
    await loadQuarantine(tx, reader, store, manifest);
    await tx.query(
      `UPDATE ${loads} SET schema_hash = $2, manifest_version = $3 WHERE table_name = $1`,
      [manifest.table, hash, manifest.version],
    );
    return { files: toLoad.length, rows: total, reloaded };
  });
}

/**
 * Copies one Parquet file's rows into the table, read by `reader` as text in the table's current
 * column order (a file written before a column was added reads NULL for it), chunk by chunk.
 */
async function copyFile(
  tx: Engine,
  reader: Engine,
  store: ObjectStore,
  manifest: TableManifest,
  file: DataFile,
): Promise<number> {
  const { quoteIdentifier: q, quoteString: s } = reader.dialect;
  const scan = parquetScan(store, [file], manifest.columns, s);
  // A file written before a column was added lacks it: it reads NULL there.
  const has =
    file.schema === schemaHash(manifest.columns)
      ? undefined
      : new Set((await reader.query(`SELECT * FROM ${scan} LIMIT 0`)).columns.map((c) => c.name));
  // Text as DuckDB prints it (ISO dates and timestamps, plain decimals) is what PostgreSQL's COPY
  // parses into the column types; a file of an older schema is cast to the current types first.
  const columns = manifest.columns.map((c) =>
    has && !has.has(c.name)
      ? `CAST(NULL AS VARCHAR) AS ${q(c.name)}`
      : `CAST(CAST(${q(c.name)} AS ${reader.dialect.typeName(c.type as LogicalType)}) AS VARCHAR) AS ${q(c.name)}`,
  );
  const names = manifest.columns.map((c) => c.name);
  return copyChunks(tx, reader, `SELECT ${columns.join(', ')} FROM ${scan}`, [
    PROCESSED_SCHEMA,
    manifest.table,
    names,
  ]);
}

/**
 * Sends the rows `select` gives (every column text, named as `into`'s columns) from `reader` to
 * the table `into`, CHUNK_ROWS at a time; returns how many.
 */
async function copyChunks(
  tx: Engine,
  reader: Engine,
  select: string,
  [schema, table, names]: [string, string, string[]],
): Promise<number> {
  let copied = 0;
  for (let offset = 0; ; offset += CHUNK_ROWS) {
    const { rows } = await reader.query(`${select} LIMIT ${CHUNK_ROWS} OFFSET ${offset}`);
    if (rows.length === 0) break;
    copied += await tx.insertRows(
      schema,
      table,
      names,
      rows.map((r) => names.map((n) => (r[n] === null ? null : String(r[n])))),
    );
    if (rows.length < CHUNK_ROWS) break;
  }
  return copied;
}

/** Quarantine columns that are numbers (the record and line a rejected row came from). */
const QUARANTINE_NUMBERS = new Set(['_record', '_line']);

/**
 * Brings `quarantine.<table>` up to the manifest's quarantine files, as DuckDB's view over them
 * reads them (every file's columns by name: the reason, message and each column's original
 * text). New files are appended; when a file went away (a foreign-key retry let its rows in, a
 * `replace` batch) or a new file brings columns the table lacks, the table is rebuilt from the
 * live files. Runs in the transaction of the processed table's load, recorded in the same
 * `lake_files` under `quarantine.<table>`, so both zones move together.
 */
async function loadQuarantine(
  tx: Engine,
  reader: Engine,
  store: ObjectStore,
  manifest: TableManifest,
): Promise<void> {
  const q = tx.dialect.quoteIdentifier;
  const files = `${q(LOADS_SCHEMA)}.lake_files`;
  const recordName = `${QUARANTINE_SCHEMA}.${manifest.table}`;
  const target = `${q(QUARANTINE_SCHEMA)}.${q(manifest.table)}`;
  const columnsOf = async (select: string) =>
    (await reader.query(`SELECT * FROM (${select}) AS quarantined LIMIT 0`)).columns.map(
      (c) => c.name,
    );
  const columns = await columnsOf(quarantineSelect(reader, store, manifest));
  const existing = (await tx.describe(QUARANTINE_SCHEMA, manifest.table))?.map((c) => c.name);
  const loaded = new Set(
    (await tx.query(`SELECT file_key FROM ${files} WHERE table_name = $1`, [recordName])).rows.map(
      (r) => String(r.file_key),
    ),
  );
  const live = new Set(manifest.quarantine.map((f) => f.key));
  let toLoad = manifest.quarantine.filter((f) => !loaded.has(f.key));
  const rebuild =
    !existing ||
    columns.some((c) => !existing.includes(c)) ||
    [...loaded].some((k) => !live.has(k));
  if (rebuild) {
    await tx.dropRelation(QUARANTINE_SCHEMA, manifest.table);
    const typed = columns.map((c) => `${q(c)} ${QUARANTINE_NUMBERS.has(c) ? 'bigint' : 'text'}`);
    await tx.exec(`CREATE TABLE ${target} (${typed.join(', ')})`);
    await tx.query(`DELETE FROM ${files} WHERE table_name = $1`, [recordName]);
    toLoad = manifest.quarantine;
  }
  const tableColumns = rebuild ? columns : existing!;
  const { quoteIdentifier: rq, quoteString: s } = reader.dialect;
  for (const file of toLoad) {
    const scan = `read_parquet([${s(store.readableLocation(file.key))}])`;
    const has = new Set(await columnsOf(`SELECT * FROM ${scan}`));
    const select = tableColumns.map((c) =>
      has.has(c) ? `CAST(${rq(c)} AS VARCHAR) AS ${rq(c)}` : `CAST(NULL AS VARCHAR) AS ${rq(c)}`,
    );
    const n = await copyChunks(tx, reader, `SELECT ${select.join(', ')} FROM ${scan}`, [
      QUARANTINE_SCHEMA,
      manifest.table,
      tableColumns,
    ]);
    await tx.query(
      `INSERT INTO ${files} (table_name, file_key, batch, row_count, loaded_at)
       VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)`,
      [recordName, file.key, file.batch, n],
    );
  }
}

/**
 * Makes a processed table readable in the warehouse: views over its files when the warehouse
 * reads files (DuckDB), a loaded table otherwise (PostgreSQL, through `reader`).
 */
export async function exposeLakeTable(
  warehouse: Engine,
  reader: Engine,
  store: ObjectStore,
  manifest: TableManifest,
): Promise<void> {
  if (warehouse.capabilities.readsFiles) await registerLakeViews(warehouse, store, manifest);
  else await loadLakeTable(warehouse, reader, store, manifest);
}
