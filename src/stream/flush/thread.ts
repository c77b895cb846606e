/**
 * The flusher of a collecting process on a thread of its own (thread-worker.ts), so answering
 * producers and landing micro-batches each get a core: on one thread the two together cost more
 * than a core at the collector's target rate (bench/RESULTS.md, bench:stream). The main thread
 * keeps the log: it answers the thread's reads and descriptions, and hands it each shard's frames
 * once durable (by reference to shared memory, not copied; shared-staging.ts), which in steady
 * state is all the thread reads.
 *
 * Exactly once is the same as on one thread: the thread runs the same flushes, each committing
 * its batch with the advanced cursor in one manifest swap, and only ever sees durable records.
 * Stopping lets the flush in progress commit, as StreamFlusher.stop does. A fault-injected crash
 * in the thread (`TRIBUTARY_FAULT=crash:flush-…`, exit code 137) ends the whole process, as it
 * did on one thread; any other unexpected end of the thread is reported and the thread started
 * again (it takes up from the committed cursors).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describeError } from '../../core/index.js';
import type { StreamSourceTable } from '../../project/index.js';
import { LocalSegmentLog } from '../local/index.js';
import type { ReadLimits, ReadPosition, StreamLog } from '../log.js';
import { shardIdOf } from '../shards.js';
import type { FlushService, LandedStream, StreamFlusherOptions } from './service.js';
import { SharedStagingLedger } from './shared-staging.js';
import {
  fromWire,
  tablesById,
  toWire,
  type FlusherThreadData,
  type FromFlusher,
  type ToFlusher,
} from './thread-protocol.js';

const WORKER_URL = new URL('./thread-worker.js', import.meta.url);

/** Whether the compiled thread can be started (not when running from .ts sources, as in tests). */
export function flusherThreadAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_URL));
}

/** The exit code of a fault-injected crash (core/faults.ts). */
const CRASH_EXIT_CODE = 137;

export type FlusherThreadOptions = Pick<
  StreamFlusherOptions,
  'log' | 'tables' | 'tmpDir' | 'pollMs' | 'onBatch' | 'onGap' | 'onError'
> & { lakeDir: string };

