/**
 * The PostgreSQL engine: the scale-out warehouse (Redshift speaks the same protocol). One pg
 * Pool per opened database; every Engine (the root and each fork) holds one pooled session of its
 * own and runs one statement at a time on it, so temporary tables and settings persist between
 * statements exactly as on DuckDB. Bulk loads go through COPY … FROM STDIN.
 */
import { createRequire } from 'node:module';
import type pgModule from 'pg';
import type { PoolClient, PoolConfig, QueryResult as PgQueryResult } from 'pg';
import type * as PgCopyStreams from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TributaryError } from '../../core/errors.js';
import { ensureSchemaOnce, Mutex, profiled, toTableInfos } from '../session.js';
import { qualified, quoteIdentifier, quoteString } from '../sql.js';
import {
  EngineError,
  type EngineErrorKind,
  type ColumnInfo,
  type Dialect,
  type Engine,
  type EngineCapabilities,
  type LogicalType,
  type Notice,
  type QueryResult,
  type Row,
  type TableInfo,
} from '../types.js';
import { keepViewsOver, restoreViews, type KeptView } from './dependents.js';
import { dropMirrorView } from './masked-mirror.js';
import { pgJsonKind, pgTypeName, pgTypeParsers, postgresTypeName } from './types.js';

/**
 * pg and pg-copy-streams, loaded by the first openPostgres: every command that can reach a
 * warehouse imports this module, and most (a DuckDB project's compile, for one) never open
 * PostgreSQL, so they do not pay for loading the driver at start.
 */
let pg: typeof pgModule | undefined;
let copyFrom: typeof PgCopyStreams.from;

function loadDriver(): typeof pgModule {
  if (!pg) {
    const require = createRequire(import.meta.url);
    copyFrom = (require('pg-copy-streams') as typeof PgCopyStreams).from;
    pg = require('pg') as typeof pgModule;
  }
  return pg;
}

/** A server's error (it has a SQLSTATE code); false while no PostgreSQL was ever opened. */
function isDatabaseError(err: unknown): err is pgModule.DatabaseError {
  return pg !== undefined && err instanceof pg.DatabaseError;
}

export interface PostgresEngineOptions {
  /** `postgres://user:password@host:port/database`; the fields below override its parts. */
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** The search_path: where unqualified names resolve and land. */
  schema?: string;
  /** Most sessions open at once (the root plus its forks and bulk loads). Default 10. */
  poolSize?: number;
}

/** Where the try-cast helper functions live; created on first use. */
const HELPER_SCHEMA = 'tributary';
const USES_HELPERS = /\btributary\.try_cast_/;

const NUMBER_RE = String.raw`^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?\s*$`;
const INTEGER_RE = String.raw`^\s*[+-]?[0-9]{1,30}\s*$`;
const BOOLEAN_RE = String.raw`^\s*(t|true|f|false|y|yes|n|no|1|0)\s*$`;

/**
 * PostgreSQL has no TRY_CAST. Numbers and booleans are checked with a regex and a range test
 * before casting; nested CASEs rather than AND, because the planner folds constant branches and
 * must never reach a CAST whose guard is false. Dates and timestamps, whose grammar is too rich
 * for a regex, go through a small plpgsql helper that catches the cast's error.
 */
function postgresTryCast(expr: string, type: LogicalType): string {
  const v = `CAST((${expr}) AS text)`;
  const guarded = (re: string, range: string, target: string) =>
    `CASE WHEN ${v} ~ '${re}' THEN CASE WHEN ${range} THEN CAST(${v} AS ${target}) END END`;
  const asNumeric = `CAST(${v} AS numeric)`;
  switch (type) {
    case 'string':
      return v;
    case 'integer':
      return guarded(INTEGER_RE, `${asNumeric} BETWEEN -2147483648 AND 2147483647`, 'integer');
    case 'bigint':
      return guarded(
        INTEGER_RE,
        `${asNumeric} BETWEEN -9223372036854775808 AND 9223372036854775807`,
        'bigint',
      );
    case 'double':
      return guarded(NUMBER_RE, `abs(${asNumeric}) <= 1.7976931348623157e308`, 'double precision');
    case 'boolean':
      return `CASE WHEN ${v} ~* '${BOOLEAN_RE}' THEN CAST(${v} AS boolean) END`;
    case 'date':
      // A bare date only: a value with a time of day is not a date (the cast would drop the time).
      return `CASE WHEN trim(${v}) ~ '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$' THEN ${HELPER_SCHEMA}.try_cast_date(${v}) END`;
    case 'timestamp':
      return `${HELPER_SCHEMA}.try_cast_timestamp(${v})`;
    default: {
      const [, p, s] = /decimal\((\d+),(\d+)\)/.exec(type)!;
      return guarded(
        NUMBER_RE,
        `abs(round(${asNumeric}, ${s})) < 1e${Number(p) - Number(s)}`,
        `numeric(${p},${s})`,
      );
    }
  }
}

