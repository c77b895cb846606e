/**
 * The statements and lake writes every way of processing a batch shares: reading a parent's
 * keys, writing valid rows as (partitioned) Parquet, rewriting files for merges, sweeping files a
 * commit left unlisted, and turning engine failures into errors about the file (or not).
 */
import { readdir, mkdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { TributaryError } from '../core/index.js';
import { engineErrorKind, type Engine, type QueryResult } from '../engines/index.js';
import {
  LOADED_AT,
  lakeKeys,
  parquetScan,
  schemaHash,
  type DataFile,
  type ObjectStore,
  type TableManifest,
} from '../lake/index.js';
import type { Contract, SourceTable } from '../project/index.js';
import type { ForeignKeyInput } from './contract-sql.js';
import { schemaOf } from './evolution.js';

/** The engine that reads and writes lake files, and the store they live in. */
export interface LakeEngine {
  /** An engine that reads files and writes Parquet (DuckDB). */
  engine: Engine;
  store: ObjectStore;
}

/** The Hive partition key of a contract, e.g. `order_ts_month`. */
export function partitionName(contract: Contract): string | undefined {
  const p = contract.partition_by;
  return p ? `${p.column}_${p.granularity}` : undefined;
}

const PARTITION_FORMAT = { day: '%Y-%m-%d', month: '%Y-%m', year: '%Y' } as const;

/** How the processed and quarantine zones write Parquet. */
export const PARQUET = 'FORMAT parquet, COMPRESSION zstd';

/** The foreign keys of a contract, each with the relation of its parent's loaded keys. */
export function foreignKeyInputs(
  { engine, store }: LakeEngine,
  contract: Contract,
  parents: ReadonlyMap<string, TableManifest>,
): ForeignKeyInput[] {
  const q = engine.dialect.quoteIdentifier;
  const s = engine.dialect.quoteString;
  const out: ForeignKeyInput[] = [];
  for (const c of contract.columns) {
    if (!c.references) continue;
    const [parentTable, parentColumn] = c.references.split('.') as [string, string];
    const parent = parents.get(parentTable);
    const type = engine.dialect.typeName(c.type as never);
    out.push({
      column: c.name,
      parentKeys: parent?.files.length
        ? `(SELECT DISTINCT ${q(parentColumn)} AS k FROM ${parquetScan(store, parent.files, parent.columns, s)})`
        : `(SELECT CAST(NULL AS ${type}) AS k WHERE false)`,
    });
  }
  return out;
}

/** Where a COPY of valid rows writes, and what it stamps on them. */
export interface RowsTarget {
  /** The staging folder the Parquet files go to. */
  dir: string;
  /** Part of every file's name, unique to this write (the batch, and the retry when there is one). */
  fileTag: string;
  /** When these rows are committed: `_loaded_at` of each (ISO 8601). */
  loadedAt: string;
}

/**
 * The COPY writing valid rows (`rows` yields the contract's columns by name) to a staging folder:
 * typed Parquet, Hive-partitioned when the contract says so, each row stamped `_loaded_at`.
 */
export function copyRowsSql(
  engine: Engine,
  contract: Contract,
  target: RowsTarget,
  rows: string,
): string {
  const q = engine.dialect.quoteIdentifier;
  const s = engine.dialect.quoteString;
  const typedNames = [
    ...contract.columns.map((c) => q(c.name)),
    `CAST(${s(target.loadedAt)} AS TIMESTAMP) AS ${q(LOADED_AT)}`,
  ].join(', ');
  const partition = contract.partition_by;
  const partKey = partitionName(contract);
  if (partition && partKey) {
    return `COPY (SELECT ${typedNames}, strftime(${q(partition.column)}, ${s(PARTITION_FORMAT[partition.granularity])}) AS ${q(partKey)} FROM (${rows}))
      TO ${s(target.dir)} (${PARQUET}, PARTITION_BY (${q(partKey)}), FILENAME_PATTERN ${s(`part-${target.fileTag}-{i}`)}, OVERWRITE_OR_IGNORE true)`;
  }
  return `COPY (SELECT ${typedNames} FROM (${rows}))
    TO ${s(join(target.dir, `part-${target.fileTag}-0.parquet`))} (${PARQUET})`;
}

/**
 * Moves the Parquet files staged in `dir` under the table's processed keys and describes them
 * (rows, bytes, partition, schema). Nothing is visible until a manifest names them.
 */
export async function publishDataFiles(
  { engine, store }: LakeEngine,
  table: SourceTable,
  contract: Contract,
  dir: string,
  batchId: string,
): Promise<DataFile[]> {
  const staged = await listFiles(dir);
  if (!staged.length) return [];
  const s = engine.dialect.quoteString;
  const fileRows = new Map<string, number>();
  const meta = await engine.query(
    `SELECT file_name, num_rows FROM parquet_file_metadata([${staged.map((f) => s(join(dir, f))).join(', ')}])`,
  );
  for (const r of meta.rows)
    fileRows.set(relative(dir, String(r.file_name)).split(sep).join('/'), Number(r.num_rows));
  const partKey = partitionName(contract);
  const schema = schemaHash(schemaOf(contract));
  const files: DataFile[] = [];
  for (const name of staged) {
    const key = `${lakeKeys.processedTable(table.table)}/${name}`;
    const partitionValue = partKey ? name.split('/')[0]!.slice(partKey.length + 1) : undefined;
    // Sizes are read from the staged files, before they move: no listing of the lake afterwards.
    const bytes = (await stat(join(dir, name))).size;
    await store.putFile(key, join(dir, name), { move: true });
    files.push({
      key,
      rows: fileRows.get(name) ?? 0,
      bytes,
      batch: batchId,
      schema,
      ...(partKey && partitionValue !== undefined
        ? { partition: { [partKey]: partitionValue } }
        : {}),
    });
  }
  return files;
}

/** How duplicate keys in the checked batch are settled. */
export interface DuplicateKeyRules {
  /** Within the batch, the last row of a key wins (merge: extracts come ordered by cursor). */
  keepLast: boolean;
  /** A relation whose rows hold keys already loaded: such keys count as duplicates too. */
  loaded?: string;
  /** 'quarantine': marked `duplicate_key`; 'drop': superseded, removed without being errors. */
  onDuplicate: 'quarantine' | 'drop';
}

/**
 * Decides duplicate keys among the rows of `_tb_checked` that passed every other check, by
 * `rules`; returns how many rows were dropped. Rows keep their record order (`_record`).
 */
export async function settleDuplicateKeys(
  engine: Engine,
  file: string,
  pk: readonly string[],
  rules: DuplicateKeyRules,
): Promise<number> {
  const q = engine.dialect.quoteIdentifier;
  const s = engine.dialect.quoteString;
  const on = (a: string, b: string) => pk.map((k) => `${a}.${q(k)} = ${b}.${q(k)}`).join(' AND ');
  const keys = pk.map(q).join(', ');
  const order = rules.keepLast ? 'c._record DESC' : 'c._record';
  await run(
    engine,
    file,
    `CREATE OR REPLACE TEMP TABLE _tb_dups AS
    WITH dupkeys AS (SELECT ${keys} FROM _tb_checked WHERE _fail IS NULL GROUP BY ${keys} HAVING count(*) > 1),
    ranked AS (SELECT c._record, row_number() OVER (PARTITION BY ${pk.map((k) => `c.${q(k)}`).join(', ')} ORDER BY ${order}) AS rn
                 FROM _tb_checked c SEMI JOIN dupkeys d ON ${on('c', 'd')} WHERE c._fail IS NULL)
    SELECT _record FROM ranked WHERE rn > 1
    ${rules.loaded ? `UNION SELECT c._record FROM _tb_checked c SEMI JOIN (SELECT ${keys} FROM ${rules.loaded}) e ON ${on('c', 'e')} WHERE c._fail IS NULL` : ''}`,
  );
  if (rules.onDuplicate === 'drop') {
    const dropped = Number((await engine.query(`SELECT count(*) AS n FROM _tb_dups`)).rows[0]!.n);
    await run(
      engine,
      file,
      `DELETE FROM _tb_checked WHERE _record IN (SELECT _record FROM _tb_dups)`,
    );
    return dropped;
  }
  await run(
    engine,
    file,
    `UPDATE _tb_checked SET _fail = ${s(`duplicate_key:${pk.join('+')}`)} WHERE _record IN (SELECT _record FROM _tb_dups)`,
  );
  return 0;
}

/**
 * merge: rewrites each loaded file that holds a key of the new batch (`_tb_checked`) without
 * those rows, next to the original under a new name; files without such keys are kept as they
 * are. The originals stay in the lake until the manifest swap makes the rewrites the table.
 */
export async function rewriteWithoutKeys(
  ctx: LakeEngine,
  table: SourceTable,
  files: DataFile[],
  /** Added to each rewritten file's name, unique to this write. */
  suffix: string,
  staging: string,
): Promise<DataFile[]> {
  const { engine, store } = ctx;
  const q = engine.dialect.quoteIdentifier;
  const s = engine.dialect.quoteString;
  const pk = table.contract.primary_key!;
  const newKeys = `(SELECT ${pk.map(q).join(', ')} FROM _tb_checked WHERE _fail IS NULL)`;
  const on = pk.map((k) => `f.${q(k)} = n.${q(k)}`).join(' AND ');
  const hits = await engine.query(
    `SELECT DISTINCT f.filename AS file FROM read_parquet([${files.map((f) => s(store.readableLocation(f.key))).join(', ')}], filename = true) AS f
      SEMI JOIN ${newKeys} AS n ON ${on}`,
  );
  const touched = new Set(hits.rows.map((r) => String(r.file)));
  const out: DataFile[] = [];
  const dir = join(staging, 'rewrite');
  await mkdir(dir, { recursive: true });
  for (const [i, f] of files.entries()) {
    const location = store.readableLocation(f.key);
    if (!touched.has(location)) {
      out.push(f);
      continue;
    }
    const local = join(dir, `${i}.parquet`);
    await run(
      engine,
      f.key,
      `COPY (SELECT f.* FROM read_parquet(${s(location)}) AS f
              ANTI JOIN ${newKeys} AS n ON ${on})
        TO ${s(local)} (${PARQUET})`,
    );
    const rows = Number(
      (await engine.query(`SELECT count(*) AS n FROM read_parquet(${s(local)})`)).rows[0]!.n,
    );
    if (rows === 0) continue; // every row of the file was replaced
    const key = f.key.replace(/\.parquet$/, `-${suffix}.parquet`);
    const bytes = (await stat(local)).size;
    await store.putFile(key, local, { move: true });
    out.push({ ...f, key, rows, bytes });
  }
  return out;
}

/**
 * After a commit, deletes the data and quarantine files the previous manifest listed and the new
 * one does not (replaced by `replace`, rewritten by `merge` or a retry of waiting rows). Best effort: a file left behind is invisible to
 * readers, who only follow the manifest, and costs only space.
 */
export async function sweepUnlisted(
  store: ObjectStore,
  before: TableManifest,
  after: TableManifest,
): Promise<void> {
  const kept = new Set([...after.files, ...after.quarantine].map((f) => f.key));
  for (const f of [...before.files, ...before.quarantine])
    if (!kept.has(f.key)) await store.delete(f.key).catch(() => undefined);
}

/** Whether an engine error is about the data being read (bad values, malformed records or JSON). */
export function isInputError(err: unknown): boolean {
  return engineErrorKind(err) === 'data';
}

/** Runs a processing statement; engine errors about the file become input errors naming it. */
export async function run(engine: Engine, file: string, sql: string): Promise<QueryResult> {
  try {
    return await engine.query(sql);
  } catch (err) {
    if (isInputError(err)) throw inputError(err, file);
    throw err;
  }
}

/**
 * An engine's complaint about a file as an INPUT error naming the file and, where the engine
 * says, the line (NDJSON) or record (a JSON array). DuckDB's JSON reader counts both one too
 * high (measured: a bad second line is reported "in line 3"), so they are corrected here.
 */
function inputError(err: unknown, file: string): TributaryError {
  const firstLine = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  const at = /at byte (\d+) in (line|record\/value) (\d+): /.exec(firstLine);
  const location = at
    ? { file, ...(at[2] === 'line' ? { line: Number(at[3]) - 1 } : { record: Number(at[3]) - 1 }) }
    : { file };
  const message = at
    ? `${cleanEngineMessage(firstLine.replace(at[0], ''), file)
        .replace(/^Malformed JSON, /, 'malformed JSON: ')
        .replace(/\.$/, '')} (byte ${at[1]} of the ${at[2] === 'line' ? 'line' : 'record'})`
    : cleanEngineMessage(firstLine, file);
  return new TributaryError(message, {
    code: 'INPUT',
    location,
    hint: 'fix or replace the file and drop it again; nothing from it was committed',
    cause: err,
  });
}

/** Node system errors that are the machine's limits or a broken lake, not the file's content. */
const ENVIRONMENT_ERRNOS = new Set([
  'ENOSPC',
  'EDQUOT',
  'EACCES',
  'EPERM',
  'EMFILE',
  'ENFILE',
  'ENOENT',
  'EIO',
  'EROFS',
]);

/**
 * What to do with a failure while processing one batch. The file is refused whole (recorded, the
 * table moves on, `--retry-rejected` reads it again) unless the failure is the machine's or the
 * project's: an interrupt or abort, memory or disk running out, a lake file that cannot be
 * opened, a broken engine, a wrong config. Those fail the step instead, so its retry policy
 * applies and no good file is refused for them. Everything else, including an engine error no
 * one foresaw, means this file cannot be processed as it is: refusing it beats blocking the table
 * for good.
 */
export function refusalOf(err: unknown, file: string): TributaryError | undefined {
  if (err instanceof TributaryError) return err.code === 'INPUT' ? err : undefined;
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'))
    return undefined;
  const errno = (err as { code?: unknown } | null)?.code;
  if (typeof errno === 'string' && ENVIRONMENT_ERRNOS.has(errno)) return undefined;
  const kind = engineErrorKind(err);
  if (kind === 'data') return inputError(err, file);
  if (kind && kind !== 'statement' && kind !== 'other') return undefined;
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  return new TributaryError(`cannot be processed: ${cleanEngineMessage(first, file)}`, {
    code: 'INPUT',
    location: { file },
    hint: 'nothing from it was committed. If the file looks right, this may be a Tributary bug: report the message; `tributary run --retry-rejected` reads the file again',
    cause: err,
  });
}

function cleanEngineMessage(message: string, file: string): string {
  return message
    .replace(/^(Invalid Input Error|Conversion Error|IO Error): /, '')
    .replace(/ in file "[^"]*"/, '')
    .replace(/"[^"]*\/raw\/[^"]*"/g, file)
    .trim();
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}
