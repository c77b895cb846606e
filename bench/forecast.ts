/**
 * `npm run bench:forecast`: accuracy and speed of the forecast engine (src/forecast).
 *
 * Accuracy, per set, at `--origins k` held-out origins one horizon apart (default 4): at origin o
 * the h values ending o·h before each series' end are held out and `forecastSeriesParallel` runs
 * on what precedes them (its own rolling backtests choose `auto`'s method per series, never
 * seeing the hold-out), with `keepAllMethods` so every candidate's forecast from the same
 * training data is scored too. Printed per method, series × origins pooled: mean sMAPE and MASE
 * on the hold-outs, OWA as M4 computes it (set means) against Naive2 and, in the same way,
 * against seasonal naive (the reference measured in the same run), and mean RMSSE over Naive2's
 * (M5's metric, the one that does not reward zero forecasts on intermittent demand); then the
 * newest origin alone, the single hold-out the bench used before. `auto` is the engine's pick.
 * The closing verdict judges each set by OWA, or by MASE and RMSSE when most of its series are
 * intermittent (`judgedByMaseAndRmsse`), against Naive2 and seasonal naive.
 * Sets: (a) synthetic series with known trend, seasonality (weekly, yearly, monthly data's
 * 12), noise and intermittency from a seeded PRNG; (b) the ecommerce template's generated daily
 * unit sales per category and per product (the 200 best sellers); (c) real classic series
 * (R datasets: AirPassengers, USAccDeaths, lynx, Nile, WWWusage; bench/data/r-datasets.ts).
 * Speed: 1,000 daily series of two years, horizon 28, three backtest windows, every `auto`
 * candidate (seasons 7 and 365, so MSTL is one), wall and CPU seconds (process CPU includes the
 * worker threads). Target < 30 s.
 *   npm run bench:forecast -- [--speed-series 1000] [--workers 2] [--scale 0.3] [--only a,b,c,speed]
 *     [--origins 4] [--combine-top k] [--outliers clean|keep] [--file series.json] [--dump rows.jsonl]
 * `--file`: also one set per frequency of the series in a JSON file (forecast-sets.ts `fileSets`),
 * for real data kept outside the repository; with `--only none` only the file's sets run.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { benchArgs } from './args.js';
import { METHODS } from '../src/forecast/methods/index.js';
import { forecastSeriesParallel } from '../src/forecast/parallel.js';
import { mase, owa, rmsse, scaleSeason, smape } from '../src/forecast/metrics.js';
import type { OwaItem } from '../src/forecast/metrics.js';
import type { ForecastSpec, SeriesForecast } from '../src/forecast/types.js';
import { runMethod } from '../src/forecast/bands.js';
import { isIntermittent } from '../src/forecast/auto.js';
import type { BenchSet } from './forecast-sets.js';
import {
  baseSpec,
  dailySeries,
  dayPeriods,
  fileSets,
  prng,
  realSets,
  syntheticSets,
  templateSets,
} from './forecast-sets.js';

const { values: args } = benchArgs(
  {
    options: {
      'speed-series': { type: 'string', default: '1000' },
      workers: { type: 'string', default: '2' },
      scale: { type: 'string', default: '0.3' },
      only: { type: 'string', default: 'a,b,c,speed' },
      'combine-top': { type: 'string' },
      origins: { type: 'string', default: '4' },
      outliers: { type: 'string' },
      file: { type: 'string' },
      dump: { type: 'string' },
    },
  },
  import.meta.url,
);
/**
 * `--dump rows.jsonl`: one JSON line per scored forecast (set, series, origin, method, sMAPE,
 * MASE and the Naive2 reference's), for paired comparisons of two runs offline (bootstrap).
 */
const DUMP = args.dump;
const dumpLines: string[] = [];
const WORKERS = Number(args.workers);
/**
 * `--origins k`: held-out origins per set, one horizon apart (k = 1: the newest h values only).
 * One origin of a few series is a noisy test (Tashman 2000); the figures pool every origin.
 */