const postgresDialect: Dialect = {
  quoteIdentifier,
  quoteString,
  relation: qualified,
  typeName: postgresTypeName,
  tryCast: postgresTryCast,
};

const capabilities: EngineCapabilities = {
  readsFiles: false,
  writesParquet: false,
  transactionalDdl: true,
  createOrReplaceTable: false,
  mergeStatement: true,
  lateBindingViews: false,
  maxIdentifierLength: 63,
  skipLocked: true,
  sessionLocks: true,
};

/**
 * The 64-bit advisory lock id of a key: one per database, search_path and key, so two projects'
 * state schemas in one database never contend. (The search_path, not current_schema(), which is
 * NULL until the schema exists, and a lock may be what guards creating it.)
 */
const LOCK_ID = `hashtextextended(current_setting('search_path') || '/' || $1, 0)`;

/** A notice channel's name, scoped as LOCK_ID (and short: channel names stop at 63 bytes). */
const CHANNEL = `'tributary_' || md5(current_setting('search_path') || '/' || $1)`;

/** How long a listener whose connection dropped waits before listening again. */
const RELISTEN_MS = 1000;

/**
 * A session holding a lock asks the server to probe its connection: a holder whose machine
 * vanished without closing it (power, network) loses the lock after about 10 + 3 × 5 s, instead
 * of the operating system's default of two hours. Ignored on Unix-socket connections, which
 * cannot outlive their process.
 */
const KEEPALIVES = [
  'SET tcp_keepalives_idle = 10',
  'SET tcp_keepalives_interval = 5',
  'SET tcp_keepalives_count = 3',
];

/** What every session of one opened database shares. */
interface Shared {
  pool: pgModule.Pool;
  config: PoolConfig;
  /** `host:port/database`, for messages. */
  target: string;
  schemas: Map<string, Promise<void>>;
  helpers: Promise<void> | undefined;
  /** Names of types outside the built-in table (enums, domains), asked of the server once. */
  typeNames: Map<number, string>;
  /** Every open session, so closing the root can end forks left open instead of waiting on them. */
  open: Set<PostgresEngineImpl>;
}

type RelationKeyword = 'TABLE' | 'VIEW' | 'MATERIALIZED VIEW' | 'FOREIGN TABLE';

class PostgresEngineImpl implements Engine {
  readonly kind = 'postgres';
  readonly capabilities = capabilities;
  readonly dialect = postgresDialect;
  private readonly lock = new Mutex();
  private closed = false;
  /**
   * Session locks taken and not released: a session going back to the pool with one would keep
   * it, so such a session is closed instead, and the server releases them.
   */
  private readonly sessionLocksHeld = new Set<string>();
  /** The 'error' listener on this engine's own session, removed when the session goes back. */
  private onError: (() => void) | undefined;
  /**
   * In a transaction: views over relations it dropped (engines/postgres/dependents.ts), re-made
   * before it commits, once what they read is back.
   */
  private kept: KeptView[] = [];

  constructor(
    private readonly shared: Shared,
    /** The root owns the pool: closing it ends every session. */
    private readonly isRoot: boolean,
    /** This engine's session; taken from the pool on first use. */
    private client: PoolClient | undefined = undefined,
    /** A view of a session inside a transaction: closing it releases nothing. */
    private readonly inTransaction = false,
  ) {
    if (!inTransaction) shared.open.add(this);
  }

