/**
 * The SqlRunner every query goes through (the API's /api/query, dashboard tiles, `tributary
 * query`): a DuckDB sandbox (engines/duckdb/sandbox.ts) on the latest serving snapshot
 * (orchestrator/serving.ts), run in a pool of query processes (sandbox-pool.ts) that holds a
 * hard memory cap and a hard deadline per query. The limits are this class's own defaults
 * (SANDBOX_DEFAULTS), so every caller gets them; options only change them.
 *
 * When a run publishes a new snapshot, `refresh()` makes new queries open it; queries running
 * on the old one finish there, and the processes close the old instance after them.
 *
 * Each role reads under its own rules (read-policy.ts: its zones, the masked or unmasked copy,
 * its statement checks, its timeout cap), which are part of the open options: a query process
 * keeps an instance per role it has served.
 */
import { createHash } from 'node:crypto';
import { TributaryError } from '../core/index.js';
import { openDuckDB, relationsRead, type Engine, type SandboxOptions } from '../engines/index.js';
import { readServingSnapshot, type ServingSnapshot } from '../orchestrator/index.js';
import type { Role } from './auth.js';
import { sandboxOptionsFor, timeoutFor } from './read-policy.js';
import { QueryProcessPool } from './sandbox-pool.js';
import type { ParamValue, QueryLimits, SqlColumn, SqlResult, SqlRunner } from './types.js';

export interface QuerySandboxOptions {
  /** The project's serving folder (`.tributary/serving`). */
  dir: string;
  /** Query processes, i.e. queries that run at once (more wait in a queue). */
  processes?: number;
  /** Resident memory one query's process may reach, in MB, before it is killed. */
  memoryCapMb?: number;
  /** DuckDB threads in each query process. */
  threads?: number;
  /** Defaults for queries that name none. */
  rowLimit?: number;
  timeoutMs?: number;
  /** How long past its deadline a query process may take to answer before it is killed. */
  graceMs?: number;
  /** Queries that may wait for a free process; more are refused (HTTP 409). */
  maxQueue?: number;
  /** How long a query may wait for a free process before it fails (HTTP 409). */
  maxWaitMs?: number;
  /** Whose read rules apply to queries that name no role (default viewer: the least). */
  role?: Role;
}

/**
 * The sandbox's own limits. With two processes the memory all sandboxed queries can hold
 * together stays near the 2 GB the in-process sandbox had for all of them.
 */
export const SANDBOX_DEFAULTS = {
  processes: 2,
  memoryCapMb: 1024,
  threads: 2,
  rowLimit: 10_000,
  timeoutMs: 30_000,
  graceMs: 1000,
  maxQueue: 64,
  maxWaitMs: 30_000,
} as const;

/** `serve.sandbox` in tributary.yml (project/schema.ts). */
interface SandboxConfig {
  processes?: number | undefined;
  memory_cap_mb?: number | undefined;
  threads?: number | undefined;
  timeout_ms?: number | undefined;
  row_limit?: number | undefined;
}

/** The sandbox options `serve.sandbox` in tributary.yml sets (what it leaves out: defaults). */
export function sandboxOptionsOf(config: {
  serve?: { sandbox?: SandboxConfig | undefined } | undefined;
}): Omit<QuerySandboxOptions, 'dir'> {
  const s = config.serve?.sandbox;
  return {
    ...(s?.processes !== undefined ? { processes: s.processes } : {}),
    ...(s?.memory_cap_mb !== undefined ? { memoryCapMb: s.memory_cap_mb } : {}),
    ...(s?.threads !== undefined ? { threads: s.threads } : {}),
    ...(s?.timeout_ms !== undefined ? { timeoutMs: s.timeout_ms } : {}),
    ...(s?.row_limit !== undefined ? { rowLimit: s.row_limit } : {}),
  };
}

export const DEFAULT_ROW_LIMIT = SANDBOX_DEFAULTS.rowLimit;
export const DEFAULT_TIMEOUT_MS = SANDBOX_DEFAULTS.timeoutMs;

/**
 * DuckDB's memory_limit in a query process, as a share of the process's cap: what DuckDB
 * manages itself fails with its own out-of-memory error well before the process is killed,
 * leaving the rest for Node, DuckDB's unmanaged allocations and the result.
 */
const DUCKDB_SHARE_OF_CAP = 0.6;

/** How often the resident memory of busy query processes is read. */
const MEMORY_WATCH_MS = 20;

/** How a column's values are represented in JSON rows, from DuckDB's type. */
export const columnKind = (col: { kind: string; type: string }): SqlColumn['kind'] =>
  col.kind === 'number' || /^(DECIMAL|BIGINT|HUGEINT|UBIGINT|UHUGEINT)/.test(col.type)
    ? 'number'
    : col.kind === 'boolean'
      ? 'boolean'
      : /^(DATE|TIMESTAMP)/.test(col.type)
        ? 'date'
        : col.kind === 'string'
          ? 'string'
          : 'other';

/**
 * How a query process opens the sandbox on a snapshot for a role (its file, folders and
 * checks: read-policy.ts), under a memory cap and threads.
 */
export function sandboxOpenOptions(
  snapshot: ServingSnapshot,
  memoryCapMb: number,
  threads: number,
  role: Role,
): SandboxOptions {
  return sandboxOptionsFor(role, snapshot, {
    memoryLimit: `${Math.max(64, Math.floor(memoryCapMb * DUCKDB_SHARE_OF_CAP))}MB`,
    // No spilling: past its memory a query fails instead of filling the disk, and processes on
    // the same snapshot would share one temp folder (`<snapshot>.tmp`) with the same file names.
    tempDirectory: '',
    threads: Math.max(1, Math.floor(threads)),
  });
}

