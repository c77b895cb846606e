/**
 * `npm run bench:serve`: how fast the template's dashboards answer at SF1. For every tile of the
 * four template dashboards (default filters): p50 and p95 cold (a fresh DuckDB sandbox on the
 * serving snapshot, the tile's first query), warm without the result cache (DuckDB warm, the
 * query runs) and warm through the API's QueryCache (a hit), against the same SQL with the same
 * bound values run straight on @duckdb/node-api in the same run. Then requests/s of the cached
 * dashboard endpoint over HTTP on loopback (autocannon), against /api/health in the same run.
 * The sandbox is opened exactly as `tributary serve` opens it: QuerySandbox with its own limits,
 * i.e. its pool of query processes. A third side, `inprocess`, is the sandbox as it ran before
 * the pool (a DuckDBSandbox in the caller's process, same open options): per-tile latency pool /
 * in-process, per round and overall, and throughput (tile runs per second with 4 callers at
 * once for --throughput seconds, CPU seconds including the query processes) per round.
 * Each round starts a fresh child process per side (bench/serve-worker.ts) and steps them
 * in rotating order, tile by tile, so a busy machine slows all alike. The data (template,
 * generated at --scale, pipeline run, serving snapshot) is set up once in bench/.work/serve/sf<N>.
 *   npm run bench:serve -- --scale 1 --repeat 5 --warm 5 --duration 10 --connections 10 --throughput 5
 * Targets (issue): p95 under 100 ms warm and under 500 ms cold.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { benchArgs } from './args.js';
import autocannon from 'autocannon';
import { SANDBOX_DEFAULTS, loadDashboards } from '../src/serve/index.js';
import { ensureServeSetup } from './serve-setup.js';
import { THROUGHPUT_CONCURRENCY, tileQueries } from './serve-worker.js';

const { values } = benchArgs(
  {
    options: {
      scale: { type: 'string', default: '1' },
      seed: { type: 'string', default: '42' },
      repeat: { type: 'string', default: '5' },
      warm: { type: 'string', default: '5' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '10' },
      dashboard: { type: 'string', default: 'executive' },
      throughput: { type: 'string', default: '5' },
      // Rounds with the cold step (a fresh sandbox per tile: for the pool, two processes started).
      'cold-rounds': { type: 'string' },
    },
  },
  import.meta.url,
);
const scale = Number(values.scale);
const seed = Number(values.seed);
const repeat = Number(values.repeat);
const warmIters = Number(values.warm);
const duration = Number(values.duration);
const connections = Number(values.connections);
const throughputMs = Number(values.throughput) * 1000;
const coldRounds = Math.min(repeat, Number(values['cold-rounds'] ?? repeat));
const dashboardName = values.dashboard;
const root = resolve(import.meta.dirname, '../../bench/.work/serve');
const worker = resolve(import.meta.dirname, 'serve-worker.js');
const log = (line: string) => process.stderr.write(`${line}\n`);

const WARM_TARGET_MS = 100;
const COLD_TARGET_MS = 500;

/** Nearest-rank percentile. */
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}
const ms = (x: number) => (x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(1));
const pp = (xs: number[]) => `${ms(pct(xs, 50))} / ${ms(pct(xs, 95))}`;
const met = (ok: boolean) => (ok ? 'met' : '**not met**');

type SideName = 'sandbox' | 'inprocess' | 'reference';
const SIDES: SideName[] = ['sandbox', 'inprocess', 'reference'];