  /** This engine's session, taken from the pool when first needed or after a broken one. */
  async session(): Promise<PoolClient> {
    if (this.closed) throw new EngineError('this PostgreSQL session is closed', '');
    if (this.client) return this.client;
    let client: PoolClient;
    try {
      client = await this.shared.pool.connect();
    } catch (err) {
      throw connectionError(this.shared.target, err);
    }
    // A checked-out client that loses its connection emits 'error'; unheard, it would crash the
    // process. Forget it instead, so the next statement opens a fresh session.
    this.onError = () => this.forget(client);
    client.on('error', this.onError);
    this.client = client;
    return client;
  }

  async fork(): Promise<Engine> {
    if (this.inTransaction) throw new Error('cannot fork a session inside a transaction');
    const forked = new PostgresEngineImpl(this.shared, false);
    await forked.session();
    return forked;
  }

  async lockInTransaction(key: string): Promise<void> {
    if (!this.inTransaction) throw new Error('lockInTransaction needs a transaction');
    await this.query(`SELECT pg_advisory_xact_lock(${LOCK_ID}) AS locked`, [key]);
  }

  async tryLockSession(key: string): Promise<boolean> {
    if (this.inTransaction) throw new Error('a session lock cannot be taken inside a transaction');
    const { rows } = await this.query(`SELECT pg_try_advisory_lock(${LOCK_ID}) AS locked`, [key]);
    if (rows[0]?.locked !== true) return false;
    this.sessionLocksHeld.add(key);
    for (const sql of KEEPALIVES) await this.exec(sql);
    return this.holdsSessionLock(key); // false when the connection dropped meanwhile
  }

  async holdsSessionLock(key: string): Promise<boolean> {
    // pg_locks shows a bigint advisory lock as its high and low 32 bits (objsubid 1).
    const { rows } = await this.query(
      `WITH k AS (SELECT ${LOCK_ID} AS id)
       SELECT EXISTS (
         SELECT 1 FROM pg_catalog.pg_locks l, k
         WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.granted
           AND l.objsubid = 1 AND l.classid = ((k.id >> 32) & 4294967295)::oid
           AND l.objid = (k.id & 4294967295)::oid) AS held`,
      [key],
    );
    return rows[0]?.held === true;
  }

  async listen(
    channel: string,
    onNotice: (notice: Notice) => void,
  ): Promise<{ close(): Promise<void> }> {
    const { shared } = this;
    let client: pgModule.Client | undefined;
    let closed = false;
    let retry: NodeJS.Timeout | undefined;
    const connect = async (): Promise<void> => {
      const c = new (loadDriver().Client)(shared.config);
      c.on('error', () => undefined); // followed by 'end', handled there
      try {
        await c.connect();
        const { rows } = await c.query<{ name: string }>(`SELECT ${CHANNEL} AS name`, [channel]);
        const name = rows[0]!.name;
        c.on('notification', (m) => {
          if (m.channel === name) onNotice({ payload: m.payload ?? '' });
        });
        await c.query(`LISTEN ${quoteIdentifier(name)}`);
      } catch (err) {
        await c.end().catch(() => undefined);
        throw connectionError(shared.target, err);
      }
      c.once('end', () => {
        client = undefined;
        if (closed) return;
        onNotice({ lost: true });
        relisten();
      });
      client = c;
      if (closed) await c.end().catch(() => undefined);
    };
    const relisten = () => {
      retry = setTimeout(() => void connect().catch(relisten), RELISTEN_MS);
    };
    await connect();
    return {
      close: async () => {
        closed = true;
        clearTimeout(retry);
        await client?.end().catch(() => undefined);
      },
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.query(`SELECT pg_notify(${CHANNEL}, $2) AS sent`, [channel, payload]);
  }

  async unlockSession(key: string): Promise<void> {
    // pg_advisory_unlock warns (and returns false) when the lock is not held: ask first.
    if (await this.holdsSessionLock(key))
      await this.query(`SELECT pg_advisory_unlock(${LOCK_ID}) AS unlocked`, [key]);
    this.sessionLocksHeld.delete(key);
  }

  async interrupt(): Promise<void> {
    // Cancelling takes another connection: this session is busy with the statement to cancel.
    const pid = (this.client as unknown as { processID?: number } | undefined)?.processID;
    if (this.closed || !pid) return;
    await this.shared.pool.query('SELECT pg_cancel_backend($1)', [pid]);
  }

  /** Runs SQL on this session (several statements go through the simple query protocol). */
  private async run(sql: string, params?: readonly unknown[]): Promise<PgQueryResult> {
    if (USES_HELPERS.test(sql)) await this.ensureHelpers();
    const client = await this.session();
    const started = performance.now();
    try {
      const result = (await (params && params.length
        ? client.query(sql, params.map(toPgValue))
        : client.query(sql))) as PgQueryResult | PgQueryResult[];
      return profiled(sql, started, Array.isArray(result) ? result[result.length - 1]! : result);
    } catch (err) {
      if (isConnectionFailure(err)) this.forget(client);
      throw toEngineError(err, sql, this.shared.target);
    }
  }

  /**
   * Drops a session whose connection broke, so the next statement opens a fresh one. Inside a
   * transaction nothing is dropped: the engine that began it owns the session and drops it.
   */
  private forget(client: PoolClient): void {
    if (this.inTransaction || this.client !== client) return;
    this.giveBack(true);
  }

  /** Returns this engine's session to the pool (destroying it when `broken`). */
  private giveBack(broken = false): void {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.onError) client.off('error', this.onError);
    this.onError = undefined;
    // A session holding session locks is closed, not pooled: closing releases them.
    client.release(broken || this.sessionLocksHeld.size > 0);
    this.sessionLocksHeld.clear();
  }

