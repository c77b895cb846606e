/**
 * Landing for connectors that fetch data (REST APIs, databases): records or bytes stream into
 * one raw-zone batch file, written aside in the project's tmp folder and hashed as they go, then
 * stored under its content address. Nothing is visible until `commitRawBatches` swaps the raw
 * manifest, which also stores the source's incremental cursor: the cursor can never move past
 * data that was not committed, and a re-run after a crash fetches the same data again, which
 * lands once (same bytes, same address). The store makes the file durable before `finish()`
 * returns (see `ObjectStore.putFile`), so the manifest committed next never names bytes a power
 * cut can take back.
 */
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, open as openFd, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { newId, nodeSyncIo, type SyncIo } from '../core/index.js';
import {
  commitManifest,
  lakeKeys,
  readManifest,
  type ObjectStore,
  type RawBatch,
  type RawManifest,
} from '../lake/index.js';

/** The raw manifest of a table, or an empty one before its first commit. */
export async function readRawManifest(
  store: ObjectStore,
  source: string,
  table: string,
): Promise<RawManifest> {
  return (
    (await readManifest<RawManifest>(store, lakeKeys.rawManifest(source, table))) ?? {
      format: 1,
      source,
      table,
      version: 0,
      updatedAt: '',
      batches: [],
    }
  );
}

/**
 * Commits new batches and the cursor that covers them in one manifest swap. Batches whose bytes
 * were landed before are left out (content addressing makes a re-fetch harmless).
 */
export async function commitRawBatches(
  store: ObjectStore,
  source: string,
  table: string,
  batches: RawBatch[],
  cursor?: Record<string, unknown>,
): Promise<{ manifest: RawManifest; landed: RawBatch[] }> {
  const manifest = await readRawManifest(store, source, table);
  const known = new Set(manifest.batches.map((b) => b.id));
  const landed = batches.filter((b) => !known.has(b.id));
  if (!landed.length && cursor === undefined) return { manifest, landed };
  const next = await commitManifest(store, lakeKeys.rawManifest(source, table), {
    ...manifest,
    batches: [...manifest.batches, ...landed],
    ...(cursor !== undefined ? { cursor: { ...manifest.cursor, ...cursor } } : {}),
  });
  return { manifest: next, landed };
}

export interface RawWriterOptions {
  store: ObjectStore;
  /** Local folder for the file while it is written (the project's .tributary/tmp). */
  tmpDir: string;
  source: string;
  table: string;
  /** Extension of the batch file, which tells processing how to read it: `.ndjson` or `.csv`. */
  ext: '.ndjson' | '.csv';
  now: Date;
  /** A name for the batch in messages and the catalog, e.g. `GET /v1/charges` or `public.orders`. */
  originalName: string;
  /**
   * Syncs (fdatasync) what was written after every this many bytes, so the sync the store does
   * when the batch is stored has little left to flush: one sync of a large file at the end holds
   * the disk's queue for tens of ms, stalling the small syncs of others on the same disk (the
   * stream log's group commits). Unset: the only sync is the store's, when the batch is stored.
   */
  syncEveryBytes?: number;
  /** The sync calls; tests pass a recorder around the real ones. */
  io?: SyncIo;
  /**
   * The batch's id, given by a caller whose batch is named by what determines its bytes (the
   * stream flusher: its records' sequence ranges); the bytes are then not hashed. Unset: the id
   * is the SHA-256 of the bytes.
   */
  id?: string;
}

/** One batch file being written. Call `finish()` to store it, or `abort()` to drop it. */
export class RawBatchWriter {
  /** Hashes the bytes for the id, unless the caller named the batch. */
  private readonly hash: Hash | undefined;
  private bytes = 0;
  private records = 0;
  private done = false;
  /** Bytes the file stream has written (their write callbacks ran), and how many were synced. */
  private written = 0;
  private syncedUpTo = 0;
  /** The progressive sync running, if any: never two at once, and never one under a close. */
  private syncing: Promise<void> | undefined;
  private syncError: unknown;

  private constructor(
    private readonly opts: RawWriterOptions,
    private readonly path: string,
    private readonly fd: number,
    private readonly out: WriteStream,
  ) {
    this.hash = opts.id === undefined ? createHash('sha256') : undefined;
  }

