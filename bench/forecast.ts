/**
 * `npm run bench:forecast`: accuracy and speed of the forecast engine (src/forecast).
 *
 * Accuracy, per set: the last h values of every series are held out; `forecastSeriesParallel`
 * runs on the rest (its own rolling backtests choose `auto`'s method per series, never seeing
 * the hold-out), with `keepAllMethods` so every candidate's forecast from the same training data
 * is scored too. Printed per method: mean sMAPE and MASE on the hold-out, and OWA as M4 computes
 * it (set means) against Naive2 and, in the same way, against seasonal naive (the reference
 * measured in the same run). `auto` is the engine's pick per series.
 * Sets: (a) synthetic series with known trend, seasonality (weekly, yearly, monthly data's
 * 12), noise and intermittency from a seeded PRNG; (b) the ecommerce template's generated daily
 * unit sales per category and per product (the 200 best sellers); (c) real classic series
 * (R datasets: AirPassengers, USAccDeaths, lynx, Nile, WWWusage; bench/data/r-datasets.ts).
 * Speed: 1,000 daily series of two years, horizon 28, three backtest windows, every `auto`
 * candidate (seasons 7 and 365, so MSTL is one), wall and CPU seconds (process CPU includes the
 * worker threads). Target < 30 s.
 *   npm run bench:forecast -- [--speed-series 1000] [--workers 2] [--scale 0.3] [--only a,b,c,speed]
 *     [--combine-top k]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { METHODS } from '../src/forecast/methods/index.js';
import { forecastSeriesParallel } from '../src/forecast/parallel.js';
import { mase, owa, scaleSeason, smape } from '../src/forecast/metrics.js';
import type { OwaItem } from '../src/forecast/metrics.js';
import type { ForecastSpec, SeriesForecast, SeriesInput } from '../src/forecast/types.js';
import { generateEcommerce } from '../templates/ecommerce/generator/index.js';
import { R_DATASETS } from './data/r-datasets.js';

const { values: args } = parseArgs({
  options: {
    'speed-series': { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    scale: { type: 'string', default: '0.3' },
    only: { type: 'string', default: 'a,b,c,speed' },
    'combine-top': { type: 'string' },
  },
});
const WORKERS = Number(args.workers);
/** `--combine-top k`: auto averages its best k per series (the spec's combineTop). */
const COMBINE_TOP = args['combine-top'] === undefined ? undefined : Number(args['combine-top']);

/** mulberry32: a small seeded PRNG, so every run sees the same synthetic series. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function dayPeriods(n: number, start = Date.UTC(2023, 0, 1)): string[] {
  return Array.from({ length: n }, (_, t) =>
    new Date(start + t * 86_400_000).toISOString().slice(0, 10),
  );
}

function monthPeriods(n: number, startYear = 2010): string[] {
  return Array.from({ length: n }, (_, t) =>
    new Date(Date.UTC(startYear, t, 1)).toISOString().slice(0, 10),
  );
}

interface BenchSet {
  name: string;
  series: SeriesInput[];
  spec: ForecastSpec;
}

const baseSpec = (horizon: number, seasonPeriods: number[]): ForecastSpec => ({
  horizon,
  seasonPeriods,
  levels: [80, 95],
  methods: 'auto',
  backtest: { windows: 3, step: horizon },
  nonNegative: true,
  ...(COMBINE_TOP !== undefined ? { combineTop: COMBINE_TOP } : {}),
});

/** Daily demand: level × weekly profile (× yearly wave) + trend + noise, never negative. */
function dailySeries(rand: () => number, n: number, yearly: boolean): number[] {
  const level = 20 + 180 * rand();
  const trend = (rand() - 0.4) * level * 0.001;
  const week = Array.from({ length: 7 }, () => 0.7 + 0.6 * rand());
  const yearAmp = yearly ? 0.15 + 0.3 * rand() : 0;
  const phase = rand() * 2 * Math.PI;
  const noise = 0.05 + 0.2 * rand();
  return Array.from({ length: n }, (_, t) => {
    const base =
      (level + trend * t) *
      week[t % 7]! *
      (1 + yearAmp * Math.sin((2 * Math.PI * t) / 365.25 + phase));
    return Math.max(0, Math.round(base * (1 + noise * gaussian(rand))));
  });
}

