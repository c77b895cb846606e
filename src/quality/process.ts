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
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TributaryError, faultPoint, newId, type ProgressReporter } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import {
  commitManifest,
  lakeKeys,
  parquetScan,
  readManifest,
  type QuarantineFile,
  type RawManifest,
  type TableManifest,
} from '../lake/index.js';
import type { Contract, SourceTable } from '../project/index.js';
import type { LandedBatch } from '../sources/index.js';
import {
  PARQUET,
  copyRowsSql,
  foreignKeyInputs,
  isInputError,
  partitionName,
  publishDataFiles,
  refusalOf,
  rewriteWithoutKeys,
  run,
  settleDuplicateKeys,
  sweepUnlisted,
  type LakeEngine,
  type RowsTarget,
} from './batch-io.js';
import { formatOf, openBatchReader, type BatchReader } from './batch-reader.js';
import { recordForeignKeyCheck, retryForeignKeyRows } from './foreign-key-retry.js';
import {
  REJECT_MARKS,
  compileContract,
  rawTextColumn,
  type CompiledContract,
} from './contract-sql.js';
import { evolveTypes, evolves, schemaOf } from './evolution.js';
import { inspectFile, type FileInspection } from './inspect.js';
import { lineNumbers, type MalformedRecord } from './lines.js';

export interface ProcessContext extends LakeEngine {
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
  /** Rows that waited in quarantine for a parent and were loaded now that it arrived. */
  retriedRows: number;
}

/** An empty manifest for a table that has never been committed. */
export function emptyManifest(table: SourceTable): TableManifest {
  return {
    format: 1,
    table: table.table,
    version: 0,
    updatedAt: '',
    columns: schemaOf(table.contract),
    ...(table.contract.partition_by ? { partitionBy: partitionName(table.contract) } : {}),
    files: [],
    quarantine: [],
    batches: {},
    rejected: {},
  };
}

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
    retriedRows: 0,
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
      // Only what reading and checking the file raises can refuse it; a failure to commit is
      // the lake's, and fails the step.
      const outcome = await processBatch(ctx, table, batch, manifest, parents, staging).catch(
        (err: unknown) => {
          const refusal = refusalOf(err, batch.originalName);
          if (!refusal) throw err;
          return refusal;
        },
      );
      if (outcome instanceof TributaryError) {
        // A file refused whole is recorded as rejected, so the rest of the table and the run go on.
        manifest = await commitManifest(ctx.store, manifestKey, {
          ...manifest,
          rejected: {
            ...manifest.rejected,
            [batch.id]: {
              raw: batch.key,
              error: outcome.format(),
              rejectedAt: new Date().toISOString(),
            },
          },
        });
        result.rejectedFiles.push({ file: batch.originalName, error: outcome });
        continue;
      }
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
    } finally {
      await rm(staging, { recursive: true, force: true });
      await dropTemp(ctx.engine);
    }
  }
  result.manifest = await retryWaitingRows(ctx, table, manifest, parents, raw, result);
  return result;
}

