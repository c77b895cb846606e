/**
 * Seeds: CSV files loaded as tables. Column types are inferred the way dbt's agate tester does
 * (integer, number, boolean, date, timestamp, else text; empty cells are NULL), named as dbt's
 * SQLAdapter names them (`integer` for whole numbers, `float8` for others; dbt-duckdb and
 * dbt-postgres keep those), `column_types` overrides any column, and the whole load is one
 * transaction: readers see the old seed or the new.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { TributaryError } from '../core/index.js';
import type { Engine, LogicalType } from '../engines/index.js';
import type { MaterializeResult } from './materialize.js';
import type { Node } from './types.js';
import { nodeRelationSql } from './relation.js';

type Inferred = Extract<
  LogicalType,
  'integer' | 'double' | 'boolean' | 'date' | 'timestamp' | 'string'
>;

const INTEGER = /^[-+]?\d+$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/;

/**
 * The narrowest type every non-empty value of a column parses as. dbt's tester tries its Integer
 * type first, and an empty cell fits every type, so a column with no value at all is `integer`,
 * as in dbt. Whole numbers are agate Numbers of precision 0, which dbt's SQLAdapter types
 * `integer` (4 bytes): a larger value fails to load, as it does under dbt, unless `column_types`
 * says otherwise.
 */
export function inferSeedType(values: (string | null)[]): Inferred {
  const present = values.filter((v): v is string => v !== null);
  if (!present.length) return 'integer';
  const all = (re: RegExp) => present.every((v) => re.test(v));
  if (all(INTEGER)) return 'integer';
  if (all(NUMBER)) return 'double';
  if (all(BOOLEAN)) return 'boolean';
  if (all(DATE) && present.every((v) => !Number.isNaN(Date.parse(v)))) return 'date';
  if (all(TIMESTAMP)) return 'timestamp';
  return 'string';
}

export interface SeedData {
  columns: string[];
  types: string[];
  rows: (string | null)[][];
}

/** Reads a seed CSV: header row, then records; errors name the file and line. */
async function readSeed(engine: Engine, node: Node): Promise<SeedData> {
  const file = node.original_file_path;
  const text = (await readFile(node.seed_file!, 'utf8')).replace(/^\uFEFF/, '');
  let records: string[][];
  try {
    records = parse(text, {
      delimiter: String(node.config.delimiter ?? ','),
      relax_column_count: false,
      skip_empty_lines: true,
    }) as string[][];
  } catch (err) {
    const e = err as { message: string; lines?: number };
    throw new TributaryError(`seed ${node.name}: ${e.message}`, {
      code: 'INPUT',
      location: { file, ...(e.lines ? { line: e.lines } : {}) },
      hint: 'every row needs as many fields as the header; quote fields that hold the delimiter',
    });
  }
  if (!records.length)
    throw new TributaryError(`seed ${node.name} is empty: it needs a header row`, {
      code: 'INPUT',
      location: { file },
    });
  const columns = records[0]!.map((c) => c.trim());
  const seen = new Set<string>();
  for (const [i, c] of columns.entries()) {
    if (!c)
      throw new TributaryError(`seed ${node.name}: column ${i + 1} of the header has no name`, {
        code: 'INPUT',
        location: { file, line: 1 },
      });
    if (seen.has(c))
      throw new TributaryError(`seed ${node.name}: column ${c} appears twice in the header`, {
        code: 'INPUT',
        location: { file, line: 1 },
      });
    seen.add(c);
  }
  const rows = records.slice(1).map((r) => r.map((v) => (v === '' ? null : v)));
  const overrides = (node.config.column_types ?? {}) as Record<string, string>;
  for (const name of Object.keys(overrides))
    if (!seen.has(name))
      throw new TributaryError(
        `seed ${node.name}: column_types names ${name}, which the CSV does not have`,
        {
          code: 'CONFIG',
          location: { file },
          hint: `columns: ${columns.join(', ')}`,
        },
      );
  const types = columns.map(
    (c, i) => overrides[c] ?? engine.dialect.typeName(inferSeedType(rows.map((r) => r[i] ?? null))),
  );
  return { columns, types, rows };
}

/** Loads a seed as a table, replacing the previous one in a single transaction. */
export async function loadSeed(engine: Engine, node: Node): Promise<MaterializeResult> {
  const data = await readSeed(engine, node);
  const q = engine.dialect.quoteIdentifier;
  const rel = nodeRelationSql(engine.dialect, node, node.alias);
  await engine.ensureSchema(node.schema);
  await engine.transaction(async (tx) => {
    await tx.dropRelation(node.schema, node.alias);
    await tx.exec(
      `CREATE TABLE ${rel} (${data.columns.map((c, i) => `${q(c)} ${data.types[i]}`).join(', ')})`,
    );
    if (data.rows.length) {
      try {
        await tx.insertRows(node.schema, node.alias, data.columns, data.rows);
      } catch (err) {
        throw new TributaryError(
          `seed ${node.name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
          {
            code: 'INPUT',
            location: { file: node.original_file_path },
            hint: 'a value does not fit its column type; set column_types for that column',
            cause: err,
          },
        );
      }
    }
  });
  return { rows: data.rows.length, message: `seed ${rel} (${data.rows.length} rows)` };
}
