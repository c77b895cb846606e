/**
 * Lake tables loaded into a warehouse that cannot read files (PostgreSQL): each processed table
 * becomes a relation holding exactly the rows of the Parquet files its manifest lists, kept up to
 * date incrementally. An embedded DuckDB reads the files; the rows go in through the engine's bulk
 * load (COPY … FROM STDIN on PostgreSQL).
 *
 * The rows live in `tributary_lake.<table>`, each tagged with the file it came from (a hidden
 * `_tributary_file` column: the file's id in `tributary.lake_files`); `processed.<table>` is a
 * view over it with exactly the manifest's columns, so models (`select *` too), dashboards and
 * the read-only role see what DuckDB's view over the files shows, and nothing of the bookkeeping.
 * A load brings the table to the manifest in one transaction: the rows of files no longer listed
 * are deleted (a `merge` batch rewriting older files, a foreign-key retry), new files are copied
 * in, and `lake_files` records both, so a crash at any point leaves the rows and the record
 * agreeing: a file is loaded once, never twice, never half, and readers see the old rows or the
 * new, never a mix. A `replace` batch (every file gone) empties the table and loads it whole;
 * so does a change of columns (the table is recreated). The table's quarantine
 * (`quarantine.<table>`: rejected rows with their reasons) is loaded in the same transaction, as
 * DuckDB's view over the quarantine files shows it.
 */
import { TributaryError } from '../core/index.js';
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
/** Where the loaded rows of processed tables live, with their file ids (never granted to readers). */
export const LAKE_ROWS_SCHEMA = 'tributary_lake';
/** The hidden column of a loaded row: the id (`lake_files.file_id`) of the file it came from. */
export const FILE_COLUMN = '_tributary_file';
/** Rows read from a file and sent at once: bounds memory whatever the file's size. */
const CHUNK_ROWS = 50_000;