  exec(sql: string): Promise<void> {
    return this.lock.run(async () => {
      await this.run(sql);
    });
  }

  query(sql: string, params: readonly unknown[] = []): Promise<QueryResult> {
    return this.lock.run(async () => {
      const result = await this.run(sql, params);
      const fields = result.fields ?? [];
      await this.resolveTypeNames(fields.map((f) => f.dataTypeID));
      const columns: ColumnInfo[] = fields.map((f) => ({
        name: f.name,
        type:
          pgTypeName(f.dataTypeID, f.dataTypeModifier) ??
          this.shared.typeNames.get(f.dataTypeID) ??
          String(f.dataTypeID),
        kind: pgJsonKind(f.dataTypeID),
      }));
      return { columns, rows: (result.rows ?? []) as Row[] };
    });
  }

  /** Asks the server, once per pool, for the names of types outside the built-in table. */
  private async resolveTypeNames(oids: number[]): Promise<void> {
    const unknown = [
      ...new Set(
        oids.filter((o) => pgTypeName(o, -1) === undefined && !this.shared.typeNames.has(o)),
      ),
    ];
    if (unknown.length === 0) return;
    const { rows } = await this.run(
      `SELECT oid, format_type(oid, NULL) AS name FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])`,
      [unknown],
    );
    for (const r of rows as { oid: number; name: string }[])
      this.shared.typeNames.set(r.oid, r.name);
  }

