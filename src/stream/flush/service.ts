/**
 * The flusher loop of a process that owns the stream log (`tributary collect`, `tributary
 * serve`): each stream table is looked at on its own timer, and a micro-batch is cut when the
 * table's buffer says so (max_bytes reached, or the oldest waiting record max_age old). Flushes
 * of one table never overlap, whoever asks (the loop, or a run landing the table through
 * `land`), so there is one writer of its cursor. Stopping waits for a flush in progress to
 * commit; one not started is never started, so shutdown never leaves half a batch.
 */
import { describeError } from '../../core/index.js';
import { lakeKeys, type ObjectStore } from '../../lake/index.js';
import type { StreamSourceTable } from '../../project/index.js';
import type { StreamLog } from '../log.js';
import type { FlushFence } from './fence.js';
import { flushOnce, readAhead, type FlushResult, type RetentionGap } from './flusher.js';

export interface StreamFlusherOptions {
  store: ObjectStore;
  tmpDir: string;
  log: StreamLog;
  /** The project's stream tables. */
  tables: readonly StreamSourceTable[];
  /** Milliseconds since the epoch (tests move theirs). */
  now?: () => number;
  /**
   * How often a table with nothing waiting is read again for new records (default: its max_age,
   * at most one second), and the shortest wait between looks.
   */
  pollMs?: number;
  /** After each committed batch. */
  onBatch?: (table: StreamSourceTable, result: FlushResult) => void;
  /** Records retention removed before they were flushed: lost, to be alerted on. */
  onGap?: (gap: RetentionGap) => void;
  /** A flush that failed (the loop tries again at the next look). */
  onError?: (table: StreamSourceTable, err: unknown) => void;
  /**
   * Shared mode: each flush runs holding the table's lock across processes (fence.ts), since
   * other processes flush the same tables from the same log.
   */
  fence?: FlushFence;
}

/** What `land` flushed for one table: every batch cut, until nothing waited. */
export interface LandedStream {
  results: FlushResult[];
  missingStream: boolean;
}

const DEFAULT_POLL_MS = 1000;

/** What a process that owns the log offers its runs: landing now, and stopping. */
export interface FlushService {
  /** Flushes everything waiting in a table's stream now, in batches of at most max_bytes. */
  land(table: StreamSourceTable): Promise<LandedStream>;
  /** Stops looking and waits for the flushes in progress to commit. */
  stop(): Promise<void>;
}

/** Flushes a project's stream tables into the raw zone on their buffers' terms. */
export class StreamFlusher implements FlushService {
  /** The flush in progress (or last finished) per table: the next one waits for it. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly swept = new Set<string>();
  /** Each table's read-ahead queued behind its flushes and not started yet (at most one). */
  private readonly readingAhead = new Map<string, Promise<void>>();
  private running = false;
  private stopped = false;

  constructor(private readonly opts: StreamFlusherOptions) {}

  get log(): StreamLog {
    return this.opts.log;
  }

  get tables(): readonly StreamSourceTable[] {
    return this.opts.tables;
  }

  /** Starts the per-table timers. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    for (const table of this.opts.tables) this.schedule(table, 0);
  }

  /**
   * Flushes everything waiting in a table's stream now, whatever its buffer's age (a run's
   * landing step: `tributary run` takes all there is), in batches of at most max_bytes.
   */
  async land(table: StreamSourceTable): Promise<LandedStream> {
    const results: FlushResult[] = [];
    for (;;) {
      const result = await this.serialised(table, () => this.flush(table, true));
      if (!result) break; // stopping
      if (result.batch) results.push(result);
      if (result.missingStream) return { results, missingStream: true };
      if (!result.batch || result.waiting.records === 0) break;
    }
    return { results, missingStream: false };
  }

  /**
   * New records of `stream` are durable: the tables on it read them into their tails now
   * (flusher.ts readAhead), between looks, rather than at the next look. At most one read-ahead
   * per table waits behind its flushes; it never cuts a batch. Settles once the read-ahead
   * asked for (or the one already waiting) is done; errors go to `onError`.
   */
  readAhead(stream: string): Promise<void> {
    if (this.stopped || this.opts.fence) return Promise.resolve();
    const queued: Promise<unknown>[] = [];
    for (const table of this.opts.tables) {
      if (table.stream !== stream) continue;
      const waiting = this.readingAhead.get(table.id);
      if (waiting) {
        queued.push(waiting);
        continue;
      }
      const done = this.serialised(table, () => {
        this.readingAhead.delete(table.id);
        return readAhead(this.opts.log, table);
      }).catch((err: unknown) => {
        this.readingAhead.delete(table.id);
        this.opts.onError?.(table, err);
      });
      this.readingAhead.set(table.id, done);
      queued.push(done);
    }
    return Promise.all(queued).then(() => undefined);
  }

  /** Stops the timers and waits for the flushes in progress to commit. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.chains.values()]);
  }

  /** Runs `work` after the table's previous flush; undefined once stopping (never started). */
  private serialised<T>(table: StreamSourceTable, work: () => Promise<T>): Promise<T | undefined> {
    const previous = this.chains.get(table.id) ?? Promise.resolve();
    const next = previous.then(
      () => (this.stopped ? undefined : work()),
      () => (this.stopped ? undefined : work()),
    );
    this.chains.set(
      table.id,
      next.catch(() => undefined),
    );
    return next;
  }

  private async flush(table: StreamSourceTable, force: boolean): Promise<FlushResult> {
    const result = this.opts.fence
      ? await this.opts.fence.run(table.id, () => this.flushOwned(table, force))
      : await this.flushOwned(table, force);
    for (const gap of result.gaps) this.opts.onGap?.(gap);
    if (result.batch) this.opts.onBatch?.(table, result);
    return result;
  }

  /** One flush, as the table's only raw writer (this process owns the log, or holds the fence). */
  private async flushOwned(table: StreamSourceTable, force: boolean): Promise<FlushResult> {
    if (!this.swept.has(table.id)) {
      // Nobody else writes the table's raw folder now: a partial write there is a dead flusher's.
      await this.opts.store.removePartialWrites(`${lakeKeys.rawTable(table.source, table.table)}/`);
      this.swept.add(table.id);
    }
    return flushOnce(
      {
        store: this.opts.store,
        tmpDir: this.opts.tmpDir,
        log: this.opts.log,
        ...(this.opts.now ? { now: this.opts.now } : {}),
      },
      table,
      { force },
    );
  }

  private pollMs(table: StreamSourceTable): number {
    return this.opts.pollMs ?? Math.min(DEFAULT_POLL_MS, table.buffer.maxAgeMs);
  }

  private schedule(table: StreamSourceTable, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(table.id);
      void this.tick(table);
    }, delayMs);
    timer.unref?.();
    this.timers.set(table.id, timer);
  }

  /** One look at a table: flush when due, then wait until it may be due again. */
  private async tick(table: StreamSourceTable): Promise<void> {
    const poll = this.pollMs(table);
    let delay = poll;
    try {
      const result = await this.serialised(table, () => this.flush(table, false));
      if (!result) return;
      const { waiting } = result;
      const now = this.opts.now?.() ?? Date.now();
      if (result.batch && waiting.bytes >= table.buffer.maxBytes) delay = 0;
      else if (waiting.oldestArrivalMs !== undefined)
        delay = Math.max(0, Math.min(poll, waiting.oldestArrivalMs + table.buffer.maxAgeMs - now));
    } catch (err) {
      if (this.opts.onError) this.opts.onError(table, err);
      else process.stderr.write(`stream ${table.id}: ${describeError(err)}\n`);
    }
    this.schedule(table, delay);
  }
}