const ORIGINS = Number(args.origins);
if (!Number.isInteger(ORIGINS) || ORIGINS < 1) {
  throw new Error(`--origins must be a whole number >= 1, got ${String(args.origins)}`);
}
/** `--combine-top k`: auto averages its best k per series (the spec's combineTop). */
const COMBINE_TOP = args['combine-top'] === undefined ? undefined : Number(args['combine-top']);
/** `--outliers clean|keep`: the spec's `outliers` (default: the engine's default). */
const OUTLIERS = args.outliers as 'clean' | 'keep' | undefined;
if (OUTLIERS !== undefined && OUTLIERS !== 'clean' && OUTLIERS !== 'keep') {
  throw new Error(`--outliers must be clean or keep, got ${String(OUTLIERS)}`);
}

interface MethodFigures {
  method: string;
  /** Scored forecasts: series × held-out origins. */
  series: number;
  smape: number;
  mase: number;
  owaNaive2: number;
  owaSeasonalNaive: number;
  /**
   * Mean RMSSE (M5's metric) over mean RMSSE of Naive2: the squared-error yardstick, which
   * rewards forecasting the mean demand where MASE and sMAPE reward forecasting zero.
   */
  relRmsse: number;
  /**
   * MASE over the reference Naive2's and over seasonal naive's (both fitted here on the raw
   * training values, as for OWA), and mean RMSSE over seasonal naive's (same series).
   */
  maseNaive2: number;
  maseSeasonalNaive: number;
  relRmsseSeasonalNaive: number;
  /** The same figures on the newest held-out origin alone (the bench's figure before origins). */
  lastMase: number;
  lastOwaNaive2: number;
  lastOwaSeasonalNaive: number;
}

/** Per method, the OWA items against Naive2 and against seasonal naive. */
type ItemsByMethod = Map<
  string,
  { n2: OwaItem[]; sn: OwaItem[]; rmsse: number[]; n2Rmsse: number[]; snRmsse: number[] }
>;

/**
 * Scores every method's (and auto's) forecasts made at `cut` (training values [0, cut)) against
 * the next h actual values; see the module comment. Adds to `into`.
 */
