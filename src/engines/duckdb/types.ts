/**
 * DuckDB type ids → how their values arrive in JSON. The map is exhaustive over DuckDBTypeId,
 * so a DuckDB upgrade that adds a type does not compile until someone decides how to show it.
 */
import { duckdb, type DuckDBTypeId, type DuckDBResultReader } from './api.js';
import type { ColumnInfo, JsonKind, LogicalType } from '../types.js';

let kinds: Record<DuckDBTypeId, JsonKind> | undefined;

/** The map (built on first use: DuckDB loads lazily). */
export function jsonKindByTypeId(): Record<DuckDBTypeId, JsonKind> {
  const T = duckdb().DuckDBTypeId;
  return (kinds ??= {
    [T.INVALID]: 'string',
    [T.BOOLEAN]: 'boolean',
    [T.TINYINT]: 'number',
    [T.SMALLINT]: 'number',
    [T.INTEGER]: 'number',
    // 64-bit and wider integers and decimals leave as strings: JSON numbers lose precision past 2^53.
    [T.BIGINT]: 'string',
    [T.UTINYINT]: 'number',
    [T.USMALLINT]: 'number',
    [T.UINTEGER]: 'number',
    [T.UBIGINT]: 'string',
    [T.FLOAT]: 'number',
    [T.DOUBLE]: 'number',
    [T.TIMESTAMP]: 'string',
    [T.DATE]: 'string',
    [T.TIME]: 'string',
    [T.INTERVAL]: 'string',
    [T.HUGEINT]: 'string',
    [T.UHUGEINT]: 'string',
    [T.VARCHAR]: 'string',
    [T.BLOB]: 'string',
    [T.DECIMAL]: 'string',
    [T.TIMESTAMP_S]: 'string',
    [T.TIMESTAMP_MS]: 'string',
    [T.TIMESTAMP_NS]: 'string',
    [T.ENUM]: 'string',
    [T.LIST]: 'list',
    [T.STRUCT]: 'object',
    [T.MAP]: 'object',
    [T.ARRAY]: 'list',
    [T.UUID]: 'string',
    [T.UNION]: 'object',
    [T.BIT]: 'string',
    [T.TIME_TZ]: 'string',
    [T.TIMESTAMP_TZ]: 'string',
    [T.ANY]: 'string',
    [T.BIGNUM]: 'string',
    [T.SQLNULL]: 'string',
    [T.STRING_LITERAL]: 'string',
    [T.INTEGER_LITERAL]: 'string',
    [T.TIME_NS]: 'string',
    [T.GEOMETRY]: 'string',
    [T.VARIANT]: 'object',
  });
}

/** DuckDB's name for a portable logical type. */
export function duckdbTypeName(type: LogicalType): string {
  switch (type) {
    case 'string':
      return 'VARCHAR';
    case 'integer':
      return 'INTEGER';
    case 'bigint':
      return 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMP';
    default:
      return type.toUpperCase();
  }
}

/** The columns of a result as the Engine interface describes them. */
export function readerColumns(reader: DuckDBResultReader): ColumnInfo[] {
  const types = reader.columnTypes();
  const kinds = jsonKindByTypeId();
  return reader.columnNames().map((name, i) => ({
    name,
    type: types[i]!.toString(),
    kind: kinds[types[i]!.typeId],
  }));
}
