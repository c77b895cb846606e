/**
 * The optimised Theta models of Fiorucci, Pellegrini, Louzada, Petropoulos & Koehler (2016),
 * "Models for optimising the theta method and their relationship to state space models" (IJF 32(4),
 * 1151–1161): OTM (`otm`) and its dynamic form DOTM (`dotm`). Written from the paper's state space
 * form; the R package forecTheta is the authors' implementation (not used here).
 *
 * On the seasonally adjusted series Y_1..Y_n (same M4 test and classical decomposition as `theta`),
 * with ω = 1 − 1/θ (θ >= 1, so 0 <= ω <= 1):
 *   μ_t = ℓ_{t−1} + ω·[(1−α)^{t−1}·A_{t−1} + (1 − (1−α)^t)/α · B_{t−1}]   (one-step forecast of Y_t)
 *   ℓ_t = α·Y_t + (1−α)·ℓ_{t−1}                                             (SES level of Y)
 * where A + B·t is the least-squares line of the series: in OTM the line of all n values
 * (A_t = A_n, B_t = B_n), in DOTM the line of Y_1..Y_t, updated each period (A_1 = Y_1, B_1 = 0,
 * and μ_1 = Y_1). The h-step forecast is
 *   ℓ_n + ω·[(1−α)^n·A_n + (h − 1 + (1 − (1−α)^{n+1})/α)·B_n].
 * θ = 2 with the static line is the standard Theta method (Hyndman & Billah's SES with drift B/2);
 * θ → ∞ (ω = 1) continues the whole slope; θ = 1 is SES.
 *
 * Estimation: least squares of the one-step errors over (ℓ_0, α, θ), as the paper. For a fixed α
 * the level and the line do not depend on ℓ_0 or θ except through the terms above, so the error
 * e_t = (Y_t − L_t) − g_t·ℓ_0 − ω·D_t is linear in (ℓ_0, ω) (L_t the level from ℓ_0 = 0,
 * g_t = (1−α)^{t−1}, D_t the bracket): those two are solved exactly by least squares, ω kept in
 * [0, 1]; α (in [0.1, 0.99], the paper's bounds) by a grid and a golden-section refinement on the
 * remaining one-dimensional profile. No general-purpose optimiser, so no starting-point effects.
 *
 * Intervals: the model is SES's single-source-of-error state space with a deterministic drift
 * term, so the h-step variance is σ²·(1 + (h−1)·α²) (as for SES and `theta`), σ² the mean squared
 * one-step error (3 parameters). In DOTM the line's own updates add variance this leaves out.
 */
import type { ForecastMethod, ForecastOptions, ForecastResult } from '../method.js';
import { normalBands, residualRms } from '../intervals.js';
import { prepareSeries, toArray, usablePeriods } from '../input.js';
import { reseasonaliseResult, seasonallyAdjust } from '../seasonality.js';

const MIN_LENGTH = 4;
export const OTM_ALPHA_MIN = 0.1;
export const OTM_ALPHA_MAX = 0.99;
/**
 * α grid of 13 points (step 0.074), then golden section on the two steps around the best: 14
 * iterations leave α within 2e-4, far below what changes a forecast. 29 profile evaluations in all.
 */
const GRID_STEPS = 12;
const GOLDEN_ITERATIONS = 14;

/** The least-squares line before each period: A[t], B[t] fitted on Y_1..Y_{t} (index t−1 = Y_t). */
export interface Lines {
  /** A[t] and B[t] for t = 0..n: the line known after t values (t = 0 unused). */
  a: Float64Array;
  b: Float64Array;
}

/** OTM: the line of the whole series at every t. */
function staticLines(y: Float64Array): Lines {
  const n = y.length;
  const { intercept, slope } = lineOf(y, n);
  return { a: new Float64Array(n + 1).fill(intercept), b: new Float64Array(n + 1).fill(slope) };
}

