/**
 * Reading a shard of the local log: find the segment and offset to start from with the sparse
 * index (never a scan from the shard's start), then read whole, checksummed frames up to each
 * segment's durable size, so a record whose group has not been synced is never seen.
 */
import { isErrno } from '../../core/errors.js';
import type { DecodedFrame } from './frame.js';
import { scanFrames, type Segment, type ShardLog } from './shard-log.js';

export interface ShardReadRequest {
  /** Start at the first record with at least this counter (0: from the oldest). */
  minCounter: number;
  /** Or at the first record that arrived at or after this time (-Infinity: any). */
  minArrivalMs: number;
  /** Records that arrived before this are expired (retention by age), never returned. */
  cutoffMs: number;
  /** Whether skipping removed records counts as a gap to report (reads from a sequence number). */
  reportTrim: boolean;
  maxRecords: number;
  maxBytes: number;
}

export interface ShardReadResult {
  frames: DecodedFrame[];
  /** Records the position asked for were removed by retention. */
  trimmed: boolean;
}

/** The index of the last element of `items` for which `before` holds, or -1. */
function lastWhere<T>(items: readonly T[], before: (item: T) => boolean): number {
  let lo = 0;
  let hi = items.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (before(items[mid]!)) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Which segment and offset a read starts at. */
async function startOf(
  shard: ShardLog,
  segments: readonly Segment[],
  request: ShardReadRequest,
): Promise<{ index: number; offset: number; trimmed: boolean }> {
  const trimmed = request.reportTrim && request.minCounter < shard.trimmedBelow;
  if (request.minCounter > 0) {
    const index = lastWhere(segments, (s) => s.firstCounter <= request.minCounter);
    if (index < 0) return { index: 0, offset: 0, trimmed };
    const segment = segments[index]!;
    await shard.ensureScanned(segment);
    const point = lastWhere(segment.points!, (p) => p.counter <= request.minCounter);
    return { index, offset: point < 0 ? 0 : segment.points![point]!.offset, trimmed };
  }
  if (request.minArrivalMs > -Infinity) {
    let index = 0;
    for (let i = segments.length - 1; i > 0; i--) {
      const first = await shard.firstArrivalOf(segments[i]!);
      if (first !== null && first < request.minArrivalMs) {
        index = i;
        break;
      }
    }
    const segment = segments[index]!;
    await shard.ensureScanned(segment);
    const point = lastWhere(segment.points!, (p) => p.arrivalMs < request.minArrivalMs);
    return { index, offset: point < 0 ? 0 : segment.points![point]!.offset, trimmed: false };
  }
  return { index: 0, offset: 0, trimmed };
}

/** Reads records of one shard as the request says. */
export async function readShard(
  shard: ShardLog,
  request: ShardReadRequest,
): Promise<ShardReadResult> {
  // A copy, and the durable sizes as of now: retention may drop segments from the shard's list
  // and group writes may grow the last one while this read runs.
  const segments = shard.segments.slice();
  const sizes = segments.map((s) => s.size);
  const ends = segments.map((_, i) => segments[i + 1]?.firstCounter ?? Infinity);
  const start = await startOf(shard, segments, request).catch((err: unknown) => {
    // The segment to start in was removed by retention meanwhile: start at the next one.
    if (!isErrno(err, 'ENOENT')) throw err;
    return { index: 0, offset: 0, trimmed: request.reportTrim };
  });
  const frames: DecodedFrame[] = [];
  let trimmed = start.trimmed;
  let bytes = 0;
  let full = false;
  for (let i = start.index; i < segments.length && !full; i++) {
    const from = i === start.index ? start.offset : 0;
    try {
      await scanFrames(segments[i]!.path, from, sizes[i]!, (f) => {
        if (f.counter >= ends[i]!) return false; // frames of a failed group, never acknowledged
        if (f.counter < request.minCounter || f.arrivalMs < request.minArrivalMs) return;
        if (f.arrivalMs < request.cutoffMs) {
          trimmed ||= request.reportTrim;
          return;
        }
        const over = frames.length > 0 && bytes + f.data.length > request.maxBytes;
        if (frames.length >= request.maxRecords || over) {
          full = true;
          return false;
        }
        frames.push(f);
        bytes += f.data.length;
      });
    } catch (err) {
      // Removed by retention since the read began: its records are gone, like any trimmed ones.
      if (!isErrno(err, 'ENOENT')) throw err;
      trimmed ||= request.reportTrim && frames.length === 0;
    }
  }
  return { frames, trimmed };
}