/** A worker process answering one step per JSON line (see bench/serve-worker.ts). */
class StepWorker {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly lines: AsyncIterator<string>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [worker, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** The next line the worker prints, parsed. */
  async read<T>(): Promise<T> {
    const r = await this.lines.next();
    if (r.done)
      throw new Error(`a worker (${this.child.spawnargs.slice(2, 4).join(' ')}) ended early`);
    return JSON.parse(r.value) as T;
  }

  async step<T>(op: string, key = ''): Promise<T> {
    this.child.stdin.write(`${JSON.stringify({ op, key })}\n`);
    return this.read<T>();
  }

  async stop(): Promise<void> {
    this.child.stdin.end();
    if (this.child.exitCode === null) await new Promise((r) => this.child.once('exit', r));
  }
}

/** Samples per side, in the same order on both sides, so index i of one pairs with i of the other. */
interface Samples {
  cold: Record<string, number[]>;
  open: Record<string, number[]>;
  warm: Record<string, number[]>;
  cached: Record<string, number[]>;
  maxRssMB: number;
  /** Per round: tile runs per second with THROUGHPUT_CONCURRENCY callers, and CPU seconds. */
  throughput: { perSecond: number; cpuSeconds: number }[];
}
const emptySamples = (): Samples => ({
  cold: {},
  open: {},
  warm: {},
  cached: {},
  maxRssMB: 0,
  throughput: [],
});

const loadAtStart = loadavg()[0]!;

// --- setup ---------------------------------------------------------------------------------
const setup = await ensureServeSetup(root, scale, seed, log);
const setupFile = join(root, `sf${scale}`, '_setup.json');
const dashboards = await loadDashboards(setup.project);
const tiles = await tileQueries(dashboards);

// --- tile queries: sandbox and reference, step by step ---------------------------------------
const got: Record<SideName, Samples> = {
  sandbox: emptySamples(),
  inprocess: emptySamples(),
  reference: emptySamples(),
};
for (let i = 0; i < repeat; i++) {
  const w = Object.fromEntries(
    SIDES.map((side) => [side, new StepWorker(['queries', setupFile, side])]),
  ) as Record<SideName, StepWorker>;
  // Which side goes first changes with every step (the order rotates).
  let flip = i;
  const both = async (f: (side: SideName) => Promise<void>, sides: SideName[] = SIDES) => {
    const at = flip++ % sides.length;
    for (const side of [...sides.slice(at), ...sides.slice(0, at)]) await f(side);
  };
  try {
    for (const t of i < coldRounds ? tiles : []) {
      await both(async (side) => {
        const r = await w[side].step<{ openMs: number; ms: number }>('cold', t.key);
        (got[side].cold[t.key] ??= []).push(r.ms);
        (got[side].open[t.key] ??= []).push(r.openMs);
      });
    }
    const digests: Partial<Record<SideName, Record<string, string[]>>> = {};
    await both(async (side) => {
      digests[side] = await w[side].step<Record<string, string[]>>('warmup');
    });
    // The ratio only means something if all sides computed the same rows.
    for (const t of tiles) {
      const b = JSON.stringify(digests.reference![t.key]);
      for (const side of ['sandbox', 'inprocess'] as const) {
        const a = JSON.stringify(digests[side]![t.key]);
        if (a !== b) throw new Error(`${t.key}: ${side} rows ${a} differ from reference rows ${b}`);
      }
    }
    for (let k = 0; k < warmIters; k++) {
      for (const t of tiles) {
        await both(async (side) => {
          (got[side].warm[t.key] ??= []).push(await w[side].step<number>('warm', t.key));
        });
        (got.sandbox.cached[t.key] ??= []).push(await w.sandbox.step<number>('cached', t.key));
      }
    }
    // Throughput, pool against in-process: which goes first alternates by round.
    await both(
      async (side) => {
        got[side].throughput.push(
          (await w[side].step<{ perSecond: number; cpuSeconds: number }>(
            'throughput',
            String(throughputMs),
          ))!,
        );
      },
      i % 2 ? ['inprocess', 'sandbox'] : ['sandbox', 'inprocess'],
    );
    for (const side of SIDES) {
      const end = await w[side].step<{ maxRssMB: number }>('end');
      got[side].maxRssMB = Math.max(got[side].maxRssMB, end.maxRssMB);
    }
  } finally {
    await Promise.all(SIDES.map((side) => w[side].stop()));
  }
  const last = (side: SideName, what: 'cold' | 'warm', n: number) =>
    tiles.flatMap((t) => got[side][what][t.key]!.slice(-n));
  const tp = (side: SideName) => got[side].throughput[i]!.perSecond;
  log(
    `round ${i + 1}/${repeat}: throughput pool ${tp('sandbox').toFixed(1)} tiles/s, in-process ${tp('inprocess').toFixed(1)} tiles/s (ratio ${(tp('sandbox') / tp('inprocess')).toFixed(2)}); warm p95 in-process ${ms(pct(last('inprocess', 'warm', warmIters), 95))} ms`,
  );
  log(
    `round ${i + 1}/${repeat}: p95 cold sandbox ${ms(pct(last('sandbox', 'cold', 1), 95))} ms, reference ${ms(pct(last('reference', 'cold', 1), 95))} ms; warm sandbox ${ms(pct(last('sandbox', 'warm', warmIters), 95))} ms, reference ${ms(pct(last('reference', 'warm', warmIters), 95))} ms`,
  );
}

const samples = (side: SideName, what: 'cold' | 'open' | 'warm' | 'cached', key: string) =>
  got[side][what][key] ?? [];
const pooled = (side: SideName, what: 'cold' | 'open' | 'warm' | 'cached') =>
  tiles.flatMap((t) => samples(side, what, t.key));
/** Median of the paired ratios a / b (samples taken next to each other), of round `round` or all. */
const pairedRatio = (
  what: 'cold' | 'warm',
  keys: string[],
  a: SideName = 'sandbox',
  b: SideName = 'reference',
  round?: number,
) => {
  const per = what === 'cold' ? 1 : warmIters;
  const cut = (xs: number[]) =>
    round === undefined ? xs : xs.slice(round * per, (round + 1) * per);
  return pct(
    keys.flatMap((k) => {
      const r = cut(samples(b, what, k));
      return cut(samples(a, what, k)).map((s, i) => s / r[i]!);
    }),
    50,
  );
};

// --- HTTP ----------------------------------------------------------------------------------
interface HttpEnd {
  cache: { hits: number; misses: number; entries: number };
  maxRssMB: number;
}

/** The API in its own process; autocannon here, against the cached dashboard and /api/health. */
async function httpBench() {
  const server = new StepWorker(['http', setupFile]);
  try {
    const { url, token } = await server.read<{ url: string; token: string }>();
    const headers = { authorization: `Bearer ${token}` };
    const dataUrl = `${url}/api/dashboards/${dashboardName}/data`;
    // The first request fills the cache (every tile queried on the sandbox the server opened at
    // start-up, so on cold caches); the second must be answered wholly from the cache.
    const firsts: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t = performance.now();
      const res = await fetch(dataUrl, { headers });
      const body = (await res.json()) as {
        tiles: Record<string, { cached?: boolean; error?: string }>;
      };
      firsts.push(performance.now() - t);
      if (res.status !== 200)
        throw new Error(`${dataUrl}: HTTP ${res.status} ${JSON.stringify(body)}`);
      const failed = Object.entries(body.tiles).filter(([, v]) => v.error);
      if (failed.length) throw new Error(`tiles failed: ${JSON.stringify(failed)}`);
      if (i === 1 && Object.values(body.tiles).some((v) => v.cached !== true))
        throw new Error('the second request was not answered wholly from the cache');
    }
    const load = (target: string, auth: boolean, seconds: number) =>
      autocannon({ url: target, connections, duration: seconds, ...(auth ? { headers } : {}) });
    // A short untimed pass over each first, so the JIT and sockets are warm for both.
    await load(`${url}/api/health`, false, 2);
    await load(dataUrl, true, 2);
    const health = await load(`${url}/api/health`, false, duration);
    const data = await load(dataUrl, true, duration);
    await server.stop();
    const end = await server.read<HttpEnd>();
    return { firsts, health, data, end };
  } finally {
    await server.stop();
  }
}

