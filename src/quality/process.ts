/**
 * Processing (the seeds' Glue ETL job): raw batches → contract checks → typed, partitioned
 * Parquet in the processed zone, with rejected rows in the quarantine zone. Most batches have
 * no bad row, so each is first read in a single pass that stops at the first bad row: straight
 * to Parquet (the clean pass), or, when duplicate keys need record numbers, into a table of typed
 * values (the typed pass). A batch with bad rows is then read into the engine as strings, each
 * row checked and its rejects quarantined (the full pass). Either way its files are written
 * aside, then committed with one manifest swap, so a crash anywhere leaves the table as it was
 * and a re-run finishes the work.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { TributaryError, faultPoint, newId, type ProgressReporter } from '../core/index.js';
import type { Engine, QueryResult } from '../engines/index.js';
import {
  commitManifest,
  lakeKeys,
  readManifest,
  type DataFile,
  type ObjectStore,
  type QuarantineFile,
  type RawManifest,
  type TableManifest,
} from '../lake/index.js';
import type { Contract, FileFormat, SourceTable } from '../project/index.js';
import type { LandedBatch } from '../sources/index.js';
import {
  compileContract,
  rawTextColumn,
  type CompiledContract,
  type ForeignKeyInput,
} from './contract-sql.js';
import { effectiveContract, evolveTypes, evolves, schemaOf, withNewColumns } from './evolution.js';
import { readCsvHeader } from './csv-header.js';
import { lineNumbers, type MalformedRecord } from './lines.js';

export interface ProcessContext {
  /** An engine that reads files and writes Parquet (DuckDB). */
  engine: Engine;
  store: ObjectStore;
  /** Scratch folder on the same file system as a local lake, so staged files move by rename. */
  tmpDir: string;
  progress: ProgressReporter;
  /** Try again files that were rejected whole by an earlier run. */
  retryRejected?: boolean;
  /**
   * Try each batch first in a single pass that stops at the first bad row (default true);
   * false sends every batch through the full pass, which finds each bad row. Both write the
   * same rows; a single pass reads the batch once and, without a primary key, keeps nothing.
   */
  singlePass?: boolean;
}

export interface RejectedFile {
  file: string;
  error: TributaryError;
}

export interface ProcessResult {
  table: string;
  batches: number;
  rowsIn: number;
  rowsOut: number;
  rowsRejected: number;
  reasons: Record<string, number>;
  rejectedFiles: RejectedFile[];
  manifest: TableManifest;
  /** Columns of the latest raw batch as found in the file (the crawler's view). */
  rawColumns?: { name: string; type: string }[];
  /** Batches done in a single pass (no row failed a column check, no record was malformed). */
  singlePassBatches: number;
}

/** An empty manifest for a table that has never been committed. */
export function emptyManifest(table: SourceTable): TableManifest {
  return {
    format: 1,
    table: table.table,
    version: 0,
    updatedAt: '',
    columns: table.contract.columns.map((c) => ({ name: c.name, type: c.type })),
    ...(table.contract.partition_by ? { partitionBy: partitionName(table.contract) } : {}),
    files: [],
    quarantine: [],
    batches: {},
    rejected: {},
  };
}

/** The Hive partition key of a contract, e.g. `order_ts_month`. */
export function partitionName(contract: Contract): string | undefined {
  const p = contract.partition_by;
  return p ? `${p.column}_${p.granularity}` : undefined;
}

const PARTITION_FORMAT = { day: '%Y-%m-%d', month: '%Y-%m', year: '%Y' } as const;

/** How the processed and quarantine zones write Parquet. */
const PARQUET = 'FORMAT parquet, COMPRESSION zstd';