function syntheticSets(): BenchSet[] {
  const rand = prng(20261203);
  const daily = (count: number, n: number, yearly: boolean): SeriesInput[] =>
    Array.from({ length: count }, (_, i) => ({
      keys: { id: String(i) },
      periods: dayPeriods(n),
      values: dailySeries(rand, n, yearly),
    }));
  const monthly: SeriesInput[] = Array.from({ length: 100 }, (_, i) => {
    const level = 100 + 900 * rand();
    const slope = (rand() - 0.3) * level * 0.01;
    const seasonal = rand() < 0.7;
    const profile = Array.from({ length: 12 }, () => (seasonal ? 0.75 + 0.5 * rand() : 1));
    const noise = 0.03 + 0.12 * rand();
    const values = Array.from({ length: 120 }, (_, t) =>
      Math.max(0, (level + slope * t) * profile[t % 12]! * (1 + noise * gaussian(rand))),
    );
    return { keys: { id: String(i) }, periods: monthPeriods(120), values };
  });
  const intermittent: SeriesInput[] = Array.from({ length: 100 }, (_, i) => {
    const p = 0.05 + 0.35 * rand();
    const size = 1 + 6 * rand();
    const values = Array.from({ length: 400 }, () =>
      rand() < p ? Math.max(1, Math.round(size * (0.5 + rand()))) : 0,
    );
    return { keys: { id: String(i) }, periods: dayPeriods(400), values };
  });
  const walks: SeriesInput[] = Array.from({ length: 60 }, (_, i) => {
    let v = 500 + 500 * rand();
    const drift = (rand() - 0.5) * 4;
    const values = Array.from(
      { length: 300 },
      () => (v = Math.max(1, v + drift + 10 * gaussian(rand))),
    );
    return { keys: { id: String(i) }, periods: dayPeriods(300), values };
  });
  return [
    {
      name: 'synthetic daily, weekly season (100 × 400 d)',
      series: daily(100, 400, false),
      spec: baseSpec(28, [7]),
    },
    {
      name: 'synthetic daily, weekly + yearly (30 × 1,095 d)',
      series: daily(30, 1095, true),
      spec: baseSpec(28, [7, 365]),
    },
    {
      name: 'synthetic monthly, trend ± season (100 × 120 m)',
      series: monthly,
      spec: baseSpec(18, [12]),
    },
    {
      name: 'synthetic intermittent daily (100 × 400 d)',
      series: intermittent,
      spec: baseSpec(28, [7]),
    },
    { name: 'synthetic random walks with drift (60 × 300)', series: walks, spec: baseSpec(14, []) },
  ];
}

type Row = Record<string, string>;

