/**
 * Forecast accuracy metrics as the M competitions define them.
 *
 * Conventions, for every function here:
 * - `actual` and `forecast` (and band bounds) have the same length h >= 1; `insample` is the
 *   training series the forecast was made from (oldest first).
 * - A metric that is undefined for its input returns NaN, never Infinity: MASE, RMSSE and MSIS
 *   divide by an in-sample scale, which is 0 for a constant training series (or one shorter than
 *   its season + 1). `scaleProblem` says why in words, for the backtest row's note.
 * - sMAPE counts a period where actual and forecast are both 0 as a perfect 0 (M4's formula has
 *   0/0 there; intermittent demand has many such periods and a perfect zero forecast is right).
 */

/** Season length used by the scaled metrics: the shortest season, 1 when there is none. */
export function scaleSeason(seasonPeriods: readonly number[]): number {
  const m = seasonPeriods[0] ?? 1;
  return Number.isInteger(m) && m > 1 ? m : 1;
}

/**
 * Symmetric MAPE in percent (0..200): 200/h · Σ |y − ŷ| / (|y| + |ŷ|). A term with y = ŷ = 0
 * counts 0.
 */
export function smape(actual: readonly number[], forecast: readonly number[]): number {
  const h = actual.length;
  let sum = 0;
  for (let i = 0; i < h; i++) {
    const y = actual[i]!;
    const f = forecast[i]!;
    const denominator = Math.abs(y) + Math.abs(f);
    if (denominator > 0) sum += Math.abs(y - f) / denominator;
  }
  return (200 * sum) / h;
}

/**
 * In-sample mean absolute seasonal difference: 1/(n−m) · Σ_{t>m} |y_t − y_{t−m}|, the MAE of the
 * seasonal naive method on the training data (MASE's and MSIS's denominator). When the series
 * has no more than m values, m falls back to 1 (naive); NaN when it has fewer than 2.
 */
export function seasonalNaiveMae(insample: readonly number[], m: number): number {
  const lag = insample.length > m ? m : 1;
  const n = insample.length;
  if (n <= lag) return NaN;
  let sum = 0;
  for (let t = lag; t < n; t++) sum += Math.abs(insample[t]! - insample[t - lag]!);
  return sum / (n - lag);
}

/** In-sample mean squared difference at lag 1 (RMSSE's denominator, as in M5). */
export function naiveMse(insample: readonly number[]): number {
  const n = insample.length;
  if (n < 2) return NaN;
  let sum = 0;
  for (let t = 1; t < n; t++) {
    const d = insample[t]! - insample[t - 1]!;
    sum += d * d;
  }
  return sum / (n - 1);
}

/** Why a scale is unusable (for a note), or null when it is a positive finite number. */
export function scaleProblem(scale: number, what: string): string | null {
  if (Number.isNaN(scale)) return `${what} undefined: training series too short to scale`;
  if (scale === 0) return `${what} undefined: training series is constant (in-sample scale 0)`;
  return null;
}

function scaled(value: number, scale: number): number {
  return scale > 0 && Number.isFinite(scale) ? value / scale : NaN;
}

/**
 * Mean absolute scaled error: mean |y − ŷ| divided by the in-sample seasonal naive MAE with
 * season m (m = 1 for non-seasonal data). NaN when that scale is 0 or undefined.
 */
export function mase(
  actual: readonly number[],
  forecast: readonly number[],
  insample: readonly number[],
  m: number,
): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(actual[i]! - forecast[i]!);
  return scaled(sum / actual.length, seasonalNaiveMae(insample, m));
}

/**
 * Root mean squared scaled error (M5): sqrt(mean (y − ŷ)² / in-sample mean squared one-step
 * naive difference). NaN when that scale is 0 or undefined.
 */
export function rmsse(
  actual: readonly number[],
  forecast: readonly number[],
  insample: readonly number[],
): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = actual[i]! - forecast[i]!;
    sum += e * e;
  }
  return Math.sqrt(scaled(sum / actual.length, naiveMse(insample)));
}

