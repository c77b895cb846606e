/**
 * Automatic ARIMA (Hyndman & Khandakar 2008, "Automatic time series forecasting: the forecast
 * package for R", JSS 27(3)), as R's forecast::auto.arima does it with its defaults, stepwise:
 * - D (0 or 1) from the seasonal strength of an STL decomposition (R's `nsdiffs`, test "seas":
 *   1 − var(remainder)/var(remainder + seasonal) above 0.64), on series with two full seasons;
 * - d (0..2) from repeated KPSS level-stationarity tests at 5% (R's `ndiffs`);
 * - the orders by a stepwise search on AICc from (2,d,2)(1,D,1), (0,d,0)(0,D,0), (1,d,0)(1,D,0)
 *   and (0,d,1)(0,D,1) (without the seasonal part when m = 1), moving to the first neighbour that
 *   lowers the AICc (p, q, P, Q ± 1, p and q together, P and Q together, the constant on or off),
 *   until none does; a mean or drift only when d + D <= 1, as R.
 * Differences from R, all for speed on long daily series: each model is fitted by CSS
 * (arima-model.ts), where R refits the chosen model by maximum likelihood; P and Q are at most 1,
 * p and q at most 3 and p + q + P + Q at most 5 (R: 5, 5, 2, 2, 5); at most MAX_MODELS models are
 * fitted per search; only the newest `fitWindow(m)` values are used (at most 360 and 30 seasons:
 * 30 weeks of daily data, 30 years of monthly or quarterly data); and season
 * lengths above MAX_SEASON are not modelled (arima.ts's caller adjusts them away first).
 */
import { arimaForecast, fitArimaOrder, type ArimaFit, type ArimaOrder } from './arima-model.js';
import { stl } from './stl.js';

/** Season lengths up to this are modelled by seasonal ARIMA terms. */
export const MAX_SEASON = 24;
/** At most this many values, the newest, are used... */
const MAX_WINDOW = 360;
/** ...and of a seasonal series at most this many seasons. */
const MAX_SEASONS = 30;

/** How many of the newest values a model for season length m is fitted on. */
export function fitWindow(m: number): number {
  return m > 1 ? Math.min(MAX_WINDOW, MAX_SEASONS * m) : MAX_WINDOW;
}
const MAX_MODELS = 40;
const MAX_P = 3;
const MAX_Q = 3;
const MAX_ORDER = 5;
/** R's ndiffs: KPSS at 5% (the critical value of the level-stationarity statistic). */
const KPSS_CRITICAL = 0.463;
/** R's nsdiffs, test "seas": seasonal strength above this takes one seasonal difference. */
const SEASONAL_STRENGTH = 0.64;

/**
 * The KPSS statistic for level stationarity (Kwiatkowski et al. 1992) with a Bartlett window for
 * the long-run variance and R's forecast::ndiffs truncation lag floor(3·sqrt(n)/13) (Hobijn,
 * Franses & Ooms 2004), as urca's ur.kpss computes it.
 */
export function kpssStatistic(x: ArrayLike<number>): number {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  const e = Float64Array.from({ length: n }, (_, i) => x[i]! - mean);
  let s = 0;
  let eta = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    s += e[i]!;
    eta += s * s;
    s2 += e[i]! * e[i]!;
  }
  const lags = Math.floor((3 * Math.sqrt(n)) / 13);
  for (let l = 1; l <= lags; l++) {
    let c = 0;
    for (let t = l; t < n; t++) c += e[t]! * e[t - l]!;
    s2 += 2 * (1 - l / (lags + 1)) * c;
  }
  s2 /= n;
  return s2 > 0 ? eta / (n * n) / s2 : 0;
}

function isConstant(x: ArrayLike<number>): boolean {
  for (let i = 1; i < x.length; i++) if (x[i] !== x[0]) return false;
  return true;
}