export class QuerySandbox implements SqlRunner {
  private current: ServingSnapshot | undefined;
  private opening: Promise<void> | undefined;
  private readonly pool: QueryProcessPool;
  private readonly limits: Required<Omit<QuerySandboxOptions, 'dir' | 'role'>>;
  /** Whose rules queries that name no role run under. */
  private readonly role: Role;
  /** Parses (never runs) SQL for versionOf: an in-memory DuckDB in this process. */
  private parser: Promise<Engine> | undefined;
  /** Relations each SQL text reads, so a cache key costs one parse per distinct query. */
  private readonly relationsBySql = new Map<string, string[]>();

  constructor(private readonly opts: QuerySandboxOptions) {
    const { dir: _dir, role, ...given } = opts;
    const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
    this.limits = { ...SANDBOX_DEFAULTS, ...defined };
    this.role = role ?? 'viewer';
    this.pool = new QueryProcessPool({
      size: Math.max(1, Math.floor(this.limits.processes)),
      memoryCapMb: this.limits.memoryCapMb,
      graceMs: this.limits.graceMs,
      maxQueue: this.limits.maxQueue,
      maxWaitMs: this.limits.maxWaitMs,
      watchIntervalMs: MEMORY_WATCH_MS,
    });
  }

  /** Opens the newest snapshot if it is not the one in use. */
  refresh(): Promise<void> {
    this.opening ??= this.doRefresh().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async doRefresh(): Promise<void> {
    const snapshot = await readServingSnapshot(this.opts.dir);
    if (!snapshot || snapshot.version === this.current?.version) return;
    const old = this.current;
    this.current = snapshot;
    this.relationsBySql.clear();
    this.pool.fill();
    // The default role's instance opens now (most queries are its); others on their first query.
    this.pool.warm(this.openOptions(snapshot, this.role));
    if (old)
      for (const file of new Set([old.file, old.masked?.file]))
        if (file && file !== snapshot.file && file !== snapshot.masked?.file)
          this.pool.retire(file);
  }

  /** How a query process opens the sandbox on a snapshot for a role. */
  private openOptions(snapshot: ServingSnapshot, role: Role): SandboxOptions {
    return sandboxOpenOptions(snapshot, this.limits.memoryCapMb, this.limits.threads, role);
  }

  private async snapshot(): Promise<ServingSnapshot> {
    if (!this.current) await this.refresh();
    if (!this.current)
      throw new TributaryError(
        'there is nothing to query yet: no run has published the warehouse',
        { code: 'USAGE', hint: 'run the pipeline first (`tributary run`)' },
      );
    return this.current;
  }

  dataVersion(): string {
    return this.current?.version ?? 'none';
  }

  /** Resolves once every query process has started (serve's pool is up before requests). */
  started(): Promise<void> {
    return this.pool.ready();
  }

  /** Process ids of the query processes (for tests and diagnostics). */
  processIds(): number[] {
    return this.pool.pids();
  }

  async query(
    sql: string,
    params: Record<string, ParamValue> = {},
    limits: QueryLimits = {},
  ): Promise<SqlResult> {
    let used = await this.snapshot();
    const started = performance.now();
    const role = limits.role ?? this.role;
    // Built before a process takes the query: a snapshot too old for read rules is refused here.
    this.openOptions(used, role);
    const { result } = await this.pool.run({
      // The newest snapshot when a process takes the query, not when it was queued.
      open: () => this.openOptions((used = this.current ?? used), role),
      sql,
      params,
      limits: {
        ...limits,
        rowLimit: Math.max(0, Math.floor(limits.rowLimit ?? this.limits.rowLimit)),
        // Over the role's cap is refused in the sandbox (its policy), naming the cap.
        timeoutMs: Math.max(
          1,
          Math.floor(timeoutFor(role, limits.timeoutMs, this.limits.timeoutMs)),
        ),
      },
    });
    return {
      columns: result.columns.map((col) => ({
        name: col.name,
        type: col.type,
        kind: columnKind(col),
      })),
      rows: result.rows,
      truncated: result.truncated,
      dataVersion: used.version,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
  }

  async versionOf(sql: string): Promise<string> {
    const snapshot = await this.snapshot();
    let relations = this.relationsBySql.get(sql);
    if (!relations) {
      this.parser ??= openDuckDB({ path: ':memory:', settings: { threads: '1' } });
      relations = await relationsRead(await this.parser, sql); // [] when it does not parse
      if (this.relationsBySql.size > 5000) this.relationsBySql.clear();
      this.relationsBySql.set(sql, relations);
    }
    return versionOfRelations(snapshot, relations);
  }

  /** Kills the query processes (failing what still runs or waits) and closes the parser. */
  async close(): Promise<void> {
    this.current = undefined;
    const parser = this.parser;
    this.parser = undefined;
    await Promise.all([this.pool.close(), parser?.then((e) => e.close())]);
  }
}

/**
 * The version of a query's answer: a hash of the versions of the relations it reads, or the whole
 * snapshot's version when it reads a relation the snapshot does not version (or none was found).
 */
export function versionOfRelations(
  snapshot: ServingSnapshot,
  relations: readonly string[],
): string {
  const known = relations.map((r) => snapshot.relations[r]);
  if (!relations.length || known.some((v) => v === undefined)) return snapshot.version;
  return createHash('sha256')
    .update(relations.map((r, i) => `${r}=${known[i]}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
}
