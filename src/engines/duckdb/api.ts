/**
 * The values Tributary uses from @duckdb/node-api, loaded with `require`: the package is
 * CommonJS, and importing it as an ES module makes node scan each of its files for named exports
 * (cjs-module-lexer) on every start, which cost about as much CPU again as loading it (measured
 * ~350 ms against ~160 ms on this machine). The classes and enums are the same objects. Loaded
 * on first use, not when this module is: a process that never opens a DuckDB database (`compile`
 * of a project on an in-memory target, which opens it only if a macro queries it; the CLI's other
 * commands) does not load the native library at all.
 */
import { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';

let api: typeof DuckDB | undefined;

/** @duckdb/node-api, loaded on the first call. */
export function duckdb(): typeof DuckDB {
  return (api ??= createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB);
}

export type DuckDBInstance = DuckDB.DuckDBInstance;
export type DuckDBTypeId = DuckDB.DuckDBTypeId;
export type StatementType = DuckDB.StatementType;
export type { DuckDBConnection, DuckDBResultReader, DuckDBValue } from '@duckdb/node-api';