/** Processes every landed batch of a table that is not yet in its processed manifest. */
export async function processTable(
  ctx: ProcessContext,
  table: SourceTable,
  parents: ReadonlyMap<string, TableManifest>,
): Promise<ProcessResult> {
  if (!ctx.engine.capabilities.readsFiles || !ctx.engine.capabilities.writesParquet) {
    throw new TributaryError(`engine ${ctx.engine.kind} cannot process lake files`, {
      code: 'ENGINE',
    });
  }
  const manifestKey = lakeKeys.processedManifest(table.table);
  let manifest =
    (await readManifest<TableManifest>(ctx.store, manifestKey)) ?? emptyManifest(table);
  const raw = await readManifest<RawManifest>(
    ctx.store,
    lakeKeys.rawManifest(table.source, table.table),
  );
  const pending = (raw?.batches ?? []).filter(
    (b) => !manifest.batches[b.id] && (ctx.retryRejected || !manifest.rejected[b.id]),
  ) as LandedBatch[];
  const result: ProcessResult = {
    table: table.table,
    batches: 0,
    rowsIn: 0,
    rowsOut: 0,
    rowsRejected: 0,
    reasons: {},
    rejectedFiles: [],
    manifest,
    singlePassBatches: 0,
  };
  for (const batch of pending) {
    ctx.progress.update({
      label: `process ${table.table}`,
      done: result.batches,
      total: pending.length,
      unit: 'files',
    });
    const staging = join(ctx.tmpDir, newId('batch-'));
    try {
      const outcome = await processBatch(ctx, table, batch, manifest, parents, staging);
      faultPoint(`before-commit:${table.table}`);
      const before = manifest;
      manifest = await commitManifest(ctx.store, manifestKey, outcome.manifest);
      await sweepUnlisted(ctx.store, before, manifest);
      result.batches++;
      if (outcome.single) result.singlePassBatches++;
      result.rowsIn += outcome.rowsIn;
      result.rowsOut += outcome.rowsOut;
      result.rowsRejected += outcome.rowsIn - outcome.rowsOut;
      for (const [reason, n] of Object.entries(outcome.reasons))
        result.reasons[reason] = (result.reasons[reason] ?? 0) + n;
      result.rawColumns = outcome.rawColumns;
    } catch (err) {
      if (!(err instanceof TributaryError) || err.code !== 'INPUT') throw err;
      // A file refused whole is recorded as rejected, so the rest of the table and the run go on.
      manifest = await commitManifest(ctx.store, manifestKey, {
        ...manifest,
        rejected: {
          ...manifest.rejected,
          [batch.id]: { raw: batch.key, error: err.format(), rejectedAt: new Date().toISOString() },
        },
      });
      result.rejectedFiles.push({ file: batch.originalName, error: err });
    } finally {
      await rm(staging, { recursive: true, force: true });
      await dropTemp(ctx.engine);
    }
  }
  result.manifest = manifest;
  return result;
}

interface BatchOutcome {
  manifest: TableManifest;
  rowsIn: number;
  rowsOut: number;
  reasons: Record<string, number>;
  rawColumns: { name: string; type: string }[];
  /** Whether a single pass did it. */
  single: boolean;
}

const TEMP_TABLES = ['_tb_raw', '_tb_checked', '_tb_dups', '_tb_lines', '_tb_rejects', '_tb_scans'];

async function dropTemp(engine: Engine): Promise<void> {
  await engine
    .exec(TEMP_TABLES.map((t) => `DROP TABLE IF EXISTS ${t};`).join('\n'))
    .catch(() => undefined);
}