function scoreOrigin(
  set: BenchSet,
  results: SeriesForecast[],
  cut: (values: readonly number[]) => number,
  into: ItemsByMethod,
  origin?: number,
): void {
  const h = set.spec.horizon;
  const m = scaleSeason(set.spec.seasonPeriods);
  set.series.forEach((s, i) => {
    const end = cut(s.values);
    const train = s.values.slice(0, end);
    const actual = s.values.slice(end, end + h);
    const r = results[i]!;
    const score = (mean: number[]): [number, number] => [
      smape(actual, mean),
      mase(actual, mean, train, m),
    ];
    // Combinations are scored as auto; listing each combination of members as its own row
    // would show methods that ran on one or two series.
    const byMethod = new Map(
      r.forecasts.filter((f) => !f.method.startsWith('combine(')).map((f) => [f.method, f.mean]),
    );
    // The yardsticks are fitted here on the raw training values: the engine's own naive2 and
    // seasonal naive see them with outliers replaced (`outliers: clean`), which must not move
    // the reference every OWA is taken against.
    const n2 = referenceForecast('naive2', train, set.spec);
    const seasonal = set.spec.seasonPeriods.some((p) => p > 1);
    const sn =
      (seasonal ? referenceForecast('seasonal_naive', train, set.spec) : null) ??
      referenceForecast('naive', train, set.spec);
    if (!n2 || !sn) return;
    const [n2s, n2m] = score(n2);
    const n2r = rmsse(actual, n2, train);
    const snr = rmsse(actual, sn, train);
    const [sns, snm] = score(sn);
    const entries: [string, number[]][] = [...byMethod, ['auto', r.forecast.mean]];
    for (const [name, mean] of entries) {
      const [sm, ma] = score(mean);
      if (DUMP !== undefined && origin !== undefined) {
        const row = { set: set.name, series: JSON.stringify(s.keys), origin, method: name };
        dumpLines.push(JSON.stringify({ ...row, smape: sm, mase: ma, n2smape: n2s, n2mase: n2m }));
      }
      const slot = into.get(name) ?? { n2: [], sn: [], rmsse: [], n2Rmsse: [], snRmsse: [] };
      slot.n2.push({ smape: sm, mase: ma, naive2Smape: n2s, naive2Mase: n2m });
      const rm = rmsse(actual, mean, train);
      if (Number.isFinite(rm) && Number.isFinite(n2r) && Number.isFinite(snr)) {
        slot.rmsse.push(rm);
        slot.n2Rmsse.push(n2r);
        slot.snRmsse.push(snr);
      }
      slot.sn.push({ smape: sm, mase: ma, naive2Smape: sns, naive2Mase: snm });
      into.set(name, slot);
    }
  });
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * Per method, the series whose forecast made at `cut` had the lowest MASE on the next h values
 * of all the single methods (auto and combinations left out): what auto would ideally pick.
 */
function winnersOf(
  set: BenchSet,
  results: SeriesForecast[],
  cut: (values: readonly number[]) => number,
): Map<string, number> {
  const h = set.spec.horizon;
  const m = scaleSeason(set.spec.seasonPeriods);
  const counts = new Map<string, number>();
  set.series.forEach((s, i) => {
    const end = cut(s.values);
    const train = s.values.slice(0, end);
    const actual = s.values.slice(end, end + h);
    let best: [string, number] | null = null;
    for (const f of results[i]!.forecasts) {
      if (f.method.startsWith('combine(')) continue;
      const v = mase(actual, f.mean, train, m);
      if (Number.isFinite(v) && (best === null || v < best[1])) best = [f.method, v];
    }
    if (best) counts.set(best[0], (counts.get(best[0]) ?? 0) + 1);
  });
  return counts;
}

/** Figures per method: every origin pooled (M4's set means over series × origins) and the last. */
function figuresOf(all: ItemsByMethod, last: ItemsByMethod): MethodFigures[] {
  return [...all].map(([method, slot]) => {
    const a = owa(slot.n2);
    const l = last.get(method);
    const lastN2 = l ? owa(l.n2) : undefined;
    const sn = owa(slot.sn);
    return {
      method,
      series: slot.n2.length,
      smape: a.smape,
      mase: a.mase,
      owaNaive2: a.owa,
      owaSeasonalNaive: sn.owa,
      relRmsse: sum(slot.rmsse) / sum(slot.n2Rmsse),
      maseNaive2: a.mase / a.naive2Mase,
      maseSeasonalNaive: sn.mase / sn.naive2Mase,
      relRmsseSeasonalNaive: sum(slot.rmsse) / sum(slot.snRmsse),
      lastMase: lastN2?.mase ?? NaN,
      lastOwaNaive2: lastN2?.owa ?? NaN,
      lastOwaSeasonalNaive: l ? owa(l.sn).owa : NaN,
    };
  });
}

/** A benchmark method's forecast from raw training values (null when it cannot fit them). */
function referenceForecast(name: string, train: number[], spec: ForecastSpec): number[] | null {
  const method = METHODS.get(name);
  if (!method) return null;
  const options = { seasonPeriods: spec.seasonPeriods, levels: [] };
  if (train.length < method.minLength(options)) return null;
  return runMethod(method, train, spec.horizon, options, spec.nonNegative).mean;
}

const f3 = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '  n/a');

async function runSet(set: BenchSet): Promise<MethodFigures[]> {
  const h = set.spec.horizon;
  const combine = {
    ...(COMBINE_TOP !== undefined ? { combineTop: COMBINE_TOP } : {}),
    ...(OUTLIERS !== undefined ? { outliers: OUTLIERS } : {}),
  };
  const all: ItemsByMethod = new Map();
  const last: ItemsByMethod = new Map();
  let wall = 0;
  let lastResults: SeriesForecast[] = [];
  let winners = new Map<string, number>();
  const cpu0 = process.cpuUsage();
  // Origin o holds out the h values ending o·h before each series' end (o = 0: the newest h),
  // and the engine sees only what comes before them: its own backtest windows, and so auto's
  // choice, lie inside that training part. A series too short for an origin (fewer than 2h + 2
  // training values) is left out of that origin.
  for (let o = 0; o < ORIGINS; o++) {
    const cut = (values: readonly number[]): number => values.length - h * (o + 1);
    const kept = set.series.filter((s) => cut(s.values) >= 2 * h + 2);
    if (kept.length === 0) break;
    const training = kept.map((s) => ({
      ...s,
      periods: s.periods.slice(0, cut(s.values)),
      values: s.values.slice(0, cut(s.values)),
    }));
    const t0 = performance.now();
    const results = await forecastSeriesParallel(
      training,
      { ...set.spec, ...combine, keepAllMethods: true },
      undefined,
      { workers: WORKERS },
    );
    wall += (performance.now() - t0) / 1000;
    const originSet = { ...set, series: kept };
    scoreOrigin(originSet, results, cut, all, o);
    if (o === 0) {
      scoreOrigin(originSet, results, cut, last);
      lastResults = results;
      winners = winnersOf(originSet, results, cut);
    }
  }
  const figures = figuresOf(all, last).sort((a, b) => a.owaNaive2 - b.owaNaive2);
  printSet(set, figures, lastResults, winners, wall, cpu0);
  return figures;
}

