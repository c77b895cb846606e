/**
 * An engine opened on first use: a caller that may never touch the warehouse (`compile` on a
 * project whose macros do not introspect it) does not pay for opening one. Every statement, and
 * everything else that needs the database, opens it first and then is the opened engine's; what
 * the opened engine answers without its database (kind, dialect, capabilities, the session locks
 * of a database this process has alone) is answered without opening it. Forks are lazy too and
 * fork the opened engine when first used. A call after `close()` on an engine never opened opens
 * and closes it first, so it fails as the opened engine's would.
 */
import type {
  ColumnInfo,
  Dialect,
  Engine,
  EngineCapabilities,
  QueryResult,
  TableInfo,
} from './types.js';

/** What the engine is before it is opened: the same values the opened engine has. */
export interface LazyEngineShape {
  kind: string;
  capabilities: EngineCapabilities;
  dialect: Dialect;
  /**
   * The opened engine answers the session-lock calls with "not closed" and has nothing to listen
   * to (DuckDB: the database is this process's alone); only then are they answered unopened.
   */
  processLocal: true;
}

class LazyEngine implements Engine {
  readonly kind: string;
  readonly capabilities: EngineCapabilities;
  readonly dialect: Dialect;
  private opened: Promise<Engine> | undefined;
  private closed = false;

  constructor(
    private readonly opener: () => Promise<Engine>,
    private readonly shape: LazyEngineShape,
  ) {
    this.kind = shape.kind;
    this.capabilities = shape.capabilities;
    this.dialect = shape.dialect;
  }

  /** The opened engine (opening it on the first call). */
  private engine(): Promise<Engine> {
    if (this.opened) return this.opened;
    if (!this.closed) return (this.opened = this.opener());
    // Closed before it was ever opened: fail as a closed engine does.
    return (this.opened = this.opener().then(async (e) => {
      await e.close();
      return e;
    }));
  }

  async exec(sql: string): Promise<void> {
    return (await this.engine()).exec(sql);
  }

  async query(sql: string, params?: readonly unknown[]): Promise<QueryResult> {
    return (await this.engine()).query(sql, params);
  }

  async transaction<T>(fn: (tx: Engine) => Promise<T>): Promise<T> {
    return (await this.engine()).transaction(fn);
  }

  async lockInTransaction(key: string): Promise<void> {
    return (await this.engine()).lockInTransaction(key);
  }

  tryLockSession(): Promise<boolean> {
    return Promise.resolve(!this.closed);
  }

  holdsSessionLock(): Promise<boolean> {
    return Promise.resolve(!this.closed);
  }

  unlockSession(): Promise<void> {
    return Promise.resolve();
  }

  listen(): Promise<{ close(): Promise<void> }> {
    return Promise.resolve({ close: () => Promise.resolve() });
  }

  notify(): Promise<void> {
    return Promise.resolve();
  }

  fork(): Promise<Engine> {
    return Promise.resolve(new LazyEngine(async () => (await this.engine()).fork(), this.shape));
  }

  async ensureSchema(schema: string): Promise<void> {
    return (await this.engine()).ensureSchema(schema);
  }

  async dropSchema(schema: string): Promise<void> {
    return (await this.engine()).dropSchema(schema);
  }

  async listTables(schema?: string): Promise<TableInfo[]> {
    return (await this.engine()).listTables(schema);
  }

  async describe(schema: string | undefined, name: string): Promise<ColumnInfo[] | undefined> {
    return (await this.engine()).describe(schema, name);
  }

  async replaceTable(schema: string | undefined, name: string, select: string): Promise<number> {
    return (await this.engine()).replaceTable(schema, name, select);
  }

  async replaceView(schema: string | undefined, name: string, select: string): Promise<void> {
    return (await this.engine()).replaceView(schema, name, select);
  }

  async dropRelation(schema: string | undefined, name: string): Promise<void> {
    return (await this.engine()).dropRelation(schema, name);
  }

  async renameRelation(schema: string | undefined, from: string, to: string): Promise<void> {
    return (await this.engine()).renameRelation(schema, from, to);
  }

  async insertRows(
    schema: string | undefined,
    name: string,
    columns: readonly string[],
    rows: readonly (readonly (string | null)[])[],
  ): Promise<number> {
    return (await this.engine()).insertRows(schema, name, columns, rows);
  }

  async interrupt(): Promise<void> {
    // Nothing runs on an engine never opened.
    if (this.opened) return (await this.opened).interrupt();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // An engine that failed to open has nothing to close.
    const engine = await this.opened?.catch(() => undefined);
    await engine?.close();
  }
}

/** An engine that `open` opens when it is first used (see the module comment). */
export function lazyEngine(open: () => Promise<Engine>, shape: LazyEngineShape): Engine {
  return new LazyEngine(open, shape);
}
