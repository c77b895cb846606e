/** Reading DuckDB's `json_serialize_sql` output: the tables, views and functions a SELECT names. */
import { quoteIdentifier } from '../sql.js';
import type { Engine } from '../types.js';

/**
 * `schema.name` of every base table or view a serialized SELECT reads, in order of first
 * appearance; unqualified names are placed in `defaultSchema`. CTE names are not base tables.
 */
export function relationsInSerializedSql(json: unknown, defaultSchema = 'main'): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.type === 'BASE_TABLE' && typeof o.table_name === 'string') {
      const schema =
        typeof o.schema_name === 'string' && o.schema_name ? o.schema_name : defaultSchema;
      out.add(`${schema}.${o.table_name}`);
    }
    for (const x of Object.values(o)) walk(x);
  };
  walk(json);
  return [...out];
}

/** A name in FROM: a table, a view, a CTE, or a file DuckDB would read by its name. */
export interface NamedRelation {
  /** Empty when the name is unqualified. */
  catalog: string;
  schema: string;
  name: string;
}

/** What a statement names, as far as a read policy cares. Names as written (case kept). */
export interface StatementNames {
  relations: NamedRelation[];
  /** Functions called in FROM (`read_csv(…)`, `glob(…)`, `range(…)`). */
  tableFunctions: string[];
  /** Every other function call (scalar, aggregate, window), including operators by name. */
  functions: string[];
  /** Names the statement's WITH clauses define (anywhere in it). */
  cteNames: string[];
}

/**
 * Everything a serialized statement names, from the whole tree (subqueries, CTE bodies, DESCRIBE
 * and SUMMARIZE of a query, lambda bodies): a policy can then decide on names, not on text.
 * Throws when DuckDB could not serialize the statement (only SELECTs can be).
 */
export function namesInSerializedSql(json: unknown): StatementNames {
  const root = json as { error?: boolean; error_message?: string };
  if (!root || typeof root !== 'object' || root.error)
    throw new Error(root?.error_message ?? 'the statement could not be parsed');
  const out: StatementNames = { relations: [], tableFunctions: [], functions: [], cteNames: [] };
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.type === 'BASE_TABLE' && typeof o.table_name === 'string')
      out.relations.push({
        catalog: str(o.catalog_name),
        schema: str(o.schema_name),
        name: o.table_name,
      });
    if (o.type === 'TABLE_FUNCTION' && o.function && typeof o.function === 'object') {
      const fn = o.function as Record<string, unknown>;
      out.tableFunctions.push(str(fn.function_name));
      // Its arguments may call functions of their own.
      walk(fn.children);
      for (const [k, x] of Object.entries(o)) if (k !== 'function') walk(x);
      return;
    }
    if (o.class === 'FUNCTION' && typeof o.function_name === 'string')
      out.functions.push(o.function_name);
    const cte = o.cte_map as { map?: { key?: unknown }[] } | undefined;
    if (cte && Array.isArray(cte.map))
      for (const entry of cte.map) if (typeof entry.key === 'string') out.cteNames.push(entry.key);
    for (const x of Object.values(o)) walk(x);
  };
  walk((json as { statements?: unknown }).statements);
  return out;
}

/** A name DuckDB reads as a file when it names no table (a replacement scan): path, glob, extension. */
export const FILE_NAME = /[/\\*?]|\.[A-Za-z0-9]+$/;

const isRelative = (path: string) =>
  path !== '' && !path.startsWith('/') && !path.startsWith('~') && !path.includes('://');

/**
 * Makes the relative file paths of a serialized SELECT absolute under `base` (in place): the
 * first argument of a file-reading table function (a string or a list of strings) and a file
 * named in FROM. DuckDB would look a relative path up in the process's working folder first,
 * which is nobody's business here. Returns whether anything changed.
 */