function formatOf(table: SourceTable, name: string): FileFormat {
  if (table.format) return table.format;
  const lower = name.toLowerCase();
  if (lower.endsWith('.csv') || lower.endsWith('.tsv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  if (lower.endsWith('.json')) return 'json';
  throw new TributaryError(`cannot tell the format of ${name}`, {
    location: { file: name },
    hint: `set format: csv | json | ndjson on table ${table.id} in tributary.yml`,
  });
}

/** How a batch is read: the contract it is checked against and the SELECT of its raw strings. */
interface BatchReader {
  format: FileFormat;
  /** The table's effective contract, with the columns this batch adds (connector tables). */
  contract: Contract;
  /** The crawler's view of the batch's columns. */
  rawColumns: { name: string; type: string }[];
  /**
   * SELECT of each contract column's raw string, named as the contract column. `tolerant`: the
   * malformed CSV records are kept aside in `_tb_rejects` instead of failing the statement.
   */
  select(tolerant: boolean): string;
  /** Whether the tolerant reader fills `_tb_rejects` (CSV). */
  keepsRejects: boolean;
}

/** Checks a batch's header or structure and says how to read it as strings. */
async function openBatchReader(
  ctx: ProcessContext,
  table: SourceTable,
  batch: LandedBatch,
  manifest: TableManifest,
  format: FileFormat,
): Promise<BatchReader> {
  const { engine, store } = ctx;
  const q = engine.dialect.quoteIdentifier;
  const s = engine.dialect.quoteString;
  let contract = effectiveContract(table, manifest);
  const path = store.readableLocation(batch.key);
  const file = batch.originalName;
  let fields = contract.columns.map((c) => c.from ?? c.name);
  const fieldsAs = (access: (field: string) => string) =>
    contract.columns.map((c, i) => `${access(fields[i]!)} AS ${q(c.name)}`).join(', ');
  if (format === 'csv') {
    const header = await readCsvHeader(path, table.csv);
    if (!header || header.every((h) => h === '')) {
      throw new TributaryError('the first line is not a CSV header', {
        location: { file, line: 1 },
        hint: 'the file must start with a header row naming its columns',
      });
    }
    const missing = fields.filter((f) => !header.includes(f));
    if (missing.length) {
      throw new TributaryError(
        `header does not match the contract: missing ${missing.join(', ')}; found ${header.join(', ')}`,
        { location: { file, line: 1 }, hint: `fix the file's header or ${table.contractFile}` },
      );
    }
    const duplicated = header.filter((h, i) => header.indexOf(h) !== i);
    if (duplicated.length) {
      throw new TributaryError(`header names ${duplicated.join(', ')} more than once`, {
        location: { file, line: 1 },
      });
    }
    const rawColumns = await inferCsvColumns(engine, path, table, header);
    if (evolves(table)) {
      contract = withNewColumns(contract, rawColumns).contract;
      fields = contract.columns.map((c) => c.from ?? c.name);
    }
    // No sniffing: the header decides the columns, all strings, so nothing is guessed or coerced.
    const columns = header.map((h) => `${s(h)}: 'VARCHAR'`).join(', ');
    const reader = (tolerant: boolean) =>
      `read_csv(${s(path)}, auto_detect = false, header = true, columns = {${columns}}, hive_partitioning = false,
      delim = ${s(table.csv.delimiter)}, quote = ${s(table.csv.quote)}, escape = ${s(table.csv.escape)},
      strict_mode = true${tolerant ? `, store_rejects = true, rejects_table = '_tb_rejects', rejects_scan = '_tb_scans'` : ''})`;
    return {
      format,
      contract,
      rawColumns,
      select: (tolerant) => `SELECT ${fieldsAs(q)} FROM ${reader(tolerant)}`,
      keepsRejects: true,
    };
  }
  const jsonFormat = format === 'ndjson' ? 'newline_delimited' : 'array';
  // The crawler's view of the file: the structure of its first records, whatever the contract reads.
  const structure = table.records
    ? undefined
    : await run(
        engine,
        file,
        `SELECT json_group_structure(json) AS s FROM (SELECT json FROM read_json_objects(${s(path)}, format = ${s(jsonFormat)}, hive_partitioning = false) LIMIT 1000)`,
      );
  const rawColumns = structure
    ? flattenStructure(structure.rows[0]?.s)
    : fields.map((name) => ({ name, type: 'VARCHAR' }));
  if (evolves(table) && structure) {
    contract = withNewColumns(contract, rawColumns).contract;
    fields = contract.columns.map((c) => c.from ?? c.name);
  }
  // read_json with declared columns parses each record once, straight into strings (numbers and
  // booleans keep their JSON text; nested objects become STRUCTs of strings).
  const spec = jsonColumnSpec(fields, s, q);
  const source = table.records
    ? `(SELECT unnest(${q(table.records)}) AS _r FROM read_json(${s(path)}, format = 'auto', hive_partitioning = false, maximum_object_size = ${batch.bytes + 1},
         columns = {${s(table.records)}: ${s(`STRUCT(${spec.struct})[]`)}}))`
    : `read_json(${s(path)}, format = ${s(jsonFormat)}, hive_partitioning = false, columns = {${spec.columns}})`;
  const select = `SELECT ${fieldsAs((f) => spec.access(f, table.records ? '_r' : undefined))} FROM ${source}`;
  return { format, contract, rawColumns, select: () => select, keepsRejects: false };
}

/** A batch checked against its contract, its valid rows written to the data folder. */
interface CheckedBatch {
  /** The contract the batch was checked with (widened or evolved by the batch, if it had to). */
  contract: Contract;
  rowsIn: number;
  rowsOut: number;
  reasons: Record<string, number>;
  quarantine?: QuarantineFile;
}

/** One batch being processed: what every pass reads and where it writes. */
interface BatchJob {
  ctx: ProcessContext;
  table: SourceTable;
  batch: LandedBatch;
  /** The table's manifest before this batch. */
  manifest: TableManifest;
  parents: ReadonlyMap<string, TableManifest>;
  reader: BatchReader;
  /** Where the valid rows' Parquet files are written (empty when a pass gives up). */
  dataDir: string;
  /** The batch's own scratch folder (quarantine file, merge rewrites). */
  staging: string;
}

/** Reads a batch, checks it, writes its valid rows to the processed zone and its rejects to quarantine. */
async function processBatch(
  ctx: ProcessContext,
  table: SourceTable,
  batch: LandedBatch,
  manifest: TableManifest,
  parents: ReadonlyMap<string, TableManifest>,
  staging: string,
): Promise<BatchOutcome> {
  const { engine, store } = ctx;
  const file = batch.originalName;
  const format = formatOf(table, file);

  if (batch.bytes === 0) {
    throw new TributaryError('file is empty', {
      location: { file },
      hint: 'drop a file with a header and rows, or remove it',
    });
  }
  if (batch.utf8Error) {
    const { line, column } = batch.utf8Error;
    throw new TributaryError('file is not valid UTF-8', {
      location: { file, line, column },
      hint: 're-export the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`) and drop it again',
    });
  }

  const reader = await openBatchReader(ctx, table, batch, manifest, format);
  const dataDir = join(staging, 'data');
  await mkdir(dataDir, { recursive: true });
  const job: BatchJob = { ctx, table, batch, manifest, parents, reader, dataDir, staging };
  // One pass when the batch has no bad row (most do), the full pass when it has.
  const single =
    ctx.singlePass === false
      ? undefined
      : reader.contract.primary_key?.length
        ? await typedPass(job)
        : await cleanPass(job);
  const checked = single ?? (await fullPass(job));
  const { contract } = checked;

  const staged = await listFiles(dataDir);
  const fileRows = new Map<string, number>();
  const s = engine.dialect.quoteString;
  if (staged.length) {
    const meta = await engine.query(
      `SELECT file_name, num_rows FROM parquet_file_metadata([${staged.map((f) => s(join(dataDir, f))).join(', ')}])`,
    );
    for (const r of meta.rows)
      fileRows.set(relative(dataDir, String(r.file_name)).split(sep).join('/'), Number(r.num_rows));
  }

  // What stays of the loaded files: all (append), none (replace), or, for merge, every file
  // rewritten without the keys this batch brings (only files holding such keys are touched).
  let kept = manifest.files.filter((f) => f.batch !== batch.id);
  if (table.disposition === 'replace') kept = [];
  else if (
    table.disposition === 'merge' &&
    contract.primary_key?.length &&
    kept.length &&
    checked.rowsOut > 0
  )
    kept = await rewriteWithoutKeys(ctx, table, kept, batch.id, staging);
  // Move the data files under their final keys; nothing is visible until the manifest names them.
  const partKey = partitionName(contract);
  const files: DataFile[] = [];
  for (const name of staged) {
    const key = `${lakeKeys.processedTable(table.table)}/${name}`;
    const partitionValue = partKey ? name.split('/')[0]!.slice(partKey.length + 1) : undefined;
    // Sizes are read from the staged files, before they move: no listing of the lake afterwards.
    const bytes = (await stat(join(dataDir, name))).size;
    await store.putFile(key, join(dataDir, name), { move: true });
    files.push({
      key,
      rows: fileRows.get(name) ?? 0,
      bytes,
      batch: batch.id,
      ...(partKey && partitionValue !== undefined
        ? { partition: { [partKey]: partitionValue } }
        : {}),
    });
  }
  const { [batch.id]: _retried, ...stillRejected } = manifest.rejected;
  const rowsRejected = Object.values(checked.reasons).reduce((a, b) => a + b, 0);
  return {
    manifest: {
      ...manifest,
      columns: schemaOf(contract),
      files: [...kept, ...files],
      quarantine: [
        ...manifest.quarantine.filter((f) => f.batch !== batch.id),
        ...(checked.quarantine ? [checked.quarantine] : []),
      ],
      batches: {
        ...manifest.batches,
        [batch.id]: {
          raw: batch.key,
          rowsIn: checked.rowsIn,
          rowsOut: checked.rowsOut,
          rowsRejected,
          committedAt: new Date().toISOString(),
        },
      },
      rejected: stillRejected,
    },
    rowsIn: checked.rowsIn,
    rowsOut: checked.rowsOut,
    reasons: checked.reasons,
    rawColumns: reader.rawColumns,
    single: single !== undefined,
  };
}

/** Marks the error a row raises in a single pass when it fails a check. */
const SINGLE_PASS_MISS = 'tributary: row failed a check in a single pass';

/** `WHERE` condition that passes rows without a failure and stops the statement at the first. */
function stopAtFailure(engine: Engine, failure: string): string {
  const s = engine.dialect.quoteString;
  return `CASE WHEN (${failure}) IS NULL THEN true ELSE error(${s(`${SINGLE_PASS_MISS}: `)} || (${failure})) END`;
}

/**
 * Runs a single pass's statement; undefined when a row or record failed (the full pass's to
 * find). Anything else (an interrupt, a full disk) is not about the data and fails the step as
 * it would in the full pass.
 */
async function singlePass<T>(statement: () => Promise<T>): Promise<T | undefined> {
  try {
    return await statement();
  } catch (err) {
    if (isInputError(err)) return undefined;
    throw err;
  }
}

/**
 * The clean pass, for tables without a primary key: most batches have no bad row, so each is
 * first read, checked and written to Parquet in one streaming statement, stopped by the first
 * row that fails a check (foreign keys included) or record that is malformed; the batch then
 * needs the full pass, which finds and quarantines each bad row (undefined is returned, the data
 * folder left empty). The checks are the contract's compiled expressions, the same the full pass
 * uses, so a batch that passes is written exactly as the full pass would write it.
 */
async function cleanPass(job: BatchJob): Promise<CheckedBatch | undefined> {
  const { ctx, batch, parents, reader, dataDir } = job;
  const { engine } = ctx;
  const { contract } = reader;
  const compiled = compileContract(
    contract,
    engine.dialect,
    foreignKeyInputs(ctx, contract, parents),
  );
  const rows = `SELECT * FROM (
      SELECT ${compiled.typedColumns.join(', ')}
        FROM (${reader.select(false)}) AS raw ${compiled.joins.join(' ')})
     WHERE ${stopAtFailure(engine, compiled.failure)}`;
  const written = await singlePass(() =>
    engine.query(copyRowsSql(engine, contract, batch, dataDir, rows)),
  );
  const count = Number(written?.rows[0]?.Count ?? 0);
  if (!written || count === 0) {
    // The full pass decides what a failed batch, or one without rows, leaves.
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true });
    return undefined;
  }
  return { contract, rowsIn: count, rowsOut: count, reasons: {} };
}

