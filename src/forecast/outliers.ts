/**
 * Outlier cleaning before fitting, in the spirit of R forecast's tsoutliers/tsclean (Hyndman &
 * Athanasopoulos, "Forecasting: principles and practice", 3rd ed., §13.9): decompose the series
 * into seasonal + trend + remainder, flag remainders beyond k·IQR outside the quartiles of the
 * remainders (k = 3), and replace the flagged values by seasonal + trend there. Only the fits
 * see the cleaned values; the actuals a backtest scores against, and the history written out,
 * stay as they were.
 *
 * The decomposition is made of running medians rather than STL's loess so that the spike being
 * looked for cannot pull the fit towards itself (our STL has no robustness iterations, and a
 * loess at the end of a series is one-sided, so a spike in the last days would become "trend"):
 * - a first level (`runningMedian`, W = 2·m + 1 values, m the season length, 3 without one):
 *   each value judged by the median of its neighbours, itself left out; at the ends, where no
 *   centred window fits, a repeated-median line through the first or last 2·W values;
 * - the seasonal part: per position in the season, the median of the values less that level
 *   over the nearest SEASON_CYCLES seasons either side (a pattern that drifts is followed);
 * - the trend: `runningMedian` again, of the series less its seasonal part.
 * A run of fewer than W/2 unusual values cannot move a median of W, so a one-off spike stays in
 * the remainder; a level shift moves it, so its values are not flagged.
 *
 * The decomposition is made on a Box–Cox scale whose λ (Guerrero's method, `guerreroLambda`)
 * makes the spread least dependent on the level: logs for a series whose swings grow in
 * proportion (AirPassengers), near square roots for counts, none for constant spread.
 * Only the shortest season with at least MIN_CYCLES full cycles is used: a season seen twice
 * (a yearly cycle in two years of daily data) cannot tell a recurring pattern from a one-off.
 * The newest values are never replaced (a flagged run that reaches the end of the series stays):
 * until the series has been seen to come back, a jump at its end cannot be told from a level
 * shift. Series shorter than 2·W, intermittent series (most values zero: their spread is zero
 * and every demand would be "unusual") and series whose remainders have no spread are left
 * unchanged.
 */
import { isIntermittent } from './auto.js';

/** Remainders beyond this many interquartile ranges outside the quartiles are flagged. */
export const OUTLIER_IQR_K = 3;
/** A season is used for the decomposition only when the series covers this many cycles. */
const MIN_CYCLES = 3;
/** The seasonal part at a position is the median over this many cycles either side. */
const SEASON_CYCLES = 3;

/** One value replaced for fitting. */
export interface ReplacedValue {
  /** Index in the series. */
  index: number;
  /** The value as observed. */
  value: number;
  /** What the fits saw instead (seasonal + trend there). */
  replacement: number;
}

export interface CleanedSeries {
  /** The series with outliers replaced (the input itself when none was found). */
  values: readonly number[];
  replaced: ReplacedValue[];
}