export function anchorRelativeFiles(json: unknown, fileFunctions: Set<string>, base: string) {
  const prefix = base.endsWith('/') ? base : `${base}/`;
  let changed = false;
  const anchor = (node: unknown) => {
    const o = node as Record<string, unknown> | undefined;
    if (!o || typeof o !== 'object') return;
    if (o.class === 'CONSTANT') {
      const value = o.value as { type?: { id?: string }; is_null?: boolean; value?: unknown };
      if (
        value?.type?.id === 'VARCHAR' &&
        typeof value.value === 'string' &&
        isRelative(value.value)
      ) {
        value.value = prefix + value.value;
        changed = true;
      }
    } else if (o.class === 'FUNCTION' && o.function_name === 'list_value')
      for (const child of (o.children as unknown[]) ?? []) anchor(child);
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.type === 'TABLE_FUNCTION' && o.function && typeof o.function === 'object') {
      const fn = o.function as { function_name?: string; children?: unknown[] };
      if (fileFunctions.has(String(fn.function_name).toLowerCase())) anchor(fn.children?.[0]);
    }
    if (
      o.type === 'BASE_TABLE' &&
      typeof o.table_name === 'string' &&
      !o.schema_name &&
      FILE_NAME.test(o.table_name) &&
      isRelative(o.table_name)
    ) {
      o.table_name = prefix + o.table_name;
      changed = true;
    }
    for (const x of Object.values(o)) walk(x);
  };
  walk((json as { statements?: unknown }).statements);
  return changed;
}

/**
 * DuckDB's parse tree of one statement as JSON, parsed (never run) by `engine`, a DuckDB engine
 * (an object with `error` set when it does not parse).
 */
export async function serializeSql(engine: Engine, sql: string): Promise<unknown> {
  const { rows } = await engine.query('SELECT json_serialize_sql(CAST($1 AS VARCHAR)) AS j', [sql]);
  return JSON.parse(String(rows[0]!.j));
}

/**
 * `schema.name` of every table or view a SELECT reads, parsed (never run) by `engine`, a DuckDB
 * engine; [] when DuckDB cannot parse it as one SELECT.
 */
export async function relationsRead(
  engine: Engine,
  sql: string,
  defaultSchema = 'main',
): Promise<string[]> {
  try {
    return relationsInSerializedSql(await serializeSql(engine, sql), defaultSchema);
  } catch {
    return [];
  }
}

/** A table or view a serialized statement names, where its name starts in the text (in bytes). */
export interface TableReference {
  /** Byte offset of the name's first part (the catalog, schema or table) in the UTF-8 text. */
  location: number;
  /** How many dotted parts the name has (1 to 3). */
  parts: number;
}

/**
 * Every BASE_TABLE of a serialized statement with where its name starts, and (`columns`) every
 * column reference of three parts or more (`schema.table.column`, `catalog.schema.table.column`)
 * as a reference of `parts` parts; throws unless one statement.
 */
export function tableReferencesInSerializedSql(
  json: unknown,
): (TableReference & { column?: true })[] {
  const root = json as { error?: boolean; error_message?: string };
  if (!root || typeof root !== 'object' || root.error)
    throw new Error(root?.error_message ?? 'the statement could not be parsed');
  const statements = (json as { statements?: unknown }).statements;
  if (!Array.isArray(statements) || statements.length !== 1) throw new Error('not one statement');
  const out: (TableReference & { column?: true })[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.class === 'COLUMN_REF' && Array.isArray(o.column_names) && o.column_names.length > 2) {
      if (typeof o.query_location !== 'number' || o.query_location < 0)
        throw new Error(`no position for the column ${o.column_names.join('.')}`);
      out.push({ location: o.query_location, parts: o.column_names.length, column: true });
    }
    if (o.type === 'BASE_TABLE' && typeof o.table_name === 'string') {
      if (typeof o.query_location !== 'number' || o.query_location < 0)
        throw new Error(`no position for the table ${o.table_name}`);
      out.push({
        location: o.query_location,
        parts: 1 + (o.schema_name ? 1 : 0) + (o.catalog_name ? 1 : 0),
      });
    }
    for (const x of Object.values(o)) walk(x);
  };
  walk(statements);
  return out;
}

/** One part of a dotted name as written: `"Quoted ""x"""` or `bare`. */
interface NamePart {
  /** The name as PostgreSQL resolves it: a quoted one as written, a bare one folded to lower case. */
  name: string;
  end: number;
}

const BYTE = (s: string) => s.charCodeAt(0);
const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
const isBare = (b: number) =>
  (b >= 0x61 && b <= 0x7a) ||
  (b >= 0x41 && b <= 0x5a) ||
  (b >= 0x30 && b <= 0x39) ||
  b === BYTE('_') ||
  b === BYTE('$') ||
  b >= 0x80;

