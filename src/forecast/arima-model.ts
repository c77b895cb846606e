/**
 * Seasonal ARIMA(p,d,q)(P,D,Q)_m models: the conditional-sum-of-squares fit, forecasts and their
 * variances (Box, Jenkins, Reinsel & Ljung, Time Series Analysis, 5th ed., chapters 5 and 7).
 * The order search (Hyndman & Khandakar 2008) is in arima.ts.
 *
 * Conventions are R's `arima`: on the differenced series w (d ordinary and D seasonal differences)
 * φ(B)Φ(B^m)(w_t − μ) = θ(B)Θ(B^m)e_t with φ(B) = 1 − φ_1B − …, θ(B) = 1 + θ_1B + …; μ is the
 * mean of w (a drift when d + D = 1, a mean when d + D = 0, absent when d + D >= 2).
 *
 * The fit minimises the conditional sum of squares as R's `arima(method = "CSS")`: residuals
 * before the model's own AR order are zero, the rest follow the recursion. Squares are summed
 * from a start shared by every model of one search (`start`), so their AICc compare the same
 * observations. Levenberg–Marquardt with a forward-difference Jacobian, from R's start (all
 * coefficients zero, μ the mean of w); a step that leaves the stationary and invertible region
 * (roots within 1.01 of the unit circle, R's auto.arima limit) is refused.
 */

export interface ArimaOrder {
  p: number;
  d: number;
  q: number;
  P: number;
  D: number;
  Q: number;
  /** Season length (1: none; P, D, Q are then 0). */
  m: number;
  /** With μ (mean or drift); only when d + D <= 1. */
  constant: boolean;
}

export interface ArimaFit {
  order: ArimaOrder;
  /** φ_1..φ_p, θ_1..θ_q, Φ_1..Φ_P, Θ_1..Θ_Q. */
  ar: Float64Array;
  ma: Float64Array;
  sar: Float64Array;
  sma: Float64Array;
  mu: number;
  /** Innovation variance: the sum of squared residuals over their count less the parameters. */
  sigma2: number;
  aicc: number;
  /** Residuals on the differenced series (0 before the model's own AR order). */
  residuals: Float64Array;
}

/** A polynomial's non-zero terms as lag/coefficient pairs (lags >= 1). */
interface Sparse {
  lags: Int32Array;
  coefs: Float64Array;
}

/** Coefficients c_1..c_L of (1 − Σ a_i B^i)(1 − Σ A_k B^{mk}) = 1 − Σ c_j B^j (sign = −1), or of
 * (1 + Σ a_i B^i)(1 + Σ A_k B^{mk}) = 1 + Σ c_j B^j (sign = +1). */
export function expandSeasonal(
  a: ArrayLike<number>,
  A: ArrayLike<number>,
  m: number,
  sign: 1 | -1,
): Float64Array {
  const out = new Float64Array(a.length + m * A.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]!;
  for (let k = 0; k < A.length; k++) {
    const lag = m * (k + 1);
    out[lag - 1] = out[lag - 1]! + A[k]!;
    // Cross terms: AR (−a_i B^i)(−A_k B^{mk}) = +a_i·A_k·B^{i+mk}, i.e. c_{i+mk} −= a_i·A_k;
    // MA (θ_i B^i)(Θ_k B^{mk}): c_{i+mk} += θ_i·Θ_k.
    for (let i = 0; i < a.length; i++) out[lag + i] = out[lag + i]! + sign * a[i]! * A[k]!;
  }
  return out;
}

function sparse(c: Float64Array): Sparse {
  const lags: number[] = [];
  const coefs: number[] = [];
  for (let i = 0; i < c.length; i++) {
    if (c[i] !== 0) {
      lags.push(i + 1);
      coefs.push(c[i]!);
    }
  }
  return { lags: Int32Array.from(lags), coefs: Float64Array.from(coefs) };
}

/**
 * Whether every root of 1 − Σ c_i z^i lies outside the circle of radius `radius` (the step-down
 * recursion of the Schur–Cohn test: all reflection coefficients inside (−1, 1)).
 */
