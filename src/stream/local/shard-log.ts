/**
 * One shard of a local stream log: its segment files (`<first counter>.seg`, oldest first, the
 * last one open for appending), the frames staged for the next group write, recovery of a torn
 * tail on open, the sparse index reads start from, and removal of whole old segments.
 * Counters (1, 2, 3…) are the shard's own; the stream turns them into sequence numbers.
 */
import { close, constants as fsConstants, ftruncate, open as openFd, write } from 'node:fs';
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../../core/errors.js';
import { nodeSyncIo, syncDir } from '../../core/fs.js';
import type { RecordColumns } from '../log.js';
import type { StagingPool } from './frame.js';
import {
  FRAME_HEADER_BYTES,
  FrameStaging,
  INDEX_STEP_BYTES,
  decodeFrame,
  type DecodedFrame,
  type IndexPoint,
  type StagedFrames,
} from './frame.js';

/** The file operations of a group write, replaceable in tests to make a disk fail on purpose. */
export interface SegmentIo {
  /** Writes all of `bytes` at `position`. */
  write(fd: number, bytes: Buffer, position: number): Promise<void>;
  datasync(fd: number): Promise<void>;
  truncate(fd: number, length: number): Promise<void>;
  /**
   * True when segments are to be opened with O_DSYNC: a write then returns only once its data is
   * on disk, and no datasync follows it. Otherwise each group's write is followed by a datasync.
   */
  syncedWrites?: boolean;
}

/**
 * O_DSYNC where the platform has it (not on Windows): `write` then does what write + fdatasync do
 * in one call, one trip to libuv's thread pool and back to the event loop instead of two. Each
 * trip waits for the collector's thread to be free to take its answer, which under load was a
 * few milliseconds per group (issue 15).
 */
const O_DSYNC: number | undefined = fsConstants.O_DSYNC;

/** The real thing: Node's fs calls, run on libuv's thread pool. */
export const nodeSegmentIo: SegmentIo = {
  syncedWrites: O_DSYNC !== undefined,
  async write(fd, bytes, position) {
    let done = 0;
    while (done < bytes.length) {
      done += await new Promise<number>((resolve, reject) =>
        write(fd, bytes, done, bytes.length - done, position + done, (err, n) =>
          err ? reject(err) : resolve(n),
        ),
      );
    }
  },
  datasync: nodeSyncIo.datasync,
  truncate: (fd, length) =>
    new Promise((resolve, reject) =>
      ftruncate(fd, length, (err) => (err ? reject(err) : resolve())),
    ),
};

/** Flags to open a segment for appending: read-write, created empty with `create`. */
function appendFlags(syncedWrites: boolean, create: boolean): number {
  const { O_RDWR, O_CREAT, O_TRUNC } = fsConstants;
  return O_RDWR | (create ? O_CREAT | O_TRUNC : 0) | (syncedWrites ? O_DSYNC! : 0);
}

const openFile = (path: string, flags: string | number) =>
  new Promise<number>((resolve, reject) =>
    openFd(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))),
  );
const closeFile = (fd: number) => new Promise<void>((resolve) => close(fd, () => resolve()));

/** One segment file. `size` counts only durable, whole frames: what a reader may read. */
export interface Segment {
  path: string;
  firstCounter: number;
  size: number;
  /** Sparse index; undefined until the segment was scanned (closed segments after an open). */
  points?: IndexPoint[];
  /** Arrival of the first and last record; null when empty, undefined when not known yet. */
  firstArrivalMs?: number | null;
  lastArrivalMs?: number | null;
}

const segmentName = (counter: number) => `${String(counter).padStart(20, '0')}.seg`;
const READ_CHUNK = 1024 * 1024;