function readNamePart(text: Buffer, at: number): NamePart | undefined {
  if (text[at] === BYTE('"')) {
    let i = at + 1;
    for (;;) {
      const close = text.indexOf('"', i);
      if (close < 0) return undefined;
      if (text[close + 1] === BYTE('"')) i = close + 2;
      else
        return {
          name: text
            .subarray(at + 1, close)
            .toString('utf8')
            .replace(/""/g, '"'),
          end: close + 1,
        };
    }
  }
  let end = at;
  while (end < text.length && isBare(text[end]!)) end++;
  if (end === at) return undefined;
  return { name: text.subarray(at, end).toString('utf8').toLowerCase(), end };
}

/** The dotted name of `parts` parts starting at byte `at` (spaces allowed around the dots). */
function readDottedName(text: Buffer, at: number, parts: number) {
  const names: string[] = [];
  /** Where each part ends. */
  const ends: number[] = [];
  let i = at;
  for (let n = 0; n < parts; n++) {
    if (n > 0) {
      while (isSpace(text[i] ?? 0)) i++;
      if (text[i] !== BYTE('.')) return undefined;
      i++;
      while (isSpace(text[i] ?? 0)) i++;
    }
    const part = readNamePart(text, i);
    if (!part) return undefined;
    names.push(part.name);
    ends.push(part.end);
    i = part.end;
  }
  return { names, ends, end: i };
}

/**
 * Where a reference's `schema.table` is and what it says, for a table (its last two parts; a
 * catalog before them goes with them) or a column of three parts or more: `schema.table.column`
 * (more parts: fields of the column), or `catalog.schema.table.column` when its first part is not
 * a schema `redirect` maps and its second is. Undefined when nothing in it is to redirect.
 */
function redirectedSpan(
  found: { names: string[]; ends: number[]; end: number },
  column: boolean,
  redirect: (schema: string) => string | undefined,
): { schema: string; table: string; end: number } | undefined {
  const { names, ends } = found;
  if (!column) {
    const [schema, table] = names.slice(-2) as [string, string];
    const target = redirect(schema);
    return target === undefined ? undefined : { schema: target, table, end: found.end };
  }
  for (const at of names.length > 3 ? [0, 1] : [0]) {
    const target = redirect(names[at]!);
    if (target !== undefined) return { schema: target, table: names[at + 1]!, end: ends[at + 1]! };
  }
  return undefined;
}

/**
 * `sql` with each schema-qualified table name whose schema `redirect` maps to another schema
 * written as that schema's (the catalog, if any, dropped): `main.customers c` becomes
 * `"main__masked"."customers" c`. A reference keeps its table name, so `customers.email` still
 * binds; a column named with its schema is redirected too (`main.customers.email` becomes
 * `"main__masked"."customers".email`), or it would name a table no longer in FROM. Unqualified
 * names are left as written (a search_path decides them), and so are schemas `redirect` does not
 * map. Throws when the text at a reference is not the name DuckDB parsed.
 */
export function redirectQualifiedTables(
  sql: string,
  json: unknown,
  redirect: (schema: string) => string | undefined,
): string {
  // DuckDB's positions count UTF-8 bytes, not JavaScript's UTF-16 units.
  const text = Buffer.from(sql, 'utf8');
  const refs = tableReferencesInSerializedSql(json)
    .filter((r) => r.parts > 1)
    .sort((a, b) => a.location - b.location);
  const pieces: Buffer[] = [];
  let copied = 0;
  for (const ref of refs) {
    if (ref.location < copied) continue; // the same reference reached twice in the tree
    const found = readDottedName(text, ref.location, ref.parts);
    if (!found) throw new Error(`cannot read the name at byte ${ref.location}`);
    const span = redirectedSpan(found, ref.column === true, redirect);
    if (span === undefined) continue;
    pieces.push(text.subarray(copied, ref.location));
    pieces.push(
      Buffer.from(`${quoteIdentifier(span.schema)}.${quoteIdentifier(span.table)}`, 'utf8'),
    );
    copied = span.end;
  }
  pieces.push(text.subarray(copied));
  return Buffer.concat(pieces).toString('utf8');
}

/**
 * `sql` (one SELECT) with its schema-qualified references redirected (redirectQualifiedTables),
 * parsed (never run) by `engine`, a DuckDB engine. Throws when DuckDB cannot parse it.
 */
export async function redirectTables(
  engine: Engine,
  sql: string,
  redirect: (schema: string) => string | undefined,
): Promise<string> {
  return redirectQualifiedTables(sql, await serializeSql(engine, sql), redirect);
}