/** DOTM: the line of Y_1..Y_t for each t, from running sums (B_1 = 0, A_1 = Y_1). */
function dynamicLines(y: Float64Array): Lines {
  const n = y.length;
  const a = new Float64Array(n + 1);
  const b = new Float64Array(n + 1);
  let sum = 0;
  let weighted = 0;
  for (let t = 1; t <= n; t++) {
    sum += y[t - 1]!;
    weighted += t * y[t - 1]!;
    const mean = sum / t;
    const slope = t >= 2 ? (6 / (t * t - 1)) * ((2 / t) * weighted - (t + 1) * mean) : 0;
    b[t] = slope;
    a[t] = mean - ((t + 1) / 2) * slope;
  }
  return { a, b };
}

/** Least-squares line through (t, y_t), t = 1..n. */
function lineOf(y: Float64Array, n: number): { intercept: number; slope: number } {
  let sum = 0;
  let weighted = 0;
  for (let t = 1; t <= n; t++) {
    sum += y[t - 1]!;
    weighted += t * y[t - 1]!;
  }
  const mean = sum / n;
  const slope = n >= 2 ? (6 / (n * n - 1)) * ((2 / n) * weighted - (n + 1) * mean) : 0;
  return { intercept: mean - ((n + 1) / 2) * slope, slope };
}

export interface OptimisedThetaFit {
  alpha: number;
  /** ω = 1 − 1/θ, in [0, 1]. */
  omega: number;
  theta: number;
  level0: number;
  /** Sum of squared one-step errors. */
  sse: number;
}

/**
 * The least-squares (ℓ_0, ω) for one α, and its sum of squared errors. `first` is the first period
 * with an error (1 for OTM; 2 for DOTM, where μ_1 = Y_1).
 */
export function fitForAlpha(
  y: Float64Array,
  lines: Lines,
  alpha: number,
  first: number,
): OptimisedThetaFit {
  const n = y.length;
  const decay = 1 - alpha;
  // Sums for the normal equations of e_t = r_t − g_t·ℓ0 − D_t·ω.
  let sgg = 0;
  let sdd = 0;
  let sgd = 0;
  let srg = 0;
  let srd = 0;
  let srr = 0;
  let level = 0; // ℓ_{t−1} with ℓ_0 = 0
  let g = 1; // (1−α)^{t−1}
  const inverse = 1 / alpha;
  for (let t = 1; t <= n; t++) {
    if (t >= first) {
      const line = first === 2 ? t - 1 : n;
      const d = g * lines.a[line]! + (1 - g * decay) * inverse * lines.b[line]!;
      const r = y[t - 1]! - level;
      sgg += g * g;
      sdd += d * d;
      sgd += g * d;
      srg += r * g;
      srd += r * d;
      srr += r * r;
    }
    level = alpha * y[t - 1]! + decay * level;
    // Flushed to zero well before g² turns subnormal: subnormal arithmetic is ~100x slower.
    g = g > 1e-150 ? g * decay : 0;
  }
  // Plain statements, no closures: a closure capturing the sums would make V8 keep them in a
  // heap context, several times slower in the loop above.
  const det = sgg * sdd - sgd * sgd;
  let omega = det > 1e-10 * sgg * sdd ? (sgg * srd - sgd * srg) / det : 0;
  if (!(omega >= 0)) omega = 0;
  if (omega > 1) omega = 1;
  const level0 = (srg - omega * sgd) / sgg;
  const sse = Math.max(
    0,
    srr +
      level0 * level0 * sgg +
      omega * omega * sdd -
      2 * level0 * srg -
      2 * omega * srd +
      2 * level0 * omega * sgd,
  );
  return { alpha, omega, theta: omega < 1 ? 1 / (1 - omega) : Infinity, level0, sse };
}

/** The lines OTM (static) or DOTM (dynamic) uses at each period. */
export function thetaLines(y: Float64Array, dynamic: boolean): Lines {
  return dynamic ? dynamicLines(y) : staticLines(y);
}

