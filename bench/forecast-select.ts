/**
 * Selection study, step 2 (evaluate): reads the folds bench/forecast-select-collect.ts wrote and
 * scores selection rules on the hold-out: each rule sees only the backtest folds (the last W of
 * them) and picks a method or a combination per series; the hold-out forecasts of its pick are
 * scored with M4's OWA against Naive2 and against seasonal naive, per set.
 *   node dist/bench/forecast-select.js --dir /tmp/fcsel
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchArgs } from './args.js';
import { owa, smape } from '../src/forecast/metrics.js';
import type { OwaItem } from '../src/forecast/metrics.js';
import type { Fold, StudySeries } from './forecast-select-collect.js';

const { values: args } = benchArgs(
  {
    options: { dir: { type: 'string', default: '/tmp/fcsel' }, rules: { type: 'string' } },
  },
  import.meta.url,
);

interface StudySet {
  name: string;
  horizon: number;
  seasons: number[];
  series: StudySeries[];
}

function maseOf(actual: readonly number[], f: readonly number[], scale: number): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs(actual[i]! - f[i]!);
  return scale > 0 ? s / actual.length / scale : NaN;
}

function average(fs: readonly (readonly number[])[]): number[] {
  return fs[0]!.map((_, i) => fs.reduce((s, f) => s + f[i]!, 0) / fs.length);
}

/** A pick: the methods to average on the hold-out. */
type Rule = (s: StudySeries, folds: Fold[]) => string[];

function forecastOf(fold: Fold, members: readonly string[]): number[] | null {
  const parts = members.map((m) => fold.forecasts[m] ?? null);
  if (parts.some((p) => p === null)) return null;
  return average(parts as number[][]);
}

/** Per-fold relative errors of a pick against naive2: [sMAPE ratio, MASE ratio]. */
function foldRatios(fold: Fold, members: readonly string[]): [number, number] | null {
  const f = forecastOf(fold, members);
  const n2 = fold.forecasts.naive2;
  if (!f || !n2) return null;
  const rs = smape(fold.actual, f) / smape(fold.actual, n2);
  const rm = maseOf(fold.actual, f, fold.scale) / maseOf(fold.actual, n2, fold.scale);
  return [rs, rm];
}

type Agg = 'mean' | 'median' | 'sums' | 'mase' | 'geo';

/** A pick's backtest score over the folds (lower is better); NaN when not scored on all. */
function scoreOf(folds: Fold[], members: readonly string[], agg: Agg): number {
  if (agg === 'sums' || agg === 'mase') {
    let s = 0;
    let ns = 0;
    let m = 0;
    let nm = 0;
    for (const fold of folds) {
      const f = forecastOf(fold, members);
      const n2 = fold.forecasts.naive2;
      if (!f || !n2) return NaN;
      s += smape(fold.actual, f);
      ns += smape(fold.actual, n2);
      m += maseOf(fold.actual, f, fold.scale);
      nm += maseOf(fold.actual, n2, fold.scale);
    }
    const rm = nm > 0 ? m / nm : NaN;
    if (agg === 'mase') return Number.isFinite(rm) ? rm : ns > 0 ? s / ns : NaN;
    const rs = ns > 0 ? s / ns : ns === 0 && s === 0 ? 1 : NaN;
    if (!Number.isFinite(rm)) return rs;
    if (!Number.isFinite(rs)) return rm;
    return (rs + rm) / 2;
  }
  const per: number[] = [];
  for (const fold of folds) {
    const r = foldRatios(fold, members);
    if (!r) return NaN;
    const vals = r.filter(Number.isFinite);
    if (vals.length === 0) continue;
    per.push(
      agg === 'geo'
        ? Math.log(vals.reduce((a, b) => a + b) / vals.length)
        : vals.reduce((a, b) => a + b) / vals.length,
    );
  }
  if (per.length === 0) return NaN;
  if (agg === 'median') {
    const sorted = [...per].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  }
  return per.reduce((a, b) => a + b) / per.length;
}

const INTERMITTENT = new Set(['croston', 'sba', 'tsb']);

function ranked(
  s: StudySeries,
  folds: Fold[],
  agg: Agg,
  pool?: (m: string) => boolean,
): [string, number][] {
  const scored = s.candidates
    .filter((m) => (pool ? pool(m) : true))
    .map((m) => [m, scoreOf(folds, [m], agg)] as [string, number])
    .filter(([, v]) => Number.isFinite(v));
  // stable: candidates are simplest first
  return scored.sort((a, b) => a[1] - b[1]);
}

function best(agg: Agg, k = 1, pool?: (m: string) => boolean): Rule {
  return (s, folds) => {
    const r = ranked(s, folds, agg, pool);
    if (r.length === 0) return [s.candidates.includes('theta') ? 'theta' : 'naive'];
    return r.slice(0, k).map(([m]) => m);
  };
}

/** Best by agg, but a fallback default unless the best beats it by more than `margin` (relative). */
function shrink(agg: Agg, fallback: string[], margin: number, k = 1): Rule {
  return (s, folds) => {
    const pick = best(agg, k)(s, folds);
    const fb = fallback.filter((m) => s.candidates.includes(m));
    if (fb.length === 0) return pick;
    const a = scoreOf(folds, pick, agg);
    const b = scoreOf(folds, fb, agg);
    if (!Number.isFinite(b)) return pick;
    return a < b * (1 - margin) ? pick : fb;
  };
}

