/**
 * `npm run bench:stream-log`: the local segment log's durable append rate. Many concurrent
 * callers append 1 KB records for a fixed time; every append resolves only after its group's
 * fdatasync. Prints records/s, MB/s, p50/p99 append latency and CPU seconds, and as the
 * reference in the same run: plain `fs.writeSync` + `fdatasync` of the same bytes in the same
 * group sizes the log wrote (the floor any durable log on this disk pays), and the ratio.
 *   npm run bench:stream-log -- --seconds 5 --shards 2 --scenarios 256x1,64x50
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs } from './args.js';
import {
  LocalSegmentLog,
  nodeSegmentIo,
  type RecordInput,
  type SegmentIo,
} from '../src/stream/index.js';

const { values } = benchArgs(
  {
    options: {
      seconds: { type: 'string', default: '5' },
      shards: { type: 'string', default: '2' },
      // callers x records per call, comma-separated
      scenarios: { type: 'string', default: '256x1,64x20,16x250' },
      'record-bytes': { type: 'string', default: '1024' },
    },
  },
  import.meta.url,
);
const seconds = Number(values.seconds);
const shards = Number(values.shards);
const recordBytes = Number(values['record-bytes']);
const root = resolve(import.meta.dirname, '../../bench/.work/stream-log');

interface Measured {
  records: number;
  wallS: number;
  cpuS: number;
  latenciesMs: Float64Array;
  /** Bytes of each group write, per shard file, in order. */
  groups: { shard: number; bytes: number }[];
}

/** A record's data: 1 KB of JSON-like text, the same bytes every time (the log copies them). */
function payload(bytes: number): Buffer {
  const base = JSON.stringify({ event: 'page_view', url: '/products/123', session: 'abc' });
  return Buffer.from(base.padEnd(bytes, ' ').slice(0, bytes));
}

/** Real file operations that also note the size of every group write. */
function countingIo(groups: Measured['groups']): SegmentIo {
  const shardOfFd = new Map<number, number>();
  return {
    ...nodeSegmentIo,
    write(fd, bytes, position) {
      if (!shardOfFd.has(fd)) shardOfFd.set(fd, shardOfFd.size % shards);
      groups.push({ shard: shardOfFd.get(fd)!, bytes: bytes.length });
      return nodeSegmentIo.write(fd, bytes, position);
    },
  };
}

/** Appends from `callers` loops of `perCall` records each for `seconds`. */
async function runLog(callers: number, perCall: number): Promise<Measured> {
  const dir = join(root, `log-${callers}x${perCall}`);
  rmSync(dir, { recursive: true, force: true });
  const groups: Measured['groups'] = [];
  const log = await LocalSegmentLog.open(dir, { io: countingIo(groups), retentionIntervalMs: 0 });
  await log.createStream('bench', { shards, maxAgeMs: 3_600_000 });
  const data = payload(recordBytes);
  const keys = Array.from({ length: 4096 }, (_, i) => `user-${i * 7919}`);
  const latencies: number[] = [];
  let records = 0;
  let stop = false;
  const caller = async (c: number) => {
    let k = c;
    const batch: RecordInput[] = Array.from({ length: perCall }, () => ({
      partitionKey: '',
      data,
    }));
    while (!stop) {
      for (const r of batch) r.partitionKey = keys[k++ % keys.length]!;
      const start = performance.now();
      const outcomes = await log.append('bench', batch);
      latencies.push(performance.now() - start);
      for (const o of outcomes) if (!o.ok) throw new Error(o.message);
      records += outcomes.length;
    }
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const timer = setTimeout(() => (stop = true), seconds * 1000);
  await Promise.all(Array.from({ length: callers }, (_, c) => caller(c)));
  clearTimeout(timer);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    records,
    wallS,
    cpuS: (cpu.user + cpu.system) / 1e6,
    latenciesMs: Float64Array.from(latencies).sort(),
    groups,
  };
}

/** The reference: the same group writes with writeSync + fdatasync, one shard file each. */
function runReference(groups: Measured['groups']): { wallS: number; cpuS: number } {
  const dir = join(root, 'reference');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const fds = Array.from({ length: shards }, (_, s) => openSync(join(dir, `shard-${s}`), 'w'));
  const largest = groups.reduce((m, g) => Math.max(m, g.bytes), 0);
  const buffer = Buffer.alloc(largest, 120);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const g of groups) {
    writeSync(fds[g.shard]!, buffer, 0, g.bytes);
    fdatasyncSync(fds[g.shard]!);
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const fd of fds) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return { wallS, cpuS: (cpu.user + cpu.system) / 1e6 };
}

const quantile = (sorted: Float64Array, q: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<void> {
  console.log(
    `stream-log bench: ${recordBytes} B records, ${shards} shards, ${seconds} s per scenario, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const scenario of values.scenarios.split(',')) {
    const [callers, perCall] = scenario.split('x').map(Number) as [number, number];
    const m = await runLog(callers, perCall);
    const ref = runReference(m.groups);
    const rate = m.records / m.wallS;
    const mb = (m.records * recordBytes) / m.wallS / 1e6;
    const avgGroup = m.groups.reduce((s, g) => s + g.bytes, 0) / m.groups.length / 1024;
    console.log(
      [
        `${callers} callers x ${perCall} records/call:`,
        `  log:       ${Math.round(rate).toLocaleString('en')} records/s, ${mb.toFixed(1)} MB/s, ` +
          `append p50 ${quantile(m.latenciesMs, 0.5).toFixed(2)} ms p99 ${quantile(m.latenciesMs, 0.99).toFixed(2)} ms, ` +
          `CPU ${m.cpuS.toFixed(2)} s in ${m.wallS.toFixed(2)} s wall`,
        `  groups:    ${m.groups.length} writes+fdatasyncs (${(m.groups.length / m.wallS).toFixed(0)}/s), ` +
          `${avgGroup.toFixed(1)} KiB each on average`,
        `  reference: the same ${m.groups.length} writeSync+fdatasync in ${ref.wallS.toFixed(2)} s ` +
          `(${Math.round(m.records / ref.wallS).toLocaleString('en')} records/s equivalent, CPU ${ref.cpuS.toFixed(2)} s)`,
        `  ratio log wall / reference wall: ${(m.wallS / ref.wallS).toFixed(3)}`,
      ].join('\n'),
    );
  }
}

await main();
