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
  /** Standard `MERGE INTO … USING … ON … WHEN [NOT] MATCHED` works (dbt's merge strategy). */
  mergeStatement: boolean;
  /**
   * Views resolve their columns when queried, so replacing a table leaves views built on it
   * working. When false (PostgreSQL), views bind at creation: replacing a table re-makes the views
   * built on it from their definitions in the same transaction, and drops those whose definition
   * no longer fits the new table (as dbt-postgres drops them all); callers rebuild those.
   */
  lateBindingViews: boolean;
  /** Longest identifier the engine keeps; longer names are silently cut (PostgreSQL: 63). */
  maxIdentifierLength: number;
  /**
   * `SELECT … FOR UPDATE SKIP LOCKED` exists, so several sessions (processes, machines) can take
   * rows from one queue without blocking on or taking the same rows (PostgreSQL yes; DuckDB has
   * one writer process per file and no row locks).
   */
  skipLocked: boolean;
  /**
   * Several processes share the database, and a session can hold a named lock that the server
   * releases when the session ends, however it ends (PostgreSQL's session-level advisory locks: a
   * killed process's connection closes and its locks go with it). False for an embedded database
   * one process owns (a DuckDB file): that process is alone, and its session locks are always its.
   */
  sessionLocks: boolean;
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

/** What a listener hears (Engine.listen). */
export type Notice = { payload: string; lost?: never } | { lost: true; payload?: never };

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
   * Inside a transaction (on its `tx`): waits for the lock named `key` and holds it until the
   * transaction ends, against every session of the database, in this process or another
   * (PostgreSQL's transaction-level advisory lock, scoped to the session's current schema). An
   * embedded database that one process owns (a DuckDB file) has nobody else to wait for, and a
   * transaction already holds its engine: there it returns at once.
   */
  lockInTransaction(key: string): Promise<void>;
  /**
   * Tries, without waiting, to take the session lock named `key` (see capabilities.sessionLocks),
   * scoped as lockInTransaction's; true when this session holds it now. It stays held until
   * unlockSession or the session's end. Where sessionLocks is false it is true at once.
   */
  tryLockSession(key: string): Promise<boolean>;
  /**
   * Whether this session still holds the session lock `key`: false once the connection it was
   * taken on was lost (the server released it, and this engine's next statement opened a new
   * session). Where sessionLocks is false, true while the engine is open.
   */
  holdsSessionLock(key: string): Promise<boolean>;
  /** Releases the session lock `key` if this session holds it. */
  unlockSession(key: string): Promise<void>;
  /**
   * Hears `notify(channel)` from every session of the database, in this process or another
   * (PostgreSQL's LISTEN, on a connection of its own; channels scoped as lockInTransaction's
   * locks). `onNotice` gets each notice's payload, and `{ lost: true }` when the listening
   * connection dropped (notices may have been missed meanwhile); it then listens again, every
   * second until it can. An embedded database that one process owns (a DuckDB file) has nobody
   * else to hear: the handle does nothing. Close it when done.
   */
  listen(channel: string, onNotice: (notice: Notice) => void): Promise<{ close(): Promise<void> }>;
  /** Sends a notice on `channel`; inside a transaction, it is delivered at commit (or never). */
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Another session on the same database, for work that runs alongside this one (its own
   * temporary tables, its own statements in flight). Close it when done; the database stays open.
   */
  fork(): Promise<Engine>;
  /**
   * Called before a table's columns are dropped or retyped in place: drops what the engine keeps
   * on top of the table that would refuse the change (PostgreSQL: the views over it, its masked
   * mirror view among them; in a transaction they are re-made before it commits, outside one the
   * mirror view is back at the next publish). Engines with nothing of the kind leave it out.
   */
  beforeColumnsChange?(schema: string, name: string): Promise<void>;
  /** Creates a schema if it does not exist (remembered, so asking again costs nothing). */
  ensureSchema(schema: string): Promise<void>;
  /** Drops a schema and everything in it, if it exists (and forgets that it was created). */
  dropSchema(schema: string): Promise<void>;
  listTables(schema?: string): Promise<TableInfo[]>;
  /**
   * Column names and types of a table or view, or undefined when it does not exist. Types are
   * usable verbatim in DDL (`ALTER TABLE … ADD COLUMN c <type>`).
   */
  describe(schema: string | undefined, name: string): Promise<ColumnInfo[] | undefined>;
  /** Replaces a table with the result of `select` so readers see the old or the new table, never none. */
  replaceTable(schema: string | undefined, name: string, select: string): Promise<number>;
  /**
   * Replaces a view (or a table of that name) with a view of `select`, whose columns may differ
   * from the old one's. The old relation stays when `select` does not compile.
   */
  replaceView(schema: string | undefined, name: string, select: string): Promise<void>;
  /** Drops a table or view if it exists, with whatever depends on it (CASCADE). */
  dropRelation(schema: string | undefined, name: string): Promise<void>;
  /** Renames a table or view within its schema. */
  renameRelation(schema: string | undefined, from: string, to: string): Promise<void>;
  /**
   * Bulk-loads rows of text values (as read from CSV: '' is an empty string, null is NULL) into an
   * existing table, cast to its column types; returns the number of rows loaded.
   */
  insertRows(
    schema: string | undefined,
    name: string,
    columns: readonly string[],
    rows: readonly (readonly (string | null)[])[],
  ): Promise<number>;
  /**
   * Cancels the statement running on this session, if one is (a step's timeout, a stop): the
   * statement fails with an engine error and the session stays usable.
   */
  interrupt(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What an engine failure is about, decided once by the engine that raised it (from DuckDB's error
 * type, PostgreSQL's SQLSTATE class), so callers branch on a kind instead of matching messages.
 */
export type EngineErrorKind =
  /** The data read or written does not fit: a bad value, a malformed record, invalid encoding. */
  | 'data'
  /** The statement is wrong: syntax, an unknown column or table, mismatched types. */
  | 'statement'
  /** Cancelled by `interrupt()` (a timeout or a stop). */
  | 'interrupted'
  /** Out of memory or disk, too many open files: the machine's limits, not the statement's. */
  | 'resources'
  /** Reading or writing a file failed. */
  | 'io'
  /** A transaction conflict or a lock held elsewhere: may pass when tried again. */
  | 'conflict'
  /** The engine can no longer be used (DuckDB invalidated the database). */
  | 'fatal'
  | 'other';

/**
 * An engine failure, with the statement that caused it kept for `--debug`. `transient` (a
 * conflict: may pass when tried again) is what core's isTransientError reads, so retries follow
 * the engine's classification instead of matching its messages.
 */
export class EngineError extends Error {
  readonly kind: EngineErrorKind;
  readonly transient: boolean;

  constructor(
    message: string,
    readonly sql: string,
    options?: { cause?: unknown; kind?: EngineErrorKind },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.kind = options?.kind ?? 'other';
    this.transient = this.kind === 'conflict';
  }
}

/** The kind of an engine error, or undefined for anything an engine did not raise. */
export function engineErrorKind(err: unknown): EngineErrorKind | undefined {
  return err instanceof EngineError ? err.kind : undefined;
}
