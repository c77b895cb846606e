/**
 * Automatic ETS model selection for non-seasonal series (Hyndman, Koehler, Snyder & Grose 2002;
 * Hyndman et al. 2008, "Forecasting with Exponential Smoothing"), as R's forecast::ets(y, "ZZN")
 * and augurs's AutoETS do it: the six models ETS(A,N,N), ETS(A,A,N), ETS(A,Ad,N), ETS(M,N,N),
 * ETS(M,A,N) and ETS(M,Ad,N) (multiplicative errors only when every value is positive) are fitted
 * by maximum likelihood and the one with the smallest AICc is kept. Seasonality is removed before
 * (seasonality.ts, or STL in MSTL), so no seasonal models are needed here.
 *
 * The likelihood is R's (etscalc in forecast's C code), up to a constant shared by all six models:
 *   -2·log L = n·log(Σ e_t²)                       additive errors, e_t = y_t − ŷ_t
 *   -2·log L = n·log(Σ ε_t²) + 2·Σ log|ŷ_t|        multiplicative errors, ε_t = e_t / ŷ_t
 * For both error types the states move the same way (l ← ŷ + α·e, b ← φ·b + β·e, ŷ = l + φ·b),
 * so the models differ only in how their likelihood weighs the errors.
 *
 * Why it is not a transcription of R: for additive errors, the errors are affine in the initial
 * states, so smoothing.ts solves for l0 and b0 exactly and searches only α, β, φ (R searches all
 * five with Nelder–Mead); that finds the same or a better maximum, faster. For multiplicative
 * errors the likelihood is not quadratic in the initial states, so all of α, β, φ, l0, b0 are
 * searched by Nelder–Mead, started from the additive fit of the same trend or from R's default
 * start, whichever has the better likelihood, on the series divided by its mean so the steps
 * suit any scale.
 * Parameter bounds are R's "usual" ones: α, β in [1e-4, 0.9999] with β <= α, φ in [0.8, 0.98].
 */
import { sameValues } from './seasonality.js';
import {
  ALPHA_MAX,
  ALPHA_MIN,
  fitSmoothing,
  smoothingForecast,
  logistic,
  logit,
  nelderMead,
  PHI_MAX,
  PHI_MIN,
  type SmoothingFit,
  type TrendKind,
} from './smoothing.js';

export type ErrorKind = 'additive' | 'multiplicative';

export interface EtsFit {
  error: ErrorKind;
  trend: TrendKind;
  alpha: number;
  beta: number;
  phi: number;
  initialLevel: number;
  initialSlope: number;
  /** States after the last observation. */
  level: number;
  slope: number;
  n: number;
  /** Estimated parameters (α, β, φ as the model has them, and the initial states). */
  parameterCount: number;
  /** −2·log-likelihood up to a constant shared by all models fitted to the same series. */
  lik: number;
  aicc: number;
  /** Variance of the errors (additive) or of the relative errors (multiplicative), per R's ets. */
  sigma2: number;
  /** One-step in-sample forecasts ŷ_t, aligned with y. */
  fitted: Float64Array;
}

/** The model's name as R prints it: "ANN", "MAdN"… */
export function etsModelName(fit: Pick<EtsFit, 'error' | 'trend'>): string {
  const e = fit.error === 'additive' ? 'A' : 'M';
  const t = fit.trend === 'none' ? 'N' : fit.trend === 'additive' ? 'A' : 'Ad';
  return `${e}${t}N`;
}

const TRENDS: readonly TrendKind[] = ['none', 'additive', 'damped'];

/**
 * Nelder–Mead budget and stop for the multiplicative models: −2·log L agreeing to 1e-3 across the
 * simplex is far below what moves AICc's choice. Measured on 35 series (30 two-year daily, the
 * R datasets): from these starts the likelihood found is within 0.003 of a 400-per-parameter,
 * 1e-6 search for 90% of fits, at a quarter of the evaluations.
 */
const EVALUATIONS_PER_PARAMETER = 60;
const LIK_TOLERANCE = 1e-3;

/** R's AICc with np = estimated parameters + 1 (the error variance); Infinity when n is too small. */
function aiccOf(lik: number, parameterCount: number, n: number): number {
  const np = parameterCount + 1;
  const denominator = n - np - 1;
  if (!Number.isFinite(lik) || denominator <= 0) return Infinity;
  return lik + 2 * np + (2 * np * (np + 1)) / denominator;
}

/** R clamps a perfect fit's likelihood the same way (lik < −1e10 becomes −1e10). */
function clampLik(lik: number): number {
  return lik < -1e10 ? -1e10 : lik;
}

