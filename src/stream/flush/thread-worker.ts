/**
 * The flusher thread of a collecting process (started by thread.ts): the same StreamFlusher loop
 * and exactly-once flushes as on the main thread, over a log that is the main thread's. Reads go
 * first to the frames the main thread handed over once durable (frame-cache.ts) and otherwise,
 * like `describeStream`, to the main thread's log by message; the lake is written from here
 * through a LocalObjectStore of its own over the same folder (it keeps no state between calls).
 * The main thread thus only answers producers and writes the log.
 */
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { LocalObjectStore } from '../../lake/index.js';
import type {
  ReadLimits,
  ReadPosition,
  ReadResult,
  StreamDescription,
  StreamLog,
  StreamSettings,
} from '../log.js';
import { FrameCache } from './frame-cache.js';
import { StreamFlusher } from './service.js';
import {
  asBuffer,
  fromWire,
  tablesById,
  toWire,
  type FlusherThreadData,
  type FromFlusher,
  type SharedFrames,
  type ToFlusher,
} from './thread-protocol.js';

const port = parentPort!;

/** The thread's name as the OS shows it (Linux, at most 15 bytes): bench:stream reads its CPU. */
const FLUSHER_THREAD_NAME = 'tributary-flush';
try {
  writeFileSync('/proc/thread-self/comm', FLUSHER_THREAD_NAME);
} catch {
  // Not Linux, or /proc not mounted: the thread keeps the process's name.
}
const data = workerData as FlusherThreadData;
const send = (message: FromFlusher) => port.postMessage(message);

/**
 * Staging buffers the frame cache has read past, given back to the main thread's log (transferred,
 * or by id for shared memory) for later groups. Deferred to the next turn of the event loop: the
 * records a cache read returned are views of this memory, and a read's caller renders them in the
 * promise continuations of the same turn (flusher.ts readShard), never after the turn ends.
 */
let givingBack: ArrayBuffer[] = [];
let givingBackShared: number[] = [];

function giveBack(memory: ArrayBufferLike): void {
  const id = memory instanceof SharedArrayBuffer ? sharedIds.get(memory) : undefined;
  if (id !== undefined) givingBackShared.push(id);
  else if (memory instanceof ArrayBuffer) givingBack.push(memory);
  else return;
  if (givingBack.length + givingBackShared.length > 1) return;
  setImmediate(() => {
    const buffers = givingBack;
    const ids = givingBackShared;
    givingBack = [];
    givingBackShared = [];
    if (buffers.length)
      port.postMessage({ type: 'buffers', buffers } satisfies FromFlusher, buffers);
    if (ids.length) port.postMessage({ type: 'shared-back', ids } satisfies FromFlusher);
  });
}

/** The main thread's shared staging memory, by id, as it was sent (once each). */
const sharedMemory = new Map<number, Buffer>();
const sharedIds = new WeakMap<SharedArrayBuffer, number>();

/** A group's frames: their own bytes, or a range of shared memory the main thread named. */
function framesOf(bytes: Uint8Array | SharedFrames): Buffer {
  if (bytes instanceof Uint8Array) return asBuffer(bytes);
  if (bytes.memory) {
    sharedMemory.set(bytes.id, Buffer.from(bytes.memory));
    sharedIds.set(bytes.memory, bytes.id);
  }
  const memory = sharedMemory.get(bytes.id);
  if (!memory) throw new Error(`the flusher thread was never sent shared memory ${bytes.id}`);
  return memory.subarray(bytes.offset, bytes.offset + bytes.length);
}

/** Calls on the main thread's log, answered by message. */
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextId = 1;

function call<T>(method: 'describeStream' | 'read', args: unknown[]): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    send({ type: 'call', id, method, args });
  });
}

const unsupported = (what: string) =>
  Promise.reject(new Error(`the flusher thread's log does not ${what}`));

/** The main thread's log as the flusher sees it: reads and descriptions only. */
class ThreadLog implements StreamLog {
  readonly kind = data.logKind;
  readonly cache = new FrameCache(undefined, (memory) => giveBack(memory));
  /** Each stream's retention age, as last described (reads from memory respect it). */
  private readonly maxAge = new Map<string, number>();

  async describeStream(name: string): Promise<StreamDescription | undefined> {
    const found = await call<StreamDescription | undefined>('describeStream', [name]);
    if (found) this.maxAge.set(name, found.settings.maxAgeMs);
    return found;
  }

  async read(
    stream: string,
    shardId: string,
    from: ReadPosition,
    limits: ReadLimits = {},
  ): Promise<ReadResult> {
    const maxAgeMs = this.maxAge.get(stream);
    if (maxAgeMs !== undefined) {
      const cached = await this.cache.read(stream, shardId, from, {
        limits,
        cutoffMs: Date.now() - maxAgeMs,
      });
      if (cached) return cached;
    }
    const result = await call<ReadResult>('read', [stream, shardId, from, limits]);
    for (const record of result.records) record.data = asBuffer(record.data);
    return result;
  }

  createStream(_name: string, _settings: StreamSettings): Promise<StreamDescription> {
    return unsupported('create streams');
  }
  listStreams(): Promise<string[]> {
    return unsupported('list streams');
  }
  deleteStream(): Promise<void> {
    return unsupported('delete streams');
  }
  append(): Promise<never> {
    return unsupported('append');
  }
  enforceRetention(): Promise<void> {
    return unsupported('apply retention');
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const log = new ThreadLog();
const tables = tablesById(data.tables);
const flusher = new StreamFlusher({
  store: new LocalObjectStore(data.lakeDir),
  tmpDir: data.tmpDir,
  log,
  tables: data.tables,
  ...(data.pollMs !== undefined ? { pollMs: data.pollMs } : {}),
  onBatch: (table, result) => send({ type: 'batch', tableId: table.id, result }),
  onGap: (gap) => send({ type: 'gap', gap }),
  onError: (table, err) => send({ type: 'error', tableId: table.id, error: toWire(err) }),
});

async function land(id: number, tableId: string): Promise<void> {
  try {
    const table = tables.get(tableId);
    if (!table) throw new Error(`the flusher thread has no stream table ${tableId}`);
    send({ type: 'reply', id, result: await flusher.land(table) });
  } catch (err) {
    send({ type: 'reply', id, error: toWire(err) });
  }
}

port.on('message', (message: ToFlusher) => {
  switch (message.type) {
    case 'frames':
      log.cache.push(message.stream, message.createdAtMs, message.shardId, {
        bytes: framesOf(message.bytes),
        firstCounter: message.firstCounter,
        lastCounter: message.lastCounter,
        where: message.where,
      });
      void flusher.readAhead(message.stream);
      return;
    case 'reply': {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiter?.reject(fromWire(message.error));
      else waiter?.resolve(message.result);
      return;
    }
    case 'forget':
      sharedMemory.delete(message.id);
      return;
    case 'land':
      void land(message.id, message.tableId);
      return;
    case 'stop':
      void flusher.stop().then(() => {
        send({ type: 'reply', id: message.id });
        port.close();
      });
      return;
  }
});

flusher.start();
