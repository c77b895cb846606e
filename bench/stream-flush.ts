/**
 * The flusher's own cost, apart from the collector: CPU seconds per 100,000 events landed and the
 * longest stretch it holds the event loop (which delays the requests of the collector sharing
 * its thread). A local log of 2 shards is filled with bench:stream's 1 KB events as a collector
 * would at `--rate` events/s (in calls of 500), and the flusher looks at the table once every
 * `--look-ms` of that simulated time, as `tributary collect`'s loop does, with the table's buffer
 * (`--max-mb`, `--max-age-ms`); at the end a forced landing takes the rest. Only the flushes are
 * timed (process CPU, user + system), not the appends; a 1 ms timer runs beside the flushes and
 * how late it fires is the longest stretch the flusher held the event loop.
 *   npm run build && node dist/bench/stream-flush.js [--events 200000] [--rate 100000]
 *     [--look-ms 250] [--max-mb 64] [--max-age-ms 1000] [--repeat 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './args.js';
import { LocalObjectStore } from '../src/lake/index.js';
import { loadProject, type StreamSourceTable } from '../src/project/index.js';
import { LocalSegmentLog, flushOnce } from '../src/stream/index.js';
import { fixedEvents, ownCpuSeconds } from './stream-common.js';
import { streamProjectFiles, writeProjectFiles } from '../test/stream/harness.js';

const { values } = benchArgs(
  {
    options: {
      events: { type: 'string', default: '200000' },
      rate: { type: 'string', default: '100000' },
      'look-ms': { type: 'string', default: '250' },
      'max-mb': { type: 'string', default: '64' },
      'max-age-ms': { type: 'string', default: '1000' },
      repeat: { type: 'string', default: '3' },
    },
  },
  import.meta.url,
);
const total = Number(values.events);
const rate = Number(values.rate);
const lookMs = Number(values['look-ms']);
const CALL = 500;

async function once(): Promise<{ cpuPer100k: number; maxBlockMs: number; batches: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-stream-flush-'));
  try {
    writeProjectFiles(
      dir,
      streamProjectFiles({
        port: 4567,
        primaryKey: [],
        maxBytes: `${values['max-mb']}MB`,
        maxAge: `${Number(values['max-age-ms']) / 1000}s`,
      }),
    );
    const project = await loadProject(dir);
    const table = project.tables.find((t) => t.kind === 'stream') as StreamSourceTable;
    const log = await LocalSegmentLog.open(join(dir, '.tributary', 'stream'), {
      retentionIntervalMs: 0,
    });
    await log.createStream(table.stream, { shards: 2, maxAgeMs: 24 * 3_600_000 });
    const store = new LocalObjectStore(project.paths.lake);
    const events = fixedEvents(4000).map((e) => ({ partitionKey: e.partitionKey, data: e.data }));
    // Simulated time: the flusher's clock follows the appends, `rate` events a second.
    let simulatedMs = Date.now();
    const ctx = { store, tmpDir: project.paths.tmp, log, now: () => simulatedMs };
    const perLook = Math.max(CALL, Math.round((rate * lookMs) / 1000));
    let maxBlockMs = 0;
    let cpu = 0;
    let batches = 0;
    const flush = async (force: boolean) => {
      // A 1 ms timer: how late it fires is how long the flush held the event loop.
      let last = performance.now();
      const lag = setInterval(() => {
        const at = performance.now();
        maxBlockMs = Math.max(maxBlockMs, at - last - 1);
        last = at;
      }, 1);
      const c0 = ownCpuSeconds();
      const result = await flushOnce(ctx, table, { force });
      cpu += ownCpuSeconds() - c0;
      clearInterval(lag);
      maxBlockMs = Math.max(maxBlockMs, performance.now() - last - 1);
      if (result.batch) batches++;
      return result;
    };
    for (let appended = 0; appended < total;) {
      for (let n = 0; n < perLook && appended < total; n += CALL, appended += CALL)
        await log.append(table.stream, events.slice(appended % 4000, (appended % 4000) + CALL));
      simulatedMs += lookMs;
      let result = await flush(false);
      while (result.batch && result.waiting.bytes >= table.buffer.maxBytes)
        result = await flush(false);
    }
    for (let result = await flush(true); result.batch && result.waiting.records > 0;)
      result = await flush(true);
    await log.close();
    return { cpuPer100k: (cpu / total) * 100_000, maxBlockMs, batches };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `flusher: ${total.toLocaleString('en-US')} 1 KB events at ${rate.toLocaleString('en-US')}/s (simulated), a look every ${lookMs} ms, buffer ${values['max-mb']} MB / ${values['max-age-ms']} ms`,
);
for (let r = 0; r < Number(values.repeat); r++) {
  const { cpuPer100k, maxBlockMs, batches } = await once();
  console.log(
    `  run ${r + 1}: ${cpuPer100k.toFixed(3)} s CPU per 100k events landed, ${batches} batches, longest event-loop block ${maxBlockMs.toFixed(1)} ms`,
  );
}
