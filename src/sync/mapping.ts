/**
 * A sync's field mapping as SQL: each mapped destination field becomes a select-list expression
 * over the source (casts and text transforms included), and the record's hash is an `md5` over
 * those expressions' text, so the hash and the diff run inside the warehouse next to the data
 * (DuckDB or PostgreSQL: only portable SQL and the engine's dialect are used). Constants are not
 * columns: they are added to each record when it is sent, and they enter the hash through the
 * mapping's signature, so changing a constant (or any cast or transform) re-sends every record.
 */
import { createHash } from 'node:crypto';
import { TributaryError } from '../core/index.js';
import type { Dialect, JsonValue, Row } from '../engines/types.js';
import type { SyncRecord } from './destination.js';
import type { FieldTransform, SyncDefinition, SyncFieldMapping } from './types.js';

/** One destination field computed in SQL, as column `f_<i>` of the mapped relation. */
export interface MappedColumn {
  /** The destination field. */
  destination: string;
  /** The column name in the mapped relation (`f_0`, `f_1`…). */
  column: string;
  /** The SQL expression over the source alias `src`. */
  expression: string;
}

/** The mapping compiled for one warehouse. */
export interface CompiledMapping {
  /** Columns computed in SQL, in mapping order. */
  columns: MappedColumn[];
  /** Destination field -> constant value, added to every record in JS. */
  constants: Record<string, string | number | boolean | null>;
  /** The match key as text: `CAST(src.<match> AS <text>)`. */
  keyExpression: string;
  /** The source match column, quoted. */
  keyColumn: string;
  /** `md5(...)` over the mapped columns' text (refer to them through `alias`). */
  hashExpression(alias: string): string;
  /** A digest of the mapping itself: casts, transforms, constants, field names. */
  signature: string;
}

function transformsOf(field: SyncFieldMapping): readonly FieldTransform[] {
  if (field.transform === undefined) return [];
  return typeof field.transform === 'string' ? [field.transform] : field.transform;
}

/** The SQL expression for one mapped field (source column, cast, then transforms). */
function fieldExpression(field: SyncFieldMapping, source: string, dialect: Dialect): string {
  const text = dialect.typeName('string');
  let expr = `src.${dialect.quoteIdentifier(source)}`;
  switch (field.cast) {
    case undefined:
      break;
    case 'string':
      expr = `CAST(${expr} AS ${text})`;
      break;
    case 'number':
      expr = `CAST(${expr} AS ${dialect.typeName('double')})`;
      break;
    case 'boolean':
      expr = `CAST(${expr} AS ${dialect.typeName('boolean')})`;
      break;
    case 'date':
      // An ISO date as text (YYYY-MM-DD) in both engines; timestamps lose their time.
      expr = `CAST(CAST(${expr} AS ${dialect.typeName('date')}) AS ${text})`;
      break;
  }
  for (const t of transformsOf(field)) {
    const fn = t === 'lower' ? 'lower' : t === 'upper' ? 'upper' : 'trim';
    expr = `${fn}(CAST(${expr} AS ${text}))`;
  }
  return expr;
}

function where(def: SyncDefinition, field: SyncFieldMapping): string {
  return `sync ${def.name} (${def.file}, line ${field.line})`;
}

/** Compiles a sync's mapping for one warehouse dialect; refuses a field with no source. */
export function compileMapping(def: SyncDefinition, dialect: Dialect): CompiledMapping {
  const columns: MappedColumn[] = [];
  const constants: Record<string, string | number | boolean | null> = {};
  const seen = new Set<string>();
  for (const field of def.fields) {
    if (seen.has(field.destination))
      throw new TributaryError(
        `${where(def, field)}: destination field ${field.destination} is mapped twice`,
        { code: 'CONFIG', location: { file: def.file, line: field.line } },
      );
    seen.add(field.destination);
    if (field.constant !== undefined) {
      constants[field.destination] = field.constant;
      continue;
    }
    if (field.source === undefined)
      throw new TributaryError(
        `${where(def, field)}: field ${field.destination} has neither a source column nor a constant`,
        { code: 'CONFIG', location: { file: def.file, line: field.line } },
      );
    columns.push({
      destination: field.destination,
      column: `f_${columns.length}`,
      expression: fieldExpression(field, field.source, dialect),
    });
  }
  const text = dialect.typeName('string');
  const signature = createHash('sha256')
    .update(JSON.stringify({ match: def.match, fields: def.fields.map(({ line: _, ...f }) => f) }))
    .digest('hex')
    .slice(0, 16);
  const keyColumn = dialect.quoteIdentifier(def.match.source);
  return {
    columns,
    constants,
    keyColumn,
    keyExpression: `CAST(src.${keyColumn} AS ${text})`,
    signature,
    hashExpression(alias: string): string {
      // Each column's text, NULL as chr(30), joined by chr(31): one cheap pass (a length prefix
      // per column doubled the diff's cost). Two different records hash alike only if a value
      // holds those control characters exactly where they would shift a field boundary.
      const parts = columns.map((c) => `COALESCE(CAST(${alias}.${c.column} AS ${text}), chr(30))`);
      return `md5(concat_ws(chr(31), ${[dialect.quoteString(signature), ...parts].join(', ')}))`;
    },
  };
}

/** The SELECT giving `key`, `f_0…` for every source row with a key (the mapped relation). */
export function mappedSelect(mapping: CompiledMapping, sourceRelation: string): string {
  const select = mapping.columns.map((c) => `${c.expression} AS ${c.column}`);
  return `SELECT ${[`${mapping.keyExpression} AS key`, ...select].join(', ')}
    FROM ${sourceFrom(sourceRelation)} AS src WHERE src.${mapping.keyColumn} IS NOT NULL`;
}

/** A source given as SELECT is wrapped as a subquery; a relation name is used as it is. */
export function sourceFrom(sourceRelation: string): string {
  const trimmed = sourceRelation.trim().replace(/;\s*$/, '');
  return /^(select|with|values|from)\b/i.test(trimmed) || trimmed.startsWith('(')
    ? `(${trimmed})`
    : trimmed;
}

/** A warehouse value as a destination value: lists and objects go as JSON text. */
function destinationValue(value: JsonValue | undefined): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'object') return JSON.stringify(value);
  return value;
}

/** A row of the mapped relation (key, f_0…) as the record sent to the destination. */
export function toSyncRecord(mapping: CompiledMapping, row: Row): SyncRecord {
  const fields: SyncRecord['fields'] = {};
  for (const c of mapping.columns) fields[c.destination] = destinationValue(row[c.column]);
  Object.assign(fields, mapping.constants);
  return { key: String(row.key), fields };
}
