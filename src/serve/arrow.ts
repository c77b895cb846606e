/**
 * Query results as an Arrow IPC stream (apache-arrow). Integers that fit 64 bits travel as
 * Int64, other numbers as Float64; DECIMAL and HUGEINT values stay exact as text (apache-arrow's
 * JavaScript decimals are not reliable), as do dates and timestamps (ISO text).
 */
import {
  Bool,
  Float64,
  Int64,
  Table,
  Utf8,
  tableToIPC,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import type { SqlResult } from './types.js';

const INT64 = /^(BIGINT|INTEGER|SMALLINT|TINYINT|UINTEGER|USMALLINT|UTINYINT)$/;

export function toArrowIpc(result: SqlResult): Uint8Array {
  const vectors: Record<string, Vector> = {};
  for (const col of result.columns) {
    const values = result.rows.map((r) => r[col.name]);
    if (INT64.test(col.type)) {
      vectors[col.name] = vectorFromArray(
        values.map((v) => (v === null || v === undefined ? null : BigInt(String(v)))),
        new Int64(),
      );
    } else if (/^(DOUBLE|FLOAT|REAL)$/.test(col.type)) {
      vectors[col.name] = vectorFromArray(
        values.map((v) => (v === null || v === undefined ? null : Number(v))),
        new Float64(),
      );
    } else if (col.type === 'BOOLEAN') {
      vectors[col.name] = vectorFromArray(
        values.map((v) => (v === null || v === undefined ? null : Boolean(v))),
        new Bool(),
      );
    } else {
      vectors[col.name] = vectorFromArray(
        values.map((v) =>
          v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v),
        ),
        new Utf8(),
      );
    }
  }
  return tableToIPC(new Table(vectors), 'stream');
}