export function rootsOutside(c: ArrayLike<number>, radius = 1.01): boolean {
  const p = c.length;
  if (p === 0) return true;
  const a = new Float64Array(p);
  let scale = 1;
  for (let i = 0; i < p; i++) {
    scale *= radius;
    a[i] = c[i]! * scale;
  }
  for (let j = p; j >= 1; j--) {
    const k = a[j - 1]!;
    if (!(Math.abs(k) < 1)) return false;
    const next = new Float64Array(j - 1);
    for (let i = 0; i < j - 1; i++) next[i] = (a[i]! + k * a[j - 2 - i]!) / (1 - k * k);
    a.set(next);
  }
  return true;
}

function negated(c: ArrayLike<number>): Float64Array {
  return Float64Array.from(c, (v) => -v);
}

/** Stationary AR parts and invertible MA parts, each with R's 1.01 margin. */
function admissible(ar: Float64Array, ma: Float64Array, sar: Float64Array, sma: Float64Array) {
  return (
    rootsOutside(ar) && rootsOutside(sar) && rootsOutside(negated(ma)) && rootsOutside(negated(sma))
  );
}

/** The parameter vector's parts for an order: [ar | ma | sar | sma | mu?]. */
function split(order: ArimaOrder, x: ArrayLike<number>) {
  const { p, q, P, Q } = order;
  const at = (from: number, len: number): Float64Array =>
    Float64Array.from({ length: len }, (_, i) => x[from + i]!);
  return {
    ar: at(0, p),
    ma: at(p, q),
    sar: at(p + q, P),
    sma: at(p + q + P, Q),
    mu: order.constant ? x[p + q + P + Q]! : 0,
  };
}

/**
 * CSS residuals of w under the given parts into `e`; returns the sum of squares from `start`.
 * Residuals before the model's own AR order are zero (R's CSS).
 */
function cssResiduals(
  w: Float64Array,
  arS: Sparse,
  maS: Sparse,
  mu: number,
  start: number,
  e: Float64Array,
): number {
  const n = w.length;
  const own = arS.lags.length > 0 ? arS.lags[arS.lags.length - 1]! : 0;
  const { lags: al, coefs: ac } = arS;
  const { lags: ml, coefs: mc } = maS;
  let sse = 0;
  for (let t = 0; t < n; t++) {
    if (t < own) {
      e[t] = 0;
      continue;
    }
    let v = w[t]! - mu;
    for (let i = 0; i < al.length; i++) v -= ac[i]! * (w[t - al[i]!]! - mu);
    for (let j = 0; j < ml.length; j++) {
      const lag = ml[j]!;
      if (t >= lag) v -= mc[j]! * e[t - lag]!;
    }
    e[t] = v;
    if (t >= start) sse += v * v;
  }
  return sse;
}

/** Sum of squares of a parameter vector, or Infinity when it is not admissible. */
function objective(
  order: ArimaOrder,
  w: Float64Array,
  x: ArrayLike<number>,
  start: number,
  e: Float64Array,
): number {
  const parts = split(order, x);
  if (!admissible(parts.ar, parts.ma, parts.sar, parts.sma)) return Infinity;
  const arS = sparse(expandSeasonal(parts.ar, parts.sar, order.m, -1));
  const maS = sparse(expandSeasonal(parts.ma, parts.sma, order.m, 1));
  const sse = cssResiduals(w, arS, maS, parts.mu, start, e);
  return Number.isFinite(sse) ? sse : Infinity;
}

/** Solves the k×k system A x = b (Gaussian elimination with partial pivoting); null if singular. */
function solve(A: Float64Array, b: Float64Array, k: number): Float64Array | null {
  const M = A.slice();
  const x = b.slice();
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++)
      if (Math.abs(M[r * k + c]!) > Math.abs(M[piv * k + c]!)) piv = r;
    if (!(Math.abs(M[piv * k + c]!) > 1e-300)) return null;
    if (piv !== c) {
      for (let j = 0; j < k; j++) {
        const tmp = M[c * k + j]!;
        M[c * k + j] = M[piv * k + j]!;
        M[piv * k + j] = tmp;
      }
      const tb = x[c]!;
      x[c] = x[piv]!;
      x[piv] = tb;
    }
    for (let r = c + 1; r < k; r++) {
      const f = M[r * k + c]! / M[c * k + c]!;
      if (f === 0) continue;
      for (let j = c; j < k; j++) M[r * k + j] = M[r * k + j]! - f * M[c * k + j]!;
      x[r] = x[r]! - f * x[c]!;
    }
  }
  for (let r = k - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let j = r + 1; j < k; j++) s -= M[r * k + j]! * x[j]!;
    x[r] = s / M[r * k + r]!;
  }
  return x;
}