function difference(x: Float64Array, lag: number): Float64Array {
  const out = new Float64Array(Math.max(0, x.length - lag));
  for (let t = lag; t < x.length; t++) out[t - lag] = x[t]! - x[t - lag]!;
  return out;
}

/** Ordinary differences for stationarity (R's ndiffs, KPSS, at most 2). */
export function ndiffs(x: Float64Array): number {
  let d = 0;
  let current = x;
  while (d < 2 && current.length > 3 && !isConstant(current)) {
    if (kpssStatistic(current) <= KPSS_CRITICAL) break;
    current = difference(current, 1);
    d++;
  }
  return d;
}

function variance(x: ArrayLike<number>): number {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i]! - mean) ** 2;
  return v / Math.max(1, n - 1);
}

/** Seasonal differences (R's nsdiffs, test "seas": STL seasonal strength above 0.64), 0 or 1. */
export function nsdiffs(x: Float64Array, m: number): number {
  if (m <= 1 || x.length < 2 * m + 1 || isConstant(x)) return 0;
  const { seasonal, remainder } = stl(x, m, { seasonalWindow: 11 });
  const both = Float64Array.from(remainder, (r, i) => r + seasonal[i]!);
  const vb = variance(both);
  if (!(vb > 0)) return 0;
  const strength = Math.max(0, Math.min(1, 1 - variance(remainder) / vb));
  return strength > SEASONAL_STRENGTH ? 1 : 0;
}

const key = (o: ArimaOrder): string => `${o.p},${o.q},${o.P},${o.Q},${o.constant ? 1 : 0}`;

interface Search {
  w: Float64Array;
  start: number;
  maxP: number;
  maxQ: number;
  maxSP: number;
  maxSQ: number;
  tried: Map<string, ArimaFit | null>;
}

function tryOrder(search: Search, order: ArimaOrder): ArimaFit | null {
  const k = key(order);
  if (search.tried.has(k)) return search.tried.get(k)!;
  const { p, q, P, Q } = order;
  const fits =
    p >= 0 &&
    q >= 0 &&
    P >= 0 &&
    Q >= 0 &&
    p <= search.maxP &&
    q <= search.maxQ &&
    P <= search.maxSP &&
    Q <= search.maxSQ &&
    p + q + P + Q <= MAX_ORDER &&
    search.tried.size < MAX_MODELS;
  if (!fits) return null;
  const fit = fitArimaOrder(order, search.w, search.start);
  const usable = Number.isFinite(fit.aicc) ? fit : null;
  search.tried.set(k, usable);
  return usable;
}

/** The neighbours of the stepwise search, in R's order of trial. */
function neighbours(o: ArimaOrder, constantAllowed: boolean): ArimaOrder[] {
  const at = (dp: number, dq: number, dP: number, dQ: number): ArimaOrder => ({
    ...o,
    p: o.p + dp,
    q: o.q + dq,
    P: o.P + dP,
    Q: o.Q + dQ,
  });
  const out: ArimaOrder[] = [];
  if (o.m > 1) {
    out.push(at(0, 0, -1, 0), at(0, 0, 1, 0), at(0, 0, 0, -1), at(0, 0, 0, 1));
    out.push(at(0, 0, -1, -1), at(0, 0, -1, 1), at(0, 0, 1, -1), at(0, 0, 1, 1));
  }
  out.push(at(-1, 0, 0, 0), at(1, 0, 0, 0), at(0, -1, 0, 0), at(0, 1, 0, 0));
  out.push(at(-1, -1, 0, 0), at(-1, 1, 0, 0), at(1, -1, 0, 0), at(1, 1, 0, 0));
  if (constantAllowed) out.push({ ...o, constant: !o.constant });
  return out;
}