  static async open(opts: RawWriterOptions): Promise<RawBatchWriter> {
    await mkdir(opts.tmpDir, { recursive: true });
    const path = join(opts.tmpDir, `raw-${opts.source}-${opts.table}-${newId()}${opts.ext}`);
    // Opened here rather than by the stream, so the progressive syncs have its descriptor; the
    // stream still closes it.
    const fd = await new Promise<number>((resolve, reject) =>
      openFd(path, 'w', (err, opened) => (err ? reject(err) : resolve(opened))),
    );
    return new RawBatchWriter(opts, path, fd, createWriteStream(path, { fd }));
  }

  /** Rows written so far (records, or lines counted by the caller through `countRecords`). */
  get rows(): number {
    return this.records;
  }

  get size(): number {
    return this.bytes;
  }

  /** Appends bytes, waiting when the file stream is behind (bounded memory). */
  async write(chunk: string | Buffer): Promise<void> {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.throwIfSyncFailed();
    this.hash?.update(buf);
    this.bytes += buf.length;
    const ready = this.out.write(buf, (err) => {
      if (!err) this.wrote(buf.length);
    });
    if (!ready) await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }

  /**
   * Appends bytes and resolves once the file stream has written them, after which the caller
   * may reuse `buf` (the stream keeps a reference to it until then, it does not copy).
   */
  writeOwned(buf: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.throwIfSyncFailed(); // thrown here, it rejects the promise
      this.hash?.update(buf);
      this.bytes += buf.length;
      this.out.write(buf, (err) => {
        if (err) return reject(err);
        this.wrote(buf.length);
        resolve();
      });
    });
  }

  /** Counts bytes the stream wrote; starts a progressive sync once `syncEveryBytes` are unsynced. */
  private wrote(length: number): void {
    this.written += length;
    this.syncIfDue();
  }

  private syncIfDue(): void {
    const every = this.opts.syncEveryBytes;
    if (!every || this.done || this.syncing || this.syncError !== undefined) return;
    if (this.written - this.syncedUpTo < every) return;
    const upTo = this.written;
    this.syncing = (this.opts.io ?? nodeSyncIo)
      .datasync(this.fd)
      .then(
        () => void (this.syncedUpTo = upTo),
        (err: unknown) => void (this.syncError ??= err),
      )
      .finally(() => {
        this.syncing = undefined;
        // Bytes written while it ran may be due already.
        this.syncIfDue();
      });
  }

  /**
   * A failed sync fails the batch: the kernel may have dropped the unwritten pages and marked
   * them clean, so a later sync could succeed without the bytes being on disk.
   */
  private throwIfSyncFailed(): void {
    if (this.syncError !== undefined) throw this.syncError;
  }

  /** Appends one record as a JSON line. */
  async writeRecord(record: unknown): Promise<void> {
    this.records++;
    await this.write(`${JSON.stringify(record)}\n`);
  }

  /** For byte streams that hold records (CSV rows): tells the writer how many. */
  countRecords(n: number): void {
    this.records += n;
  }

  /**
   * Stores the file under its content address, durably (the store syncs what the progressive
   * syncs left, then the folder); undefined when nothing was written.
   */
  async finish(): Promise<RawBatch | undefined> {
    this.done = true;
    // The stream closes the descriptor once ended: no sync may still be running on it then.
    await this.syncing;
    await new Promise<void>((resolve, reject) =>
      this.out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    if (this.bytes === 0 || this.syncError !== undefined) {
      await rm(this.path, { force: true });
      this.throwIfSyncFailed();
      return undefined;
    }
    const id = this.opts.id ?? this.hash!.digest('hex');
    const { store, source, table, now, ext } = this.opts;
    const key = lakeKeys.rawFile(source, table, now.toISOString().slice(0, 10), id, ext);
    await store.putFile(key, this.path, { move: true });
    return {
      id,
      key,
      originalName: this.opts.originalName,
      bytes: this.bytes,
      ingestedAt: now.toISOString(),
    };
  }

  /** Drops the partial file (a failed fetch lands nothing). */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    // Writes still queued fail once the stream is destroyed; nobody wants them now, and an
    // unheard 'error' event would crash the process.
    this.out.on('error', () => undefined);
    // Destroying the stream closes the descriptor: not under a sync still running on it.
    await this.syncing;
    await new Promise<void>((resolve) => {
      this.out.once('close', () => resolve());
      this.out.destroy();
    });
    await rm(this.path, { force: true });
  }
}