const MAX_ITERATIONS = 25;
/** Stop when an accepted step lowers the sum of squares by less than this share. */
const TOLERANCE = 1e-7;

/**
 * Levenberg–Marquardt on the CSS: J'J + λ·diag(J'J) damping, λ raised tenfold on a refused step
 * and lowered on an accepted one; stops when the sum of squares changes by less than TOLERANCE
 * (relative) or λ grows past 1e10.
 */
function minimiseCss(
  order: ArimaOrder,
  w: Float64Array,
  meanW: number,
  scaleW: number,
  start: number,
): Float64Array {
  const k = order.p + order.q + order.P + order.Q + (order.constant ? 1 : 0);
  const x = new Float64Array(k);
  if (order.constant) x[k - 1] = meanW;
  if (k === 0) return x;
  const n = w.length;
  const rows = n - start;
  const e = new Float64Array(n);
  const e2 = new Float64Array(n);
  const jac = new Float64Array(rows * k);
  let sse = objective(order, w, x, start, e);
  let lambda = 1e-3;
  for (let iter = 0; iter < MAX_ITERATIONS && lambda < 1e10; iter++) {
    for (let i = 0; i < k; i++) {
      const isMu = order.constant && i === k - 1;
      const step = isMu ? 1e-6 * scaleW : 1e-6;
      const saved = x[i]!;
      x[i] = saved + step;
      let sgn = Number.isFinite(objective(order, w, x, start, e2)) ? 1 : -1;
      if (sgn < 0) {
        x[i] = saved - step;
        if (!Number.isFinite(objective(order, w, x, start, e2))) sgn = 0;
      }
      x[i] = saved;
      for (let r = 0; r < rows; r++) {
        jac[r * k + i] = sgn === 0 ? 0 : (sgn * (e2[start + r]! - e[start + r]!)) / step;
      }
    }
    const jtj = new Float64Array(k * k);
    const jtr = new Float64Array(k);
    for (let r = 0; r < rows; r++) {
      const res = e[start + r]!;
      for (let i = 0; i < k; i++) {
        const ji = jac[r * k + i]!;
        jtr[i] = jtr[i]! - ji * res;
        for (let j = i; j < k; j++) jtj[i * k + j] = jtj[i * k + j]! + ji * jac[r * k + j]!;
      }
    }
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) jtj[i * k + j] = jtj[j * k + i]!;
    let improved = false;
    while (lambda < 1e10) {
      const damped = jtj.slice();
      for (let i = 0; i < k; i++) damped[i * k + i] = jtj[i * k + i]! * (1 + lambda) + 1e-12;
      const delta = solve(damped, jtr, k);
      if (!delta) {
        lambda *= 10;
        continue;
      }
      const trial = Float64Array.from(x, (v, i) => v + delta[i]!);
      const s = objective(order, w, trial, start, e2);
      if (s < sse) {
        const change = (sse - s) / Math.max(sse, 1e-300);
        x.set(trial);
        e.set(e2);
        sse = s;
        lambda = Math.max(lambda / 10, 1e-12);
        improved = change > TOLERANCE;
        break;
      }
      lambda *= 10;
    }
    if (!improved) break;
  }
  return x;
}

/**
 * Fits an order to the differenced series w by CSS, squares summed from `start` (>= the model's
 * own AR order). AICc = N·log(2π·SSE/N) + N + 2k + 2k(k+1)/(N − k − 1), k the coefficients plus
 * μ plus σ², N = w.length − start.
 */