/**
 * The typed pass, for tables with a primary key, whose duplicate keys need every row's record
 * number: the batch is read straight into the checked table of typed values (no table of
 * strings), stopped by the first row that fails a column check or record that is malformed (the
 * full pass then takes over, and undefined is returned). Foreign keys and duplicate keys are
 * then decided on that table as in the full pass. A quarantined row keeps its original text
 * only in the full pass; here, as for duplicates there, its typed values printed stand in.
 */
async function typedPass(job: BatchJob): Promise<CheckedBatch | undefined> {
  const { ctx, parents, reader } = job;
  const { engine } = ctx;
  const q = engine.dialect.quoteIdentifier;
  const s = engine.dialect.quoteString;
  const { contract } = reader;
  const columnChecks = compileContract(contract, engine.dialect, []);
  const noText = contract.columns
    .filter((c) => c.type !== 'string')
    .map((c) => `CAST(NULL AS VARCHAR) AS ${q(rawTextColumn(c))}`);
  // No join here: the table's insertion order is the file's, so rowid numbers the records.
  const built = await singlePass(() =>
    engine.query(
      `CREATE OR REPLACE TEMP TABLE _tb_checked AS
       SELECT CAST(NULL AS BIGINT) AS _record, ${[...contract.columns.map((c) => q(c.name)), ...noText].join(', ')},
              CAST(NULL AS VARCHAR) AS _fail
         FROM (SELECT * FROM (SELECT ${columnChecks.typedColumns.join(', ')} FROM (${reader.select(false)}) AS raw)
                WHERE ${stopAtFailure(engine, columnChecks.failure)})`,
    ),
  );
  if (!built) return undefined;
  await engine.exec('UPDATE _tb_checked SET _record = rowid + 1');
  const foreignKeys = foreignKeyInputs(ctx, contract, parents);
  // In contract order, as the full pass's checks: a row keeps the first key that failed.
  for (const fk of foreignKeys) {
    const c = q(fk.column);
    await engine.exec(
      `UPDATE _tb_checked SET _fail = ${s(`foreign_key:${fk.column}`)}
        WHERE _fail IS NULL AND ${c} IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM ${fk.parentKeys} AS p WHERE p.k = _tb_checked.${c})`,
    );
  }
  const compiled = compileContract(contract, engine.dialect, foreignKeys);
  return finishChecked(job, contract, compiled, []);
}

