/**
 * STL, seasonal-trend decomposition by loess (Cleveland, Cleveland, McRae & Terpenning 1990), as
 * the authors' Fortran (netlib `stl`, which R's stats::stl runs) computes it without robustness
 * iterations, and MSTL (Bandara, Hyndman & Bergmeir 2021) on top of it as R's forecast::mstl does.
 *
 * Positions inside the loess routines are 1-based, as in the Fortran, so the window arithmetic can
 * be checked against it line by line; arrays are 0-based (position i is index i − 1). Loess is
 * evaluated every `jump` positions and linearly interpolated between, as the Fortran does: that is
 * what makes the long trend window of a yearly season (609 values for period 365) cheap.
 */

export interface StlOptions {
  /** Seasonal smoother span (odd, >= 3); R's s.window. Default: the period. */
  seasonalWindow?: number;
  /** Trend smoother span; default nextodd(ceil(1.5·period / (1 − 1.5/seasonalWindow))). */
  trendWindow?: number;
  /** Low-pass filter span; default nextodd(period). */
  lowPassWindow?: number;
  /** Inner loop passes (default 2, R's default without robustness). */
  innerLoops?: number;
}

export interface StlResult {
  seasonal: Float64Array;
  trend: Float64Array;
  remainder: Float64Array;
}

const nextOdd = (v: number): number => (v % 2 === 0 ? v + 1 : v);

/**
 * Loess estimate at position xs from y over positions nleft..nright with tricube weights (written
 * into w), locally linear when degree is 1; null when every weight is zero (stlest).
 */
function loessAt(
  y: Float64Array,
  n: number,
  len: number,
  degree: number,
  xs: number,
  nleft: number,
  nright: number,
  w: Float64Array,
): number | null {
  const range = n - 1;
  let h = Math.max(xs - nleft, nright - xs);
  if (len > n) h += Math.floor((len - n) / 2);
  const h9 = 0.999 * h;
  const h1 = 0.001 * h;
  let a = 0;
  for (let j = nleft; j <= nright; j++) {
    let wj = 0;
    const r = Math.abs(j - xs);
    if (r <= h9) {
      if (r <= h1) wj = 1;
      else {
        const q = r / h;
        const u = 1 - q * q * q;
        wj = u * u * u;
      }
      a += wj;
    }
    w[j - 1] = wj;
  }
  if (a <= 0) return null;
  for (let j = nleft; j <= nright; j++) w[j - 1]! /= a;
  if (h > 0 && degree > 0) {
    let center = 0;
    for (let j = nleft; j <= nright; j++) center += w[j - 1]! * j;
    let b = xs - center;
    let c = 0;
    for (let j = nleft; j <= nright; j++) c += w[j - 1]! * (j - center) * (j - center);
    if (Math.sqrt(c) > 0.001 * range) {
      b /= c;
      for (let j = nleft; j <= nright; j++) w[j - 1]! *= b * (j - center) + 1;
    }
  }
  let ys = 0;
  for (let j = nleft; j <= nright; j++) ys += w[j - 1]! * y[j - 1]!;
  return ys;
}

/**
 * Loess smooth of y[0..n) into out[offset..offset+n), evaluated every `jump` positions and
 * interpolated linearly between (stless). `w` is scratch of length >= n.
 */
function loessSmooth(
  y: Float64Array,
  n: number,
  len: number,
  degree: number,
  jump: number,
  out: Float64Array,
  offset: number,
  w: Float64Array,
): void {
  const set = (i: number, v: number | null): void => {
    out[offset + i - 1] = v ?? y[i - 1]!;
  };
  if (n < 2) {
    out[offset] = y[0]!;
    return;
  }
  const step = Math.min(jump, n - 1);
  let nleft = 1;
  let nright = n;
  if (len >= n) {
    for (let i = 1; i <= n; i += step) set(i, loessAt(y, n, len, degree, i, 1, n, w));
  } else if (step === 1) {
    const half = Math.floor((len + 1) / 2);
    nright = len;
    for (let i = 1; i <= n; i++) {
      if (i > half && nright !== n) {
        nleft++;
        nright++;
      }
      set(i, loessAt(y, n, len, degree, i, nleft, nright, w));
    }
  } else {
    const half = Math.floor((len + 1) / 2);
    for (let i = 1; i <= n; i += step) {
      if (i < half) {
        nleft = 1;
        nright = len;
      } else if (i >= n - half + 1) {
        nleft = n - len + 1;
        nright = n;
      } else {
        nleft = i - half + 1;
        nright = len + i - half;
      }
      set(i, loessAt(y, n, len, degree, i, nleft, nright, w));
    }
  }
  if (step === 1) return;
  const at = (i: number): number => out[offset + i - 1]!;
  for (let i = 1; i <= n - step; i += step) {
    const delta = (at(i + step) - at(i)) / step;
    for (let j = i + 1; j < i + step; j++) out[offset + j - 1] = at(i) + delta * (j - i);
  }
  const k = Math.floor((n - 1) / step) * step + 1;
  if (k !== n) {
    set(n, loessAt(y, n, len, degree, n, nleft, nright, w));
    if (k !== n - 1) {
      const delta = (at(n) - at(k)) / (n - k);
      for (let j = k + 1; j < n; j++) out[offset + j - 1] = at(k) + delta * (j - k);
    }
  }
}

/**
 * Smooths each cycle-subseries (every period-th value) and extends it by one value at each end
 * (stlss): `season` gets n + 2·period values, season[p] belonging to position p − period + 1.
 */
