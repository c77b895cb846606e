/**
 * The `stream` source: landing a stream table (a run's raw step) flushes everything its stream
 * holds now, whatever the buffer's age, so `tributary run` and `ingest` take all there is. In a
 * process that owns the log (serve, collect) it goes through that process's flusher, so it never
 * races the flusher loop; elsewhere it leases the log (opening.ts: one opening for all the
 * process's landings at once) and releases it after. A log owned by another running process is
 * said to be so, with what to do.
 */
import { TributaryError } from '../../core/index.js';
import type { StreamSourceTable } from '../../project/index.js';
import type { LandContext, LandResult, Source } from '../../sources/index.js';
import type { FlushFence } from './fence.js';
import type { LogLease } from './opening.js';
import { StreamFlusher, type FlushService } from './service.js';

/**
 * Where a stream source gets its log: the owning process's flusher, or a lease of the log this
 * process opens for its landings (opening.ts; in shared mode with a fence, fence.ts: other
 * processes flush the same log's tables).
 */
export type StreamAccess =
  { flusher: FlushService } | { open: () => Promise<LogLease>; fence?: () => FlushFence };

/** The connector of a `type: stream` table. */
export class StreamSource implements Source {
  readonly id: string;

  constructor(
    private readonly table: StreamSourceTable,
    private readonly access: StreamAccess,
  ) {
    this.id = table.id;
  }

  async land(ctx: LandContext): Promise<LandResult> {
    if ('flusher' in this.access) return this.landWith(this.access.flusher);
    const lease = await this.openLog(this.access.open);
    const { log } = lease;
    const fence = this.access.fence?.();
    const flusher = new StreamFlusher({
      store: ctx.store,
      tmpDir: ctx.tmpDir,
      log,
      tables: [this.table],
      ...(fence ? { fence } : {}),
    });
    try {
      return await this.landWith(flusher);
    } finally {
      await flusher.stop();
      await fence?.close();
      await lease.release();
    }
  }

  private async landWith(flusher: FlushService): Promise<LandResult> {
    const { results, missingStream } = await flusher.land(this.table);
    const warnings: string[] = [];
    if (missingStream)
      warnings.push(
        `stream ${this.table.stream} does not exist yet (it is created by \`tributary collect\`/\`serve\` from tributary.yml's stream.streams, or by a producer's CreateStream)`,
      );
    const gaps = results.flatMap((r) => r.gaps);
    for (const gap of gaps)
      warnings.push(
        `stream ${gap.stream} ${gap.shardId}: records after ${gap.after} and before ${gap.before} were removed by retention before they were flushed; they are lost`,
      );
    const lost = gaps.map(({ stream, shardId, after, before }) => ({
      stream,
      shardId,
      after,
      before,
    }));
    return {
      landed: results.map((r) => r.batch!),
      unchanged: 0,
      warnings,
      ...(lost.length ? { gaps: lost } : {}),
    };
  }

  /** Opens the log, explaining a lock held by another process (a running collector). */
  private async openLog(open: () => Promise<LogLease>): Promise<LogLease> {
    try {
      return await open();
    } catch (err) {
      if (err instanceof TributaryError && err.code === 'LOCKED') {
        throw new TributaryError(
          `cannot land stream table ${this.table.id}: the stream log is in use by another process (${err.message})`,
          {
            code: 'LOCKED',
            ...(err.location ? { location: err.location } : {}),
            hint: 'the process holding the log (`tributary collect` or `serve`) flushes its streams into the lake itself; stop it to land from here, or run through `tributary serve`',
            cause: err,
          },
        );
      }
      throw err;
    }
  }
}