/**
 * The full pass: the batch is read once into a table of strings, every row checked, the first
 * failed check of each row kept (types that changed widened first, for connector tables); then
 * finished as the typed pass is.
 */
async function fullPass(job: BatchJob): Promise<CheckedBatch> {
  const { ctx, table, batch, parents, reader } = job;
  const { engine } = ctx;
  const q = engine.dialect.quoteIdentifier;
  const file = batch.originalName;
  let { contract } = reader;

  // The file is read once into a table of strings; its rowid is the record's position in the
  // file (insertion order is kept), which a row_number() window would compute single-threaded.
  await run(engine, file, `CREATE OR REPLACE TEMP TABLE _tb_raw AS ${reader.select(true)}`);
  const rawRows = `SELECT rowid + 1 AS _record, * FROM _tb_raw`;
  // One materialised table holds typed values, the original text of non-string columns (for
  // the quarantine) and the first failed check of each row.
  const buildChecked = async () => {
    const compiledNow = compileContract(
      contract,
      engine.dialect,
      foreignKeyInputs(ctx, contract, parents),
    );
    await run(
      engine,
      file,
      `CREATE OR REPLACE TEMP TABLE _tb_checked AS
      SELECT _record, ${compiledNow.retainedColumns.join(', ')}, _fail FROM (
        SELECT *, ${compiledNow.failure} AS _fail FROM (
          SELECT raw._record, ${compiledNow.typedColumns.join(', ')}
            FROM (${rawRows}) AS raw ${compiledNow.joins.join(' ')}))`,
    );
    return compiledNow;
  };
  let compiled = await buildChecked();
  // Types that changed since the last batch (connector tables): only values that failed their
  // type can tell, so only those rows are looked at; when a column widens or evolves, the batch is
  // checked again with the evolved schema (rare; the common batch pays nothing for evolution).
  if (evolves(table)) {
    const typeFailures = Number(
      (await engine.query(`SELECT count(*) AS n FROM _tb_checked WHERE _fail LIKE 'type:%'`))
        .rows[0]!.n,
    );
    if (typeFailures > 0) {
      const failedText = `SELECT ${contract.columns
        .map((c) =>
          c.type === 'string' ? `NULL AS ${q(c.name)}` : `${q(rawTextColumn(c))} AS ${q(c.name)}`,
        )
        .join(', ')} FROM _tb_checked WHERE _fail IS NOT NULL`;
      const evolution = await evolveTypes(engine, table, contract, failedText, file);
      if (evolution.changes.length) {
        contract = evolution.contract;
        compiled = await buildChecked();
      }
    }
  }
  await run(engine, file, 'DROP TABLE _tb_raw'); // the typed table holds all that is needed now
  let malformed: MalformedRecord[] = [];
  if (reader.keepsRejects) {
    const rejects = await engine.query(
      `SELECT line, csv_line, error_message FROM _tb_rejects ORDER BY line`,
    );
    malformed = rejects.rows.map((r) => ({
      position: Number(r.line) - 1,
      text: String(r.csv_line ?? ''),
      message: String(r.error_message ?? 'malformed CSV record'),
    }));
  }
  return finishChecked(job, contract, compiled, malformed);
}

