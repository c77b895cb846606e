/**
 * The DuckDB engine: the embedded default warehouse. One instance per database file; queries on
 * the shared connection run one at a time, and a transaction gets a connection of its own.
 */
import { duckdb, type DuckDBInstance, type DuckDBConnection, type DuckDBValue } from './api.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { lazyEngine } from '../lazy.js';
import { ensureSchemaOnce, Mutex, profiled, toTableInfos } from '../session.js';
import { qualified, quoteIdentifier, quoteString } from '../sql.js';
import {
  EngineError,
  type EngineErrorKind,
  type ColumnInfo,
  type Dialect,
  type Engine,
  type EngineCapabilities,
  type JsonValue,
  type LogicalType,
  type QueryResult,
  type Row,
  type TableInfo,
} from '../types.js';
import { duckdbTypeName, readerColumns } from './types.js';

export interface DuckDBEngineOptions {
  /** Database file, or `:memory:`. */
  path: string;
  /** DuckDB settings applied at open, e.g. `{ threads: '2', memory_limit: '4GB' }`. */
  settings?: Record<string, string>;
}

/**
 * TRY_CAST, made as strict as the contract promises: DuckDB's own cast of text rounds '7.5' to
 * an integer and drops the time of '2025-01-02 10:30' for a date, silently. Text must look like
 * an integer or a bare date to be one (PostgreSQL's adapter checks the same shapes).
 */
function duckdbTryCast(expr: string, type: LogicalType): string {
  const cast = (e: string) => `TRY_CAST(${e} AS ${duckdbTypeName(type)})`;
  const text = `CAST(${expr} AS VARCHAR)`;
  // Substring tests, not regular expressions: this runs once per value of every typed column.
  if (type === 'integer' || type === 'bigint')
    return cast(
      `CASE WHEN NOT contains(${text}, '.') AND NOT contains(${text}, 'e') AND NOT contains(${text}, 'E') THEN ${expr} END`,
    );
  if (type === 'date') return cast(`CASE WHEN length(trim(${text})) <= 10 THEN ${expr} END`);
  return cast(expr);
}

export const duckdbDialect: Dialect = {
  quoteIdentifier,
  quoteString,
  relation: qualified,
  typeName: duckdbTypeName,
  tryCast: duckdbTryCast,
};

const capabilities: EngineCapabilities = {
  readsFiles: true,
  writesParquet: true,
  transactionalDdl: true,
  createOrReplaceTable: true,
  mergeStatement: true,
  lateBindingViews: true,
  // DuckDB keeps identifiers of any length.
  maxIdentifierLength: Number.MAX_SAFE_INTEGER,
  skipLocked: false,
  sessionLocks: false,
};

class DuckDBEngineImpl implements Engine {
  readonly kind = 'duckdb';
  readonly capabilities = capabilities;
  readonly dialect = duckdbDialect;
  private readonly lock = new Mutex();
  private closed = false;

  constructor(
    private readonly instance: DuckDBInstance | undefined,
    private readonly connection: DuckDBConnection,
    private readonly ownsInstance: boolean,
    /** A view of the connection inside a transaction: closing it closes nothing. */
    private readonly inTransaction = false,
    /** Schemas known to exist, shared by every session of the database. */
    private readonly schemas = new Map<string, Promise<void>>(),
  ) {}

  async fork(): Promise<Engine> {
    if (!this.instance) throw new Error('cannot fork a session inside a transaction');
    return new DuckDBEngineImpl(
      this.instance,
      await this.instance.connect(),
      false,
      false,
      this.schemas,
    );
  }

  lockInTransaction(): Promise<void> {
    if (!this.inTransaction) throw new Error('lockInTransaction needs a transaction');
    // The database file is this process's alone, and the transaction holds the engine.
    return Promise.resolve();
  }

  // The database file is this process's alone: nobody else to hear from, or to tell.
  listen(): Promise<{ close(): Promise<void> }> {
    return Promise.resolve({ close: () => Promise.resolve() });
  }

  notify(): Promise<void> {
    return Promise.resolve();
  }

  // The database file is this process's alone: nobody else can want its session locks.
  tryLockSession(): Promise<boolean> {
    return Promise.resolve(!this.closed);
  }

  holdsSessionLock(): Promise<boolean> {
    return Promise.resolve(!this.closed);
  }

  unlockSession(): Promise<void> {
    return Promise.resolve();
  }

  interrupt(): Promise<void> {
    // Not behind the lock: the statement to cancel holds it.
    if (!this.closed) this.connection.interrupt();
    return Promise.resolve();
  }

  exec(sql: string): Promise<void> {
    return this.lock.run(async () => {
      const started = performance.now();
      try {
        await this.connection.run(sql);
        profiled(sql, started, undefined);
      } catch (err) {
        throw toEngineError(err, sql);
      }
    });
  }

