// Time handling for the sample data: fast UTC timestamp formatting from epoch seconds and the
// demand curves (seasonality, weekly cycle, growth, Black Friday) that place orders in time.

import { searchCumulative } from './prng.js';
import type { Rng } from './prng.js';

export const DAY = 86_400;
/** First second of the order history: 2024-01-01T00:00:00Z. */
export const T_START = Date.UTC(2024, 0, 1) / 1000;
/** First second after the order history: 2026-01-01T00:00:00Z. */
export const T_END = Date.UTC(2026, 0, 1) / 1000;
/** Customers may sign up from 2023-01-01 on, so the first orders have existing customers. */
export const SIGNUP_START = Date.UTC(2023, 0, 1) / 1000;

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const dateCache = new Map<number, string>();

/** 'YYYY-MM-DD' of the UTC day containing epoch second `sec`. */
export function dateOf(sec: number): string {
  const day = Math.floor(sec / DAY);
  let s = dateCache.get(day);
  if (s === undefined) {
    s = new Date(day * DAY * 1000).toISOString().slice(0, 10);
    dateCache.set(day, s);
  }
  return s;
}

/** 'HH:MM:SS' of epoch second `sec` (UTC). */
function clockOf(sec: number): string {
  const t = sec - Math.floor(sec / DAY) * DAY;
  const h = Math.floor(t / 3600);
  const m = Math.floor((t - h * 3600) / 60);
  return `${PAD2[h]}:${PAD2[m]}:${PAD2[t - h * 3600 - m * 60]}`;
}

/** 'YYYY-MM-DD HH:MM:SS' (CSV timestamps). */
export function formatSpaced(sec: number): string {
  return `${dateOf(sec)} ${clockOf(sec)}`;
}

/** 'YYYY-MM-DDTHH:MM:SSZ'. */
export function formatIso(sec: number): string {
  return `${dateOf(sec)}T${clockOf(sec)}Z`;
}

/** 'YYYY-MM-DDTHH:MM:SS.mmmZ'. */
export function formatIsoMs(sec: number, ms: number): string {
  return `${dateOf(sec)}T${clockOf(sec)}.${PAD3[ms]}Z`;
}

/** 'YYYY-MM' of epoch second `sec`. */
export function monthOf(sec: number): string {
  return dateOf(sec).slice(0, 7);
}

/** Zero-pads a non-negative integer to `width` digits. */
export function padNumber(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

// ---------------------------------------------------------------------------------------------
// Demand curves

/** Relative demand per calendar month (Jan..Dec): quiet Jan/Feb, November peak, busy December. */
const MONTH_SEASON = [0.78, 0.74, 0.86, 0.88, 0.92, 0.9, 0.95, 0.94, 0.9, 0.98, 1.55, 1.4];
/** Weekly cycle by UTC weekday (Sun..Sat): weekends are busiest online. */
const ONLINE_DOW = [1.35, 0.95, 0.92, 0.93, 0.97, 1.05, 1.3];
const STORE_DOW = [0.8, 1.0, 1.0, 1.0, 1.05, 1.15, 0.95];
/** Hour-of-day profiles (UTC is used as shop-local time for simplicity). */
const ONLINE_HOURS = [
  0.5, 0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 0.7, 1.0, 1.2, 1.3, 1.4, 1.5, 1.4, 1.3, 1.3, 1.4, 1.5, 1.7,
  2.0, 2.2, 2.1, 1.6, 1.0,
];
const STORE_HOURS = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0.6, 1.0, 1.3, 1.6, 1.6, 1.4, 1.4, 1.5, 1.7, 1.8, 1.5, 1.0, 0.4, 0, 0,
];
/** Year-over-year growth of demand. */
const GROWTH = 1.2;

/** Day after the fourth Thursday of November. */
function blackFriday(year: number): number {
  const nov1 = Date.UTC(year, 10, 1) / 1000;
  const dow = new Date(nov1 * 1000).getUTCDay();
  const firstThursday = 1 + ((4 - dow + 7) % 7);
  return nov1 + (firstThursday + 21) * DAY;
}

/** Holiday multipliers [online, store] for the day starting at `sec`. */
function holidayBoost(sec: number): [number, number] {
  const d = new Date(sec * 1000);
  const bf = blackFriday(d.getUTCFullYear());
  const offset = Math.round((sec - bf) / DAY);
  if (offset === -1) return [1.5, 0.3]; // Thanksgiving
  if (offset === 0) return [3.0, 3.5]; // Black Friday
  if (offset === 1 || offset === 2) return [1.8, 1.8];
  if (offset === 3) return [3.2, 1.0]; // Cyber Monday
  if (d.getUTCMonth() === 11) {
    const day = d.getUTCDate();
    if (day >= 16 && day <= 22) return [1.15, 1.2];
    if (day === 23 || day === 24) return [0.8, 1.1];
    if (day === 25) return [0.25, 0.05];
    if (day > 25) return [0.9, 0.9];
  }
  return [1, 1];
}