/**
 * From the checked table (`_tb_checked`: `_record`, typed columns, their original text where
 * kept, `_fail`): decides duplicate keys, writes the valid rows to the data folder and the
 * rejected ones, with file, record, line, column, reason, value and message, to quarantine.
 */
async function finishChecked(
  job: BatchJob,
  contract: Contract,
  compiled: CompiledContract,
  malformed: MalformedRecord[],
): Promise<CheckedBatch> {
  const { ctx, table, batch, manifest, reader, dataDir, staging } = job;
  const { engine, store } = ctx;
  const q = engine.dialect.quoteIdentifier;
  const s = engine.dialect.quoteString;
  const file = batch.originalName;

  // Duplicate keys, among rows that passed. append: later copies in this batch and keys
  // already loaded go to quarantine. merge: the last row of a key in the batch wins (batches of
  // incremental extracts are ordered by their cursor) and replaces the loaded row (see
  // rewriteWithoutKeys). replace: the batch is the whole table, so only copies inside it count.
  const pk = contract.primary_key ?? [];
  const disposition = table.disposition;
  let superseded = 0;
  if (pk.length) {
    const on = (a: string, b: string) => pk.map((k) => `${a}.${q(k)} = ${b}.${q(k)}`).join(' AND ');
    const keys = pk.map(q).join(', ');
    const existing =
      disposition === 'append' ? manifest.files.map((f) => store.readableLocation(f.key)) : [];
    const order = disposition === 'merge' ? 'c._record DESC' : 'c._record';
    await run(
      engine,
      file,
      `CREATE OR REPLACE TEMP TABLE _tb_dups AS
      WITH dupkeys AS (SELECT ${keys} FROM _tb_checked WHERE _fail IS NULL GROUP BY ${keys} HAVING count(*) > 1),
      ranked AS (SELECT c._record, row_number() OVER (PARTITION BY ${pk.map((k) => `c.${q(k)}`).join(', ')} ORDER BY ${order}) AS rn
                   FROM _tb_checked c SEMI JOIN dupkeys d ON ${on('c', 'd')} WHERE c._fail IS NULL)
      SELECT _record FROM ranked WHERE rn > 1
      ${existing.length ? `UNION SELECT c._record FROM _tb_checked c SEMI JOIN (SELECT ${keys} FROM read_parquet([${existing.map(s).join(', ')}])) e ON ${on('c', 'e')} WHERE c._fail IS NULL` : ''}`,
    );
    if (disposition === 'merge') {
      // Superseded rows are not errors: they leave the batch without going to quarantine.
      superseded = Number((await engine.query(`SELECT count(*) AS n FROM _tb_dups`)).rows[0]!.n);
      await run(
        engine,
        file,
        `DELETE FROM _tb_checked WHERE _record IN (SELECT _record FROM _tb_dups)`,
      );
    } else {
      await run(
        engine,
        file,
        `UPDATE _tb_checked SET _fail = ${s(`duplicate_key:${pk.join('+')}`)} WHERE _record IN (SELECT _record FROM _tb_dups)`,
      );
    }
  }

  const counts = await engine.query(
    `SELECT split_part(_fail, ':', 1) AS reason, count(*) AS n FROM _tb_checked GROUP BY 1`,
  );
  const reasons: Record<string, number> = {};
  let rowsOut = 0;
  for (const r of counts.rows) {
    if (r.reason === null || r.reason === '') rowsOut = Number(r.n);
    else reasons[String(r.reason)] = Number(r.n);
  }
  if (malformed.length) reasons.malformed = malformed.length;
  const rowsRejected = Object.values(reasons).reduce((a, b) => a + b, 0);
  const rowsIn = rowsOut + rowsRejected + superseded;

  if (rowsOut > 0) {
    await run(
      engine,
      file,
      copyRowsSql(
        engine,
        contract,
        batch,
        dataDir,
        `SELECT * FROM _tb_checked WHERE _fail IS NULL`,
      ),
    );
  }

  let quarantine: QuarantineFile | undefined;
  if (rowsRejected > 0) {
    await lineNumbers(engine, reader.format, contract.columns.map(rawTextColumn), malformed);
    const quarantinePath = join(staging, 'quarantine.parquet');
    const nullCols = contract.columns
      .map((c) => `CAST(NULL AS VARCHAR) AS ${q(c.name)}`)
      .join(', ');
    const malformedRows = malformed.length
      ? `UNION ALL SELECT ${s(file)}, NULL, m.line, NULL, 'malformed', m.text, m.message, ${nullCols}
           FROM (VALUES ${malformed.map((m) => `(${m.line ?? 'NULL'}, ${s(m.text)}, ${s(m.message)})`).join(', ')}) AS m(line, text, message)`
      : '';
    await run(
      engine,
      file,
      `COPY (
        SELECT ${s(file)} AS _source_file, c._record AS _record, l._line AS _line,
               split_part(c._fail, ':', 2) AS _column, split_part(c._fail, ':', 1) AS _reason,
               ${compiled.failedValue} AS _value, ${compiled.message} AS _message, ${compiled.textColumns.join(', ')}
          FROM _tb_checked c LEFT JOIN _tb_lines l USING (_record)
         WHERE c._fail IS NOT NULL
        ${malformedRows}
        ORDER BY 2 NULLS LAST, 3)
      TO ${s(quarantinePath)} (${PARQUET})`,
    );
    const key = lakeKeys.quarantineFile(table.source, table.table, batch.id);
    const bytes = (await stat(quarantinePath)).size;
    await store.putFile(key, quarantinePath, { move: true });
    quarantine = { key, rows: rowsRejected, bytes, batch: batch.id, reasons };
  }
  return { contract, rowsIn, rowsOut, reasons, ...(quarantine ? { quarantine } : {}) };
}