/** The differencing and search bounds for a series (R's auto.arima defaults, capped). */
function searchFor(x: Float64Array, m: number): { d: number; D: number; search: Search } {
  const D = nsdiffs(x, m);
  const seasonallyDifferenced = D === 1 ? difference(x, m) : x;
  const d = ndiffs(seasonallyDifferenced);
  let w = seasonallyDifferenced;
  for (let i = 0; i < d; i++) w = difference(w, 1);
  const n = w.length;
  // R: max.p <= length/3, max.P <= length/3/m.
  const maxP = Math.min(MAX_P, Math.floor(n / 3));
  const maxQ = Math.min(MAX_Q, Math.floor(n / 3));
  const seasonalRoom = m > 1 ? Math.min(1, Math.floor(n / 3 / m)) : 0;
  const start = maxP + m * seasonalRoom;
  return {
    d,
    D,
    search: { w, start, maxP, maxQ, maxSP: seasonalRoom, maxSQ: seasonalRoom, tried: new Map() },
  };
}

/** The starting models of the stepwise search. */
function startingOrders(base: ArimaOrder, seasonal: boolean, constant: boolean): ArimaOrder[] {
  const s = (p: number, q: number, P: number, Q: number, c = constant): ArimaOrder => ({
    ...base,
    p,
    q,
    P: seasonal ? P : 0,
    Q: seasonal ? Q : 0,
    constant: c,
  });
  const starts = [s(2, 2, 1, 1), s(0, 0, 0, 0), s(1, 0, 1, 0), s(0, 1, 0, 1)];
  if (constant) starts.push(s(0, 0, 0, 0, false));
  return starts;
}

/**
 * The stepwise search of Hyndman & Khandakar on x (already the window to fit) with season m
 * (1: none; at most MAX_SEASON). Falls back to ARIMA(0,d,0)(0,D,0) when no model fits.
 */
export function autoArima(x: Float64Array, m: number): ArimaFit {
  const season = m > 1 && m <= MAX_SEASON ? m : 1;
  const { d, D, search } = searchFor(x, season);
  const constantAllowed = d + D <= 1;
  const base: ArimaOrder = { p: 0, d, q: 0, P: 0, D, Q: 0, m: season, constant: constantAllowed };
  if (search.w.length - search.start < 3 || isConstant(search.w)) {
    return fitArimaOrder(base, search.w, Math.min(search.start, Math.max(0, search.w.length - 1)));
  }
  let best: ArimaFit | null = null;
  for (const order of startingOrders(base, season > 1, constantAllowed)) {
    const fit = tryOrder(search, order);
    if (fit && (!best || fit.aicc < best.aicc)) best = fit;
  }
  if (!best) return fitArimaOrder({ ...base, constant: false }, search.w, search.start);
  for (let moved = true; moved;) {
    moved = false;
    for (const order of neighbours(best.order, constantAllowed)) {
      const fit = tryOrder(search, order);
      if (fit && fit.aicc < best.aicc) {
        best = fit;
        moved = true;
        break;
      }
    }
  }
  return best;
}

/** Refits a chosen order (differencing included) on x: the same model, new coefficients. */
export function refitArima(x: Float64Array, order: ArimaOrder): ArimaFit {
  let w = x;
  for (let i = 0; i < order.D; i++) w = difference(w, order.m);
  for (let i = 0; i < order.d; i++) w = difference(w, 1);
  const start = order.p + order.m * order.P;
  return fitArimaOrder(order, w, Math.min(start, Math.max(0, w.length - 1)));
}

/** The model's name as R prints it: ARIMA(p,d,q)(P,D,Q)[m] with drift / with non-zero mean. */
export function arimaName(order: ArimaOrder): string {
  const seasonal = order.m > 1 ? `(${order.P},${order.D},${order.Q})[${order.m}]` : '';
  const constant = !order.constant
    ? ''
    : order.d + order.D === 0
      ? ' with non-zero mean'
      : ' with drift';
  return `ARIMA(${order.p},${order.d},${order.q})${seasonal}${constant}`;
}

export { arimaForecast };
export type { ArimaFit, ArimaOrder };