function fromAdditive(fit: SmoothingFit): EtsFit {
  const lik = clampLik(fit.n * Math.log(fit.sse));
  const dof = fit.n - fit.parameterCount;
  return {
    error: 'additive',
    trend: fit.trend,
    alpha: fit.alpha,
    beta: fit.beta,
    phi: fit.phi,
    initialLevel: fit.initialLevel,
    initialSlope: fit.initialSlope,
    level: fit.level,
    slope: fit.slope,
    n: fit.n,
    parameterCount: fit.parameterCount,
    lik,
    aicc: aiccOf(lik, fit.parameterCount, fit.n),
    sigma2: fit.sse / (dof > 0 ? dof : fit.n),
    fitted: fit.fitted,
  };
}

/**
 * −2·log L of a multiplicative-error model (see the module comment), Infinity when a one-step
 * forecast is not positive (the relative error is then meaningless). log|ŷ| is summed as the log
 * of running products, rescaled before they overflow, to save a logarithm per value.
 */
function multiplicativeLik(
  y: Float64Array,
  alpha: number,
  beta: number,
  phi: number,
  l0: number,
  b0: number,
): number {
  let level = l0;
  let slope = b0;
  let squares = 0;
  let logs = 0;
  let product = 1;
  const n = y.length;
  for (let t = 0; t < n; t++) {
    const forecast = level + phi * slope;
    if (!(forecast > 0)) return Infinity;
    const error = y[t]! - forecast;
    const relative = error / forecast;
    squares += relative * relative;
    product *= forecast;
    if (product > 1e150 || product < 1e-150) {
      logs += Math.log(product);
      product = 1;
    }
    level = forecast + alpha * error;
    slope = phi * slope + beta * error;
  }
  return n * Math.log(squares) + 2 * (logs + Math.log(product));
}

interface Start {
  alpha: number;
  beta: number;
  phi: number;
  level: number;
  slope: number;
}

/** R's default start (initparam and initstate): α 0.2, β 0.02, φ 0.978, a line through 10 values. */
function defaultStart(y: Float64Array, trend: TrendKind): Start {
  const m = Math.min(10, y.length);
  let sx = 0, sy = 0, sxx = 0, sxy = 0; // prettier-ignore
  for (let t = 0; t < m; t++) {
    const x = t + 1;
    sx += x;
    sy += y[t]!;
    sxx += x * x;
    sxy += x * y[t]!;
  }
  const alpha = ALPHA_MIN + 0.2 * (ALPHA_MAX - ALPHA_MIN);
  const beta = ALPHA_MIN + 0.1 * (alpha - ALPHA_MIN);
  const phi = PHI_MIN + 0.99 * (PHI_MAX - PHI_MIN);
  if (trend === 'none') return { alpha, beta: 0, phi: 1, level: sy / m, slope: 0 };
  const det = m * sxx - sx * sx;
  const slope = det > 0 ? (m * sxy - sx * sy) / det : 0;
  return { alpha, beta, phi: trend === 'damped' ? phi : 1, level: (sy - slope * sx) / m, slope };
}

/**
 * Fits one multiplicative-error model by Nelder–Mead from the best of `from` (unscaled
 * parameters; R's default start is added when `withDefault`); null when no start gives a finite
 * likelihood.
 */