/** The foreign keys of a contract, each with the relation of its parent's loaded keys. */
function foreignKeyInputs(
  ctx: ProcessContext,
  contract: Contract,
  parents: ReadonlyMap<string, TableManifest>,
): ForeignKeyInput[] {
  const { engine, store } = ctx;
  const q = engine.dialect.quoteIdentifier;
  const s = engine.dialect.quoteString;
  const out: ForeignKeyInput[] = [];
  for (const c of contract.columns) {
    if (!c.references) continue;
    const [parentTable, parentColumn] = c.references.split('.') as [string, string];
    const files = parents.get(parentTable)?.files.map((f) => store.readableLocation(f.key)) ?? [];
    const type = engine.dialect.typeName(c.type as never);
    out.push({
      column: c.name,
      parentKeys: files.length
        ? `(SELECT DISTINCT ${q(parentColumn)} AS k FROM read_parquet([${files.map(s).join(', ')}]))`
        : `(SELECT CAST(NULL AS ${type}) AS k WHERE false)`,
    });
  }
  return out;
}

/**
 * The COPY writing a batch's valid rows (`rows` yields the contract's columns by name) to the
 * data folder: typed Parquet, Hive-partitioned when the contract says so.
 */
function copyRowsSql(
  engine: Engine,
  contract: Contract,
  batch: LandedBatch,
  dataDir: string,
  rows: string,
): string {
  const q = engine.dialect.quoteIdentifier;
  const s = engine.dialect.quoteString;
  const batchTag = batch.id.slice(0, 16);
  const typedNames = contract.columns.map((c) => q(c.name)).join(', ');
  const partition = contract.partition_by;
  const partKey = partitionName(contract);
  if (partition && partKey) {
    return `COPY (SELECT ${typedNames}, strftime(${q(partition.column)}, ${s(PARTITION_FORMAT[partition.granularity])}) AS ${q(partKey)} FROM (${rows}))
      TO ${s(dataDir)} (${PARQUET}, PARTITION_BY (${q(partKey)}), FILENAME_PATTERN ${s(`part-${batchTag}-{i}`)}, OVERWRITE_OR_IGNORE true)`;
  }
  return `COPY (SELECT ${typedNames} FROM (${rows}))
    TO ${s(join(dataDir, `part-${batchTag}-0.parquet`))} (${PARQUET})`;
}

/**
 * merge: rewrites each loaded file that holds a key of the new batch (`_tb_checked`) without
 * those rows, next to the original under a new name; files without such keys are kept as they
 * are. The originals stay in the lake until the manifest swap makes the rewrites the table.
 */
async function rewriteWithoutKeys(
  ctx: ProcessContext,
  table: SourceTable,
  files: DataFile[],
  batchId: string,
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
    const key = f.key.replace(/\.parquet$/, `-m${batchId.slice(0, 8)}.parquet`);
    const bytes = (await stat(local)).size;
    await store.putFile(key, local, { move: true });
    out.push({ ...f, key, rows, bytes });
  }
  return out;
}

/**
 * After a commit, deletes the data files the previous manifest listed and the new one does not
 * (replaced by `replace`, rewritten by `merge`). Best effort: a file left behind is invisible to
 * readers, who only follow the manifest, and costs only space.
 */