export interface LakeLoadResult {
  /** Files loaded by this call (0 when the table was up to date). */
  files: number;
  /** Rows copied in by this call. */
  rows: number;
  /** Rows deleted by this call: those of files no longer listed (all of them when reloaded). */
  deleted: number;
  /**
   * The table was emptied and loaded whole: every file it held was replaced (a `replace` batch),
   * its columns changed, or it was still in the form of an older Tributary (migrated once).
   */
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
  await warehouse.ensureSchema(LAKE_ROWS_SCHEMA);
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
     file_id INTEGER,
     PRIMARY KEY (table_name, file_key)`,
  );
  // Warehouses loaded before rows were tagged with their file lack the id (NULL in their rows:
  // such a table is migrated, reloaded whole, on its next load). Altered only when missing: the
  // ALTER's lock would otherwise make every load wait for every other.
  const hasId = async () =>
    (await warehouse.describe(LOADS_SCHEMA, 'lake_files'))!.some((c) => c.name === 'file_id');
  if (await hasId()) return;
  try {
    await warehouse.exec(
      `ALTER TABLE ${warehouse.dialect.quoteIdentifier(LOADS_SCHEMA)}.lake_files ADD COLUMN IF NOT EXISTS file_id INTEGER`,
    );
  } catch (err) {
    if (!(await hasId())) throw err;
  }
}

/** What `prepareTable` found: rows to keep (`ready`), or an empty table to load whole. */
type Prepared = 'ready' | 'created' | 'recreated' | 'migrated';

/**
 * Makes `tributary_lake.<table>` (the manifest's columns and the file id, indexed) and the view
 * `processed.<table>` over it exist, in the transaction `tx`; returns what it found and how many
 * rows it emptied out. A table whose columns changed is recreated (views built on it go with it,
 * CASCADE: the models reading it are rebuilt, as their input changed). A table of an older
 * Tributary (`processed.<table>` a plain table of the rows, without file ids) is moved in under
 * the view and emptied: views built on it keep working (they bind to the table, not its name)
 * and read the same rows once it is reloaded.
 */
async function prepareTable(
  tx: Engine,
  manifest: TableManifest,
  sameColumns: boolean,
): Promise<{ prepared: Prepared; deleted: number }> {
  const q = tx.dialect.quoteIdentifier;
  const table = manifest.table;
  const rows = `${q(LAKE_ROWS_SCHEMA)}.${q(table)}`;
  const names = manifest.columns.map((c) => q(c.name)).join(', ');
  const createView = () =>
    tx.exec(`CREATE VIEW ${q(PROCESSED_SCHEMA)}.${q(table)} AS SELECT ${names} FROM ${rows}`);
  const exposed = (await tx.listTables(PROCESSED_SCHEMA)).find((t) => t.name === table)?.type;
  const tagged = (await tx.describe(LAKE_ROWS_SCHEMA, table))?.some((c) => c.name === FILE_COLUMN);
  if (sameColumns && tagged) {
    if (exposed === 'view') return { prepared: 'ready', deleted: 0 };
    await tx.dropRelation(PROCESSED_SCHEMA, table); // someone's own relation in its place
    await createView();
    return { prepared: 'ready', deleted: 0 };
  }
  if (sameColumns && !tagged && exposed === 'table') {
    await tx.dropRelation(LAKE_ROWS_SCHEMA, table);
    await tx.exec(
      `ALTER TABLE ${q(PROCESSED_SCHEMA)}.${q(table)} SET SCHEMA ${q(LAKE_ROWS_SCHEMA)}`,
    );
    const deleted = await deleteCounted(tx, rows);
    await tx.exec(`ALTER TABLE ${rows} ADD COLUMN ${q(FILE_COLUMN)} INTEGER NOT NULL`);
    await tx.exec(`CREATE INDEX ON ${rows} (${q(FILE_COLUMN)})`);
    await createView();
    return { prepared: 'migrated', deleted };
  }
  // Rows dropped with the old table count as deleted.
  const deleted = tagged
    ? await countRows(tx, rows)
    : exposed
      ? await countRows(tx, `${q(PROCESSED_SCHEMA)}.${q(table)}`)
      : 0;
  await tx.dropRelation(PROCESSED_SCHEMA, table);
  await tx.dropRelation(LAKE_ROWS_SCHEMA, table);
  const columns = manifest.columns.map(
    (c) => `${q(c.name)} ${tx.dialect.typeName(c.type as LogicalType)}`,
  );
  await tx.exec(`CREATE TABLE ${rows} (${columns.join(', ')}, ${q(FILE_COLUMN)} INTEGER NOT NULL)`);
  await tx.exec(`CREATE INDEX ON ${rows} (${q(FILE_COLUMN)})`);
  await createView();
  return { prepared: exposed ? 'recreated' : 'created', deleted };
}

/** How many rows `relation` holds (read in the transaction, before it is dropped). */
async function countRows(tx: Engine, relation: string): Promise<number> {
  return Number((await tx.query(`SELECT count(*) AS n FROM ${relation}`)).rows[0]!.n);
}

/** Deletes the rows of `table` (those `where` picks, with `params`) and returns how many. */
async function deleteCounted(
  tx: Engine,
  table: string,
  where = '',
  params: unknown[] = [],
): Promise<number> {
  const { rows } = await tx.query(
    `WITH gone AS (DELETE FROM ${table} ${where} RETURNING 1) SELECT count(*) AS n FROM gone`,
    params,
  );
  return Number(rows[0]!.n);
}

/**
 * Deletes the rows of loaded files the manifest no longer lists (every row when none of them is
 * listed: a `replace` batch) and their records; returns the files still loaded (key to id) and
 * how many rows went.
 */
async function dropUnlisted(
  tx: Engine,
  manifest: TableManifest,
): Promise<{ loaded: Map<string, number>; deleted: number; emptied: boolean }> {
  const q = tx.dialect.quoteIdentifier;
  const files = `${q(LOADS_SCHEMA)}.lake_files`;
  const rows = `${q(LAKE_ROWS_SCHEMA)}.${q(manifest.table)}`;
  const loaded = new Map(
    (
      await tx.query(`SELECT file_key, file_id FROM ${files} WHERE table_name = $1`, [
        manifest.table,
      ])
    ).rows.map((r) => [String(r.file_key), Number(r.file_id)] as const),
  );
  const live = new Set(manifest.files.map((f) => f.key));
  const gone = [...loaded.keys()].filter((k) => !live.has(k));
  if (gone.length === 0) return { loaded, deleted: 0, emptied: false };
  const emptied = gone.length === loaded.size;
  const deleted = emptied
    ? await deleteCounted(tx, rows)
    : await deleteCounted(tx, rows, `WHERE ${q(FILE_COLUMN)} = ANY($1::integer[])`, [
        gone.map((k) => loaded.get(k)!),
      ]);
  await tx.query(`DELETE FROM ${files} WHERE table_name = $1 AND file_key = ANY($2::text[])`, [
    manifest.table,
    gone,
  ]);
  for (const k of gone) loaded.delete(k);
  return { loaded, deleted, emptied };
}

/**
 * Brings `processed.<table>` in the warehouse up to the committed manifest in one transaction:
 * the rows of files no longer listed are deleted, new files are copied in; the table is loaded
 * whole when every file was replaced, its columns changed, or it is migrated from an older form.
 * `reader` is an engine that reads Parquet (DuckDB). Safe to call again at any time.
 */
export async function loadLakeTable(
  warehouse: Engine,
  reader: Engine,
  store: ObjectStore,
  manifest: TableManifest,
): Promise<LakeLoadResult> {
  if (manifest.columns.some((c) => c.name === FILE_COLUMN))
    throw new TributaryError(
      `table ${manifest.table} has a column named ${FILE_COLUMN}, the name Tributary gives its bookkeeping on a PostgreSQL warehouse`,
      { code: 'CONFIG', hint: `rename the column in the table's contract (e.g. tributary_file)` },
    );
  await ensureLoadTables(warehouse);
  const q = warehouse.dialect.quoteIdentifier;
  const loads = `${q(LOADS_SCHEMA)}.lake_tables`;
  const files = `${q(LOADS_SCHEMA)}.lake_files`;
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
    const { prepared, deleted } = await prepareTable(tx, manifest, rows[0]!.schema_hash === hash);
    let state = { loaded: new Map<string, number>(), deleted, emptied: true };
    if (prepared === 'ready') state = await dropUnlisted(tx, manifest);
    else await tx.query(`DELETE FROM ${files} WHERE table_name = $1`, [manifest.table]);
    const toLoad = manifest.files.filter((f) => !state.loaded.has(f.key));
    let nextId = [...state.loaded.values()].reduce((a, b) => Math.max(a, b), 0) + 1;
    let total = 0;
    for (const file of toLoad) {
      const id = nextId++;
      const n = await copyFile(tx, reader, store, manifest, file, id);
      await tx.query(
        `INSERT INTO ${files} (table_name, file_key, batch, row_count, loaded_at, file_id)
         VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP, $5)`,
        [manifest.table, file.key, file.batch, n, id],
      );
      total += n;
    }
    await loadQuarantine(tx, reader, store, manifest);
    await tx.query(
      `UPDATE ${loads} SET schema_hash = $2, manifest_version = $3 WHERE table_name = $1`,
      [manifest.table, hash, manifest.version],
    );
    const reloaded = prepared === 'ready' ? state.emptied : prepared !== 'created';
    return { files: toLoad.length, rows: total, deleted: state.deleted, reloaded };
  });
}