/** Calls `visit` for every whole, valid frame of `path` from `offset` to `end`; returns where the valid frames stop. */
export async function scanFrames(
  path: string,
  offset: number,
  end: number,
  visit: (frame: DecodedFrame, fileOffset: number) => boolean | void,
): Promise<{ validEnd: number; problem?: string }> {
  const handle = await open(path, 'r');
  try {
    let pos = offset;
    let chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(end - offset, 1)));
    while (pos < end) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, end - pos), pos);
      if (bytesRead === 0) return { validEnd: pos, problem: 'the file is shorter than expected' };
      let at = 0;
      let need = 0;
      while (at < bytesRead) {
        const result = decodeFrame(chunk, at, bytesRead);
        if (result.kind === 'corrupt') return { validEnd: pos + at, problem: result.reason };
        if (result.kind === 'short') {
          if (pos + at + result.need > end)
            return { validEnd: pos + at, problem: 'a torn frame at the end' };
          need = result.need;
          break;
        }
        if (visit(result.frame, pos + at) === false) return { validEnd: pos + at };
        at += result.frame.length;
      }
      pos += at;
      // Frames handed to `visit` keep views of the chunk: later reads go to a fresh buffer.
      chunk = Buffer.allocUnsafe(Math.max(chunk.length, need));
    }
    return { validEnd: pos };
  } finally {
    await handle.close();
  }
}

/** The durable log of one shard. */
export class ShardLog {
  readonly staging: FrameStaging;
  /** Records below this counter were removed by retention (0: none were). */
  trimmedBelow = 0;
  nextCounter = 1;
  lastDurableCounter = 0;
  lastDurableArrivalMs = 0;
  /** A failed write could not be undone: the next write starts a new segment. */
  private broken = false;
  private fd = -1;

  private constructor(
    readonly dir: string,
    readonly segments: Segment[],
    pool: StagingPool | undefined,
    /** Segments are opened O_DSYNC (SegmentIo.syncedWrites): no datasync after a write. */
    private readonly syncedWrites: boolean,
  ) {
    this.staging = new FrameStaging(undefined, pool);
  }

  /** The segment appends go to. */
  get active(): Segment {
    return this.segments.at(-1)!;
  }

  /** Creates the folder's first segment (for a new stream; the caller made the folder). */
  static async createFiles(dir: string): Promise<void> {
    const fd = await openFile(join(dir, segmentName(1)), 'w');
    await closeFile(fd);
  }

  /**
   * Opens a shard folder: lists its segments, scans the last one and cuts a torn or corrupt
   * tail (a crash mid-write), and returns how many bytes were cut.
   */
  static async open(
    dir: string,
    pool?: StagingPool,
    syncedWrites = false,
  ): Promise<{ shard: ShardLog; cutBytes: number; problem?: string }> {
    const names = (await readdir(dir)).filter((n) => /^\d{20}\.seg$/.test(n)).sort();
    const segments: Segment[] = [];
    for (const name of names) {
      const path = join(dir, name);
      segments.push({
        path,
        firstCounter: Number(name.slice(0, 20)),
        size: (await stat(path)).size,
      });
    }
    if (segments.length === 0) {
      await ShardLog.createFiles(dir);
      segments.push({ path: join(dir, segmentName(1)), firstCounter: 1, size: 0 });
    }
    const shard = new ShardLog(dir, segments, pool, syncedWrites && O_DSYNC !== undefined);
    const recovered = await shard.recoverTail();
    if (segments[0]!.firstCounter > 1) shard.trimmedBelow = segments[0]!.firstCounter;
    shard.fd = await openFile(shard.active.path, appendFlags(shard.syncedWrites, false));
    return { shard, ...recovered };
  }

  /** Scans the last segment, keeps its index, and truncates anything after the last valid frame. */
  private async recoverTail(): Promise<{ cutBytes: number; problem?: string }> {
    const segment = this.active;
    const points: IndexPoint[] = [];
    let last: DecodedFrame | undefined;
    let first: DecodedFrame | undefined;
    let lastPointOffset = -INDEX_STEP_BYTES;
    const { validEnd, problem } = await scanFrames(segment.path, 0, segment.size, (frame, at) => {
      // A counter that does not increase is not a frame this shard wrote after the one before.
      if (frame.counter < segment.firstCounter || (last && frame.counter <= last.counter))
        return false;
      if (at - lastPointOffset >= INDEX_STEP_BYTES) {
        points.push({ counter: frame.counter, arrivalMs: frame.arrivalMs, offset: at });
        lastPointOffset = at;
      }
      first ??= frame;
      last = frame;
    });
    const cutBytes = segment.size - validEnd;
    if (cutBytes > 0) {
      const fd = await openFile(segment.path, 'r+');
      try {
        await nodeSegmentIo.truncate(fd, validEnd);
        await nodeSegmentIo.datasync(fd);
      } finally {
        await closeFile(fd);
      }
    }
    segment.size = validEnd;
    segment.points = points;
    segment.firstArrivalMs = first ? first.arrivalMs : null;
    segment.lastArrivalMs = last ? last.arrivalMs : null;
    this.lastDurableCounter = last ? last.counter : segment.firstCounter - 1;
    this.lastDurableArrivalMs = last ? last.arrivalMs : 0;
    this.nextCounter = this.lastDurableCounter + 1;
    return cutBytes > 0
      ? { cutBytes, problem: problem ?? 'a torn frame at the end' }
      : { cutBytes };
  }