async function sweepUnlisted(
  store: ObjectStore,
  before: TableManifest,
  after: TableManifest,
): Promise<void> {
  const kept = new Set(after.files.map((f) => f.key));
  for (const f of before.files)
    if (!kept.has(f.key)) await store.delete(f.key).catch(() => undefined);
}

/** Engine errors that are about the data being read (bad values, malformed records or JSON). */
const INPUT_ERROR =
  /Malformed JSON|Invalid Input Error|Conversion Error|Invalid unicode|CSV Error/i;

function isInputError(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return INPUT_ERROR.test(message.split('\n')[0]!);
}

/** Runs a processing statement; engine errors about the file become input errors naming it. */
async function run(engine: Engine, file: string, sql: string): Promise<QueryResult> {
  try {
    return await engine.query(sql);
  } catch (err) {
    if (isInputError(err)) {
      const firstLine = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
      const record = /record\/value (\d+)/.exec(firstLine);
      throw new TributaryError(cleanEngineMessage(firstLine, file), {
        code: 'INPUT',
        location: { file, ...(record ? { record: Number(record[1]) } : {}) },
        hint: 'fix or replace the file and drop it again; nothing from it was committed',
        cause: err,
      });
    }
    throw err;
  }
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

/**
 * The crawler's view of a CSV file: DuckDB's type detection on a sample of rows. Detection can
 * fail on odd files; the header's names as text are still a truthful schema then.
 */
async function inferCsvColumns(
  engine: Engine,
  path: string,
  table: SourceTable,
  header: string[],
): Promise<{ name: string; type: string }[]> {
  const s = engine.dialect.quoteString;
  try {
    const { rows } = await engine.query(
      `DESCRIBE SELECT * FROM read_csv(${s(path)}, header = true, hive_partitioning = false, delim = ${s(table.csv.delimiter)},
        quote = ${s(table.csv.quote)}, escape = ${s(table.csv.escape)}, sample_size = 20480)`,
    );
    return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } catch {
    return header.map((name) => ({ name, type: 'VARCHAR' }));
  }
}

interface JsonColumnSpec {
  /** `'a': 'VARCHAR', 'b': 'STRUCT("c" VARCHAR)'` for read_json's columns parameter. */
  columns: string;
  /** The same fields as one STRUCT type body: `"a" VARCHAR, "b" STRUCT("c" VARCHAR)`. */
  struct: string;
  /** The expression reading a dotted field: from the columns, or from the struct `root` when given. */
  access(field: string, root?: string): string;
}

/** Turns dotted field paths (metadata.order_id) into the nested column types read_json needs. */
function jsonColumnSpec(
  fields: string[],
  quoteString: (s: string) => string,
  q: (s: string) => string,
): JsonColumnSpec {
  type Node = Map<string, Node | null>;
  const tree: Node = new Map();
  for (const field of fields) {
    const parts = field.split('.');
    let node = tree;
    parts.forEach((part, i) => {
      const leaf = i === parts.length - 1;
      const existing = node.get(part);
      if (leaf) {
        if (existing instanceof Map) {
          throw new TributaryError(`contract reads both ${field} and fields inside it`, {
            code: 'CONFIG',
            hint: 'read either the whole object or fields inside it',
          });
        }
        node.set(part, null);
      } else {
        if (existing === null) {
          throw new TributaryError(
            `contract reads both ${parts.slice(0, i + 1).join('.')} and ${field}`,
            { code: 'CONFIG', hint: 'read either the whole object or fields inside it' },
          );
        }
        if (!existing) node.set(part, new Map());
        node = node.get(part)!;
      }
    });
  }
  const typeOf = (node: Node | null): string =>
    node === null
      ? 'VARCHAR'
      : `STRUCT(${[...node].map(([k, v]) => `${q(k)} ${typeOf(v)}`).join(', ')})`;
  return {
    columns: [...tree].map(([k, v]) => `${quoteString(k)}: ${quoteString(typeOf(v))}`).join(', '),
    struct: [...tree].map(([k, v]) => `${q(k)} ${typeOf(v)}`).join(', '),
    access: (field, root) => {
      const [first, ...rest] = field.split('.') as [string, ...string[]];
      const start = root ? `struct_extract(${root}, ${quoteString(first)})` : q(first);
      return rest.reduce((expr, part) => `struct_extract(${expr}, ${quoteString(part)})`, start);
    },
  };
}

/** Flattens DuckDB's json_group_structure into dotted column names with types. */
function flattenStructure(value: unknown): { name: string; type: string }[] {
  if (typeof value !== 'string') return [];
  const out: { name: string; type: string }[] = [];
  const walk = (node: unknown, prefix: string): void => {
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      for (const [k, v] of Object.entries(node)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else {
      out.push({
        name: prefix,
        type: Array.isArray(node) ? `LIST(${JSON.stringify(node[0])})` : String(node),
      });
    }
  };
  walk(JSON.parse(value), '');
  return out;
}
