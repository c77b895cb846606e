/**
 * What the serve module's parts share: the read-only SQL runner every query goes through (the
 * API's /api/query, `tributary query`, dashboard tiles) and its results.
 */

import type { Role } from './auth.js';

/** A value bound to a named parameter (`$name` in SQL); never pasted into the SQL text. */
export type ParamValue = string | number | boolean | null;

export interface SqlColumn {
  name: string;
  /** The engine's type name, e.g. BIGINT, DECIMAL(18,2), VARCHAR, DATE. */
  type: string;
  /** How the value is represented in JSON rows. */
  kind: 'number' | 'string' | 'boolean' | 'date' | 'other';
}

export interface SqlResult {
  columns: SqlColumn[];
  /** Rows as JSON-safe objects: BIGINT, HUGEINT and DECIMAL as strings (exact), dates as ISO text. */
  rows: Record<string, unknown>[];
  /** True when the row limit cut the result. */
  truncated: boolean;
  /** The data version the query saw (see SqlRunner.dataVersion). */
  dataVersion: string;
  ms: number;
}

export interface QueryLimits {
  /** At most this many rows are returned (default 10,000). */
  rowLimit?: number;
  /** The statement is interrupted after this long (default 30 s; capped per role). */
  timeoutMs?: number;
  /**
   * Whose query this is: what it may read follows the role's rules (read-policy.ts). Absent:
   * the runner's default role (viewer, unless the runner was made for someone else).
   */
  role?: Role;
}

/**
 * Runs one read-only SELECT (or WITH … SELECT) against the published warehouse snapshot, under
 * the sandbox: no writes, no files outside the lake, no settings, no extensions, bounded time,
 * rows and memory. Refusals are TributaryErrors with code USAGE and a clear message.
 */
export interface SqlRunner {
  query(sql: string, params?: Record<string, ParamValue>, limits?: QueryLimits): Promise<SqlResult>;
  /** An id of the data queries see now; it changes when a run publishes a new snapshot. */
  dataVersion(): string;
  /**
   * A version string for the relations a query reads (e.g. `main.fct_sales`), which changes
   * only when one of them changed: cache keys built from it survive unrelated updates.
   */
  versionOf(sql: string): Promise<string>;
}
