/**
 * The Engine seam: everything above this folder talks SQL through this interface, so the
 * warehouse can be DuckDB (embedded default) or PostgreSQL without the callers knowing which.
 * Dialect differences are data (capabilities, type names, quoting), never engine-name checks.
 */

/** JSON-safe cell values. BIGINT, DECIMAL and HUGEINT leave as strings so no precision is lost. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type Row = Record<string, JsonValue>;

/** How a column's values arrive in JSON, so clients can align numbers and keep strings intact. */
export type JsonKind = 'boolean' | 'number' | 'string' | 'list' | 'object';

export interface ColumnInfo {
  name: string;
  /** The engine's own type name, e.g. `BIGINT`, `DECIMAL(12,2)`. */
  type: string;
  kind: JsonKind;
}

export interface QueryResult {
  columns: ColumnInfo[];
  rows: Row[];
}

/** Portable logical types used by contracts and the catalog; engines map them to their own names. */
export type LogicalType =
  | 'string'
  | 'integer'
  | 'bigint'
  | 'double'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | `decimal(${number},${number})`;

/** What an engine can do; callers branch on these flags, never on the engine's name. */
export interface EngineCapabilities {
  /** Can SELECT straight from Parquet/CSV/JSON files by path (DuckDB yes, PostgreSQL no). */
  readsFiles: boolean;
  /** Can COPY a query to Parquet files, partitioned. */
  writesParquet: boolean;
  /** DDL inside a transaction is rolled back with it. */
  transactionalDdl: boolean;
  /** `CREATE OR REPLACE TABLE` exists; otherwise replace is create-aside + rename. */
  createOrReplaceTable: boolean;
}

export interface Dialect {
  quoteIdentifier(name: string): string;
  quoteString(value: string): string;
  /** A qualified relation name, each part quoted. */
  relation(schema: string | undefined, name: string): string;
  typeName(type: LogicalType): string;
  /** An expression that casts `expr` to `type`, or NULL when the value does not parse. */
  tryCast(expr: string, type: LogicalType): string;
}

export interface TableInfo {
  schema: string;
  name: string;
  type: 'table' | 'view';
}

export interface Engine {
  /** A stable identifier for logs and the catalog, e.g. `duckdb`. */
  readonly kind: string;
  readonly capabilities: EngineCapabilities;
  readonly dialect: Dialect;
  /** Runs one or more statements, discarding results. */
  exec(sql: string): Promise<void>;
  /** Runs one statement with positional parameters ($1, $2…) and returns all rows. */
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult>;
  /** Runs `fn` in one transaction, holding this engine meanwhile; rolls back if it throws. */
  transaction<T>(fn: (tx: Engine) => Promise<T>): Promise<T>;
  /**
   * Another session on the same database, for work that runs alongside this one (its own
   * temporary tables, its own statements in flight). Close it when done; the database stays open.
   */
  fork(): Promise<Engine>;
  /** Creates a schema if it does not exist (remembered, so asking again costs nothing). */
  ensureSchema(schema: string): Promise<void>;
  listTables(schema?: string): Promise<TableInfo[]>;
  /** Column names and types of a table or view, or undefined when it does not exist. */
  describe(schema: string | undefined, name: string): Promise<ColumnInfo[] | undefined>;
  /** Replaces a table with the result of `select` so readers see the old or the new table, never none. */
  replaceTable(schema: string | undefined, name: string, select: string): Promise<number>;
  close(): Promise<void>;
}

/** An engine failure, with the statement that caused it kept for `--debug`. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly sql: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EngineError';
  }
}