/** Daily units per category and per product from the template generator's files. */
async function templateSets(scale: number): Promise<BenchSet[]> {
  const dir = mkdtempSync(join(tmpdir(), 'trib-bench-forecast-'));
  try {
    await generateEcommerce({ outDir: dir, scale, seed: 42 });
    const read = (f: string): Row[] =>
      parse(readFileSync(join(dir, f)), {
        columns: true,
        bom: true,
        relax_quotes: true,
        skip_records_with_error: true,
      }) as Row[];
    const orderDay = new Map<string, string>();
    for (const o of read('orders.csv')) {
      const day = (o.order_ts ?? '').slice(0, 10);
      const valid =
        /^\d{4}-\d{2}-\d{2}$/.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00Z`));
      if (o.status !== 'cancelled' && valid) orderDay.set(o.order_id!, day);
    }
    const category = new Map<string, string>();
    for (const p of read('products.csv')) if (p.category) category.set(p.product_id!, p.category);
    const days = [...new Set(orderDay.values())].sort();
    const start = Date.parse(`${days[0]}T00:00:00Z`);
    const n =
      Math.round((Date.parse(`${days[days.length - 1]}T00:00:00Z`) - start) / 86_400_000) + 1;
    const periods = dayPeriods(n, start);
    const byCategory = new Map<string, number[]>();
    const byProduct = new Map<string, number[]>();
    const add = (m: Map<string, number[]>, key: string, t: number, q: number): void => {
      let arr = m.get(key);
      if (!arr) m.set(key, (arr = new Array<number>(n).fill(0)));
      arr[t]! += q;
    };
    for (const l of read('order_lines.csv')) {
      const day = orderDay.get(l.order_id!);
      const cat = category.get(l.product_id!);
      const q = Number(l.quantity);
      if (!day || !cat || !Number.isInteger(q) || q <= 0) continue; // the generator's injected defects
      const t = Math.round((Date.parse(`${day}T00:00:00Z`) - start) / 86_400_000);
      add(byCategory, cat, t, q);
      add(byProduct, l.product_id!, t, q);
    }
    const total = (v: number[]): number => v.reduce((s, x) => s + x, 0);
    const products = [...byProduct.entries()]
      .sort((a, b) => total(b[1]) - total(a[1]))
      .slice(0, 200);
    const seasons = n >= 730 ? [7, 365] : [7];
    return [
      {
        name: `template daily units per category (${byCategory.size} × ${n} d)`,
        series: [...byCategory].map(([c, v]) => ({ keys: { category: c }, periods, values: v })),
        spec: baseSpec(28, seasons),
      },
      {
        name: `template daily units per product (top ${products.length} × ${n} d)`,
        series: products.map(([p, v]) => ({ keys: { product: p }, periods, values: v })),
        spec: baseSpec(28, seasons),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function realSets(): BenchSet[] {
  const groups = new Map<string, BenchSet>();
  for (const r of R_DATASETS) {
    const key = `${r.frequency}/${r.season}/${r.horizon}`;
    let set = groups.get(key);
    if (!set) {
      set = {
        name: `real (R datasets) ${r.frequency}ly: `,
        series: [],
        spec: { ...baseSpec(r.horizon, r.season > 1 ? [r.season] : []), nonNegative: true },
      };
      groups.set(key, set);
    }
    set.name += `${set.series.length ? ', ' : ''}${r.name}`;
    set.series.push({
      keys: { series: r.name },
      periods: r.values.map((_, t) => String(t)),
      values: r.values,
    });
  }
  return [...groups.values()];
}

interface MethodFigures {
  method: string;
  series: number;
  smape: number;
  mase: number;
  owaNaive2: number;
  owaSeasonalNaive: number;
}

/** Scores every method's (and auto's) hold-out forecasts; see the module comment. */
function scoreSet(set: BenchSet, results: SeriesForecast[]): MethodFigures[] {
  const h = set.spec.horizon;
  const m = scaleSeason(set.spec.seasonPeriods);
  const perMethod = new Map<string, { n2: OwaItem[]; sn: OwaItem[] }>();
  set.series.forEach((s, i) => {
    const train = s.values.slice(0, -h);
    const actual = s.values.slice(-h);
    const r = results[i]!;
    const score = (mean: number[]): [number, number] => [
      smape(actual, mean),
      mase(actual, mean, train, m),
    ];
    const byMethod = new Map(r.forecasts.map((f) => [f.method, f.mean]));
    const n2 = byMethod.get('naive2');
    const sn = byMethod.get('seasonal_naive') ?? byMethod.get('naive');
    if (!n2 || !sn) return;
    const [n2s, n2m] = score(n2);
    const [sns, snm] = score(sn);
    const entries: [string, number[]][] = [...byMethod, ['auto', r.forecast.mean]];
    for (const [name, mean] of entries) {
      const [sm, ma] = score(mean);
      const slot = perMethod.get(name) ?? { n2: [], sn: [] };
      slot.n2.push({ smape: sm, mase: ma, naive2Smape: n2s, naive2Mase: n2m });
      slot.sn.push({ smape: sm, mase: ma, naive2Smape: sns, naive2Mase: snm });
      perMethod.set(name, slot);
    }
  });
  return [...perMethod].map(([method, slot]) => {
    const a = owa(slot.n2);
    return {
      method,
      series: slot.n2.length,
      smape: a.smape,
      mase: a.mase,
      owaNaive2: a.owa,
      owaSeasonalNaive: owa(slot.sn).owa,
    };
  });
}

const f3 = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '  n/a');

async function runSet(set: BenchSet): Promise<MethodFigures[]> {
  const h = set.spec.horizon;
  const training = set.series.map((s) => ({
    ...s,
    periods: s.periods.slice(0, -h),
    values: s.values.slice(0, -h),
  }));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const results = await forecastSeriesParallel(
    training,
    { ...set.spec, keepAllMethods: true },
    undefined,
    { workers: WORKERS },
  );
  const wall = (performance.now() - t0) / 1000;
  const figures = scoreSet(set, results).sort((a, b) => a.owaNaive2 - b.owaNaive2);
  const picks = new Map<string, number>();
  for (const r of results) picks.set(r.chosen.method, (picks.get(r.chosen.method) ?? 0) + 1);
  const fallbacks = results.filter((r) => r.chosen.fallbackReason).length;
  console.log(
    `\n## ${set.name}  (h=${h}, seasons [${set.spec.seasonPeriods.join(',')}], 3 windows)`,
  );
  console.log(
    `${set.series.length} series in ${wall.toFixed(1)} s wall (${(set.series.length / wall).toFixed(1)} series/s; main-thread CPU ${cpuSeconds(cpu0).toFixed(1)} s, workers not counted)`,
  );
  console.log('method            series   sMAPE    MASE   OWA/naive2  OWA/snaive');
  for (const f of figures) {
    console.log(
      `${f.method.padEnd(17)} ${String(f.series).padStart(6)} ${f3(f.smape).padStart(7)} ${f3(f.mase).padStart(7)} ${f3(f.owaNaive2).padStart(11)} ${f3(f.owaSeasonalNaive).padStart(11)}${f.method === 'auto' ? '   <- auto' : ''}`,
    );
  }
  console.log(
    `auto picked: ${[...picks]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; fallbacks ${fallbacks}`,
  );
  return figures;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

async function speedCase(count: number): Promise<void> {
  const rand = prng(7);
  const series = Array.from({ length: count }, (_, i) => ({
    keys: { id: String(i) },
    periods: dayPeriods(730),
    values: dailySeries(rand, 730, true),
  }));
  // The second pass (auto without expensive methods) only means something while a registered
  // method is marked expensive; since ets and mstl are our own (a few ms per fit), none is.
  const anyExpensive = [...METHODS.values()].some((m) => m.capabilities.expensive);
  for (const skip of anyExpensive ? [false, true] : [false]) {
    const spec = { ...baseSpec(28, [7, 365]), autoSkipExpensive: skip };
    const workers = WORKERS;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let lastPrint = t0;
    await forecastSeriesParallel(
      series,
      spec,
      (done, total) => {
        if (performance.now() - lastPrint > 30_000) {
          lastPrint = performance.now();
          console.log(`  … ${done}/${total} after ${((lastPrint - t0) / 1000).toFixed(0)} s`);
        }
      },
      { workers },
    );
    const wall = (performance.now() - t0) / 1000;
    console.log(
      `\n## speed: ${count} daily series × 730 d, h=28, 3 windows, ${skip ? 'auto without the expensive ets and mstl' : 'every auto candidate'}, ${workers} worker(s): ${wall.toFixed(1)} s wall, ${(count / wall).toFixed(1)} series/s` +
        ` (target < 30 s for 1,000); process CPU ${cpuSeconds(cpu0).toFixed(1)} s (includes worker threads); load average ${loadavg()[0]!.toFixed(1)}`,
    );
  }
}

async function main(): Promise<void> {
  const only = new Set(args.only!.split(','));
  console.log(
    `bench:forecast — node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (the machine is shared)`,
  );
  const summary: [string, MethodFigures | undefined][] = [];
  const sets: BenchSet[] = [];
  if (only.has('a')) sets.push(...syntheticSets());
  if (only.has('b')) sets.push(...(await templateSets(Number(args.scale))));
  if (only.has('c')) sets.push(...realSets());
  for (const set of sets) {
    const figures = await runSet(set);
    summary.push([set.name, figures.find((f) => f.method === 'auto')]);
  }
  if (summary.length) {
    console.log('\n## auto per set (target: OWA < 1 against Naive2 and against seasonal naive)');
    for (const [name, f] of summary)
      console.log(`${f3(f?.owaNaive2 ?? NaN)} / ${f3(f?.owaSeasonalNaive ?? NaN)}  ${name}`);
  }
  if (only.has('speed')) await speedCase(Number(args['speed-series']));
}

await main();