function fitMultiplicative(
  y: Float64Array,
  trend: TrendKind,
  from: readonly Start[],
  withDefault: boolean,
): EtsFit | null {
  const n = y.length;
  let mean = 0;
  for (let t = 0; t < n; t++) mean += y[t]!;
  mean /= n;
  const scaled = new Float64Array(n);
  for (let t = 0; t < n; t++) scaled[t] = y[t]! / mean;
  const withTrend = trend !== 'none';
  const damped = trend === 'damped';
  // Coordinates: logit α, logit β/α, logit φ, then the initial level and slope as offsets from
  // the start in steps of 5% of the mean level (slope: 10% over the whole series).
  const levelStep = 0.05;
  const slopeStep = 0.1 / n;
  const candidates: Start[] = from.map((s) => ({
    ...s,
    level: s.level / mean,
    slope: s.slope / mean,
  }));
  if (withDefault) candidates.push(defaultStart(scaled, trend));
  // Searching from every start costs a search each; the start with the better likelihood is
  // nearly always the better one to search from (measured: within 0.003 of searching from both
  // for 90% of fits, at a third of the evaluations).
  const startLik = (s: Start): number =>
    multiplicativeLik(scaled, s.alpha, s.beta, s.phi, s.level, s.slope);
  const liks = candidates.map(startLik);
  let first = 0;
  for (let i = 1; i < candidates.length; i++) if (liks[i]! < liks[first]!) first = i;
  const starts = [candidates[first]!];
  let best: { start: Start; u: Float64Array; value: number } | undefined;
  for (const start of starts) {
    const decode = (u: ArrayLike<number>): Start => {
      const alpha = logistic(u[0]!, ALPHA_MIN, ALPHA_MAX);
      const beta = withTrend ? alpha * logistic(u[1]!, ALPHA_MIN, ALPHA_MAX) : 0;
      const phi = damped ? logistic(u[2]!, PHI_MIN, PHI_MAX) : 1;
      const level = start.level + levelStep * u[3]!;
      const slope = withTrend ? start.slope + slopeStep * u[4]! : 0;
      return { alpha, beta, phi, level, slope };
    };
    const objective = (u: ArrayLike<number>): number => {
      const p = decode(u);
      return multiplicativeLik(scaled, p.alpha, p.beta, p.phi, p.level, p.slope);
    };
    const u0 = [
      logit(start.alpha, ALPHA_MIN, ALPHA_MAX),
      withTrend ? logit(start.beta / start.alpha, ALPHA_MIN, ALPHA_MAX) : 0,
      damped ? logit(start.phi, PHI_MIN, PHI_MAX) : 0,
      0,
      0,
    ];
    if (!Number.isFinite(objective(u0))) continue;
    const free = withTrend ? (damped ? [0, 1, 2, 3, 4] : [0, 1, 3, 4]) : [0, 3];
    const full = Float64Array.from(u0);
    const reduced = (v: ArrayLike<number>): Float64Array => {
      for (let i = 0; i < free.length; i++) full[free[i]!] = v[i]!;
      return full;
    };
    const found = nelderMead(
      (v) => objective(reduced(v)),
      free.map((i) => u0[i]!),
      1,
      EVALUATIONS_PER_PARAMETER * free.length,
      LIK_TOLERANCE,
    );
    const u = Float64Array.from(reduced(found));
    const value = objective(u);
    if (Number.isFinite(value) && (best === undefined || value < best.value)) {
      best = { start, u, value };
    }
  }
  if (best === undefined) return null;
  const u = best.u;
  const alpha = logistic(u[0]!, ALPHA_MIN, ALPHA_MAX);
  const beta = withTrend ? alpha * logistic(u[1]!, ALPHA_MIN, ALPHA_MAX) : 0;
  const phi = damped ? logistic(u[2]!, PHI_MIN, PHI_MAX) : 1;
  const l0 = (best.start.level + levelStep * u[3]!) * mean;
  const b0 = withTrend ? (best.start.slope + slopeStep * u[4]!) * mean : 0;
  return finishMultiplicative(y, trend, alpha, beta, phi, l0, b0);
}

/** Runs the fitted multiplicative model over y once more for its states, fitted values and fit. */
function finishMultiplicative(
  y: Float64Array,
  trend: TrendKind,
  alpha: number,
  beta: number,
  phi: number,
  l0: number,
  b0: number,
): EtsFit | null {
  const n = y.length;
  const fitted = new Float64Array(n);
  let level = l0;
  let slope = b0;
  let squares = 0;
  for (let t = 0; t < n; t++) {
    const forecast = level + phi * slope;
    fitted[t] = forecast;
    const error = y[t]! - forecast;
    squares += (error / forecast) ** 2;
    level = forecast + alpha * error;
    slope = phi * slope + beta * error;
  }
  const lik = clampLik(multiplicativeLik(y, alpha, beta, phi, l0, b0));
  if (!Number.isFinite(lik)) return null;
  const parameterCount = trend === 'none' ? 2 : trend === 'additive' ? 4 : 5;
  const dof = n - parameterCount;
  return {
    error: 'multiplicative',
    trend,
    alpha,
    beta,
    phi,
    initialLevel: l0,
    initialSlope: b0,
    level,
    slope,
    n,
    parameterCount,
    lik,
    aicc: aiccOf(lik, parameterCount, n),
    sigma2: squares / (dof > 0 ? dof : n),
    fitted,
  };
}

function allPositive(y: Float64Array): boolean {
  for (let t = 0; t < y.length; t++) if (!(y[t]! > 0)) return false;
  return true;
}

/** Every candidate model fitted to y, in R's order (A before M, simpler trend first). */
export function fitEtsCandidates(y: Float64Array): EtsFit[] {
  const additive = TRENDS.map((trend) => fitSmoothing(y, trend));
  const fits = additive.map(fromAdditive);
  if (allPositive(y)) {
    TRENDS.forEach((trend, i) => {
      const a = additive[i]!;
      const start = { ...a, level: a.initialLevel, slope: a.initialSlope };
      const fit = fitMultiplicative(y, trend, [start], true);
      if (fit) fits.push(fit);
    });
  }
  return fits;
}