/** Least squares over α in [0.1, 0.99]: a grid, then golden section around the best grid point. */
export function fitOptimisedTheta(y: Float64Array, dynamic: boolean): OptimisedThetaFit {
  const lines = thetaLines(y, dynamic);
  const first = dynamic ? 2 : 1;
  const at = (alpha: number): OptimisedThetaFit => fitForAlpha(y, lines, alpha, first);
  const step = (OTM_ALPHA_MAX - OTM_ALPHA_MIN) / GRID_STEPS;
  let best = at(OTM_ALPHA_MIN);
  let bestIndex = 0;
  for (let i = 1; i <= GRID_STEPS; i++) {
    const fit = at(OTM_ALPHA_MIN + i * step);
    if (fit.sse < best.sse) {
      best = fit;
      bestIndex = i;
    }
  }
  let lo = OTM_ALPHA_MIN + Math.max(0, bestIndex - 1) * step;
  let hi = OTM_ALPHA_MIN + Math.min(GRID_STEPS, bestIndex + 1) * step;
  const ratio = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - ratio * (hi - lo);
  let x2 = lo + ratio * (hi - lo);
  let f1 = at(x1);
  let f2 = at(x2);
  for (let i = 0; i < GOLDEN_ITERATIONS; i++) {
    if (f1.sse <= f2.sse) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - ratio * (hi - lo);
      f1 = at(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + ratio * (hi - lo);
      f2 = at(x2);
    }
  }
  for (const fit of [f1, f2]) if (fit.sse < best.sse) best = fit;
  return best;
}

/** Points, one-step fitted values and residuals of a fitted model on the adjusted series. */
export function optimisedThetaPath(
  y: Float64Array,
  h: number,
  fit: OptimisedThetaFit,
  dynamic: boolean,
): { mean: Float64Array; fitted: Float64Array; residuals: Float64Array } {
  const n = y.length;
  const lines = thetaLines(y, dynamic);
  const { alpha, omega } = fit;
  const decay = 1 - alpha;
  const fitted = new Float64Array(n);
  const residuals = new Float64Array(n);
  let level = fit.level0;
  let g = 1;
  for (let t = 1; t <= n; t++) {
    const line = dynamic ? t - 1 : n;
    fitted[t - 1] =
      dynamic && t === 1
        ? y[0]!
        : level + omega * (g * lines.a[line]! + ((1 - g * decay) / alpha) * lines.b[line]!);
    residuals[t - 1] = dynamic && t === 1 ? NaN : y[t - 1]! - fitted[t - 1]!;
    level = alpha * y[t - 1]! + decay * level;
    g = g > 1e-150 ? g * decay : 0;
  }
  // g = (1−α)^n here (0 once below 1e-150).
  const mean = new Float64Array(h);
  for (let k = 1; k <= h; k++) {
    mean[k - 1] =
      level + omega * (g * lines.a[n]! + (k - 1 + (1 - g * decay) / alpha) * lines.b[n]!);
  }
  return { mean, fitted, residuals };
}

function optimisedThetaMethod(name: 'otm' | 'dotm', dynamic: boolean): ForecastMethod {
  return {
    name,
    capabilities: { intervals: true, seasonal: true, multiSeasonal: true, intermittent: false },
    minLength: () => MIN_LENGTH,
    forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
      const series = prepareSeries(name, y, h, options, MIN_LENGTH);
      const { adjusted, components } = seasonallyAdjust(series, usablePeriods(options));
      const fit = fitOptimisedTheta(adjusted, dynamic);
      const { mean, fitted, residuals } = optimisedThetaPath(adjusted, h, fit, dynamic);
      const sigma = residualRms(residuals, 3);
      const se = new Float64Array(h);
      for (let k = 0; k < h; k++) se[k] = sigma * Math.sqrt(1 + k * fit.alpha * fit.alpha);
      const result: ForecastResult = {
        mean: toArray(mean),
        intervals: normalBands(mean, se, options.levels),
        fitted: toArray(fitted),
      };
      return reseasonaliseResult(result, series.length, components);
    },
  };
}

/** OTM: the Theta method with θ and α (and the initial level) fitted by least squares. */
export const otm: ForecastMethod = optimisedThetaMethod('otm', false);

/** DOTM: OTM with the trend line re-fitted each period on the values seen so far. */
export const dotm: ForecastMethod = optimisedThetaMethod('dotm', true);