  /** Stages one record for the next group write; returns its counter. */
  stage(arrivalMs: number, partitionKey: string, data: Uint8Array): number {
    const counter = this.nextCounter++;
    this.staging.add(counter, arrivalMs, partitionKey, data);
    return counter;
  }

  /** `stage` for record `i` of `records` (frame.ts `addColumn`). */
  stageColumn(arrivalMs: number, records: RecordColumns, i: number): number {
    const counter = this.nextCounter++;
    this.staging.addColumn(counter, arrivalMs, records, i);
    return counter;
  }

  /**
   * The arrival time a new record gets: now, but never before the shard's last one (staged, in
   * flight or durable), so arrival times never decrease within a shard and at_time reads and
   * retention can rely on their order even when the clock steps back.
   */
  arrivalFor(nowMs: number): number {
    const last = Math.max(this.staging.lastArrivalMs, this.lastDurableArrivalMs);
    return nowMs > last ? nowMs : last;
  }

  /**
   * Writes frames taken from the staging buffer and syncs them (the group write). On failure the
   * partial write is cut off again (or, if even that fails, the next write starts a new segment)
   * and the error is thrown: those records were never durable and their counters are skipped.
   * Returns the segment file and offset the frames were written at.
   */
  async writeFrames(
    taken: StagedFrames,
    io: SegmentIo,
    rollBytes: number,
    rollAgeMs: number,
  ): Promise<{ path: string; position: number } | undefined> {
    if (taken.bytes.length === 0) return undefined;
    const active = this.active;
    const old = active.firstArrivalMs != null && active.firstArrivalMs < Date.now() - rollAgeMs;
    if (this.broken || active.size >= rollBytes || old) await this.roll();
    const segment = this.active;
    const position = segment.size;
    try {
      await io.write(this.fd, taken.bytes, position);
      if (!this.syncedWrites) await io.datasync(this.fd);
    } catch (err) {
      try {
        await io.truncate(this.fd, position);
        await io.datasync(this.fd);
      } catch {
        this.broken = true;
      }
      throw err;
    }
    const points = (segment.points ??= []);
    for (const point of taken.points) {
      const offset = position + point.offset;
      const previous = points.at(-1);
      if (!previous || offset - previous.offset >= INDEX_STEP_BYTES)
        points.push({ counter: point.counter, arrivalMs: point.arrivalMs, offset });
    }
    if (segment.firstArrivalMs == null) segment.firstArrivalMs = taken.points[0]!.arrivalMs;
    segment.lastArrivalMs = taken.lastArrivalMs;
    segment.size = position + taken.bytes.length;
    this.lastDurableCounter = taken.lastCounter;
    this.lastDurableArrivalMs = taken.lastArrivalMs;
    return { path: segment.path, position };
  }

  /**
   * Starts a new segment, named after the counter following the last durable record. Readers
   * stop reading a segment at the next one's first counter, so frames of a failed group that
   * could not be cut off (they are below the name but were never acknowledged) are never read.
   * A segment with nothing durable in it is started over instead. Until a roll succeeds no group
   * is written (the old segment may hold such frames).
   */
  private async roll(): Promise<void> {
    const firstCounter = this.lastDurableCounter + 1;
    const path = join(this.dir, segmentName(firstCounter));
    this.broken = true;
    const fd = await openFile(path, appendFlags(this.syncedWrites, true));
    try {
      await syncDir(this.dir);
    } catch (err) {
      await closeFile(fd);
      throw err;
    }
    const previous = this.fd;
    this.fd = fd;
    const fresh: Segment = {
      path,
      firstCounter,
      size: 0,
      points: [],
      firstArrivalMs: null,
      lastArrivalMs: null,
    };
    if (path === this.active.path) this.segments[this.segments.length - 1] = fresh;
    else this.segments.push(fresh);
    this.broken = false;
    await closeFile(previous);
  }

