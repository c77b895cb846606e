/**
 * The tile query cache: results kept by SQL + parameters + the version of the relations the SQL
 * reads. When a run changes a relation a tile reads, that tile's key changes and its old entry is
 * dropped on the next look-up; tiles over unchanged relations stay cached. Bounded (LRU).
 * SQL that reads the clock ("events in the last hour") changes with time, not only with the data,
 * so its results are kept for the current minute at most.
 */
import type { ParamValue, QueryLimits, SqlResult, SqlRunner } from '../types.js';

export interface QueryCacheOptions {
  /** Most results kept (default 500); the least recently used goes first. */
  maxEntries?: number;
  /** The clock (ms since the epoch) that ages results of SQL reading the time; default Date.now. */
  now?: () => number;
}

/** SQL functions whose answer depends on when the query runs. */
const CLOCK_SQL =
  /\b(now|current_timestamp|current_date|current_time|localtimestamp|localtime|today|get_current_timestamp|transaction_timestamp|statement_timestamp|clock_timestamp)\b/i;

export interface QueryCacheStats {
  /** Look-ups answered from the cache (including ones that joined a query in flight). */
  hits: number;
  /** Look-ups that ran the query. */
  misses: number;
  /** Entries dropped because a relation their SQL reads changed. */
  invalidations: number;
  /** Entries dropped to stay within maxEntries. */
  evictions: number;
  entries: number;
  maxEntries: number;
}

interface Entry {
  version: string;
  result: SqlResult;
}

/** The cached or fresh result of one query. */
export interface CachedResult {
  result: SqlResult;
  cached: boolean;
}

/** Parameters in name order, so {a, b} and {b, a} share an entry. */
function stableParams(params: Record<string, ParamValue>): [string, ParamValue][] {
  return Object.keys(params)
    .sort()
    .map((k) => [k, params[k]!]);
}

/** An LRU of query results keyed by SQL + parameters + `runner.versionOf(sql)`. */
export class QueryCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<SqlResult>>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private counters = { hits: 0, misses: 0, invalidations: 0, evictions: 0 };

  constructor(options: QueryCacheOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 500);
    this.now = options.now ?? Date.now;
  }

  /**
   * The result of `sql` with `params`: from the cache when nothing it reads has changed since it
   * was stored, else run on `runner` (once, however many callers ask at the same time) and kept.
   * Failures are not kept. Results are shared between callers: treat them as read-only.
   */
  async run(
    runner: SqlRunner,
    sql: string,
    params: Record<string, ParamValue> = {},
    limits: QueryLimits = {},
  ): Promise<CachedResult> {
    // Roles read different data (masked or not), so a result is kept per role.
    const key = JSON.stringify([
      sql,
      stableParams(params),
      limits.rowLimit ?? null,
      limits.role ?? null,
      // A query reading the clock is kept for the minute it ran in.
      CLOCK_SQL.test(sql) ? Math.floor(this.now() / 60_000) : null,
    ]);
    const version = await runner.versionOf(sql);
    const entry = this.entries.get(key);
    if (entry) {
      if (entry.version === version) {
        // Most recently used goes last.
        this.entries.delete(key);
        this.entries.set(key, entry);
        this.counters.hits++;
        return { result: entry.result, cached: true };
      }
      this.entries.delete(key);
      this.counters.invalidations++;
    }
    const flightKey = `${version}\u0000${key}`;
    const pending = this.inFlight.get(flightKey);
    if (pending) {
      this.counters.hits++;
      return { result: await pending, cached: true };
    }
    this.counters.misses++;
    const promise = runner.query(sql, params, limits);
    this.inFlight.set(flightKey, promise);
    try {
      const result = await promise;
      this.store(key, { version, result });
      return { result, cached: false };
    } finally {
      this.inFlight.delete(flightKey);
    }
  }

  private store(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.counters.evictions++;
    }
  }

  /** Drops every entry (counters stay). */
  clear(): void {
    this.entries.clear();
  }

  /** Hit, miss, invalidation and eviction counts since creation, and the current size. */
  stats(): QueryCacheStats {
    return { ...this.counters, entries: this.entries.size, maxEntries: this.maxEntries };
  }

  /** Sets the counters back to zero (the benchmark measures one phase at a time). */
  resetStats(): void {
    this.counters = { hits: 0, misses: 0, invalidations: 0, evictions: 0 };
  }
}
