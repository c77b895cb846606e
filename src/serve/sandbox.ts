/**
 * The SqlRunner every query goes through: a DuckDB sandbox (engines/duckdb/sandbox.ts) on the
 * latest serving snapshot (orchestrator/serving.ts). When a run publishes a new snapshot,
 * `refresh()` opens it and retires the old instance once the queries still using it end.
 * Each role queries through an instance of its own (read-policy.ts: its zones, its masked or
 * unmasked copy, its statement checks): the default role's opens with the snapshot, the others
 * on their first query.
 */
import { createHash } from 'node:crypto';
import { TributaryError } from '../core/index.js';
import { DuckDBSandbox } from '../engines/index.js';
import { readServingSnapshot, type ServingSnapshot } from '../orchestrator/index.js';
import type { Role } from './auth.js';
import { sandboxOptionsFor, timeoutFor } from './read-policy.js';
import type { ParamValue, QueryLimits, SqlColumn, SqlResult, SqlRunner } from './types.js';

export interface QuerySandboxOptions {
  /** The project's serving folder (`.tributary/serving`). */
  dir: string;
  memoryLimit?: string;
  threads?: number;
  /** Defaults for queries that name none. */
  rowLimit?: number;
  timeoutMs?: number;
  /** Whose rules apply to queries that name no role (default viewer: the least). */
  role?: Role;
}

interface Opened {
  snapshot: ServingSnapshot;
  /** One sandbox per role, opened on the role's first query. */
  dbs: Map<Role, Promise<DuckDBSandbox>>;
  inFlight: number;
  retired: boolean;
}

export const DEFAULT_ROW_LIMIT = 10_000;

/**
 * Memory and threads for all sandboxed queries together: a query that needs more fails with
 * DuckDB's out-of-memory error instead of starving the pipeline in the same process.
 */
export const SANDBOX_LIMITS = { memoryLimit: '2GB', threads: 2 } as const;
export const DEFAULT_TIMEOUT_MS = 30_000;

export class QuerySandbox implements SqlRunner {
  private current: Opened | undefined;
  private opening: Promise<void> | undefined;
  /** Relations each SQL text reads, so a cache key costs one parse per distinct query. */
  private readonly relationsBySql = new Map<string, string[]>();

  constructor(private readonly opts: QuerySandboxOptions) {}

  /** Opens the newest snapshot if it is not the one in use. */
  refresh(): Promise<void> {
    this.opening ??= this.doRefresh().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async doRefresh(): Promise<void> {
    const snapshot = await readServingSnapshot(this.opts.dir);
    if (!snapshot || snapshot.version === this.current?.snapshot.version) return;
    const next: Opened = { snapshot, dbs: new Map(), inFlight: 0, retired: false };
    // The default role's instance opens now (it serves most queries, and a snapshot that cannot
    // be opened is then an error of the refresh, with the old one still serving); other roles'
    // instances open on their first query.
    await this.dbFor(next, this.opts.role ?? 'viewer');
    const old = this.current;
    this.current = next;
    this.relationsBySql.clear();
    if (old) {
      old.retired = true;
      if (old.inFlight === 0) closeAll(old);
    }
  }

  /** The role's sandbox on the snapshot `c`, opened on first use. */
  private dbFor(c: Opened, role: Role): Promise<DuckDBSandbox> {
    let db = c.dbs.get(role);
    if (!db) {
      db = DuckDBSandbox.open(
        sandboxOptionsFor(role, c.snapshot, {
          ...(this.opts.memoryLimit ? { memoryLimit: this.opts.memoryLimit } : {}),
          ...(this.opts.threads ? { threads: this.opts.threads } : {}),
        }),
      );
      c.dbs.set(role, db);
      // A failed open is not kept: the next query tries again.
      db.catch(() => c.dbs.delete(role));
    }
    return db;
  }

  private async acquire(): Promise<Opened> {
    if (!this.current) await this.refresh();
    const c = this.current;
    if (!c) {
      throw new TributaryError(
        'there is nothing to query yet: no run has published the warehouse',
        {
          code: 'USAGE',
          hint: 'run the pipeline first (`tributary run`)',
        },
      );
    }
    c.inFlight++;
    return c;
  }

  private release(c: Opened): void {
    c.inFlight--;
    if (c.retired && c.inFlight === 0) closeAll(c);
  }

  dataVersion(): string {
    return this.current?.snapshot.version ?? 'none';
  }

  async query(
    sql: string,
    params: Record<string, ParamValue> = {},
    limits: QueryLimits = {},
  ): Promise<SqlResult> {
    const c = await this.acquire();
    const started = performance.now();
    const role = limits.role ?? this.opts.role ?? 'viewer';
    try {
      const db = await this.dbFor(c, role);
      const result = await db.query(sql, params, {
        rowLimit: Math.max(
          0,
          Math.floor(limits.rowLimit ?? this.opts.rowLimit ?? DEFAULT_ROW_LIMIT),
        ),
        timeoutMs: timeoutFor(role, limits.timeoutMs, this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      return {
        columns: result.columns.map((col): SqlColumn => ({
          name: col.name,
          type: col.type,
          kind:
            col.kind === 'number' || /^(DECIMAL|BIGINT|HUGEINT|UBIGINT|UHUGEINT)/.test(col.type)
              ? 'number'
              : col.kind === 'boolean'
                ? 'boolean'
                : /^(DATE|TIMESTAMP)/.test(col.type)
                  ? 'date'
                  : col.kind === 'string'
                    ? 'string'
                    : 'other',
        })),
        rows: result.rows,
        truncated: result.truncated,
        dataVersion: c.snapshot.version,
        ms: Math.round((performance.now() - started) * 10) / 10,
      };
    } finally {
      this.release(c);
    }
  }

  async versionOf(sql: string): Promise<string> {
    const c = await this.acquire();
    try {
      let relations = this.relationsBySql.get(sql);
      if (!relations) {
        try {
          // Parsing needs no particular role: any open instance will do.
          const db = c.dbs.values().next().value ?? this.dbFor(c, this.opts.role ?? 'viewer');
          relations = await (await db).referencedRelations(sql);
        } catch {
          relations = []; // not parseable: keyed by the whole snapshot below
        }
        if (this.relationsBySql.size > 5000) this.relationsBySql.clear();
        this.relationsBySql.set(sql, relations);
      }
      const known = relations.map((r) => c.snapshot.relations[r]);
      // A relation the snapshot does not version (or none found): the whole snapshot decides.
      if (!relations.length || known.some((v) => v === undefined)) return c.snapshot.version;
      return createHash('sha256')
        .update(relations.map((r, i) => `${r}=${known[i]}`).join('\n'))
        .digest('hex')
        .slice(0, 16);
    } finally {
      this.release(c);
    }
  }

  close(): void {
    if (this.current) {
      this.current.retired = true;
      if (this.current.inFlight === 0) closeAll(this.current);
    }
    this.current = undefined;
  }
}

/** Closes every sandbox opened on a retired snapshot (those still opening, once open). */
function closeAll(c: Opened): void {
  for (const db of c.dbs.values()) db.then((d) => d.close()).catch(() => undefined);
  c.dbs.clear();
}