/**
 * Copies one Parquet file's rows into the table, tagged with the file's id, read by `reader` as
 * text in the table's current column order (a file written before a column was added reads NULL
 * for it), chunk by chunk.
 */
async function copyFile(
  tx: Engine,
  reader: Engine,
  store: ObjectStore,
  manifest: TableManifest,
  file: DataFile,
  fileId: number,
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
  return copyChunks(
    tx,
    reader,
    `SELECT ${columns.join(', ')} FROM ${scan}`,
    [LAKE_ROWS_SCHEMA, manifest.table, names],
    [FILE_COLUMN, String(fileId)],
  );
}

/**
 * Sends the rows `select` gives (every column text, named as `into`'s columns) from `reader` to
 * the table `into`, CHUNK_ROWS at a time, with `constant` (a column and its value) in every row
 * when given; returns how many.
 */
async function copyChunks(
  tx: Engine,
  reader: Engine,
  select: string,
  [schema, table, names]: [string, string, string[]],
  constant?: [string, string],
): Promise<number> {
  let copied = 0;
  const into = constant ? [...names, constant[0]] : names;
  for (let offset = 0; ; offset += CHUNK_ROWS) {
    const { rows } = await reader.query(`${select} LIMIT ${CHUNK_ROWS} OFFSET ${offset}`);
    if (rows.length === 0) break;
    copied += await tx.insertRows(
      schema,
      table,
      into,
      rows.map((r) => {
        const values = names.map((n) => (r[n] === null ? null : String(r[n])));
        if (constant) values.push(constant[1]);
        return values;
      }),
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