/**
 * Fits the model form of `earlier` (a fit to an earlier, shorter stretch of the same series that
 * starts where y starts) to y, its parameters re-estimated: additive as always, multiplicative by
 * Nelder–Mead from the earlier estimates (the initial states belong to the same first period).
 * Null when that form cannot be fitted to y (multiplicative errors and a value <= 0).
 */
export function refitEts(y: Float64Array, earlier: EtsFit): EtsFit | null {
  if (earlier.error === 'additive') return fromAdditive(fitSmoothing(y, earlier.trend));
  if (!allPositive(y)) return null;
  const start = { ...earlier, level: earlier.initialLevel, slope: earlier.initialSlope };
  return fitMultiplicative(y, earlier.trend, [start], false);
}

/**
 * The candidate with the smallest AICc (the first of equals). When the series is too short for
 * AICc to be finite for any model, ETS(A,N,N).
 */
export function autoEts(y: Float64Array): EtsFit {
  if (lastAuto && sameValues(lastAuto.input, y)) return lastAuto.fit;
  const fits = fitEtsCandidates(y);
  let best = fits[0]!;
  for (const fit of fits) if (fit.aicc < best.aicc) best = fit;
  lastAuto = { input: y.slice(), fit: best };
  return best;
}

/**
 * The last selection made: `auto`'s final fit of `ets` on the whole series repeats the selection
 * the keepAllMethods pass (or a caller forecasting twice) makes on the same values. Fits are
 * never modified after they are made, so sharing one is safe.
 */
let lastAuto: { input: Float64Array; fit: EtsFit } | undefined;

/** Point forecasts l + (φ + … + φ^k)·b for k = 1..h: the same for both error types, and as SES/Holt's. */
export function etsForecast(fit: EtsFit, h: number): Float64Array {
  return smoothingForecast(fit, h);
}

/**
 * Forecast variances of Hyndman et al. (2008), chapter 6, as R's forecast package computes them
 * (class1 and class2 in forecast's etsforecast): with c_j = α + β·(φ + … + φ^j),
 *   additive errors (class 1):       v_k = σ²·(1 + Σ_{j<k} c_j²)
 *   multiplicative errors (class 2): θ_1 = μ_1², θ_k = μ_k² + σ²·Σ_{j<k} c_j²·θ_{k−j},
 *                                    v_k = (1 + σ²)·θ_k − μ_k²
 */
export function etsForecastVariances(fit: EtsFit, mean: Float64Array): Float64Array {
  const h = mean.length;
  const c2 = new Float64Array(h);
  let dampSum = 0;
  let power = 1;
  for (let j = 1; j < h; j++) {
    power *= fit.phi;
    dampSum += power;
    const c = fit.alpha + fit.beta * dampSum;
    c2[j] = c * c;
  }
  const out = new Float64Array(h);
  if (fit.error === 'additive') {
    let sum = 0;
    for (let k = 0; k < h; k++) {
      out[k] = fit.sigma2 * (1 + sum);
      sum += c2[k + 1] ?? 0;
    }
    return out;
  }
  const theta = new Float64Array(h);
  for (let k = 0; k < h; k++) {
    let sum = 0;
    for (let j = 1; j <= k; j++) sum += c2[j]! * theta[k - j]!;
    theta[k] = mean[k]! * mean[k]! + fit.sigma2 * sum;
    out[k] = (1 + fit.sigma2) * theta[k]! - mean[k]! * mean[k]!;
  }
  return out;
}

/** What AutoETS remembers for one series in ForecastOptions.memory: the series and its choice. */
interface EtsMemory {
  series: Float64Array;
  fit: EtsFit;
}

function startsWith(series: Float64Array, prefix: Float64Array): boolean {
  if (prefix.length > series.length) return false;
  for (let i = 0; i < prefix.length; i++) if (!Object.is(series[i], prefix[i])) return false;
  return true;
}

/**
 * `autoEts(adjusted)` with the per-series memory of ForecastOptions: the first call for a series
 * searches every model and remembers the choice under `key`; a later call whose raw series
 * extends the remembered one (the next backtest window, the final fit) re-estimates the chosen
 * form only (refitEts). Selecting once on the oldest window uses no data after any origin.
 */
export function autoEtsRemembered(
  adjusted: Float64Array,
  raw: Float64Array,
  memory: Map<string, unknown> | undefined,
  key: string,
): EtsFit {
  const earlier = memory?.get(key) as EtsMemory | undefined;
  if (earlier && startsWith(raw, earlier.series)) {
    if (raw.length === earlier.series.length) return earlier.fit;
    const fit = refitEts(adjusted, earlier.fit);
    if (fit) return fit;
  }
  const fit = autoEts(adjusted);
  memory?.set(key, { series: raw.slice(), fit });
  return fit;
}