function cycleSubseries(
  y: Float64Array,
  n: number,
  period: number,
  len: number,
  jump: number,
  season: Float64Array,
): void {
  const cycles = Math.floor((n - 1) / period) + 1;
  const sub = new Float64Array(cycles);
  const smooth = new Float64Array(cycles + 2);
  const w = new Float64Array(cycles);
  for (let j = 1; j <= period; j++) {
    const k = Math.floor((n - j) / period) + 1;
    for (let i = 1; i <= k; i++) sub[i - 1] = y[(i - 1) * period + j - 1]!;
    loessSmooth(sub, k, len, 0, jump, smooth, 1, w);
    smooth[0] = loessAt(sub, k, len, 0, 0, 1, Math.min(len, k), w) ?? smooth[1]!;
    smooth[k + 1] = loessAt(sub, k, len, 0, k + 1, Math.max(1, k - len + 1), k, w) ?? smooth[k]!;
    for (let m = 1; m <= k + 2; m++) season[(m - 1) * period + j - 1] = smooth[m - 1]!;
  }
}

/** Moving average of length len over x[0..n) into out (n − len + 1 values) (stlma). */
function movingAverage(x: Float64Array, n: number, len: number, out: Float64Array): void {
  let v = 0;
  for (let i = 0; i < len; i++) v += x[i]!;
  out[0] = v / len;
  for (let j = 1; j <= n - len; j++) {
    v += x[len + j - 1]! - x[j - 1]!;
    out[j] = v / len;
  }
}

/** STL of y with the given period (>= 2; y needs two full periods). See the module comment. */
export function stl(y: ArrayLike<number>, period: number, options: StlOptions = {}): StlResult {
  const n = y.length;
  const np = Math.max(2, period);
  const ns = nextOdd(Math.max(3, options.seasonalWindow ?? np));
  const nt = nextOdd(Math.max(3, options.trendWindow ?? Math.ceil((1.5 * np) / (1 - 1.5 / ns))));
  const nl = nextOdd(Math.max(3, options.lowPassWindow ?? np));
  const jump = (len: number): number => Math.ceil(len / 10);
  const inner = options.innerLoops ?? 2;
  const data = Float64Array.from(y);
  const seasonal = new Float64Array(n);
  const trend = new Float64Array(n);
  const detrended = new Float64Array(n);
  const season = new Float64Array(n + 2 * np);
  const average1 = new Float64Array(n + 2 * np);
  const average2 = new Float64Array(n + 2 * np);
  const lowPass = new Float64Array(n);
  const w = new Float64Array(n + 2 * np);
  for (let pass = 0; pass < inner; pass++) {
    for (let i = 0; i < n; i++) detrended[i] = data[i]! - trend[i]!;
    cycleSubseries(detrended, n, np, ns, jump(ns), season);
    // Low-pass filter of the extended seasonal (stlfts): moving averages of np, np and 3, then loess.
    movingAverage(season, n + 2 * np, np, average1);
    movingAverage(average1, n + np + 1, np, average2);
    movingAverage(average2, n + 2, 3, average1);
    loessSmooth(average1, n, nl, 1, jump(nl), lowPass, 0, w);
    for (let i = 0; i < n; i++) seasonal[i] = season[np + i]! - lowPass[i]!;
    for (let i = 0; i < n; i++) detrended[i] = data[i]! - seasonal[i]!;
    loessSmooth(detrended, n, nt, 1, jump(nt), trend, 0, w);
  }
  const remainder = new Float64Array(n);
  for (let i = 0; i < n; i++) remainder[i] = data[i]! - seasonal[i]! - trend[i]!;
  return { seasonal, trend, remainder };
}

export interface MstlDecomposition {
  /** The periods decomposed, shortest first, and their seasonal components. */
  periods: number[];
  seasonals: Float64Array[];
  trend: Float64Array;
  remainder: Float64Array;
}

/**
 * MSTL as R's forecast::mstl: periods shortest first (those with two full seasons in y), STL with
 * seasonal windows 11, 15, 19… (7 + 4·i), each period in turn on the series with the others
 * removed, twice over when there are several periods. Callers pass periods that fit (>= 2 seasons).
 */
export function mstlDecompose(y: ArrayLike<number>, periods: readonly number[]): MstlDecomposition {
  const n = y.length;
  const sorted = [...new Set(periods)].filter((p) => p > 1 && 2 * p <= n).sort((a, b) => a - b);
  const seasonals = sorted.map(() => new Float64Array(n));
  const deseasonalised = Float64Array.from(y);
  let trend: Float64Array = new Float64Array(n);
  const iterations = sorted.length > 1 ? 2 : 1;
  for (let pass = 0; pass < iterations; pass++) {
    sorted.forEach((period, i) => {
      const seasonal = seasonals[i]!;
      for (let t = 0; t < n; t++) deseasonalised[t]! += seasonal[t]!;
      const fit = stl(deseasonalised, period, { seasonalWindow: 7 + 4 * (i + 1) });
      seasonal.set(fit.seasonal);
      for (let t = 0; t < n; t++) deseasonalised[t]! -= seasonal[t]!;
      trend = fit.trend;
    });
  }
  const remainder = new Float64Array(n);
  for (let t = 0; t < n; t++) remainder[t] = deseasonalised[t]! - trend[t]!;
  return { periods: sorted, seasonals, trend, remainder };
}
