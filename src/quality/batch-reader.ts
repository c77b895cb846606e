/**
 * How a raw batch is read: its format, its header or structure checked against the contract,
 * and the SELECT that yields each contract column's raw string (CSV read with the header's
 * columns, all text, nothing guessed; JSON with declared columns, nested fields as STRUCTs).
 * Connector tables add the columns a batch brings (schema evolution).
 */
import { TributaryError } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import type { TableManifest } from '../lake/index.js';
import type { Contract, FileFormat, SourceTable } from '../project/index.js';
import type { LandedBatch } from '../sources/index.js';
import { run, type LakeEngine } from './batch-io.js';
import { REJECT_MARKS } from './contract-sql.js';
import { readCsvHeader } from './csv-header.js';
import { effectiveContract, evolves, withNewColumns } from './evolution.js';
import type { FileInspection } from './inspect.js';

export function formatOf(table: SourceTable, name: string): FileFormat {
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
export interface BatchReader {
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
  /** Whether the SELECT also yields the REJECT_MARKS columns (records marked when landed). */
  marksRejects: boolean;
}

/**
 * Whether a table's batches may carry records marked as rejected when landed: stream tables,
 * whose flusher lands every event, JSON object or not (src/stream/flush/lines.ts).
 */
export function marksRejects(table: SourceTable): boolean {
  return table.kind === 'stream';
}

/** Checks a batch's header or structure and says how to read it as strings. */
export async function openBatchReader(
  ctx: LakeEngine,
  table: SourceTable,
  batch: LandedBatch,
  manifest: TableManifest,
  format: FileFormat,
  inspection: FileInspection,
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
      strict_mode = true${csvBufferOptions(inspection)}${tolerant ? `, store_rejects = true, rejects_table = '_tb_rejects', rejects_scan = '_tb_scans'` : ''})`;
    return {
      format,
      contract,
      rawColumns,
      select: (tolerant) => `SELECT ${fieldsAs(q)} FROM ${reader(tolerant)}`,
      keepsRejects: true,
      marksRejects: false,
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
  const marks = marksRejects(table) && !table.records ? [...REJECT_MARKS] : [];
  const rawColumns = (
    structure
      ? flattenStructure(structure.rows[0]?.s)
      : fields.map((name) => ({ name, type: 'VARCHAR' }))
  ).filter((c) => !marks.includes(c.name as (typeof REJECT_MARKS)[number]));
  if (evolves(table) && structure) {
    contract = withNewColumns(contract, rawColumns).contract;
    fields = contract.columns.map((c) => c.from ?? c.name);
  }
  // read_json with declared columns parses each record once, straight into strings (numbers and
  // booleans keep their JSON text; nested objects become STRUCTs of strings).
  const spec = jsonColumnSpec([...fields, ...marks], s, q);
  const source = table.records
    ? `(SELECT unnest(${q(table.records)}) AS _r FROM read_json(${s(path)}, format = 'auto', hive_partitioning = false, maximum_object_size = ${batch.bytes + 1},
         columns = {${s(table.records)}: ${s(`STRUCT(${spec.struct})[]`)}}))`
    : `read_json(${s(path)}, format = ${s(jsonFormat)}, hive_partitioning = false, columns = {${spec.columns}})`;
  const markColumns = marks.map((m) => `, ${q(m)}`).join('');
  const select = `SELECT ${fieldsAs((f) => spec.access(f, table.records ? '_r' : undefined))}${markColumns} FROM ${source}`;
  return {
    format,
    contract,
    rawColumns,
    select: () => select,
    keepsRejects: false,
    marksRejects: marks.length > 0,
  };
}

/** DuckDB's CSV defaults: lines up to 2 MB, read in buffers of 16 times that. */
const CSV_DEFAULT_MAX_LINE = 2_000_000;
const CSV_DEFAULT_BUFFER = 16 * CSV_DEFAULT_MAX_LINE;

/**
 * Reader options for a file with long lines. DuckDB refuses a line over `max_line_size` and, when
 * it keeps rejects, silently drops one longer than its buffer (measured: a 33 MB line vanishes
 * with no reject), so both are raised past the file's longest line: a long field is data too.
 * A record spanning several lines inside quotes is longer than any one line; four lines' worth
 * of buffer covers all but absurd files.
 */
function csvBufferOptions(inspection: FileInspection): string {
  if (inspection.longestLine < CSV_DEFAULT_MAX_LINE / 2) return '';
  const maxLine = Math.max(CSV_DEFAULT_MAX_LINE, inspection.longestLine + 1024);
  return `, max_line_size = ${maxLine}, buffer_size = ${Math.max(CSV_DEFAULT_BUFFER, 4 * maxLine)}`;
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