/** The median of xs (sorted in place; a typed array sorts numerically without a comparator). */
function median(xs: number[] | Float64Array): number {
  if (xs instanceof Float64Array) xs.sort();
  else xs.sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/**
 * Repeated-median line (Siegel 1982: slope = median over i of the median over j of the pairwise
 * slopes; intercept = median of y − slope·x) through the points at `xs`. It stands up to almost
 * half the points being outliers, as a median does.
 */
function repeatedMedianLine(y: ArrayLike<number>, xs: readonly number[]): (at: number) => number {
  const inner: number[] = [];
  const slopes: number[] = [];
  for (const i of xs) {
    inner.length = 0;
    for (const j of xs) if (j !== i) inner.push((y[j]! - y[i]!) / (j - i));
    slopes.push(median(inner));
  }
  const slope = median(slopes);
  const intercept = median(xs.map((j) => y[j]! - slope * j));
  return (at) => intercept + slope * at;
}

/**
 * The level of y at each t judged from its neighbours, t itself left out (so a value is never
 * its own evidence, and a smooth stretch does not give a heap of exact-zero remainders that
 * would shrink the IQR): the median of the `width` − 1 values around t, of its two middle
 * values the one nearer y[t]. Where a centred window does not fit (the first and last width/2
 * values) it is a repeated-median line through the first or last 2·`width` values: the median of
 * a window shifted inwards would lag a trend by width/2 periods, and over twice the window a run
 * of unusual values near the end is too small a share to tilt the line.
 */
export function runningMedian(y: ArrayLike<number>, width: number): Float64Array {
  const n = y.length;
  const w = Math.min(width, n);
  const half = w >> 1;
  const out = new Float64Array(n);
  const buf = new Float64Array(Math.max(0, w - 1));
  for (let t = half; t < n - half; t++) {
    // Insertion sort: for a window of a few dozen values it beats a call to sort().
    let k = 0;
    for (let j = t - half; j <= t + half; j++) {
      if (j === t) continue;
      const v = y[j]!;
      let i = k++;
      while (i > 0 && buf[i - 1]! > v) {
        buf[i] = buf[i - 1]!;
        i--;
      }
      buf[i] = v;
    }
    // Of the two middle neighbours, the one nearer y[t]: at a level shift, a value on either
    // side is then judged against its own side.
    const below = buf[half - 1]!;
    const above = buf[half]!;
    out[t] = Math.abs(y[t]! - below) <= Math.abs(y[t]! - above) ? below : above;
  }
  if (half === 0) return out;
  const span = Math.min(n, 2 * w);
  const head = Array.from({ length: span }, (_, i) => i);
  const tail = Array.from({ length: span }, (_, i) => n - span + i);
  const first = repeatedMedianLine(y, head);
  const last = repeatedMedianLine(y, tail);
  for (let t = 0; t < half; t++) out[t] = first(t);
  for (let t = n - half; t < n; t++) out[t] = last(t);
  return out;
}

/** Per-position seasonal medians of `detrended` over the nearest SEASON_CYCLES cycles each side. */
function seasonalMedians(detrended: Float64Array, m: number): Float64Array {
  const n = detrended.length;
  const out = new Float64Array(n);
  const span = 2 * SEASON_CYCLES + 1;
  for (let t = 0; t < n; t++) {
    // Values at the same position in the season, t ± k·m, the set shifted inwards at the ends.
    const first = t % m;
    const count = Math.floor((n - 1 - first) / m) + 1;
    const at = Math.floor((t - first) / m);
    const take = Math.min(span, count);
    const from = Math.min(Math.max(0, at - SEASON_CYCLES), count - take);
    const xs = new Float64Array(take);
    for (let k = 0; k < take; k++) xs[k] = detrended[first + (from + k) * m]!;
    out[t] = median(xs);
  }
  return out;
}

function quartiles(xs: ArrayLike<number>): [number, number] {
  const s = Float64Array.from(xs).sort();
  const q = (p: number): number => {
    // R's default quantile (type 7): linear between order statistics.
    const h = (s.length - 1) * p;
    const lo = Math.floor(h);
    return s[lo]! + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]!) - s[lo]!);
  };
  return [q(0.25), q(0.75)];
}

/** The season length the decomposition uses (1: none); see the module comment. */
export function cleaningSeason(n: number, seasonPeriods: readonly number[]): number {
  const usable = seasonPeriods.filter((m) => m > 1 && n >= MIN_CYCLES * m).sort((a, b) => a - b);
  return usable[0] ?? 1;
}

function boxCox(v: number, lambda: number): number {
  return lambda === 0 ? Math.log(v) : (Math.pow(v, lambda) - 1) / lambda;
}

function invBoxCox(z: number, lambda: number): number {
  return lambda === 0 ? Math.exp(z) : Math.pow(Math.max(0, lambda * z + 1), 1 / lambda);
}

/**
 * The Box–Cox λ in [0, 1] (0.05 apart) that makes the spread of y least dependent on its level,
 * by Guerrero's method as R's forecast::BoxCox.lambda computes it: y cut into consecutive
 * blocks of one season (2 without a season), the λ whose sd/mean^(1−λ) varies least across the
 * blocks (coefficient of variation). 1 (no transform) for a series with negative values or a
 * block with mean 0; with zeros present λ stays >= 0.5, since a small λ stretches values near
 * zero into outliers of their own.
 */