  query(sql: string, params: readonly unknown[] = []): Promise<QueryResult> {
    return this.lock.run(async () => {
      const started = performance.now();
      try {
        const reader = await this.connection.runAndReadAll(
          sql,
          params.length ? (params.map(toDuckDBValue) as DuckDBValue[]) : undefined,
        );
        const columns = readerColumns(reader);
        const rows = reader.getRowObjectsJson() as Row[];
        return profiled(sql, started, { columns, rows });
      } catch (err) {
        throw toEngineError(err, sql);
      }
    });
  }

  /**
   * Runs `fn` as one transaction on this engine's connection, holding the engine for its whole
   * length: statements from elsewhere wait instead of slipping into the transaction.
   */
  transaction<T>(fn: (tx: Engine) => Promise<T>): Promise<T> {
    if (this.inTransaction) throw new Error('nested transactions are not supported');
    return this.lock.run(async () => {
      const tx = new DuckDBEngineImpl(undefined, this.connection, false, true, this.schemas);
      await tx.exec('BEGIN TRANSACTION');
      try {
        const result = await fn(tx);
        await tx.exec('COMMIT');
        return result;
      } catch (err) {
        await tx.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  ensureSchema(schema: string): Promise<void> {
    return ensureSchemaOnce(this.schemas, schema, () =>
      this.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`),
    );
  }

  async dropSchema(schema: string): Promise<void> {
    this.schemas.delete(schema);
    await this.exec(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  }

  async listTables(schema?: string): Promise<TableInfo[]> {
    const { rows } = await this.query(
      `SELECT table_schema AS schema, table_name AS name, table_type AS type
         FROM information_schema.tables
        WHERE table_catalog = current_database() AND ($1::VARCHAR IS NULL OR table_schema = $1)
          AND table_schema NOT IN ('information_schema', 'pg_catalog')
        ORDER BY 1, 2`,
      [schema ?? null],
    );
    return toTableInfos(rows);
  }

  async describe(schema: string | undefined, name: string): Promise<ColumnInfo[] | undefined> {
    const exists = await this.query(
      `SELECT 1 FROM information_schema.tables
        WHERE table_catalog = current_database() AND table_schema = coalesce($1::VARCHAR, current_schema()) AND table_name = $2`,
      [schema ?? null, name],
    );
    if (exists.rows.length === 0) return undefined;
    const result = await this.query(`SELECT * FROM ${qualified(schema, name)} LIMIT 0`);
    return result.columns;
  }

  async replaceTable(schema: string | undefined, name: string, select: string): Promise<number> {
    const target = qualified(schema, name);
    if (schema) await this.ensureSchema(schema);
    if ((await this.relationKind(schema, name)) === 'view') {
      // CREATE OR REPLACE TABLE refuses to replace a view: drop it in the same transaction.
      await this.atomically(async (tx) => {
        await tx.exec(`DROP VIEW ${target}`);
        await tx.exec(`CREATE TABLE ${target} AS ${select}`);
      });
    } else {
      // CREATE OR REPLACE is atomic in DuckDB: the old table stays visible until the new one commits.
      await this.exec(`CREATE OR REPLACE TABLE ${target} AS ${select}`);
    }
    const { rows } = await this.query(`SELECT count(*) AS n FROM ${target}`);
    return Number(rows[0]!.n);
  }

  async replaceView(schema: string | undefined, name: string, select: string): Promise<void> {
    const target = qualified(schema, name);
    if (schema) await this.ensureSchema(schema);
    // DuckDB's CREATE OR REPLACE VIEW accepts new columns; only a table in the way needs a drop.
    if ((await this.relationKind(schema, name)) === 'table') {
      await this.atomically(async (tx) => {
        await tx.exec(`DROP TABLE ${target}`);
        await tx.exec(`CREATE VIEW ${target} AS ${select}`);
      });
    } else {
      await this.exec(`CREATE OR REPLACE VIEW ${target} AS ${select}`);
    }
  }

  async dropRelation(schema: string | undefined, name: string): Promise<void> {
    const kind = await this.relationKind(schema, name);
    if (kind)
      await this.exec(`DROP ${kind.toUpperCase()} IF EXISTS ${qualified(schema, name)} CASCADE`);
  }

  async renameRelation(schema: string | undefined, from: string, to: string): Promise<void> {
    const kind = (await this.relationKind(schema, from)) ?? 'table';
    await this.exec(
      `ALTER ${kind.toUpperCase()} ${qualified(schema, from)} RENAME TO ${quoteIdentifier(to)}`,
    );
  }

  /**
   * Appends the text values to a VARCHAR temporary table with DuckDB's appender (fast, no SQL
   * per row), then casts them into the target in one INSERT … SELECT, so a value that does not
   * fit its column fails the whole load with DuckDB's own message.
   */
  async insertRows(
    schema: string | undefined,
    name: string,
    columns: readonly string[],
    rows: readonly (readonly (string | null)[])[],
  ): Promise<number> {
    const described = await this.describe(schema, name);
    if (!described) {
      throw new EngineError(`cannot load rows: ${qualified(schema, name)} does not exist`, '');
    }
    const typeOf = new Map(described.map((c) => [c.name, c.type]));
    const staging = `__tb_load_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
    const create = `CREATE TEMPORARY TABLE ${quoteIdentifier(staging)} (${columns
      .map((_, i) => `c${i} VARCHAR`)
      .join(', ')})`;
    const insert = `INSERT INTO ${qualified(schema, name)} (${columns.map(quoteIdentifier).join(', ')})
      SELECT ${columns.map((c, i) => `CAST(c${i} AS ${typeOf.get(c) ?? 'VARCHAR'})`).join(', ')}
        FROM ${quoteIdentifier(staging)}`;
    return this.lock.run(async () => {
      let sql = create;
      try {
        await this.connection.run(create);
        sql = `appender on ${staging}`;
        const appender = await this.connection.createAppender(staging, 'main', 'temp');
        try {
          for (const row of rows) {
            for (let i = 0; i < columns.length; i++) {
              const value = row[i];
              if (value === null || value === undefined) appender.appendNull();
              else appender.appendVarchar(value);
            }
            appender.endRow();
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
        sql = insert;
        await this.connection.run(insert);
        return rows.length;
      } catch (err) {
        throw toEngineError(err, sql);
      } finally {
        await this.connection
          .run(`DROP TABLE IF EXISTS temp.main.${quoteIdentifier(staging)}`)
          .catch(() => undefined);
      }
    });
  }

  /** Whether `name` is a table, a view, or nothing. */
  private async relationKind(
    schema: string | undefined,
    name: string,
  ): Promise<'table' | 'view' | undefined> {
    const { rows } = await this.query(
      `SELECT table_type AS type FROM information_schema.tables
        WHERE table_catalog = current_database() AND table_schema = coalesce($1::VARCHAR, current_schema()) AND table_name = $2`,
      [schema ?? null, name],
    );
    if (rows.length === 0) return undefined;
    return rows[0]!.type === 'VIEW' ? 'view' : 'table';
  }

  /** Runs `fn` in a transaction, or straight on this engine when it already is one. */
  private atomically<T>(fn: (tx: Engine) => Promise<T>): Promise<T> {
    return this.inTransaction ? fn(this) : this.transaction(fn);
  }

  async close(): Promise<void> {
    if (this.closed || this.inTransaction) return;
    this.closed = true;
    await this.lock.run(async () => {
      this.connection.closeSync();
      if (this.ownsInstance) this.instance?.closeSync();
    });
  }
}

function toDuckDBValue(value: unknown): DuckDBValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint' || typeof value === 'boolean' || typeof value === 'string')
    return value;
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value as JsonValue);
}

function toEngineError(err: unknown, sql: string): EngineError {
  const message = err instanceof Error ? err.message : String(err);
  return new EngineError(message, sql, { cause: err, kind: duckdbErrorKind(message) });
}

/** DuckDB's error types (the words before "Error:" that open every message), by kind. */
const DUCKDB_ERROR_KINDS: Record<string, EngineErrorKind> = {
  'Invalid Input': 'data',
  Conversion: 'data',
  'Out of Range': 'data',
  Constraint: 'data',
  Parser: 'statement',
  Binder: 'statement',
  Catalog: 'statement',
  Syntax: 'statement',
  'Not implemented': 'statement',
  Permission: 'statement',
  INTERRUPT: 'interrupted',
  'Out of Memory': 'resources',
  IO: 'io',
  TransactionContext: 'conflict',
  Transaction: 'conflict',
  FATAL: 'fatal',
};

/** Classifies a DuckDB message by its error type; a few IO errors are really the machine's limits. */
export function duckdbErrorKind(message: string): EngineErrorKind {
  const type = /^([A-Za-z ]+?) Error:/.exec(message)?.[1];
  const kind = (type && DUCKDB_ERROR_KINDS[type]) || 'other';
  if (kind === 'io' && /No space left|Too many open files|Disk quota/i.test(message))
    return 'resources';
  if (/Could not set lock on file|Conflict on tuple|write-write conflict/i.test(message))
    return 'conflict';
  if (/database has been invalidated/i.test(message)) return 'fatal';
  return kind;
}

/** Opens (or creates) a DuckDB database file and returns it as an Engine. */
export async function openDuckDB(options: DuckDBEngineOptions): Promise<Engine> {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  let instance: DuckDBInstance;
  try {
    instance = await duckdb().DuckDBInstance.create(options.path, options.settings);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Classified like any statement's failure: another process holding the file is a conflict.
    throw new EngineError(`cannot open DuckDB database ${options.path}: ${message}`, '', {
      cause: err,
      kind: duckdbErrorKind(message),
    });
  }
  const connection = await instance.connect();
  return new DuckDBEngineImpl(instance, connection, true);
}

/**
 * An in-memory DuckDB database opened on first use (see engines/lazy.ts): until a statement runs
 * it costs nothing, and neither DuckDB's library nor its threads are loaded. Its catalog is
 * `memory`, as every in-memory database's. Settings would be checked only when it opens, so a
 * database with settings is opened at once by `openDuckDB` instead.
 */
export function openInMemoryDuckDBLazily(): Engine {
  return lazyEngine(() => openDuckDB({ path: ':memory:' }), {
    kind: 'duckdb',
    capabilities,
    dialect: duckdbDialect,
    processLocal: true,
  });
}
