/**
 * The messages between a collecting process's main thread (the collector, which owns the stream
 * log) and its flusher thread (thread.ts, thread-worker.ts), and errors carried across them as
 * plain data (a structured clone keeps an Error's message but not its class or fields).
 */
import { TributaryError, type ErrorCode } from '../../core/errors.js';
import type { StreamSourceTable } from '../../project/index.js';
import type { RetentionGap, FlushResult } from './flusher.js';
import type { LandedStream } from './service.js';

/** What the flusher thread starts with. */
export interface FlusherThreadData {
  /** The lake folder (a LocalObjectStore over it) and the project's tmp folder. */
  lakeDir: string;
  tmpDir: string;
  tables: StreamSourceTable[];
  /** The log's kind (`local`, `jetstream`): how much one read takes. */
  logKind: string;
  pollMs?: number;
}

/** An error as data. */
export interface WireError {
  message: string;
  code?: ErrorCode;
  hint?: string;
  transient?: boolean;
}

/** Main thread → flusher thread. */
export type ToFlusher =
  | {
      type: 'frames';
      stream: string;
      createdAtMs: number;
      shardId: string;
      firstCounter: number;
      lastCounter: number;
      /** The frames: bytes of their own (transferred), or a range of shared staging memory. */
      bytes: Uint8Array | SharedFrames;
      /** Where the frames lie in the segment files. */
      where: { path: string; position: number };
    }
  /** Shared staging memory the log let go of (its pool was full): the thread forgets it. */
  | { type: 'forget'; id: number }
  | { type: 'reply'; id: number; result?: unknown; error?: WireError }
  | { type: 'land'; id: number; tableId: string }
  | { type: 'stop'; id: number };

/** Flusher thread → main thread. */
export type FromFlusher =
  | { type: 'call'; id: number; method: 'describeStream' | 'read'; args: unknown[] }
  | { type: 'reply'; id: number; result?: LandedStream; error?: WireError }
  | { type: 'batch'; tableId: string; result: FlushResult }
  | { type: 'gap'; gap: RetentionGap }
  | { type: 'error'; tableId: string; error: WireError }
  /** Staging buffers the thread has read past, transferred back to the log (its `recycle`). */
  | { type: 'buffers'; buffers: ArrayBuffer[] }
  /** Shared staging memory (by id) the thread has read past, for the log to reuse. */
  | { type: 'shared-back'; ids: number[] };

/**
 * A group's frames in shared staging memory: `length` bytes from `offset` of the memory known as
 * `id`. The memory itself comes with the first message that names it, and only then.
 */
export interface SharedFrames {
  id: number;
  offset: number;
  length: number;
  memory?: SharedArrayBuffer;
}

export function toWire(err: unknown): WireError {
  if (err instanceof TributaryError)
    return {
      message: err.message,
      code: err.code,
      ...(err.hint !== undefined ? { hint: err.hint } : {}),
      transient: err.transient,
    };
  return { message: err instanceof Error ? err.message : String(err) };
}

export function fromWire(wire: WireError): Error {
  if (wire.code === undefined) return new Error(wire.message);
  return new TributaryError(wire.message, {
    code: wire.code,
    ...(wire.hint !== undefined ? { hint: wire.hint } : {}),
    ...(wire.transient ? { transient: true } : {}),
  });
}

/** Buffers arrive as plain Uint8Arrays; the flusher wants Buffers (same memory, no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The tables the thread flushes, by id. */
export function tablesById(tables: readonly StreamSourceTable[]): Map<string, StreamSourceTable> {
  return new Map(tables.map((t) => [t.id, t]));
}