/** Loads rows that waited for a parent, when a parent changed (see foreign-key-retry.ts). */
async function retryWaitingRows(
  ctx: ProcessContext,
  table: SourceTable,
  manifest: TableManifest,
  parents: ReadonlyMap<string, TableManifest>,
  raw: RawManifest | undefined,
  result: ProcessResult,
): Promise<TableManifest> {
  const staging = join(ctx.tmpDir, newId('retry-'));
  const rawOrder = (raw?.batches ?? []).map((b) => b.id);
  try {
    const retry = await retryForeignKeyRows(ctx, table, manifest, parents, rawOrder, staging);
    if (!retry) return manifest;
    let committed = manifest;
    if (retry.manifest) {
      faultPoint(`before-commit:${table.table}`);
      committed = await commitManifest(
        ctx.store,
        lakeKeys.processedManifest(table.table),
        retry.manifest,
      );
      await sweepUnlisted(ctx.store, manifest, committed);
      result.retriedRows = retry.loaded;
    }
    await recordForeignKeyCheck(ctx, table.table, retry.checkedAgainst);
    return committed;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await dropTemp(ctx.engine);
  }
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

const TEMP_TABLES = [
  '_tb_raw',
  '_tb_checked',
  '_tb_dups',
  '_tb_lines',
  '_tb_rejects',
  '_tb_scans',
  '_tb_malformed',
  '_tb_requarantine',
];

async function dropTemp(engine: Engine): Promise<void> {
  await engine
    .exec(TEMP_TABLES.map((t) => `DROP TABLE IF EXISTS ${t};`).join('\n'))
    .catch(() => undefined);
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
  /** Where the valid rows' Parquet files are written (its folder emptied when a pass gives up). */
  target: RowsTarget;
  /** What reading the file once told (its longest line, its blank lines). */
  inspection: FileInspection;
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
  const { store } = ctx;
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

  // Before DuckDB parses anything: JSON nested too deep would crash the process, and a line
  // longer than the CSV reader's buffer would be dropped without a word.
  const inspection = await inspectFile(store.readableLocation(batch.key), {
    json: format !== 'csv',
    file,
  });
  const reader = await openBatchReader(ctx, table, batch, manifest, format, inspection);
  const dataDir = join(staging, 'data');
  await mkdir(dataDir, { recursive: true });
  const target = {
    dir: dataDir,
    fileTag: batch.id.slice(0, 16),
    loadedAt: new Date().toISOString(),
  };
  const job: BatchJob = {
    ctx,
    table,
    batch,
    manifest,
    parents,
    reader,
    target,
    staging,
    inspection,
  };
  // One pass when the batch has no bad row (most do), the full pass when it has.
  const single =
    ctx.singlePass === false
      ? undefined
      : reader.contract.primary_key?.length
        ? await typedPass(job)
        : await cleanPass(job);
  const checked = single ?? (await fullPass(job));
  const { contract } = checked;

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
    kept = await rewriteWithoutKeys(ctx, table, kept, `m${batch.id.slice(0, 8)}`, staging);
  const files = await publishDataFiles(ctx, table, contract, dataDir, batch.id);
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
      rawColumns: reader.rawColumns,
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
  const { ctx, parents, reader, target } = job;
  const { engine } = ctx;
  const { contract } = reader;
  const compiled = compileContract(
    contract,
    engine.dialect,
    foreignKeyInputs(ctx, contract, parents),
    { rejectMarks: reader.marksRejects },
  );
  const rows = `SELECT * FROM (
      SELECT ${compiled.typedColumns.join(', ')}
        FROM (${reader.select(false)}) AS raw ${compiled.joins.join(' ')})
     WHERE ${stopAtFailure(engine, compiled.failure)}`;
  const written = await singlePass(() =>
    engine.query(copyRowsSql(engine, contract, job.target, rows)),
  );
  const count = Number(written?.rows[0]?.Count ?? 0);
  if (!written || count === 0) {
    // The full pass decides what a failed batch, or one without rows, leaves.
    await rm(target.dir, { recursive: true, force: true });
    await mkdir(target.dir, { recursive: true });
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
  const marks = { rejectMarks: reader.marksRejects };
  const columnChecks = compileContract(contract, engine.dialect, [], marks);
  // A marked record fails the pass, so the marks of every row kept are empty.
  const noText = [
    ...contract.columns
      .filter((c) => c.type !== 'string')
      .map((c) => `CAST(NULL AS VARCHAR) AS ${q(rawTextColumn(c))}`),
    ...(reader.marksRejects ? REJECT_MARKS.map((m) => `CAST(NULL AS VARCHAR) AS ${q(m)}`) : []),
  ];
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
  const compiled = compileContract(contract, engine.dialect, foreignKeys, marks);
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
      { rejectMarks: reader.marksRejects },
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
    // DuckDB reports a record once per problem (a short row once per missing column): each record
    // is kept once, with its first problem. Its text stays in the engine (it may hold any byte).
    await engine.exec(
      `CREATE OR REPLACE TEMP TABLE _tb_malformed AS
       SELECT CAST(line AS BIGINT) - 1 AS position, CAST(NULL AS BIGINT) AS _line,
              arg_min(csv_line, coalesce(column_idx, 0)) AS text,
              arg_min(error_message, coalesce(column_idx, 0)) AS message
         FROM _tb_rejects GROUP BY line`,
    );
    const rows = await engine.query(
      `SELECT position, length(t) - length(replace(t, chr(10), '')) AS newlines
         FROM (SELECT position, regexp_replace(coalesce(text, ''), '\r?\n$', '') AS t FROM _tb_malformed)
        ORDER BY position`,
    );
    malformed = rows.rows.map((r) => ({
      position: Number(r.position),
      newlines: Number(r.newlines),
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
  const { ctx, table, batch, manifest, reader, staging } = job;
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
  const superseded = pk.length
    ? await settleDuplicateKeys(engine, file, pk, {
        keepLast: disposition === 'merge',
        ...(disposition === 'append' && manifest.files.length
          ? { loaded: parquetScan(store, manifest.files, manifest.columns, s) }
          : {}),
        onDuplicate: disposition === 'merge' ? 'drop' : 'quarantine',
      })
    : 0;

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
      copyRowsSql(engine, contract, job.target, `SELECT * FROM _tb_checked WHERE _fail IS NULL`),
    );
  }

  let quarantine: QuarantineFile | undefined;
  if (rowsRejected > 0) {
    await lineNumbers(
      engine,
      reader.format,
      contract.columns.map(rawTextColumn),
      malformed,
      job.inspection.blankLines,
    );
    const quarantinePath = join(staging, 'quarantine.parquet');
    const nullCols = contract.columns
      .map((c) => `CAST(NULL AS VARCHAR) AS ${q(c.name)}`)
      .join(', ');
    const malformedRows = malformed.length
      ? `UNION ALL SELECT ${s(file)}, m.position, m._line, NULL, 'malformed', m.text, m.message, ${nullCols}
           FROM _tb_malformed AS m`
      : '';
    await run(
      engine,
      file,
      `COPY (
        SELECT ${s(file)} AS _source_file, coalesce(l._position, c._record) AS _record, l._line AS _line,
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