export function fitArimaOrder(order: ArimaOrder, w: Float64Array, start: number): ArimaFit {
  const n = w.length;
  let meanW = 0;
  for (let t = 0; t < n; t++) meanW += w[t]!;
  meanW /= n;
  let ss = 0;
  for (let t = 0; t < n; t++) ss += (w[t]! - meanW) ** 2;
  const scaleW = Math.sqrt(ss / Math.max(1, n - 1)) || 1;
  const x = minimiseCss(order, w, meanW, scaleW, start);
  const parts = split(order, x);
  const residuals = new Float64Array(n);
  const arS = sparse(expandSeasonal(parts.ar, parts.sar, order.m, -1));
  const maS = sparse(expandSeasonal(parts.ma, parts.sma, order.m, 1));
  const floor = 1e-10 * (ss / n + meanW * meanW + 1e-300);
  const sse = Math.max(cssResiduals(w, arS, maS, parts.mu, start, residuals), floor * (n - start));
  const N = n - start;
  const k = x.length + 1;
  const aicc =
    N - k - 1 > 0
      ? N * Math.log((2 * Math.PI * sse) / N) + N + 2 * k + (2 * k * (k + 1)) / (N - k - 1)
      : Infinity;
  const own = arS.lags.length > 0 ? arS.lags[arS.lags.length - 1]! : 0;
  let all = 0;
  for (let t = own; t < n; t++) all += residuals[t]! ** 2;
  const dof = Math.max(1, n - own - x.length);
  return { order, ...parts, sigma2: Math.max(all / dof, floor), aicc, residuals };
}

/** Coefficients α_1..α_L of φ(B)Φ(B^m)(1−B)^d(1−B^m)^D = 1 − Σ α_i B^i. */
export function fullAr(fit: ArimaFit): Float64Array {
  const { order } = fit;
  let poly = [1];
  const mul = (other: number[]): void => {
    const out = new Array<number>(poly.length + other.length - 1).fill(0);
    for (let i = 0; i < poly.length; i++)
      for (let j = 0; j < other.length; j++) out[i + j]! += poly[i]! * other[j]!;
    poly = out;
  };
  const arPoly = (c: ArrayLike<number>, lag: number): number[] => {
    const out = new Array<number>(c.length * lag + 1).fill(0);
    out[0] = 1;
    for (let i = 0; i < c.length; i++) out[(i + 1) * lag] = -c[i]!;
    return out;
  };
  mul(arPoly(fit.ar, 1));
  mul(arPoly(fit.sar, order.m));
  for (let i = 0; i < order.d; i++) mul(arPoly([1], 1));
  for (let i = 0; i < order.D; i++) mul(arPoly([1], order.m));
  return Float64Array.from(poly.slice(1), (v) => -v);
}

/** ψ_0..ψ_{h−1} of the full model (differencing included): y's forecast error weights. */
export function psiWeights(alpha: Float64Array, beta: Float64Array, h: number): Float64Array {
  const psi = new Float64Array(h);
  if (h > 0) psi[0] = 1;
  for (let j = 1; j < h; j++) {
    let v = j <= beta.length ? beta[j - 1]! : 0;
    for (let i = 1; i <= Math.min(j, alpha.length); i++) v += alpha[i - 1]! * psi[j - i]!;
    psi[j] = v;
  }
  return psi;
}

/**
 * Point forecasts and forecast variances h steps past the end of y, which the fit's w was
 * differenced from (w[t] is y[t + offset], offset = d + m·D): the recursion of the full model
 * y_t = c + Σ α_i y_{t−i} + e_t + Σ β_j e_{t−j}, future errors zero, c = μ·φ(1)·Φ(1).
 */
export function arimaForecast(
  fit: ArimaFit,
  y: Float64Array,
  h: number,
): { mean: Float64Array; variance: Float64Array } {
  const alpha = fullAr(fit);
  const beta = expandSeasonal(fit.ma, fit.sma, fit.order.m, 1);
  let phi1 = 1;
  for (const v of fit.ar) phi1 -= v;
  let sphi1 = 1;
  for (const v of fit.sar) sphi1 -= v;
  const c = fit.mu * phi1 * sphi1;
  const n = y.length;
  const offset = n - fit.residuals.length;
  const ext = new Float64Array(n + h);
  ext.set(y);
  const err = (t: number): number => (t >= n || t - offset < 0 ? 0 : fit.residuals[t - offset]!);
  for (let t = n; t < n + h; t++) {
    let v = c;
    for (let i = 1; i <= alpha.length; i++) v += alpha[i - 1]! * (t - i >= 0 ? ext[t - i]! : 0);
    for (let j = 1; j <= beta.length; j++) v += beta[j - 1]! * err(t - j);
    ext[t] = v;
  }
  const psi = psiWeights(alpha, beta, h);
  const variance = new Float64Array(h);
  let acc = 0;
  for (let k = 0; k < h; k++) {
    acc += psi[k]! * psi[k]!;
    variance[k] = fit.sigma2 * acc;
  }
  return { mean: ext.slice(n), variance };
}