function normalizedCumulative(weights: readonly number[]): Float64Array {
  const cum = new Float64Array(weights.length);
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  weights.forEach((w, i) => {
    acc += w / total;
    cum[i] = acc;
  });
  return cum;
}

/** A placed order time and whether it came through an online channel. */
export interface OrderTime {
  ts: number;
  online: boolean;
}

/**
 * Places `n` orders in time by stratified sampling of the demand curve: order i lands in the
 * i-th n-quantile, so timestamps come out sorted and monthly counts track the curve closely.
 */
export class OrderClock {
  private readonly dayCum: Float64Array;
  private readonly dayWeight: Float64Array;
  private readonly hourCum: Float64Array;
  private readonly hourOnline: Float64Array;
  private readonly total: number;
  private readonly days: number;

  constructor(private readonly n: number) {
    this.days = (T_END - T_START) / DAY;
    this.dayCum = new Float64Array(this.days);
    this.dayWeight = new Float64Array(this.days);
    this.hourCum = new Float64Array(this.days * 24);
    this.hourOnline = new Float64Array(this.days * 24);
    const on = normalizedCumulative(ONLINE_HOURS);
    const st = normalizedCumulative(STORE_HOURS);
    let acc = 0;
    for (let d = 0; d < this.days; d++) {
      const sec = T_START + d * DAY;
      const date = new Date(sec * 1000);
      const years = d / 365.25;
      const base = MONTH_SEASON[date.getUTCMonth()] * GROWTH ** years;
      const [hOn, hSt] = holidayBoost(sec);
      const online = (0.68 + 0.04 * years) * ONLINE_DOW[date.getUTCDay()] * hOn;
      const store = (0.32 - 0.04 * years) * STORE_DOW[date.getUTCDay()] * hSt;
      const w = base * (online + store);
      acc += w;
      this.dayWeight[d] = w;
      this.dayCum[d] = acc;
      const share = online / (online + store);
      let hAcc = 0;
      for (let h = 0; h < 24; h++) {
        const pOn = share * (on[h] - (h > 0 ? on[h - 1] : 0));
        const pSt = (1 - share) * (st[h] - (h > 0 ? st[h - 1] : 0));
        hAcc += pOn + pSt;
        this.hourCum[d * 24 + h] = hAcc;
        this.hourOnline[d * 24 + h] = pOn + pSt > 0 ? pOn / (pOn + pSt) : 0;
      }
    }
    this.total = acc;
  }

  /** Time of the i-th order (0-based), jittered within its stratum by `rng`. */
  place(i: number, rng: Rng): OrderTime {
    const u = ((i + rng.float()) / this.n) * this.total;
    const d = searchCumulative(this.dayCum, u);
    const f = Math.min((u - (d > 0 ? this.dayCum[d - 1] : 0)) / this.dayWeight[d], 1 - 1e-12);
    const base = d * 24;
    let h = 0;
    while (h < 23 && this.hourCum[base + h] <= f) h++;
    const lo = h > 0 ? this.hourCum[base + h - 1] : 0;
    const g = (f - lo) / (this.hourCum[base + h] - lo);
    const ts = T_START + d * DAY + h * 3600 + Math.min(3599, Math.floor(g * 3600));
    return { ts, online: rng.float() < this.hourOnline[base + h] };
  }
}

/**
 * Sorted signup times for `n` customers between SIGNUP_START and T_END, with ~25% yearly growth
 * and a holiday bump, stratified like the orders so customer ids increase with signup time.
 */
export function signupTimes(n: number, rng: Rng): Uint32Array {
  const days = (T_END - SIGNUP_START) / DAY;
  const cum = new Float64Array(days);
  let acc = 0;
  for (let d = 0; d < days; d++) {
    const month = new Date((SIGNUP_START + d * DAY) * 1000).getUTCMonth();
    acc += 1.25 ** (d / 365.25) * (month >= 10 ? 1.3 : 1);
    cum[d] = acc;
  }
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const u = ((i + rng.float()) / n) * acc;
    const d = searchCumulative(cum, u);
    const prev = d > 0 ? cum[d - 1] : 0;
    const f = Math.min((u - prev) / (cum[d] - prev), 1 - 1e-12);
    out[i] = SIGNUP_START + d * DAY + Math.floor(f * DAY);
  }
  return out;
}
