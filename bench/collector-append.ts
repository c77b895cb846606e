/**
 * The collector's per-request work on its main thread without HTTP or signatures, for A/B of
 * builds on a loaded machine (issue 15): each PutRecords body (500 × 1 KB events, base64 in JSON,
 * as bench:stream sends) is copied into a reused body buffer as the pooled body reader does, read
 * by scanPutRecords (decoding in place, records as columns), appended with appendColumns to a local
 * segment log of 4 shards (fsync per group commit), and answered as the collector answers (the
 * answer's bytes written while the group is written), 4 requests in flight. Prints the process's CPU seconds (user + system, the log's fsync threads included)
 * per 100k events, and minor page faults per event. `--from DIR` runs another build's modules
 * (e.g. main's dist) in this script, if it has the same scan and answer functions. `--hold-ms N` keeps each group's staging buffer N ms after
 * its write before giving it back, as the flusher thread of `tributary collect` does (it gives
 * a buffer back once it has read past it, at its next look: up to a second); 0 gives it back at
 * once, as a log without a flusher thread does.
 *   npm run build && node dist/bench/collector-append.js [--requests 400] [--from DIR] [--hold-ms 1000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './args.js';
import type { successAnswer as AnswerFn } from '../src/stream/collector/put-records-columns.js';
import type { scanPutRecords as ScanFn } from '../src/stream/collector/put-records-scan.js';
import type { LocalSegmentLog as LogClass } from '../src/stream/local/index.js';

const { values } = benchArgs(
  {
    options: {
      requests: { type: 'string', default: '400' },
      from: { type: 'string', default: '' },
      'hold-ms': { type: 'string', default: '0' },
    },
  },
  import.meta.url,
);
const requests = Number(values.requests);
const root = values.from
  ? resolve(values.from)
  : resolve(fileURLToPath(new URL('..', import.meta.url)));
const { scanPutRecords } = (await import(
  join(root, 'src/stream/collector/put-records-scan.js')
)) as {
  scanPutRecords: typeof ScanFn;
};
const { successAnswer } = (await import(
  join(root, 'src/stream/collector/put-records-columns.js')
)) as {
  successAnswer: typeof AnswerFn;
};
const { LocalSegmentLog } = (await import(join(root, 'src/stream/local/index.js'))) as {
  LocalSegmentLog: typeof LogClass;
};

const IN_FLIGHT = 4;
const event = (i: number) =>
  JSON.stringify({
    event_id: `e-${i}`,
    user: `u-${i % 997}`,
    type: 'page_view',
    url: `/p/${'x'.repeat(900)}`,
    ts: '2026-12-04T00:00:00Z',
  }).slice(0, 994);
const templates = Array.from({ length: 8 }, (_, t) =>
  Buffer.from(
    JSON.stringify({
      StreamName: 's',
      Records: Array.from({ length: 500 }, (_, i) => ({
        PartitionKey: `user-${(t * 500 + i) % 4001}`,
        Data: Buffer.from(event(t * 500 + i)).toString('base64'),
      })),
    }),
  ),
);
/** Each slot's answer buffer, reused as the collector reuses pooled ones. */
const answers: Buffer[] = [];
const bodies = Array.from({ length: IN_FLIGHT }, () =>
  Buffer.allocUnsafeSlow(Math.max(...templates.map((t) => t.length))),
);

const dir = mkdtempSync(join(tmpdir(), 'bench-collector-append-'));
const log = await LocalSegmentLog.open(dir);
await log.createStream('s', { shards: 4, maxAgeMs: 86_400_000 });
const holdMs = Number(values['hold-ms']);
if (holdMs > 0)
  log.onDurable((_stream, _created, _shard, frames) => {
    const memory = frames.bytes.buffer;
    setTimeout(() => log.recycle(memory), holdMs);
  });

async function one(slot: number, k: number): Promise<number> {
  const template = templates[k % templates.length]!;
  const body = bodies[slot]!.subarray(0, template.length);
  template.copy(body);
  const scanned = scanPutRecords(body, 500);
  if (!scanned) throw new Error('the fast path refused a plain PutRecords body');
  const placed = log.appendColumns('s', scanned.columns);
  const answer = successAnswer(placed, scanned.columns.count, (bytes) => {
    const kept = answers[slot];
    return kept && kept.length >= bytes ? kept : (answers[slot] = Buffer.alloc(bytes));
  });
  const failed = await placed.durable;
  if (failed.size > 0) throw new Error(`a group write failed: ${[...failed.values()].join('; ')}`);
  return answer.length;
}

const round = async (from: number, count: number) => {
  for (let k = from; k < from + count; k += IN_FLIGHT)
    await Promise.all(Array.from({ length: IN_FLIGHT }, (_, s) => one(s, k + s)));
};
try {
  await round(0, 40); // warm-up
  const faults0 = process.resourceUsage().minorPageFault;
  const before = process.cpuUsage();
  const started = performance.now();
  await round(40, requests);
  const cpu = process.cpuUsage(before);
  const faults = process.resourceUsage().minorPageFault - faults0;
  const seconds = (performance.now() - started) / 1000;
  const per100k = (micros: number) => ((micros / 1e6) * 100_000) / (requests * 500);
  process.stdout.write(
    `${values.from || 'this build'}: ${per100k(cpu.user + cpu.system).toFixed(3)} CPU-s per 100k events ` +
      `(user ${per100k(cpu.user).toFixed(3)}, system ${per100k(cpu.system).toFixed(3)}), ` +
      `${Math.round((requests * 500) / seconds).toLocaleString('en-US')} events/s, ` +
      `${(faults / (requests * 500)).toFixed(3)} minor faults per event\n`,
  );
} finally {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
}
