/**
 * Exponential smoothing with additive errors: simple (ETS(A,N,N)), Holt's linear trend
 * (ETS(A,A,N)) and damped trend (ETS(A,Ad,N)), in the error-correction form of Hyndman &
 * Athanasopoulos, FPP3 section 8:
 *   forecast  ŷ_t = l + φ·b
 *   error     e_t = y_t − ŷ_t
 *   level     l  ← l + φ·b + α·e_t
 *   slope     b  ← φ·b + β·e_t          (β = α·β* of Holt's form, 0 < β <= α)
 * Parameters minimise the in-sample sum of squared one-step errors, as R's forecast::ses/holt do
 * (opt.crit = "mse"). The initial level and slope are not searched: for fixed α, β, φ the errors are
 * affine in (l0, b0), so one pass accumulates the 2×2 normal equations and solves them exactly.
 * That leaves one (SES), two (Holt) or three (damped) parameters for the search: golden section
 * for SES, Nelder–Mead on a logistic transform of the box for the others.
 */

import { sameValues } from './seasonality.js';

export type TrendKind = 'none' | 'additive' | 'damped';

export interface SmoothingFit {
  trend: TrendKind;
  alpha: number;
  beta: number;
  phi: number;
  initialLevel: number;
  initialSlope: number;
  /** State after the last observation. */
  level: number;
  slope: number;
  sse: number;
  n: number;
  /** Smoothing parameters plus initial states, as R's ets counts them (sigma not included). */
  parameterCount: number;
  /** One-step in-sample forecasts, aligned with y. */
  fitted: Float64Array;
}

export interface FixedParameters {
  alpha?: number;
  beta?: number;
  phi?: number;
  /** Fixes the initial level (and slope) instead of solving for them. */
  initialLevel?: number;
  initialSlope?: number;
}

/** Parameter bounds of R's ets ("usual" bounds): α, β* in [1e-4, 0.9999], φ in [0.8, 0.98]. */
export const ALPHA_MIN = 1e-4;
export const ALPHA_MAX = 0.9999;
export const PHI_MIN = 0.8;
export const PHI_MAX = 0.98;

interface Initial {
  level: number;
  slope: number;
}

/**
 * The sum of squared one-step errors at (α, β, φ) with the best initial states, which it writes
 * into `best`. One pass over y, no allocation: three state pairs run side by side (the data from
 * zero states, and zero data from unit level and from unit slope), so by superposition
 * e_t = a_t − c_t·l0 − d_t·b0.
 */
function profiledSse(
  y: Float64Array,
  alpha: number,
  beta: number,
  phi: number,
  withTrend: boolean,
  best: Initial,
  fixed?: FixedParameters,
): number {
  if (!withTrend) return levelOnlySse(y, alpha, best, fixed);
  let la = 0, ba = 0, lc = 1, bc = 0, ld = 0, bd = 1; // prettier-ignore
  let saa = 0, sac = 0, sad = 0, scc = 0, scd = 0, sdd = 0; // prettier-ignore
  const n = y.length;
  for (let t = 0; t < n; t++) {
    const fa = la + phi * ba;
    const fc = lc + phi * bc;
    const fd = ld + phi * bd;
    const ea = y[t]! - fa;
    saa += ea * ea;
    sac += ea * fc;
    sad += ea * fd;
    scc += fc * fc;
    scd += fc * fd;
    sdd += fd * fd;
    la = fa + alpha * ea;
    ba = phi * ba + beta * ea;
    lc = fc - alpha * fc;
    bc = phi * bc - beta * fc;
    ld = fd - alpha * fd;
    bd = phi * bd - beta * fd;
  }
  let l0: number;
  let b0 = 0;
  if (fixed?.initialLevel !== undefined) {
    l0 = fixed.initialLevel;
    b0 = fixed.initialSlope ?? 0;
  } else {
    const det = scc * sdd - scd * scd;
    if (det > 1e-12 * scc * sdd) {
      l0 = (sac * sdd - sad * scd) / det;
      b0 = (sad * scc - sac * scd) / det;
    } else {
      l0 = scc > 0 ? sac / scc : 0;
    }
  }
  best.level = l0;
  best.slope = b0;
  const sse = saa - 2 * (l0 * sac + b0 * sad) + l0 * l0 * scc + 2 * l0 * b0 * scd + b0 * b0 * sdd;
  return sse > 0 ? sse : 0;
}

