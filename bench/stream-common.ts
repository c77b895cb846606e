/**
 * Shared pieces of `npm run bench:stream`: the fixed set of 1 KB events both sides send, latency
 * percentiles, CPU seconds of another process read from /proc, and a pipelined load loop that
 * keeps a fixed number of sends in flight for a fixed time and records each one's latency.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { seededRandom as prng } from '../src/core/index.js';

/** Size every bench event is padded to, in bytes of UTF-8 JSON. */
export const EVENT_BYTES = 1024;

const TYPES = ['page_view', 'product_view', 'add_to_cart', 'checkout', 'purchase'];

/** One event of the fixed set: a JSON object padded to exactly EVENT_BYTES bytes. */
export interface BenchEvent {
  partitionKey: string;
  data: Buffer;
}

/**
 * `count` events, each a JSON object of the clickstream's shape (event_id, user_id, event_type,
 * event_ts, url) plus a `pad` string making it exactly EVENT_BYTES long. `idPrefix` keeps ids of
 * different sets apart.
 */
export function fixedEvents(count: number, seed = 42, idPrefix = 'e'): BenchEvent[] {
  const rand = prng(seed);
  const base = Date.UTC(2026, 0, 1);
  const events: BenchEvent[] = [];
  for (let i = 0; i < count; i++) {
    const user = 1 + Math.floor(rand() * 50_000);
    const event = {
      event_id: `${idPrefix}-${i}`,
      user_id: user,
      event_type: TYPES[Math.floor(rand() * TYPES.length)]!,
      event_ts: new Date(base + Math.floor(rand() * 86_400_000)).toISOString(),
      url: `/products/${Math.floor(rand() * 5000)}`,
      pad: '',
    };
    event.pad = 'x'.repeat(EVENT_BYTES - Buffer.byteLength(JSON.stringify(event)));
    const data = Buffer.from(JSON.stringify(event));
    if (data.length !== EVENT_BYTES) throw new Error(`event ${i} is ${data.length} bytes`);
    events.push({ partitionKey: `user-${user}`, data });
  }
  return events;
}

/** Nearest-rank percentile of latencies (ms); NaN when there are none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux x86-64 and arm64

/** User + system CPU seconds a process (all its threads) has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * CPU seconds of a process's main thread alone (the thread that answers producers; the flusher
 * thread, libuv's pool doing writes and fsyncs, and V8's helpers are the rest).
 */
export function mainThreadCpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);
}

/**
 * CPU seconds of a process's threads named `name` (their /proc comm): the collector's flusher
 * thread names itself `tributary-flush` (src/stream/flush/thread-worker.ts). Threads that ended
 * are not counted, so read it while the process runs.
 */
export function namedThreadsCpuSeconds(pid: number, name: string): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === name)
        total += statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return total;
}

/** The collector's flusher thread's name (src/stream/flush/thread-worker.ts). */
export const FLUSHER_THREAD = 'tributary-flush';

function statCpuSeconds(path: string): number {
  const stat = readFileSync(path, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS;
}

/** This process's CPU seconds so far (user + system). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** What a load loop measured. */
export interface LoadResult {
  /** Sends that were acknowledged, and the records they carried that were acknowledged durable. */
  sends: number;
  records: number;
  /** Records refused (a partial failure) or sends that failed outright. */
  failedRecords: number;
  errors: string[];
  /** Wall seconds from the first send to the last acknowledgement. */
  seconds: number;
  /** Latency of every acknowledged send, in ms. */
  latencies: number[];
}

/**
 * Keeps `inFlight` calls of `send(i)` running for `seconds`, starting the next as each returns;
 * `send` resolves with the number of records acknowledged and refused. Waits for the calls in
 * flight at the end, and counts them.
 */
export async function pipelinedLoad(
  seconds: number,
  inFlight: number,
  send: (i: number) => Promise<{ acked: number; failed: number }>,
): Promise<LoadResult> {
  const result: LoadResult = {
    sends: 0,
    records: 0,
    failedRecords: 0,
    errors: [],
    seconds: 0,
    latencies: [],
  };
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let next = 0;
  const lane = async () => {
    while (performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      try {
        const { acked, failed } = await send(i);
        result.latencies.push(performance.now() - t0);
        result.sends++;
        result.records += acked;
        result.failedRecords += failed;
      } catch (err) {
        if (result.errors.length < 5) result.errors.push((err as Error).message);
        result.failedRecords++;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  result.seconds = (performance.now() - start) / 1000;
  return result;
}