  /**
   * Runs `fn` as one transaction on this engine's session, holding the engine for its whole
   * length: statements from elsewhere wait instead of slipping into the transaction.
   */
  transaction<T>(fn: (tx: Engine) => Promise<T>): Promise<T> {
    if (this.inTransaction) throw new Error('nested transactions are not supported');
    return this.lock.run(async () => {
      const client = await this.session();
      const tx = new PostgresEngineImpl(this.shared, false, client, true);
      await tx.exec('BEGIN');
      try {
        const result = await fn(tx);
        await tx.restoreKept();
        await tx.exec('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
          // The session died mid-transaction: nothing to roll back, and it must not be reused.
          if (isConnectionFailure(rollbackErr)) this.forget(client);
        });
        throw err;
      }
    });
  }

  ensureSchema(schema: string): Promise<void> {
    return ensureSchemaOnce(this.shared.schemas, schema, () =>
      this.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`).catch((err: unknown) => {
        // Two sessions creating the same schema at once: the loser sees a duplicate; it exists.
        if (pgCode(err) === '23505' || pgCode(err) === '42P06') return;
        throw err;
      }),
    );
  }

  async dropSchema(schema: string): Promise<void> {
    this.shared.schemas.delete(schema);
    await this.exec(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  }

  async listTables(schema?: string): Promise<TableInfo[]> {
    const { rows } = await this.query(
      `SELECT table_schema AS schema, table_name AS name, table_type AS type
         FROM information_schema.tables
        WHERE table_catalog = current_database() AND ($1::text IS NULL OR table_schema = $1)
          AND table_schema NOT IN ('information_schema', 'pg_catalog')
          AND table_schema NOT LIKE 'pg\\_temp\\_%' AND table_schema NOT LIKE 'pg\\_toast%'
        ORDER BY 1, 2`,
      [schema ?? null],
    );
    return toTableInfos(rows);
  }

  async describe(schema: string | undefined, name: string): Promise<ColumnInfo[] | undefined> {
    // format_type prints the type as DDL takes it back: numeric(12,2), character varying(20)…
    const { rows } = await this.query(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.atttypid AS oid
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_catalog.pg_attribute a
           ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname = coalesce($1::text, current_schema()) AND c.relname = $2
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
        ORDER BY a.attnum`,
      [schema ?? null, name],
    );
    if (rows.length === 0) return undefined;
    return rows
      .filter((r) => r.name !== null)
      .map((r) => ({
        name: String(r.name),
        type: String(r.type),
        kind: pgJsonKind(Number(r.oid)),
      }));
  }

  /**
   * dbt-postgres's table swap: build the new table aside (the old one serves readers meanwhile
   * and stays when the select fails), then in one transaction move the old one to a backup name,
   * move the new one in, and drop the backup. The drop cascades to views built on the old table
   * (PostgreSQL views bind to the table itself, not its name: see `lateBindingViews`), so the
   * same transaction re-makes them over the new one (dependents.ts): no reader sees them gone.
   */
  async replaceTable(schema: string | undefined, name: string, select: string): Promise<number> {
    if (schema) await this.ensureSchema(schema);
    const aside = asideName(name, '__tb_tmp');
    await this.dropRelation(schema, aside);
    const sql = `CREATE TABLE ${qualified(schema, aside)} AS ${select}`;
    const created = await this.lock.run(() => this.run(sql));
    await this.swapIn(schema, aside, name);
    return created.rowCount ?? 0;
  }

  /**
   * CREATE OR REPLACE VIEW cannot drop, rename or retype columns, so as dbt-postgres does: create
   * the view aside (a select that does not compile leaves the old view alone), then swap it in.
   */
  async replaceView(schema: string | undefined, name: string, select: string): Promise<void> {
    if (schema) await this.ensureSchema(schema);
    const aside = asideName(name, '__tb_tmp');
    await this.dropRelation(schema, aside);
    await this.exec(`CREATE VIEW ${qualified(schema, aside)} AS ${select}`);
    await this.swapIn(schema, aside, name);
  }

  /** Renames `aside` to `name` in one transaction, dropping whatever held `name` before. */
  private async swapIn(schema: string | undefined, aside: string, name: string): Promise<void> {
    const backup = asideName(name, '__tb_backup');
    await this.atomically(async (tx) => {
      const old = await relationKeyword(tx, schema, name);
      // Before anything else takes the old relation: its views first (see keepViewsOver).
      const kept = old ? await keepViewsOver(tx, schema, name) : [];
      const stale = await relationKeyword(tx, schema, backup);
      if (stale) await tx.exec(`DROP ${stale} ${qualified(schema, backup)} CASCADE`);
      if (old) {
        await tx.exec(
          `ALTER ${old} ${qualified(schema, name)} RENAME TO ${quoteIdentifier(backup)}`,
        );
      }
      await tx.exec(`ALTER TABLE ${qualified(schema, aside)} RENAME TO ${quoteIdentifier(name)}`);
      if (old) await tx.exec(`DROP ${old} ${qualified(schema, backup)} CASCADE`);
      await restoreViews(tx, kept);
    });
  }

  /**
   * In a transaction, every view over the table is kept and dropped, and re-made (its masked
   * mirror view from the new columns) before the transaction commits; outside one, the table's
   * mirror view is dropped until the next publish.
   */
  async beforeColumnsChange(schema: string, name: string): Promise<void> {
    if (!this.inTransaction) return dropMirrorView(this, schema, name);
    const kept = await keepViewsOver(this, schema, name);
    this.kept.push(...kept);
    const direct = kept.filter((v) => v.depth === 1);
    if (direct.length)
      await this.exec(
        `DROP VIEW IF EXISTS ${direct.map((v) => qualified(v.schema, v.name)).join(', ')} CASCADE`,
      );
  }

  /**
   * Drops a relation and (CASCADE) the views over it; in a transaction, those views are re-made
   * before it commits when what they read is back by then (a table dropped and created again).
   */
  async dropRelation(schema: string | undefined, name: string): Promise<void> {
    const keyword = await relationKeyword(this, schema, name);
    if (!keyword) return;
    if (this.inTransaction) this.kept.push(...(await keepViewsOver(this, schema, name)));
    await this.exec(`DROP ${keyword} IF EXISTS ${qualified(schema, name)} CASCADE`);
  }

  /** Re-makes the views kept in this transaction (called before it commits). */
  private async restoreKept(): Promise<void> {
    const kept = this.kept;
    this.kept = [];
    await restoreViews(this, kept);
  }

  async renameRelation(schema: string | undefined, from: string, to: string): Promise<void> {
    const keyword = (await relationKeyword(this, schema, from)) ?? 'TABLE';
    await this.exec(`ALTER ${keyword} ${qualified(schema, from)} RENAME TO ${quoteIdentifier(to)}`);
  }

  /**
   * COPY … FROM STDIN in CSV: every value is quoted, so '' arrives as an empty string while an
   * unquoted empty field is NULL; PostgreSQL casts the text to each column's type.
   */
  insertRows(
    schema: string | undefined,
    name: string,
    columns: readonly string[],
    rows: readonly (readonly (string | null)[])[],
  ): Promise<number> {
    const sql = `COPY ${qualified(schema, name)} (${columns.map(quoteIdentifier).join(', ')}) FROM STDIN WITH (FORMAT csv)`;
    return this.lock.run(async () => {
      const client = await this.session();
      const started = performance.now();
      const stream = client.query(copyFrom(sql));
      try {
        await pipeline(Readable.from(csvChunks(rows, columns.length)), stream);
      } catch (err) {
        if (isConnectionFailure(err)) this.forget(client);
        throw toEngineError(err, sql, this.shared.target);
      }
      return profiled(sql, started, stream.rowCount);
    });
  }

  /** Creates the try-cast helper functions once per database, on a connection of their own. */
  private ensureHelpers(): Promise<void> {
    this.shared.helpers ??= installHelpers(this.shared).catch((err: unknown) => {
      this.shared.helpers = undefined;
      throw err;
    });
    return this.shared.helpers;
  }

  /** Runs `fn` in a transaction, or straight on this engine when it already is one. */
  private atomically<T>(fn: (tx: Engine) => Promise<T>): Promise<T> {
    return this.inTransaction ? fn(this) : this.transaction(fn);
  }

  async close(): Promise<void> {
    if (this.closed || this.inTransaction) return;
    await this.lock.run(async () => {
      this.shared.open.delete(this);
      this.detach();
      if (this.isRoot) {
        // pool.end() waits for every checked-out session: end the forks still open first.
        for (const fork of this.shared.open) fork.detach();
        this.shared.open.clear();
        await this.shared.pool.end();
      }
    });
  }

  /** Marks this engine closed and gives its session back to the pool. */
  private detach(): void {
    this.closed = true;
    this.giveBack();
  }
}