/** Share (0..1) of actuals inside [lower, upper], bounds included. */
export function coverage(
  actual: readonly number[],
  lower: readonly number[],
  upper: readonly number[],
): number {
  let inside = 0;
  for (let i = 0; i < actual.length; i++) {
    const y = actual[i]!;
    if (y >= lower[i]! && y <= upper[i]!) inside++;
  }
  return inside / actual.length;
}

/**
 * Mean scaled interval score (M4) of a band at `level` percent, alpha = 1 − level/100:
 * mean over h of (U − L) + 2/alpha·(L − y)·[y < L] + 2/alpha·(y − U)·[y > U], divided by the
 * in-sample seasonal naive MAE with season m. NaN when that scale is 0 or undefined.
 */
export function msis(
  actual: readonly number[],
  lower: readonly number[],
  upper: readonly number[],
  level: number,
  insample: readonly number[],
  m: number,
): number {
  const alpha = 1 - level / 100;
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const y = actual[i]!;
    const lo = lower[i]!;
    const hi = upper[i]!;
    sum += hi - lo;
    if (y < lo) sum += (2 / alpha) * (lo - y);
    if (y > hi) sum += (2 / alpha) * (y - hi);
  }
  return scaled(sum / actual.length, seasonalNaiveMae(insample, m));
}

/**
 * a / b for relative scores: 1 when both are 0 (as good as the benchmark), NaN when only b is 0
 * or either is NaN (the ratio says nothing).
 */
export function ratio(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  if (b === 0) return a === 0 ? 1 : NaN;
  return a / b;
}

/**
 * Relative score of one forecast against Naive2 on the same window: the mean of
 * sMAPE/sMAPE_naive2 and MASE/MASE_naive2. When one ratio is undefined (NaN, e.g. MASE on a
 * constant training series) the other is used alone; NaN when both are.
 */
export function relativeScore(
  smapeValue: number,
  maseValue: number,
  smapeNaive2: number,
  maseNaive2: number,
): number {
  const a = ratio(smapeValue, smapeNaive2);
  const b = ratio(maseValue, maseNaive2);
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return (a + b) / 2;
}

/** One series' (or one window's) errors of a method and of Naive2, for `owa`. */
export interface OwaItem {
  smape: number;
  mase: number;
  naive2Smape: number;
  naive2Mase: number;
}

export interface OwaResult {
  owa: number;
  smape: number;
  mase: number;
  naive2Smape: number;
  naive2Mase: number;
  /** Items used (those whose four numbers are all finite). */
  used: number;
  /** Items left out because a metric was undefined for them. */
  excluded: number;
}

/**
 * Overall weighted average relative to Naive2 over a set, as M4 computes it: the mean of
 * (mean sMAPE / mean sMAPE_naive2) and (mean MASE / mean MASE_naive2), each mean taken over the
 * set. Items with any undefined metric (NaN MASE of a constant series) are left out of all four
 * means so method and benchmark are averaged over the same series; `excluded` counts them.
 * NaN when nothing is left or a Naive2 mean is 0.
 */
export function owa(items: readonly OwaItem[]): OwaResult {
  let s = 0;
  let m = 0;
  let ns = 0;
  let nm = 0;
  let used = 0;
  for (const it of items) {
    if (![it.smape, it.mase, it.naive2Smape, it.naive2Mase].every(Number.isFinite)) continue;
    s += it.smape;
    m += it.mase;
    ns += it.naive2Smape;
    nm += it.naive2Mase;
    used++;
  }
  const excluded = items.length - used;
  if (used === 0) {
    return { owa: NaN, smape: NaN, mase: NaN, naive2Smape: NaN, naive2Mase: NaN, used, excluded };
  }
  const value = ns > 0 && nm > 0 ? (s / ns + m / nm) / 2 : NaN;
  return {
    owa: value,
    smape: s / used,
    mase: m / used,
    naive2Smape: ns / used,
    naive2Mase: nm / used,
    used,
    excluded,
  };
}

/** NaN -> null, for rows written to tables. */
export function orNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