log(`HTTP: ${duration} s per endpoint, ${connections} connections…`);
const { firsts, health, data, end } = await httpBench();

// --- report --------------------------------------------------------------------------------
const sCold = pooled('sandbox', 'cold');
const sWarm = pooled('sandbox', 'warm');
const sCached = pooled('sandbox', 'cached');
const rCold = pooled('reference', 'cold');
const rWarm = pooled('reference', 'warm');
const sOpen = pooled('sandbox', 'open');
const rOpen = pooled('reference', 'open');
const keys = tiles.map((t) => t.key);
const firstTiles = dashboards.map((d) => `${d.name}/${d.tiles[0]!.id}`);
const openPlusCold = keys.flatMap((k) =>
  samples('sandbox', 'cold', k).map((x, i) => x + samples('sandbox', 'open', k)[i]!),
);

console.log(
  `\nbench:serve — SF${scale} (${setup.factRows.toLocaleString('en-US')} fact rows), ${tiles.length} tiles of ${dashboards.length} dashboards, default filters. ${repeat} round(s), each with a fresh process per side, the two sides stepped alternately (tile by tile); per tile ${coldRounds} cold (in the first ${coldRounds} round(s)) and ${repeat * warmIters} warm samples. p50 / p95 in ms, nearest rank (with ${repeat} cold samples a tile's cold p95 is its slowest).`,
);
console.log(
  `Machine: ${cpus().length} CPUs, load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (above ${cpus().length}: the timings include waiting for a core).\n`,
);
console.log(
  '| dashboard | tile | queries | cold p50 / p95 | warm uncached p50 / p95 | warm cached p50 / p95 | reference cold p50 / p95 | reference warm p50 / p95 | ratio cold | ratio warm |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
const slow: string[] = [];
for (const t of tiles) {
  const c = samples('sandbox', 'cold', t.key);
  const w = samples('sandbox', 'warm', t.key);
  console.log(
    `| ${t.dashboard} | ${t.tile} | ${t.queries.length} | ${pp(c)} | ${pp(w)} | ${pp(samples('sandbox', 'cached', t.key))} | ${pp(samples('reference', 'cold', t.key))} | ${pp(samples('reference', 'warm', t.key))} | ${pairedRatio('cold', [t.key]).toFixed(2)} | ${pairedRatio('warm', [t.key]).toFixed(2)} |`,
  );
  if (pct(c, 95) > COLD_TARGET_MS) slow.push(`${t.key}: cold p95 ${ms(pct(c, 95))} ms`);
  if (pct(w, 95) > WARM_TARGET_MS) slow.push(`${t.key}: warm uncached p95 ${ms(pct(w, 95))} ms`);
}
console.log(
  `| **all tiles** | | | **${pp(sCold)}** | **${pp(sWarm)}** | **${pp(sCached)}** | ${pp(rCold)} | ${pp(rWarm)} | **${pairedRatio('cold', keys).toFixed(2)}** | **${pairedRatio('warm', keys).toFixed(2)}** |`,
);
console.log(
  `\nQueries: 2 for a KPI compared with the previous period (runTile sends both at once). Warm cached: runTile through the QueryCache the API shares, every call a hit. Reference: the same SQL with the same bound values on a plain read-only @duckdb/node-api instance of the same snapshot (no sandbox settings, statement checks, parameter handling or cache; rows read as JSON too). Ratio: median of sandbox / reference over samples taken next to each other.`,
);
console.log(
  `Opening a fresh instance (not in "cold": serve opens the sandbox at start-up and at each publish, before any request): sandbox ${pp(sOpen)} ms, reference ${pp(rOpen)} ms. Open + first query on the sandbox: ${pp(openPlusCold)} ms. The first tile of each dashboard (${firstTiles.join(', ')}) cold: ${pp(firstTiles.flatMap((k) => samples('sandbox', 'cold', k)))} ms.`,
);

// --- pool against in-process ----------------------------------------------------------------
const ipCold = pooled('inprocess', 'cold');
const ipWarm = pooled('inprocess', 'warm');
console.log(
  `\nThe query-process pool (what serve runs: ${SANDBOX_DEFAULTS.processes} processes, ${SANDBOX_DEFAULTS.memoryCapMb} MB cap each, ${SANDBOX_DEFAULTS.threads} DuckDB threads each) against the same sandbox in the caller's process (DuckDBSandbox, same open options), all tiles. Ratio: median of pool / in-process over samples taken next to each other; per round the same over that round's samples.\n`,
);
console.log(
  '| | pool p50 / p95 | in-process p50 / p95 | ratio (all) | ratio per round |\n|---|---|---|---|---|',
);
for (const what of ['cold', 'warm'] as const) {
  const perRound = Array.from({ length: what === 'cold' ? coldRounds : repeat }, (_, r) =>
    pairedRatio(what, keys, 'sandbox', 'inprocess', r).toFixed(2),
  );
  console.log(
    `| ${what === 'cold' ? 'cold (first query after open)' : 'warm, uncached'} | ${pp(what === 'cold' ? sCold : sWarm)} | ${pp(what === 'cold' ? ipCold : ipWarm)} | **${pairedRatio(what, keys, 'sandbox', 'inprocess').toFixed(2)}** | ${perRound.join(', ')} |`,
  );
}
const tps = (side: SideName) => got[side].throughput.map((t) => t.perSecond);
const tpRatios = tps('sandbox').map((x, i) => x / tps('inprocess')[i]!);
const cpuPerRun = (side: SideName) =>
  got[side].throughput.map((t) => (t.cpuSeconds / (t.perSecond * (throughputMs / 1000))) * 1000);
console.log(
  `\nThroughput (${THROUGHPUT_CONCURRENCY} callers at once, ${throughputMs / 1000} s per side per round, tiles uncached, which side first alternating by round): pool ${tps(
    'sandbox',
  )
    .map((x) => x.toFixed(1))
    .join(', ')} tile runs/s; in-process ${tps('inprocess')
    .map((x) => x.toFixed(1))
    .join(
      ', ',
    )}. Ratio pool / in-process per round: ${tpRatios.map((x) => x.toFixed(2)).join(', ')}; median **${pct(tpRatios, 50).toFixed(2)}**. CPU ms per tile run (this process + query processes): pool ${cpuPerRun(
    'sandbox',
  )
    .map((x) => x.toFixed(1))
    .join(', ')}; in-process ${cpuPerRun('inprocess')
    .map((x) => x.toFixed(1))
    .join(', ')}.`,
);
console.log(
  `Opening: pool (refresh + all processes started) ${pp(sOpen)} ms, in-process instance ${pp(pooled('inprocess', 'open'))} ms.`,
);

console.log(
  `\nTargets (issue: p95 under ${WARM_TARGET_MS} ms warm, under ${COLD_TARGET_MS} ms cold), over all tiles:\n`,
);
console.log('| target | p95 | |\n|---|---|---|');
console.log(
  `| warm < ${WARM_TARGET_MS} ms, **uncached** (a new filter value on a warm server: the query runs) | ${ms(pct(sWarm, 95))} ms | ${met(pct(sWarm, 95) < WARM_TARGET_MS)} |`,
);
console.log(
  `| warm < ${WARM_TARGET_MS} ms, cached (a view already asked for: what /data answers once filled) | ${ms(pct(sCached, 95))} ms | ${met(pct(sCached, 95) < WARM_TARGET_MS)} |`,
);
console.log(
  `| cold < ${COLD_TARGET_MS} ms (a tile's first query on a freshly opened sandbox) | ${ms(pct(sCold, 95))} ms | ${met(pct(sCold, 95) < COLD_TARGET_MS)} |`,
);
console.log(
  `\nThe warm target is judged on **uncached**: a hit costs a hash and a map look-up whatever the SQL, so a ${WARM_TARGET_MS} ms budget says something only about the query that a filter value not yet asked for (a new cache key) runs on a warm DuckDB. Cached is what repeated views get; the HTTP figures below measure it.`,
);
console.log(
  slow.length
    ? `\nTiles over a target: ${slow.join('; ')}.`
    : `\nEvery tile is within both targets (cold p95 < ${COLD_TARGET_MS} ms, warm uncached p95 < ${WARM_TARGET_MS} ms).`,
);

const perReq = (r: autocannon.Result) =>
  Math.round(r.throughput.total / Math.max(1, r.requests.total));
console.log(
  `\nHTTP on 127.0.0.1: the server in its own process, autocannon in this one (both on the same ${cpus().length} CPUs), ${connections} connections, ${duration} s per endpoint after a 2 s warm-up.\n`,
);
console.log(
  '| endpoint | requests/s | latency p50 | latency p99 | errors | non-2xx | bytes / response |\n|---|---|---|---|---|---|---|',
);
for (const [name, r] of [
  [`GET /api/dashboards/${dashboardName}/data (cached, viewer token)`, data],
  ['GET /api/health (no token): the floor', health],
] as const) {
  console.log(
    `| ${name} | ${Math.round(r.requests.average).toLocaleString('en-US')} | ${r.latency.p50} ms | ${r.latency.p99} ms | ${r.errors} | ${r.non2xx} | ${perReq(r).toLocaleString('en-US')} |`,
  );
}
console.log(
  `\nratio requests/s /data / /api/health: **${(data.requests.average / health.requests.average).toFixed(3)}**. First request to /data after start-up (fills the cache: ${dashboards.find((d) => d.name === dashboardName)?.tiles.length ?? '?'} tiles queried on a cold sandbox): ${ms(firsts[0]!)} ms; the second (all cached): ${ms(firsts[1]!)} ms. The server's cache after the load: ${end.cache.hits.toLocaleString('en-US')} hits, ${end.cache.misses} misses, ${end.cache.entries} entries.`,
);
const errs = data.errors + data.non2xx + health.errors + health.non2xx;
if (errs) console.log(`\n**${errs} error(s) or non-2xx answer(s) under load.**`);
console.log(
  `\nPeak RSS: sandbox worker ${got.sandbox.maxRssMB} MB (its query processes not included), in-process worker ${got.inprocess.maxRssMB} MB, reference worker ${got.reference.maxRssMB} MB, HTTP server ${end.maxRssMB} MB, this process (autocannon) ${Math.round(process.resourceUsage().maxRSS / 1024)} MB.`,
);
if (errs) process.exitCode = 1;