function printSet(
  set: BenchSet,
  figures: MethodFigures[],
  lastResults: SeriesForecast[],
  winners: Map<string, number>,
  wall: number,
  cpu0: NodeJS.CpuUsage,
): void {
  const h = set.spec.horizon;
  const picks = new Map<string, number>();
  for (const r of lastResults) picks.set(r.chosen.method, (picks.get(r.chosen.method) ?? 0) + 1);
  const fallbacks = lastResults.filter((r) => r.chosen.fallbackReason).length;
  const cleaned = lastResults.filter((r) => (r.outliers?.length ?? 0) > 0);
  const replaced = cleaned.reduce((sum, r) => sum + r.outliers!.length, 0);
  console.log(
    `\n## ${set.name}  (h=${h}, seasons [${set.spec.seasonPeriods.join(',')}], 3 windows, ${ORIGINS} held-out origin(s))`,
  );
  console.log(
    `${set.series.length} series × ${ORIGINS} origins in ${wall.toFixed(1)} s wall (main-thread CPU ${cpuSeconds(cpu0).toFixed(1)} s, workers not counted)`,
  );
  console.log(
    'method          scored   sMAPE    MASE  OWA/naive2  OWA/snaive  RMSSE/naive2 | last origin: MASE  OWA/naive2  OWA/snaive',
  );
  for (const f of figures) {
    console.log(
      `${f.method.padEnd(15)} ${String(f.series).padStart(6)} ${f3(f.smape).padStart(7)} ${f3(f.mase).padStart(7)} ${f3(f.owaNaive2).padStart(11)} ${f3(f.owaSeasonalNaive).padStart(11)} ${f3(f.relRmsse).padStart(13)} | ${f3(f.lastMase).padStart(17)} ${f3(f.lastOwaNaive2).padStart(11)} ${f3(f.lastOwaSeasonalNaive).padStart(11)}${f.method === 'auto' ? '   <- auto' : ''}`,
    );
  }
  console.log(
    `auto picked at the last origin: ${[...picks]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}; fallbacks ${fallbacks}; outliers replaced for the final fit: ${replaced} in ${cleaned.length} series`,
  );
  console.log(
    `best single method per series at the last origin (lowest hold-out MASE): ${[...winners]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
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
    const spec = {
      ...baseSpec(28, [7, 365]),
      autoSkipExpensive: skip,
      ...(OUTLIERS !== undefined ? { outliers: OUTLIERS } : {}),
    };
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

interface SetSummary {
  name: string;
  auto: MethodFigures | undefined;
  /** The engine's own naive2 row (fitted on outlier-cleaned values): the summary's MASE column. */
  naive2: MethodFigures | undefined;
  /** Share of the set's series that are intermittent (auto.ts `isIntermittent`). */
  intermittentShare: number;
}

/**
 * How a set is judged: by OWA (M4) unless most of its series are intermittent, then by MASE and
 * RMSSE (M5 judged its intermittent unit sales by RMSSE). On intermittent demand sMAPE, half of
 * OWA, is 200 on every zero-demand period with a non-zero forecast and undefined when actual and
 * forecast are both zero, so OWA there measures how often a method forecasts zero, not how close
 * it comes to the demand; MASE (absolute error, smallest at the median) and RMSSE (squared error,
 * smallest at the mean demand rate) are both defined and scale-free. OWA is printed beside them.
 */
function judgedByMaseAndRmsse(intermittentShare: number): boolean {
  return intermittentShare > 0.5;
}

function verdictOf(s: SetSummary): string {
  const f = s.auto;
  if (!f) return `no auto figures  ${s.name}`;
  const beats = (vsNaive2: number, vsSnaive: number): string => {
    const lost = [...(vsNaive2 < 1 ? [] : ['Naive2']), ...(vsSnaive < 1 ? [] : ['seasonal naive'])];
    return lost.length === 0 ? 'beats both' : `does not beat ${lost.join(' or ')}`;
  };
  const maseN2 = f.maseNaive2;
  if (judgedByMaseAndRmsse(s.intermittentShare)) {
    const mase = beats(maseN2, f.maseSeasonalNaive);
    const rm = beats(f.relRmsse, f.relRmsseSeasonalNaive);
    return (
      `${(100 * s.intermittentShare).toFixed(0)}% intermittent, judged by MASE and RMSSE: MASE ${mase} (${f3(maseN2)} of Naive2's, ${f3(f.maseSeasonalNaive)} of seasonal naive's), ` +
      `RMSSE ${rm} (${f3(f.relRmsse)}, ${f3(f.relRmsseSeasonalNaive)}); OWA for reference ${f3(f.owaNaive2)} / ${f3(f.owaSeasonalNaive)}  ${s.name}`
    );
  }
  return `judged by OWA: ${beats(f.owaNaive2, f.owaSeasonalNaive)} (${f3(f.owaNaive2)} / ${f3(f.owaSeasonalNaive)})  ${s.name}`;
}

function printSummary(summary: readonly SetSummary[]): void {
  console.log(
    `\n## auto per set (target: below 1 against Naive2 and against seasonal naive), ${ORIGINS} origins pooled: OWA/naive2, OWA/snaive, MASE/MASE of naive2, RMSSE/naive2 | last origin: OWA/naive2, OWA/snaive`,
  );
  for (const { name, auto: f, naive2: n2 } of summary)
    console.log(
      `${f3(f?.owaNaive2 ?? NaN)} ${f3(f?.owaSeasonalNaive ?? NaN)} ${f3((f?.mase ?? NaN) / (n2?.mase ?? NaN))} ${f3(f?.relRmsse ?? NaN)} | ${f3(f?.lastOwaNaive2 ?? NaN)} ${f3(f?.lastOwaSeasonalNaive ?? NaN)}  ${name}`,
    );
  console.log(
    `\n## verdict, ${ORIGINS} origins pooled: OWA (M4) for regular series; MASE and RMSSE (M5) for sets that are mostly intermittent, where sMAPE (half of OWA) is 200 on every zero-demand period with a non-zero forecast and so rewards forecasting zero`,
  );
  for (const s of summary) console.log(verdictOf(s));
}

async function main(): Promise<void> {
  const only = new Set(args.only!.split(','));
  console.log(
    `bench:forecast — node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (the machine is shared)`,
  );
  const summary: SetSummary[] = [];
  const sets: BenchSet[] = [];
  if (only.has('a')) sets.push(...syntheticSets());
  if (only.has('b')) sets.push(...(await templateSets(Number(args.scale))));
  if (only.has('c')) sets.push(...realSets());
  if (args.file) sets.push(...fileSets(args.file));
  for (const set of sets) {
    const figures = await runSet(set);
    const intermittent = set.series.filter((s) => isIntermittent(s.values)).length;
    summary.push({
      name: set.name,
      auto: figures.find((f) => f.method === 'auto'),
      naive2: figures.find((f) => f.method === 'naive2'),
      intermittentShare: intermittent / Math.max(1, set.series.length),
    });
  }
  if (summary.length) printSummary(summary);
  if (DUMP !== undefined) writeFileSync(DUMP, dumpLines.map((l) => `${l}\n`).join(''));
  if (only.has('speed')) await speedCase(Number(args['speed-series']));
}

await main();