export function guerreroLambda(y: readonly number[], m: number): number {
  if (y.some((v) => v < 0)) return 1;
  const period = Math.max(2, m);
  const blocks = Math.floor(y.length / period);
  if (blocks < 2) return 1;
  const start = y.length - blocks * period;
  const means: number[] = [];
  const sds: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const xs = y.slice(start + b * period, start + (b + 1) * period);
    const mean = xs.reduce((a, v) => a + v, 0) / xs.length;
    if (!(mean > 0)) return 1;
    const sd = Math.sqrt(xs.reduce((a, v) => a + (v - mean) ** 2, 0) / (xs.length - 1));
    means.push(mean);
    sds.push(sd);
  }
  const lowest = y.some((v) => v === 0) ? 0.5 : 0;
  let best = 1;
  let bestCv = Infinity;
  for (let step = Math.round(lowest * 20); step <= 20; step++) {
    const lambda = step / 20;
    const ratios = sds.map((sd, i) => sd / Math.pow(means[i]!, 1 - lambda));
    const mean = ratios.reduce((a, r) => a + r, 0) / ratios.length;
    const sd = Math.sqrt(ratios.reduce((a, r) => a + (r - mean) ** 2, 0) / (ratios.length - 1));
    const cv = sd / mean;
    if (cv < bestCv - 1e-12) {
      bestCv = cv;
      best = lambda;
    }
  }
  return best;
}

/** Robust seasonal + trend fit of z (season m, 1: none) and the remainder; see the module comment. */
function decompose(
  z: readonly number[],
  m: number,
  width: number,
): { fit: Float64Array; remainder: Float64Array } {
  const n = z.length;
  const level = runningMedian(z, width);
  let seasonal: Float64Array = new Float64Array(n);
  if (m > 1) {
    const detrended = new Float64Array(n);
    for (let t = 0; t < n; t++) detrended[t] = z[t]! - level[t]!;
    seasonal = seasonalMedians(detrended, m);
  }
  const adjusted = new Float64Array(n);
  for (let t = 0; t < n; t++) adjusted[t] = z[t]! - seasonal[t]!;
  const trend = runningMedian(adjusted, width);
  const fit = new Float64Array(n);
  const remainder = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    fit[t] = seasonal[t]! + trend[t]!;
    remainder[t] = z[t]! - fit[t]!;
  }
  return { fit, remainder };
}

/**
 * The series with one-off outliers replaced, and which values were replaced (see the module
 * comment). `seasonPeriods` as in ForecastSpec; `k` the IQR multiple.
 */
export function cleanOutliers(
  y: readonly number[],
  seasonPeriods: readonly number[],
  k = OUTLIER_IQR_K,
): CleanedSeries {
  const n = y.length;
  const m = cleaningSeason(n, seasonPeriods);
  const width = 2 * Math.max(m, 3) + 1;
  if (n < 2 * width || isIntermittent(y)) return { values: y, replaced: [] };
  const lambda = guerreroLambda(y, m);
  const z = lambda === 1 ? y : y.map((v) => boxCox(v, lambda));
  const { fit, remainder } = decompose(z, m, width);
  const [q1, q3] = quartiles(remainder);
  const iqr = q3 - q1;
  if (!(iqr > 0)) return { values: y, replaced: [] };
  const low = q1 - k * iqr;
  const high = q3 + k * iqr;
  // A series that is never negative (demand) gets no negative replacement.
  const floor = y.every((v) => v >= 0) ? 0 : -Infinity;
  const replaced: ReplacedValue[] = [];
  for (let t = 0; t < n; t++) {
    const r = remainder[t]!;
    if (r < low || r > high) {
      const replacement = Math.max(floor, lambda === 1 ? fit[t]! : invBoxCox(fit[t]!, lambda));
      replaced.push({ index: t, value: y[t]!, replacement });
    }
  }
  // The newest values are never replaced: until the series has been seen to come back, a jump at
  // its end cannot be told from a level shift, and the fits lean on those values most.
  let last = n - 1;
  while (replaced.length > 0 && replaced[replaced.length - 1]!.index === last) {
    replaced.pop();
    last--;
  }
  if (replaced.length === 0) return { values: y, replaced };
  const values = [...y];
  for (const r of replaced) values[r.index] = r.replacement;
  return { values, replaced };
}