/** profiledSse without a slope: the level from zero and the unit level response, e_t = a_t − c_t·l0. */
function levelOnlySse(
  y: Float64Array,
  alpha: number,
  best: Initial,
  fixed?: FixedParameters,
): number {
  let la = 0;
  let lc = 1;
  let saa = 0;
  let sac = 0;
  let scc = 0;
  const keep = 1 - alpha;
  for (let t = 0; t < y.length; t++) {
    const ea = y[t]! - la;
    saa += ea * ea;
    sac += ea * lc;
    scc += lc * lc;
    la += alpha * ea;
    lc *= keep;
  }
  const l0 = fixed?.initialLevel ?? (scc > 0 ? sac / scc : 0);
  best.level = l0;
  best.slope = 0;
  const sse = saa - 2 * l0 * sac + l0 * l0 * scc;
  return sse > 0 ? sse : 0;
}

export function logistic(u: number, lo: number, hi: number): number {
  return lo + (hi - lo) / (1 + Math.exp(-u));
}

export function logit(p: number, lo: number, hi: number): number {
  const q = Math.min(Math.max((p - lo) / (hi - lo), 1e-6), 1 - 1e-6);
  return Math.log(q / (1 - q));
}

/** Golden-section minimum of f on [lo, hi], started from the best of a coarse grid. */
function minimiseScalar(f: (x: number) => number, lo: number, hi: number): number {
  const grid = 12;
  let bestX = lo;
  let bestF = Infinity;
  for (let i = 0; i <= grid; i++) {
    const x = lo + ((hi - lo) * i) / grid;
    const v = f(x);
    if (v < bestF) {
      bestF = v;
      bestX = x;
    }
  }
  const step = (hi - lo) / grid;
  let a = Math.max(lo, bestX - step);
  let b = Math.min(hi, bestX + step);
  const ratio = (Math.sqrt(5) - 1) / 2;
  let x1 = b - ratio * (b - a);
  let x2 = a + ratio * (b - a);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let iter = 0; iter < 40 && b - a > 1e-6; iter++) {
    if (f1 < f2) {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - ratio * (b - a);
      f1 = f(x1);
    } else {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + ratio * (b - a);
      f2 = f(x2);
    }
  }
  const mid = (a + b) / 2;
  const fm = f(mid);
  return fm <= bestF ? mid : bestX;
}

/**
 * Nelder–Mead (standard coefficients 1, 2, 0.5, 0.5) from `start` in unconstrained coordinates.
 * Stops when the simplex's function values agree to a relative 1e-8 (or to `absoluteTolerance`)
 * or after `maxEvaluations`.
 */
