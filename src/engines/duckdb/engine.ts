/**
 * The DuckDB engine: the embedded default warehouse. One instance per database file; queries on
 * the shared connection run one at a time, and a transaction gets a connection of its own.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { qualified, quoteIdentifier, quoteString } from '../sql.js';
import {
  EngineError,
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
import { duckdbTypeName, jsonKindByTypeId } from './types.js';

export interface DuckDBEngineOptions {
  /** Database file, or `:memory:`. */
  path: string;
  /** DuckDB settings applied at open, e.g. `{ threads: '2', memory_limit: '4GB' }`. */
  settings?: Record<string, string>;
}

export const duckdbDialect: Dialect = {
  quoteIdentifier,
  quoteString,
  relation: qualified,
  typeName: duckdbTypeName,
  tryCast: (expr: string, type: LogicalType) => `TRY_CAST(${expr} AS ${duckdbTypeName(type)})`,
};

const capabilities: EngineCapabilities = {
  readsFiles: true,
  writesParquet: true,
  transactionalDdl: true,
  createOrReplaceTable: true,
};

/** With TRIBUTARY_PROFILE=1 every statement's time goes to stderr: where a run spends its time. */
const PROFILE = process.env.TRIBUTARY_PROFILE === '1';
function profiled<T>(sql: string, started: number, result: T): T {
  if (PROFILE) {
    const ms = (performance.now() - started).toFixed(1);
    process.stderr.write(
      `[profile] ${ms.padStart(8)} ms  ${sql.replace(/\s+/g, ' ').slice(0, 140)}\n`,
    );
  }
  return result;
}

/** Serialises async work: DuckDB connections take one statement at a time. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

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
        const names = reader.columnNames();
        const types = reader.columnTypes();
        const columns: ColumnInfo[] = names.map((name, i) => ({
          name,
          type: types[i]!.toString(),
          kind: jsonKindByTypeId[types[i]!.typeId],
        }));
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
    let created = this.schemas.get(schema);
    if (!created) {
      created = this.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
      this.schemas.set(schema, created);
      created.catch(() => this.schemas.delete(schema));
    }
    return created;
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
    return rows.map((r) => ({
      schema: String(r.schema),
      name: String(r.name),
      type: r.type === 'VIEW' ? 'view' : 'table',
    }));
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
    // CREATE OR REPLACE is atomic in DuckDB: the old table stays visible until the new one commits.
    await this.exec(`CREATE OR REPLACE TABLE ${target} AS ${select}`);
    const { rows } = await this.query(`SELECT count(*) AS n FROM ${target}`);
    return Number(rows[0]!.n);
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
  return new EngineError(message, sql, { cause: err });
}

/** Opens (or creates) a DuckDB database file and returns it as an Engine. */
export async function openDuckDB(options: DuckDBEngineOptions): Promise<Engine> {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(options.path, options.settings);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new EngineError(`cannot open DuckDB database ${options.path}: ${message}`, '', {
      cause: err,
    });
  }
  const connection = await instance.connect();
  return new DuckDBEngineImpl(instance, connection, true);
}
