/**
 * The series sets of `npm run bench:forecast` (bench/forecast.ts) and of the selection study
 * (bench/forecast-select.ts): (a) synthetic series with known trend, seasonality (weekly, yearly,
 * monthly data's 12), noise and intermittency from a seeded PRNG; (b) the ecommerce template's
 * generated daily unit sales per category and per product (the 200 best sellers); (c) real
 * classic series (R datasets; bench/data/r-datasets.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { ForecastSpec, SeriesInput } from '../src/forecast/types.js';
import { generateEcommerce } from '../templates/ecommerce/generator/index.js';
import { R_DATASETS } from './data/r-datasets.js';

/** mulberry32: a small seeded PRNG, so every run sees the same synthetic series. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export function dayPeriods(n: number, start = Date.UTC(2023, 0, 1)): string[] {
  return Array.from({ length: n }, (_, t) =>
    new Date(start + t * 86_400_000).toISOString().slice(0, 10),
  );
}

export function monthPeriods(n: number, startYear = 2010): string[] {
  return Array.from({ length: n }, (_, t) =>
    new Date(Date.UTC(startYear, t, 1)).toISOString().slice(0, 10),
  );
}

export interface BenchSet {
  name: string;
  series: SeriesInput[];
  spec: ForecastSpec;
}

/** The spec every set starts from: `auto`, 80/95 bands, three windows one horizon apart. */
export function baseSpec(horizon: number, seasonPeriods: number[]): ForecastSpec {
  return {
    horizon,
    seasonPeriods,
    levels: [80, 95],
    methods: 'auto',
    backtest: { windows: 3, step: horizon },
    nonNegative: true,
  };
}

/** Daily demand: level × weekly profile (× yearly wave) + trend + noise, never negative. */
export function dailySeries(rand: () => number, n: number, yearly: boolean): number[] {
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

export function syntheticSets(): BenchSet[] {
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
export async function templateSets(scale: number): Promise<BenchSet[]> {
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

/** One series of a file for `fileSets`: `freq` is the season length (1 yearly, 4, 12). */
interface FileSeries {
  name: string;
  freq: number;
  values: number[];
}

/** M4's horizons by season length: yearly 6, quarterly 8, monthly 18, weekly 13. */
const M4_HORIZON: Record<number, number> = { 1: 6, 4: 8, 12: 18, 52: 13 };

/**
 * Series from a JSON file (`npm run bench:forecast -- --file real.json`): an array of
 * `{ name, freq, values }`, one set per frequency with M4's horizon, for real data that is not
 * committed (bench/RESULTS.md says how the 546-series file of issue 16 was made). Frequencies
 * without an M4 horizon are left out.
 */
export function fileSets(path: string): BenchSet[] {
  const all = JSON.parse(readFileSync(path, 'utf8')) as FileSeries[];
  const sets: BenchSet[] = [];
  for (const freq of [...new Set(all.map((s) => s.freq))].sort((a, b) => a - b)) {
    const h = M4_HORIZON[freq];
    if (h === undefined) continue;
    const series = all.filter((s) => s.freq === freq);
    sets.push({
      name: `real (file) season ${freq}: ${series.length} series`,
      series: series.map((s) => ({
        keys: { series: s.name },
        periods: s.values.map((_, t) => String(t)),
        values: s.values,
      })),
      spec: baseSpec(h, freq > 1 ? [freq] : []),
    });
  }
  return sets;
}

export function realSets(): BenchSet[] {
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