/** A StreamFlusher running on its own thread. */
export class FlusherThread implements FlushService {
  private worker!: Worker;
  private readonly waiting = new Map<
    number,
    { resolve: (v: LandedStream) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;
  private stopping = false;
  /** The log's shared staging memory the thread has been sent, and holds. */
  private readonly shared = new SharedStagingLedger();
  private readonly tables: Map<string, StreamSourceTable>;

  constructor(private readonly opts: FlusherThreadOptions) {
    this.tables = tablesById(opts.tables);
  }

  /** Starts the thread and feeds it what the log makes durable. */
  start(): void {
    this.spawn();
    const log = this.opts.log;
    if (log instanceof LocalSegmentLog)
      log.onDurable((stream, createdAtMs, shardIndex, frames, where) => {
        const { bytes } = frames;
        const shared = bytes.buffer instanceof SharedArrayBuffer;
        const message: ToFlusher = {
          type: 'frames',
          stream,
          createdAtMs,
          shardId: shardIdOf(shardIndex),
          firstCounter: frames.firstCounter,
          lastCounter: frames.lastCounter,
          bytes: shared ? this.shared.lend(bytes as Buffer & { buffer: SharedArrayBuffer }) : bytes,
          where,
        };
        if (shared) return this.worker.postMessage(message);
        try {
          this.worker.postMessage(message, [bytes.buffer as ArrayBuffer]);
        } catch {
          // A buffer that cannot be transferred is sent as a copy (and stays the log's).
          this.worker.postMessage(message);
          log.recycle(bytes.buffer);
        }
      });
  }

  /** Shared staging memory the thread has read past goes back to the log (or is forgotten). */
  private takeBackShared(ids: number[]): void {
    const log = this.opts.log;
    if (!(log instanceof LocalSegmentLog)) return;
    for (const id of ids) {
      const memory = this.shared.takeBack(id);
      if (!memory || log.recycle(memory)) continue;
      // The log let it go: the thread must not keep it alive either.
      this.shared.forget(id);
      this.worker.postMessage({ type: 'forget', id } satisfies ToFlusher);
    }
  }

  private spawn(): void {
    const data: FlusherThreadData = {
      lakeDir: this.opts.lakeDir,
      tmpDir: this.opts.tmpDir,
      tables: [...this.opts.tables],
      logKind: this.opts.log.kind,
      ...(this.opts.pollMs !== undefined ? { pollMs: this.opts.pollMs } : {}),
    };
    const worker = new Worker(WORKER_URL, { workerData: data });
    this.worker = worker;
    worker.on('message', (message: FromFlusher) => void this.onMessage(message));
    worker.on('error', (err) => {
      process.stderr.write(`the stream flusher thread failed: ${describeError(err)}\n`);
    });
    worker.on('exit', (code) => {
      if (code === CRASH_EXIT_CODE) process.exit(CRASH_EXIT_CODE);
      // Nothing reads what the ended thread held; a new thread is sent memory afresh.
      const log = this.opts.log;
      for (const memory of this.shared.reset())
        if (log instanceof LocalSegmentLog) log.recycle(memory);
      const gone = new Error('the stream flusher thread ended');
      for (const waiter of this.waiting.values()) waiter.reject(gone);
      this.waiting.clear();
      if (this.stopping) return;
      process.stderr.write(`the stream flusher thread ended (code ${code}); starting it again\n`);
      this.spawn();
    });
  }

  private async onMessage(message: FromFlusher): Promise<void> {
    switch (message.type) {
      case 'call':
        return this.answerCall(message.id, message.method, message.args);
      case 'reply': {
        const waiter = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (message.error) waiter?.reject(fromWire(message.error));
        else waiter?.resolve(message.result!);
        return;
      }
      case 'batch': {
        const table = this.tables.get(message.tableId);
        if (table) this.opts.onBatch?.(table, message.result);
        return;
      }
      case 'gap':
        this.opts.onGap?.(message.gap);
        return;
      case 'buffers': {
        const log = this.opts.log;
        if (log instanceof LocalSegmentLog)
          for (const memory of message.buffers) log.recycle(memory);
        return;
      }
      case 'shared-back':
        return this.takeBackShared(message.ids);
      case 'error': {
        const table = this.tables.get(message.tableId);
        const err = fromWire(message.error);
        if (table && this.opts.onError) this.opts.onError(table, err);
        else process.stderr.write(`stream ${message.tableId}: ${describeError(err)}\n`);
        return;
      }
    }
  }

  /** Runs a read or a description on the log for the thread and sends the answer back. */
  private async answerCall(id: number, method: 'describeStream' | 'read', args: unknown[]) {
    const log: StreamLog = this.opts.log;
    let reply: ToFlusher;
    try {
      const result =
        method === 'describeStream'
          ? await log.describeStream(args[0] as string)
          : await log.read(
              args[0] as string,
              args[1] as string,
              args[2] as ReadPosition,
              args[3] as ReadLimits,
            );
      reply = { type: 'reply', id, result };
    } catch (err) {
      reply = { type: 'reply', id, error: toWire(err) };
    }
    this.worker.postMessage(reply);
  }

  /** Flushes everything waiting in a table's stream now (a run's landing step), on the thread. */
  land(table: StreamSourceTable): Promise<LandedStream> {
    const id = this.nextId++;
    return new Promise<LandedStream>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'land', id, tableId: table.id } satisfies ToFlusher);
    });
  }

  /** Stops the thread's timers, waits for its flush in progress to commit, ends the thread. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const log = this.opts.log;
    if (log instanceof LocalSegmentLog) log.onDurable(undefined);
    const id = this.nextId++;
    const stopped = new Promise<unknown>((resolve) => {
      this.waiting.set(id, { resolve, reject: resolve });
    });
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'stop', id } satisfies ToFlusher);
    await stopped;
    // The thread ends by itself once stopped (its exit handlers run); one that lingers is ended.
    const linger = setTimeout(() => void this.worker.terminate(), 5_000);
    await exited;
    clearTimeout(linger);
  }
}