export function nelderMead(
  f: (x: Float64Array) => number,
  start: readonly number[],
  initialStep: number,
  maxEvaluations: number,
  absoluteTolerance = 0,
): Float64Array {
  const dim = start.length;
  const points: Float64Array[] = [];
  const values: number[] = [];
  for (let i = 0; i <= dim; i++) {
    const p = Float64Array.from(start);
    if (i > 0) p[i - 1]! += initialStep;
    points.push(p);
    values.push(f(p));
  }
  let evaluations = dim + 1;
  const centroid = new Float64Array(dim);
  const trial = new Float64Array(dim);
  const trial2 = new Float64Array(dim);
  const order = points.map((_, i) => i);
  while (evaluations < maxEvaluations) {
    order.sort((a, b) => values[a]! - values[b]!);
    const bestI = order[0]!;
    const worstI = order[dim]!;
    const secondI = order[dim - 1]!;
    const fBest = values[bestI]!;
    const fWorst = values[worstI]!;
    const spread = Math.abs(fWorst - fBest);
    if (spread <= 1e-8 * (Math.abs(fBest) + 1e-30) || spread <= absoluteTolerance) break;
    centroid.fill(0);
    for (let i = 0; i <= dim; i++) {
      if (i === worstI) continue;
      for (let d = 0; d < dim; d++) centroid[d]! += points[i]![d]! / dim;
    }
    const worst = points[worstI]!;
    for (let d = 0; d < dim; d++) trial[d] = centroid[d]! + (centroid[d]! - worst[d]!);
    const fr = f(trial);
    evaluations++;
    if (fr < fBest) {
      for (let d = 0; d < dim; d++) trial2[d] = centroid[d]! + 2 * (centroid[d]! - worst[d]!);
      const fe = f(trial2);
      evaluations++;
      if (fe < fr) accept(points, values, worstI, trial2, fe);
      else accept(points, values, worstI, trial, fr);
    } else if (fr < values[secondI]!) {
      accept(points, values, worstI, trial, fr);
    } else {
      const outside = fr < fWorst;
      const base = outside ? trial : worst;
      for (let d = 0; d < dim; d++) trial2[d] = centroid[d]! + 0.5 * (base[d]! - centroid[d]!);
      const fc = f(trial2);
      evaluations++;
      if (fc < (outside ? fr : fWorst)) {
        accept(points, values, worstI, trial2, fc);
      } else {
        const best = points[bestI]!;
        for (let i = 0; i <= dim; i++) {
          if (i === bestI) continue;
          for (let d = 0; d < dim; d++)
            points[i]![d] = best[d]! + 0.5 * (points[i]![d]! - best[d]!);
          values[i] = f(points[i]!);
          evaluations++;
        }
      }
    }
  }
  let bestIndex = 0;
  for (let i = 1; i <= dim; i++) if (values[i]! < values[bestIndex]!) bestIndex = i;
  return points[bestIndex]!;
}

function accept(
  points: Float64Array[],
  values: number[],
  index: number,
  point: Float64Array,
  value: number,
): void {
  points[index]!.set(point);
  values[index] = value;
}

interface Parameters {
  alpha: number;
  beta: number;
  phi: number;
}

/** Searches α (and β*, φ) for the smallest profiled SSE, honouring fixed values. */
function searchParameters(y: Float64Array, trend: TrendKind, fixed: FixedParameters): Parameters {
  const scratch: Initial = { level: 0, slope: 0 };
  const withTrend = trend !== 'none';
  if (!withTrend) {
    const alpha =
      fixed.alpha ??
      minimiseScalar((a) => profiledSse(y, a, 0, 1, false, scratch, fixed), ALPHA_MIN, ALPHA_MAX);
    return { alpha, beta: 0, phi: 1 };
  }
  const damped = trend === 'damped';
  // Unconstrained coordinates: u0 -> α, u1 -> β* (β = α·β*), u2 -> φ.
  const decode = (u: ArrayLike<number>): Parameters => {
    const alpha = fixed.alpha ?? logistic(u[0]!, ALPHA_MIN, ALPHA_MAX);
    const beta = fixed.beta ?? alpha * logistic(u[1]!, ALPHA_MIN, ALPHA_MAX);
    const phi = damped ? (fixed.phi ?? logistic(u[2]!, PHI_MIN, PHI_MAX)) : 1;
    return { alpha, beta, phi };
  };
  const objective = (u: ArrayLike<number>): number => {
    const p = decode(u);
    return profiledSse(y, p.alpha, p.beta, p.phi, true, scratch, fixed);
  };
  // A coarse grid picks the start, so the local search begins in the right basin.
  let start = [0, 0, 0];
  let startValue = Infinity;
  for (const a of [0.05, 0.3, 0.7, 0.95]) {
    for (const b of [0.01, 0.1, 0.5]) {
      const u = [logit(a, ALPHA_MIN, ALPHA_MAX), logit(b, ALPHA_MIN, ALPHA_MAX), 0];
      const v = objective(u);
      if (v < startValue) {
        startValue = v;
        start = u;
      }
    }
  }
  const dims = damped ? 3 : 2;
  const best = nelderMead((u) => objective(u), start.slice(0, dims), 1, 50 * dims);
  return decode(best);
}