/** The relation's kind as DDL names it, or undefined when there is none. */
async function relationKeyword(
  engine: Engine,
  schema: string | undefined,
  name: string,
): Promise<RelationKeyword | undefined> {
  const { rows } = await engine.query(
    `SELECT c.relkind AS kind FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = coalesce($1::text, current_schema()) AND c.relname = $2
        AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [schema ?? null, name],
  );
  switch (rows[0]?.kind) {
    case undefined:
      return undefined;
    case 'v':
      return 'VIEW';
    case 'm':
      return 'MATERIALIZED VIEW';
    case 'f':
      return 'FOREIGN TABLE';
    default:
      return 'TABLE';
  }
}

/**
 * `name` plus a suffix, kept within PostgreSQL's 63-byte identifiers: a long name is cut and
 * given a short hash, so two long names never share a scratch relation.
 */
function asideName(name: string, suffix: string): string {
  const full = `${name}${suffix}`;
  if (Buffer.byteLength(full) <= 63) return full;
  let hash = 0;
  for (const ch of name) hash = (Math.imul(hash, 31) + ch.codePointAt(0)!) >>> 0;
  const tag = `_${hash.toString(36)}${suffix}`;
  let head = name;
  while (Buffer.byteLength(head + tag) > 63) head = head.slice(0, -1);
  return head + tag;
}

/** Rows as CSV text in chunks of about 64 KB, every value quoted so '' stays distinct from NULL. */
function* csvChunks(
  rows: readonly (readonly (string | null)[])[],
  width: number,
): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    for (let i = 0; i < width; i++) {
      const value = row[i];
      if (i > 0) chunk += ',';
      if (value !== null && value !== undefined) chunk += `"${value.replaceAll('"', '""')}"`;
    }
    chunk += '\n';
    if (chunk.length >= 65536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

const HELPERS_SQL = `
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('tributary.helpers'));
CREATE SCHEMA IF NOT EXISTS ${HELPER_SCHEMA};
CREATE OR REPLACE FUNCTION ${HELPER_SCHEMA}.try_cast_date(v text) RETURNS date
  LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN v::date; EXCEPTION WHEN others THEN RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION ${HELPER_SCHEMA}.try_cast_timestamp(v text) RETURNS timestamp
  LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN v::timestamp; EXCEPTION WHEN others THEN RETURN NULL; END $$;
COMMIT;`;

/**
 * Creates the helpers unless they exist, on a separate connection: the asking session may be in
 * a transaction that could roll them back, and every pooled session may be taken.
 */
async function installHelpers(shared: Shared): Promise<void> {
  const client = new (loadDriver().Client)(shared.config);
  try {
    await client.connect();
  } catch (err) {
    throw connectionError(shared.target, err);
  }
  try {
    const { rows } = await client.query<{ ok: boolean }>(
      `SELECT to_regprocedure('${HELPER_SCHEMA}.try_cast_date(text)') IS NOT NULL
          AND to_regprocedure('${HELPER_SCHEMA}.try_cast_timestamp(text)') IS NOT NULL AS ok`,
    );
    if (!rows[0]?.ok) await client.query(HELPERS_SQL);
  } catch (err) {
    const e = toEngineError(err, HELPERS_SQL, shared.target);
    e.message = `cannot create the try-cast helpers in schema "${HELPER_SCHEMA}": ${e.message}`;
    throw e;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function toPgValue(value: unknown): unknown {
  if (value === undefined) return null;
  // DuckDB takes dates as ISO text too; pg would otherwise print them in the local time zone.
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** The SQLSTATE of a server error, also when it arrives wrapped in an EngineError (`exec`). */
function pgCode(err: unknown): string | undefined {
  const cause = err instanceof EngineError ? err.cause : err;
  return isDatabaseError(cause) ? cause.code : undefined;
}

/** Errors raised while talking to a server, as opposed to errors in the SQL itself. */
function isConnectionFailure(err: unknown): boolean {
  if (isDatabaseError(err)) return /^(08|57P0[123]|28)/.test(err.code ?? '');
  const code = (err as { code?: unknown } | undefined)?.code;
  return (
    (typeof code === 'string' &&
      /^E(CONNREFUSED|CONNRESET|NOTFOUND|HOSTUNREACH|TIMEDOUT|PIPE)/.test(code)) ||
    (err instanceof Error && /Connection terminated|not queryable/.test(err.message))
  );
}

function connectionError(target: string, err: unknown, lost = false): TributaryError {
  const message = err instanceof Error ? err.message || String(err) : String(err);
  const what = lost ? 'lost the connection to' : 'cannot connect to';
  return new TributaryError(`${what} PostgreSQL at ${target}: ${message}`, {
    code: 'ENGINE',
    hint:
      'start PostgreSQL (or check it listens there), and check the url, user, password and ' +
      'database given for the PostgreSQL engine',
    cause: err,
  });
}

/**
 * PostgreSQL's message with its detail, hint and the position it points at (line, column and
 * the line itself), so the error reads on its own; the SQL is kept whole on the EngineError.
 */
function toEngineError(err: unknown, sql: string, target: string): EngineError | TributaryError {
  if (isConnectionFailure(err)) return connectionError(target, err, true);
  if (!isDatabaseError(err)) {
    return new EngineError(err instanceof Error ? err.message : String(err), sql, { cause: err });
  }
  const parts = [err.message];
  if (err.position) {
    const offset = Number(err.position) - 1;
    const before = sql.slice(0, offset).split('\n');
    const line = before.length;
    const column = before[before.length - 1]!.length + 1;
    const text = sql.split('\n')[line - 1]?.trim() ?? '';
    parts.push(`at line ${line}, column ${column}: ${text.slice(0, 200)}`);
  }
  if (err.detail) parts.push(`detail: ${err.detail}`);
  if (err.hint) parts.push(`hint: ${err.hint}`);
  if (err.where && !err.position) parts.push(`where: ${err.where}`);
  return new EngineError(parts.join('\n  '), sql, { cause: err, kind: sqlstateKind(err.code) });
}

/** PostgreSQL's SQLSTATE classes (the first two characters of the code), by kind. */
const SQLSTATE_KINDS: Record<string, EngineErrorKind> = {
  '22': 'data', // data exception
  '23': 'data', // integrity constraint violation
  '42': 'statement', // syntax error or access rule violation
  '0A': 'statement', // feature not supported
  '53': 'resources', // insufficient resources
  '54': 'resources', // program limit exceeded
  '40': 'conflict', // transaction rollback (serialization failure, deadlock)
  '58': 'io', // system error (I/O)
  XX: 'fatal', // internal error
};

/** Classifies a PostgreSQL error by its SQLSTATE. */
function sqlstateKind(code: string | undefined): EngineErrorKind {
  if (code === '57014') return 'interrupted'; // query_canceled
  if (code === '55P03') return 'conflict'; // lock_not_available
  return (code && SQLSTATE_KINDS[code.slice(0, 2)]) || 'other';
}

/** Backslash-escapes spaces and backslashes for the startup `options` string. */
function optionValue(value: string): string {
  return value.replace(/([\\ ])/g, '\\$1');
}

/** `host:port/database`, for messages, from the options as pg will read them. */
function describeTarget(options: PostgresEngineOptions): string {
  let host = options.host;
  let port = options.port;
  let database = options.database;
  if (options.url) {
    try {
      const url = new URL(options.url);
      host ??= decodeURIComponent(url.hostname) || undefined;
      port ??= url.port ? Number(url.port) : undefined;
      database ??= decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined;
    } catch {
      // Not a URL pg can read either; pg's own error will say so.
    }
  }
  return `${host ?? process.env.PGHOST ?? 'localhost'}:${port ?? process.env.PGPORT ?? 5432}/${database ?? process.env.PGDATABASE ?? '(default)'}`;
}

/** Opens a pool on a PostgreSQL database and returns it as an Engine, its first session connected. */
export async function openPostgres(options: PostgresEngineOptions = {}): Promise<Engine> {
  // Every session speaks UTC and ISO dates, so timestamps and dates print as DuckDB's do.
  const settings = ['-c TimeZone=UTC', '-c DateStyle=ISO,MDY', '-c IntervalStyle=postgres'];
  if (options.schema)
    settings.push(`-c search_path=${optionValue(quoteIdentifier(options.schema))}`);
  const config: PoolConfig = {
    connectionString: options.url,
    host: options.host,
    port: options.port,
    user: options.user,
    password: options.password,
    database: options.database,
    max: options.poolSize ?? 10,
    types: pgTypeParsers,
    options: settings.join(' '),
    application_name: 'tributary',
  };
  for (const key of Object.keys(config) as (keyof PoolConfig)[]) {
    if (config[key] === undefined) delete config[key];
  }
  const pool = new (loadDriver().Pool)(config);
  // An idle pooled connection that drops emits 'error' on the pool; the pool discards it already.
  pool.on('error', () => undefined);
  const shared: Shared = {
    pool,
    config,
    target: describeTarget(options),
    schemas: new Map(),
    helpers: undefined,
    typeNames: new Map(),
    open: new Set(),
  };
  const engine = new PostgresEngineImpl(shared, true);
  try {
    await engine.session();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return engine;
}