/** Holt only when it beats damped by `margin`. */
function dampedFirst(inner: Rule, agg: Agg, margin: number): Rule {
  return (s, folds) => {
    const pick = inner(s, folds);
    if (pick.length === 1 && pick[0] === 'holt') {
      const h = scoreOf(folds, ['holt'], agg);
      const d = scoreOf(folds, ['damped'], agg);
      if (Number.isFinite(d) && !(h < d * (1 - margin))) return ['damped'];
    }
    return pick;
  };
}

/** Pool (Kourentzes, Barrow & Petropoulos 2019): average every method within `gap` of the best. */
function pool(agg: Agg, gap: number, cap: number, singleIntermittent: boolean): Rule {
  return (s, folds) => {
    const r = ranked(s, folds, agg);
    if (r.length === 0) return [s.candidates.includes('theta') ? 'theta' : 'naive'];
    if (singleIntermittent && s.candidates.includes('croston')) return [r[0]![0]];
    const top = r[0]![1];
    return r
      .filter(([, v]) => v <= top * (1 + gap))
      .slice(0, cap)
      .map(([m]) => m);
  };
}

const fixed =
  (m: string[]): Rule =>
  (s) =>
    m.filter((x) => s.candidates.includes(x)).length === m.length ? m : ['naive2'];

const RULES: Record<string, Rule> = {
  'current (mean OWA, best)': best('mean'),
  'median OWA, best': best('median'),
  'OWA of sums, best': best('sums'),
  'geo-mean OWA, best': best('geo'),
  'MASE ratio of sums, best': best('mase'),
  'sums, top2': best('sums', 2),
  'sums, top3': best('sums', 3),
  'mean, top3': best('mean', 3),
  'sums, damped unless holt 5% better': dampedFirst(best('sums'), 'sums', 0.05),
  'sums, best vs comb 5%': shrink('sums', ['comb'], 0.05),
  'sums, best vs theta 5%': shrink('sums', ['theta'], 0.05),
  'sums, best vs naive2 5%': shrink('sums', ['naive2'], 0.05),
  'sums, best vs naive2 10%': shrink('sums', ['naive2'], 0.1),
  'sums, top2 vs naive2 5%': shrink('sums', ['naive2'], 0.05, 2),
  'sums, top3 vs naive2 5%': shrink('sums', ['naive2'], 0.05, 3),
  'mean, best vs naive2 5%': shrink('mean', ['naive2'], 0.05),
  'pool mean 2% cap3': pool('mean', 0.02, 3, false),
  'pool mean 5% cap3': pool('mean', 0.05, 3, false),
  'pool mean 5% cap3 int1': pool('mean', 0.05, 3, true),
  'pool mean 10% cap3 int1': pool('mean', 0.1, 3, true),
  'pool mean 5% cap5 int1': pool('mean', 0.05, 5, true),
  'pool sums 5% cap3 int1': pool('sums', 0.05, 3, true),
  'pool median 5% cap3 int1': pool('median', 0.05, 3, true),
  'fixed comb': fixed(['comb']),
  'fixed theta': fixed(['theta']),
  'fixed ets': fixed(['ets']),
  'fixed damped': fixed(['damped']),
  'fixed naive2': fixed(['naive2']),
};
void INTERMITTENT;

/**
 * origins = 1: the hold-out is the last h (the bench's figure); origins = k: also each of the
 * last k − 1 backtest folds in turn, with the `windows` folds before it as its backtest.
 */
function evaluate(set: StudySet, rule: Rule, windows: number, origins = 1): [number, number] {
  const n2: OwaItem[] = [];
  const sn: OwaItem[] = [];
  for (const s of set.series) {
    const all = [...s.folds, s.hold];
    for (let o = 0; o < origins; o++) {
      const at = all.length - 1 - o;
      const folds = all.slice(Math.max(0, at - windows), at);
      if (at < 0 || folds.length === 0) continue;
      const hold = all[at]!;
      const members = rule(s, folds);
      const f = forecastOf(hold, members) ?? hold.forecasts.naive2!;
      const ref2 = hold.forecasts.naive2!;
      const refS = hold.forecasts.seasonal_naive ?? hold.forecasts.naive!;
      const a = hold.actual;
      const sm = smape(a, f);
      const ma = maseOf(a, f, hold.scale);
      n2.push({
        smape: sm,
        mase: ma,
        naive2Smape: smape(a, ref2),
        naive2Mase: maseOf(a, ref2, hold.scale),
      });
      sn.push({
        smape: sm,
        mase: ma,
        naive2Smape: smape(a, refS),
        naive2Mase: maseOf(a, refS, hold.scale),
      });
    }
  }
  return [owa(n2).owa, owa(sn).owa];
}

const files = readdirSync(args.dir!)
  .filter((f) => f.endsWith('.json'))
  .sort();
const sets: StudySet[] = files.map(
  (f) => JSON.parse(readFileSync(join(args.dir!, f), 'utf8')) as StudySet,
);
const names = sets.map((s, i) => `${i}:${s.name.slice(0, 22)}`);
const ORIGINS = Number(process.env.ORIGINS ?? '1');
for (const windows of ORIGINS > 1 ? [3] : [3, 6]) {
  console.log(
    `\n### ${windows} windows, ${ORIGINS} origin(s); each cell OWA vs naive2 / vs seasonal naive`,
  );
  console.log(['rule'.padEnd(36), ...names.map((n) => n.padEnd(14))].join(' '));
  for (const [name, rule] of Object.entries(RULES)) {
    if (args.rules && !name.includes(args.rules)) continue;
    const cells = sets.map((set) => {
      const [a, b] = evaluate(set, rule, windows, ORIGINS);
      return `${a.toFixed(3)}/${b.toFixed(3)}`.padEnd(14);
    });
    console.log([name.padEnd(36), ...cells].join(' '));
  }
}
