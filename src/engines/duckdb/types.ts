/**
 * DuckDB type ids → how their values arrive in JSON. The map is exhaustive over DuckDBTypeId,
 * so a DuckDB upgrade that adds a type does not compile until someone decides how to show it.
 */
import { DuckDBTypeId, type DuckDBResultReader } from './api.js';
import type { ColumnInfo, JsonKind, LogicalType } from '../types.js';

export const jsonKindByTypeId: Record<DuckDBTypeId, JsonKind> = {
  [DuckDBTypeId.INVALID]: 'string',
  [DuckDBTypeId.BOOLEAN]: 'boolean',
  [DuckDBTypeId.TINYINT]: 'number',
  [DuckDBTypeId.SMALLINT]: 'number',
  [DuckDBTypeId.INTEGER]: 'number',
  // 64-bit and wider integers and decimals leave as strings: JSON numbers lose precision past 2^53.
  [DuckDBTypeId.BIGINT]: 'string',
  [DuckDBTypeId.UTINYINT]: 'number',
  [DuckDBTypeId.USMALLINT]: 'number',
  [DuckDBTypeId.UINTEGER]: 'number',
  [DuckDBTypeId.UBIGINT]: 'string',
  [DuckDBTypeId.FLOAT]: 'number',
  [DuckDBTypeId.DOUBLE]: 'number',
  [DuckDBTypeId.TIMESTAMP]: 'string',
  [DuckDBTypeId.DATE]: 'string',
  [DuckDBTypeId.TIME]: 'string',
  [DuckDBTypeId.INTERVAL]: 'string',
  [DuckDBTypeId.HUGEINT]: 'string',
  [DuckDBTypeId.UHUGEINT]: 'string',
  [DuckDBTypeId.VARCHAR]: 'string',
  [DuckDBTypeId.BLOB]: 'string',
  [DuckDBTypeId.DECIMAL]: 'string',
  [DuckDBTypeId.TIMESTAMP_S]: 'string',
  [DuckDBTypeId.TIMESTAMP_MS]: 'string',
  [DuckDBTypeId.TIMESTAMP_NS]: 'string',
  [DuckDBTypeId.ENUM]: 'string',
  [DuckDBTypeId.LIST]: 'list',
  [DuckDBTypeId.STRUCT]: 'object',
  [DuckDBTypeId.MAP]: 'object',
  [DuckDBTypeId.ARRAY]: 'list',
  [DuckDBTypeId.UUID]: 'string',
  [DuckDBTypeId.UNION]: 'object',
  [DuckDBTypeId.BIT]: 'string',
  [DuckDBTypeId.TIME_TZ]: 'string',
  [DuckDBTypeId.TIMESTAMP_TZ]: 'string',
  [DuckDBTypeId.ANY]: 'string',
  [DuckDBTypeId.BIGNUM]: 'string',
  [DuckDBTypeId.SQLNULL]: 'string',
  [DuckDBTypeId.STRING_LITERAL]: 'string',
  [DuckDBTypeId.INTEGER_LITERAL]: 'string',
  [DuckDBTypeId.TIME_NS]: 'string',
  [DuckDBTypeId.GEOMETRY]: 'string',
  [DuckDBTypeId.VARIANT]: 'object',
};

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
  return reader.columnNames().map((name, i) => ({
    name,
    type: types[i]!.toString(),
    kind: jsonKindByTypeId[types[i]!.typeId],
  }));
}