/** Fits an additive-error exponential smoothing model to y (at least one value). */
export function fitSmoothing(
  y: Float64Array,
  trend: TrendKind,
  fixed: FixedParameters = {},
): SmoothingFit {
  const searchedOnly = Object.keys(fixed).length === 0;
  if (searchedOnly) {
    const cached = lastFits.get(trend);
    if (cached && sameValues(cached.input, y))
      return { ...cached.fit, fitted: cached.fit.fitted.slice() };
  }
  const fit = computeFit(y, trend, fixed);
  if (searchedOnly)
    lastFits.set(trend, { input: y.slice(), fit: { ...fit, fitted: fit.fitted.slice() } });
  return fit;
}

/**
 * The last fit of each trend kind with searched parameters. `comb` fits SES, Holt and damped on
 * the same adjusted series the `ses`, `holt` and `damped` methods of the same backtest window
 * have just fitted; equal values give the same fit, so it is reused (as a copy).
 */
const lastFits = new Map<TrendKind, { input: Float64Array; fit: SmoothingFit }>();

function computeFit(y: Float64Array, trend: TrendKind, fixed: FixedParameters): SmoothingFit {
  const { alpha, beta, phi } = searchParameters(y, trend, fixed);
  const initial: Initial = { level: 0, slope: 0 };
  profiledSse(y, alpha, beta, phi, trend !== 'none', initial, fixed);
  const n = y.length;
  const fitted = new Float64Array(n);
  let level = initial.level;
  let slope = initial.slope;
  let sse = 0;
  for (let t = 0; t < n; t++) {
    const forecast = level + phi * slope;
    const error = y[t]! - forecast;
    fitted[t] = forecast;
    sse += error * error;
    level = forecast + alpha * error;
    slope = phi * slope + beta * error;
  }
  const searched = trend === 'none' ? 1 : trend === 'additive' ? 2 : 3;
  const initialStates = trend === 'none' ? 1 : 2;
  return {
    trend,
    alpha,
    beta,
    phi,
    initialLevel: initial.level,
    initialSlope: initial.slope,
    level,
    slope,
    sse,
    n,
    parameterCount: searched + initialStates,
    fitted,
  };
}

/** Point forecasts l + (φ + … + φ^k)·b for k = 1..h. */
export function smoothingForecast(
  fit: Pick<SmoothingFit, 'level' | 'slope' | 'phi'>,
  h: number,
): Float64Array {
  const out = new Float64Array(h);
  let dampSum = 0;
  let power = 1;
  for (let k = 0; k < h; k++) {
    power *= fit.phi;
    dampSum += power;
    out[k] = fit.level + dampSum * fit.slope;
  }
  return out;
}

/** Residual standard deviation sqrt(SSE / (n − parameters)), or over n when that is not positive. */
export function residualSigma(fit: SmoothingFit): number {
  const dof = fit.n - fit.parameterCount;
  return Math.sqrt(fit.sse / (dof > 0 ? dof : Math.max(fit.n, 1)));
}

/**
 * Forecast standard errors of the linear additive models (Hyndman et al. 2008, table 6.1, class 1):
 * var_k = σ²·(1 + Σ_{j=1}^{k−1} c_j²), c_j = α + β·(φ + … + φ^j).
 */
export function smoothingStandardErrors(fit: SmoothingFit, h: number): Float64Array {
  const sigma = residualSigma(fit);
  const out = new Float64Array(h);
  let sum = 0;
  let dampSum = 0;
  let power = 1;
  for (let k = 0; k < h; k++) {
    out[k] = sigma * Math.sqrt(1 + sum);
    power *= fit.phi;
    dampSum += power;
    const c = fit.alpha + fit.beta * dampSum;
    sum += c * c;
  }
  return out;
}

/**
 * AICc of a fit under Gaussian errors, as R's ets computes it from the likelihood n·log(SSE/n)
 * with k = parameters + 1 (the error variance).
 */
export function smoothingAicc(fit: SmoothingFit): number {
  const n = fit.n;
  const k = fit.parameterCount + 1;
  const sse = Math.max(fit.sse, 1e-12);
  const aic = n * Math.log(sse / n) + 2 * k;
  const denominator = n - k - 1;
  return denominator > 0 ? aic + (2 * k * (k + 1)) / denominator : Infinity;
}
