/**
 * The values Tributary uses from @duckdb/node-api, loaded with `require`: the package is
 * CommonJS, and importing it as an ES module makes node scan each of its files for named exports
 * (cjs-module-lexer) on every start, which cost about as much CPU again as loading it (measured
 * ~350 ms against ~160 ms on this machine). The classes and enums are the same objects.
 */
import { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';

const api = createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB;

export const { DuckDBInstance, DuckDBTypeId, StatementType } = api;
export type DuckDBInstance = DuckDB.DuckDBInstance;
export type DuckDBTypeId = DuckDB.DuckDBTypeId;
export type StatementType = DuckDB.StatementType;
export type { DuckDBConnection, DuckDBResultReader, DuckDBValue } from '@duckdb/node-api';