  /** Makes sure the segment's index and first/last arrival are known (scans it once). */
  async ensureScanned(segment: Segment): Promise<void> {
    if (segment.points && segment.lastArrivalMs !== undefined) return;
    const bound = this.endCounterOf(segment);
    const points: IndexPoint[] = [];
    let first: number | null = null;
    let last: number | null = null;
    let lastPointOffset = -INDEX_STEP_BYTES;
    await scanFrames(segment.path, 0, segment.size, (frame, at) => {
      if (frame.counter >= bound) return false;
      if (at - lastPointOffset >= INDEX_STEP_BYTES) {
        points.push({ counter: frame.counter, arrivalMs: frame.arrivalMs, offset: at });
        lastPointOffset = at;
      }
      first ??= frame.arrivalMs;
      last = frame.arrivalMs;
    });
    segment.points = points;
    segment.firstArrivalMs = first;
    segment.lastArrivalMs = last;
  }

  /** Counters of a segment end before the next segment's first (Infinity for the last one). */
  endCounterOf(segment: Segment): number {
    const index = this.segments.indexOf(segment);
    return this.segments[index + 1]?.firstCounter ?? Infinity;
  }

  /** The arrival of a segment's first record (one small read), null when it is empty. */
  async firstArrivalOf(segment: Segment): Promise<number | null> {
    if (segment.firstArrivalMs !== undefined) return segment.firstArrivalMs;
    let arrival: number | null = null;
    const end = Math.min(segment.size, FRAME_HEADER_BYTES + 2 * 1024 * 1024);
    await scanFrames(segment.path, 0, end, (frame) => {
      arrival = frame.arrivalMs;
      return false;
    });
    segment.firstArrivalMs = arrival;
    return arrival;
  }

  /**
   * Removes whole segments from the oldest: those whose every record is older than `cutoffMs`,
   * then while the shard holds more than `maxBytes`. The segment being appended to is rolled
   * first when all of it has expired, so an idle shard's old records go too. Runs between group
   * writes (the caller serialises it with them).
   */
  async removeExpired(cutoffMs: number, maxBytes: number | undefined): Promise<number> {
    const active = this.active;
    if (active.size > 0 && this.staging.length === 0 && this.lastDurableArrivalMs < cutoffMs)
      await this.roll();
    let removed = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const total = this.segments.reduce((sum, s) => sum + s.size, 0);
      if (maxBytes === undefined || total <= maxBytes) {
        await this.ensureScanned(oldest);
        if (oldest.lastArrivalMs != null && oldest.lastArrivalMs >= cutoffMs) break;
      }
      await unlink(oldest.path).catch(() => undefined);
      this.segments.shift();
      this.trimmedBelow = this.segments[0]!.firstCounter;
      removed++;
    }
    if (removed > 0) await syncDir(this.dir).catch(() => undefined);
    return removed;
  }

  /**
   * Scans (once) the oldest closed segments whose age retention must know, stopping at the first
   * one still in date. Runs outside the writer's turn, so a long scan of a segment written before
   * the log was opened does not hold up group writes; `removeExpired` then finds them scanned.
   */
  async scanExpiring(cutoffMs: number): Promise<void> {
    for (const segment of this.segments.slice(0, -1)) {
      try {
        await this.ensureScanned(segment);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue; // removed meanwhile
        throw err;
      }
      if (segment.lastArrivalMs != null && segment.lastArrivalMs >= cutoffMs) return;
    }
  }

  /** Closes the active segment's descriptor. */
  async close(): Promise<void> {
    if (this.fd >= 0) await closeFile(this.fd);
    this.fd = -1;
  }
}
