/**
 * Processing (the seeds' Glue ETL job): raw batches → contract checks → typed, partitioned
 * Parquet in the processed zone, with rejected rows in the quarantine zone. Each batch is read
 * once into the engine as strings, checked in one pass, written aside, then committed with one
 * manifest swap, so a crash anywhere leaves the table as it was and a re-run finishes the work.
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
import { compileContract, rawTextColumn, type ForeignKeyInput } from './contract-sql.js';
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

async function processBatch(
  ctx: ProcessContext,
  table: SourceTable,
  batch: LandedBatch,
  manifest: TableManifest,
  parents: ReadonlyMap<string, TableManifest>,
  staging: string,
): Promise<BatchOutcome> {
  const { engine, store } = ctx;
  const q = engine.dialect.quoteIdentifier;
  const s = engine.dialect.quoteString;
  let contract = effectiveContract(table, manifest);
  const path = store.readableLocation(batch.key);
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

  // 1. Read the batch, every field as a string, numbered in file order, and 2. check it in the
  // same pass. One materialised table holds typed values, the original text of non-string
  // columns (for the quarantine) and the first failed check of each row.
  let fields = contract.columns.map((c) => c.from ?? c.name);
  let rawSelect: string;
  let rawColumns: { name: string; type: string }[];
  let rejectsTable = false;
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
    rawColumns = await inferCsvColumns(engine, path, table, header);
    if (evolves(table)) {
      contract = withNewColumns(contract, rawColumns).contract;
      fields = contract.columns.map((c) => c.from ?? c.name);
    }
    // No sniffing: the header decides the columns, all strings, so nothing is guessed or coerced.
    const columns = header.map((h) => `${s(h)}: 'VARCHAR'`).join(', ');
    const reader = `read_csv(${s(path)}, auto_detect = false, header = true, columns = {${columns}}, hive_partitioning = false,
      delim = ${s(table.csv.delimiter)}, quote = ${s(table.csv.quote)}, escape = ${s(table.csv.escape)},
      strict_mode = true, store_rejects = true, rejects_table = '_tb_rejects', rejects_scan = '_tb_scans')`;
    rawSelect = `SELECT ${contract.columns.map((c, i) => `${q(fields[i]!)} AS ${q(c.name)}`).join(', ')}
      FROM ${reader}`;
    rejectsTable = true;
  } else {
    const jsonFormat = format === 'ndjson' ? 'newline_delimited' : 'array';
    // The crawler's view of the file: the structure of its first records, whatever the contract reads.
    const structure = table.records
      ? undefined
      : await run(
          engine,
          file,
          `SELECT json_group_structure(json) AS s FROM (SELECT json FROM read_json_objects(${s(path)}, format = ${s(jsonFormat)}, hive_partitioning = false) LIMIT 1000)`,
        );
    rawColumns = structure
      ? flattenStructure(structure.rows[0]?.s)
      : fields.map((name) => ({ name, type: 'VARCHAR' }));
    if (evolves(table) && structure) {
      contract = withNewColumns(contract, rawColumns).contract;
      fields = contract.columns.map((c) => c.from ?? c.name);
    }
    // read_json with declared columns parses each record once, straight into strings (numbers and
    // booleans keep their JSON text; nested objects become STRUCTs of strings).
    const spec = jsonColumnSpec(fields, engine.dialect.quoteString, q);
    const source = table.records
      ? `(SELECT unnest(${q(table.records)}) AS _r FROM read_json(${s(path)}, format = 'auto', hive_partitioning = false, maximum_object_size = ${batch.bytes + 1},
           columns = {${s(table.records)}: ${s(`STRUCT(${spec.struct})[]`)}}))`
      : `read_json(${s(path)}, format = ${s(jsonFormat)}, hive_partitioning = false, columns = {${spec.columns}})`;
    rawSelect = `SELECT ${contract.columns.map((c, i) => `${spec.access(fields[i]!, table.records ? '_r' : undefined)} AS ${q(c.name)}`).join(', ')}
      FROM ${source}`;
  }

  // The file is read once into a table of strings; its rowid is the record's position in the
  // file (insertion order is kept), which a row_number() window would compute single-threaded.
  await run(engine, file, `CREATE OR REPLACE TEMP TABLE _tb_raw AS ${rawSelect}`);
  const rawRows = `SELECT rowid + 1 AS _record, * FROM _tb_raw`;
  const buildChecked = async () => {
    const foreignKeys: ForeignKeyInput[] = [];
    for (const c of contract.columns) {
      if (!c.references) continue;
      const [parentTable, parentColumn] = c.references.split('.') as [string, string];
      const parent = parents.get(parentTable);
      const files = parent?.files.map((f) => store.readableLocation(f.key)) ?? [];
      const type = engine.dialect.typeName(c.type as never);
      foreignKeys.push({
        column: c.name,
        parentKeys: files.length
          ? `(SELECT DISTINCT ${q(parentColumn)} AS k FROM read_parquet([${files.map(s).join(', ')}]))`
          : `(SELECT CAST(NULL AS ${type}) AS k WHERE false)`,
      });
    }
    const compiledNow = compileContract(contract, engine.dialect, foreignKeys);
    await run(
      engine,
      file,
      `CREATE OR REPLACE TEMP TABLE _tb_checked AS
      SELECT _record, ${compiledNow.retainedColumns.join(', ')}, _fail FROM (
        SELECT raw._record, ${compiledNow.typedColumns.join(', ')}, ${compiledNow.failure} AS _fail
        FROM (${rawRows}) AS raw ${compiledNow.joins.join(' ')})`,
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
  if (rejectsTable) {
    const rejects = await engine.query(
      `SELECT line, csv_line, error_message FROM _tb_rejects ORDER BY line`,
    );
    malformed = rejects.rows.map((r) => ({
      position: Number(r.line) - 1,
      text: String(r.csv_line ?? ''),
      message: String(r.error_message ?? 'malformed CSV record'),
    }));
  }

  // 3. Duplicate keys, among rows that passed. append: later copies in this batch and keys
  // already loaded go to quarantine. merge: the last row of a key in the batch wins (batches of
  // incremental extracts are ordered by their cursor) and replaces the loaded row, below.
  // replace: the batch is the whole table, so only copies inside it count.
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

  // 4. Write valid rows aside: typed Parquet, zstd, Hive-partitioned when the contract says so.
  const batchTag = batch.id.slice(0, 16);
  const dataDir = join(staging, 'data');
  await mkdir(dataDir, { recursive: true });
  const typedNames = contract.columns.map((c) => q(c.name)).join(', ');
  const partition = contract.partition_by;
  const partKey = partitionName(contract);
  if (rowsOut > 0) {
    if (partition && partKey) {
      await run(
        engine,
        file,
        `COPY (SELECT ${typedNames}, strftime(${q(partition.column)}, ${s(PARTITION_FORMAT[partition.granularity])}) AS ${q(partKey)}
          FROM _tb_checked WHERE _fail IS NULL)
        TO ${s(dataDir)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (${q(partKey)}), FILENAME_PATTERN ${s(`part-${batchTag}-{i}`)}, OVERWRITE_OR_IGNORE true)`,
      );
    } else {
      await run(
        engine,
        file,
        `COPY (SELECT ${typedNames} FROM _tb_checked WHERE _fail IS NULL)
        TO ${s(join(dataDir, `part-${batchTag}-0.parquet`))} (FORMAT parquet, COMPRESSION zstd)`,
      );
    }
  }
  const staged = await listFiles(dataDir);
  const fileRows = new Map<string, number>();
  if (staged.length) {
    const meta = await engine.query(
      `SELECT file_name, num_rows FROM parquet_file_metadata([${staged.map((f) => s(join(dataDir, f))).join(', ')}])`,
    );
    for (const r of meta.rows)
      fileRows.set(relative(dataDir, String(r.file_name)).split(sep).join('/'), Number(r.num_rows));
  }

  // 5. Write rejected rows aside with file, record, line, column, reason, value and message.
  let quarantine: QuarantineFile | undefined;
  if (rowsRejected > 0) {
    await lineNumbers(engine, format, contract.columns.map(rawTextColumn), malformed);
    const quarantinePath = join(staging, 'quarantine.parquet');
    const rawCols = contract.columns
      .map((c) => `c.${q(rawTextColumn(c))} AS ${q(c.name)}`)
      .join(', ');
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
               ${compiled.failedValue} AS _value, ${compiled.message} AS _message, ${rawCols}
          FROM _tb_checked c LEFT JOIN _tb_lines l USING (_record)
         WHERE c._fail IS NOT NULL
        ${malformedRows}
        ORDER BY 2 NULLS LAST, 3)
      TO ${s(quarantinePath)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    const key = lakeKeys.quarantineFile(table.source, table.table, batch.id);
    const bytes = (await stat(quarantinePath)).size;
    await store.putFile(key, quarantinePath, { move: true });
    quarantine = { key, rows: rowsRejected, bytes, batch: batch.id, reasons };
  }

  // 6. Move the data files under their final keys; nothing is visible until the manifest names them.
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
  // 7. What stays of the loaded files: all (append), none (replace), or, for merge, every file
  // rewritten without the keys this batch brings (only files holding such keys are touched).
  let kept = manifest.files.filter((f) => f.batch !== batch.id);
  if (disposition === 'replace') kept = [];
  else if (disposition === 'merge' && pk.length && kept.length && rowsOut > 0)
    kept = await rewriteWithoutKeys(ctx, table, kept, batch.id, staging);
  const { [batch.id]: _retried, ...stillRejected } = manifest.rejected;
  return {
    manifest: {
      ...manifest,
      columns: schemaOf(contract),
      files: [...kept, ...files],
      quarantine: [
        ...manifest.quarantine.filter((f) => f.batch !== batch.id),
        ...(quarantine ? [quarantine] : []),
      ],
      batches: {
        ...manifest.batches,
        [batch.id]: {
          raw: batch.key,
          rowsIn,
          rowsOut,
          rowsRejected,
          committedAt: new Date().toISOString(),
        },
      },
      rejected: stillRejected,
    },
    rowsIn,
    rowsOut,
    reasons,
    rawColumns,
  };
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
  const keys = pk.map(q).join(', ');
  const on = pk.map((k) => `f.${q(k)} = n.${q(k)}`).join(' AND ');
  const hits = await engine.query(
    `SELECT DISTINCT f.filename AS file FROM read_parquet([${files.map((f) => s(store.readableLocation(f.key))).join(', ')}], filename = true) AS f
      SEMI JOIN (SELECT ${keys} FROM _tb_checked WHERE _fail IS NULL) AS n ON ${on}`,
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
              ANTI JOIN (SELECT ${keys} FROM _tb_checked WHERE _fail IS NULL) AS n ON ${on})
        TO ${s(local)} (FORMAT parquet, COMPRESSION zstd)`,
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

/** Runs a processing statement; engine errors about the file become input errors naming it. */
async function run(engine: Engine, file: string, sql: string): Promise<QueryResult> {
  try {
    return await engine.query(sql);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const firstLine = message.split('\n')[0]!;
    if (
      /Malformed JSON|Invalid Input Error|Conversion Error|Invalid unicode|CSV Error/i.test(
        firstLine,
      )
    ) {
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
