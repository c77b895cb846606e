/**
 * The automatic ARIMA method (`arima`; src/forecast/arima.ts, arima-model.ts): the pieces against
 * their closed forms, and the whole search against R's forecast::auto.arima on shared series
 * (fixtures/arima-r.json, written once by scripts/forecast-real/arima-fixture.R; R is never run
 * here). The conformance suite covers the method's contract.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  arimaForecast,
  arimaName,
  autoArima,
  kpssStatistic,
  ndiffs,
  nsdiffs,
  refitArima,
} from '../../src/forecast/arima.js';
import {
  expandSeasonal,
  fitArimaOrder,
  fullAr,
  psiWeights,
  rootsOutside,
  type ArimaOrder,
} from '../../src/forecast/arima-model.js';
import { methodByName } from '../../src/forecast/methods/index.js';
import { forecastSeries } from '../../src/forecast/engine.js';

interface RSeries {
  name: string;
  freq: number;
  h: number;
  order: Omit<ArimaOrder, 'm'>;
  values: number[];
  mean: number[];
  upper95: number[];
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/arima-r.json', import.meta.url), 'utf8'),
) as { r: string; forecast: string; series: RSeries[] };

/** A seeded standard normal stream (Box–Muller on a Park–Miller generator). */
function normals(seed: number): () => number {
  let s = seed;
  const u = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

const ARMA: ArimaOrder = { p: 0, d: 0, q: 0, P: 0, D: 0, Q: 0, m: 1, constant: true };

describe('ARIMA pieces', () => {
  it('tells stationary from non-stationary AR polynomials (roots beyond 1.01)', () => {
    expect(rootsOutside([0.5])).toBe(true);
    expect(rootsOutside([0.995])).toBe(false);
    expect(rootsOutside([1.2, -0.3])).toBe(true); // roots 2 and 5/3... of 1 − 1.2z + 0.3z²
    expect(rootsOutside([0.5, 0.6])).toBe(false); // 1 − 0.5z − 0.6z² has a root inside
    expect(rootsOutside([])).toBe(true);
  });

  it('expands multiplicative seasonal polynomials', () => {
    // (1 − 0.5B)(1 − 0.3B^4) = 1 − 0.5B − 0.3B^4 + 0.15B^5
    expect([...expandSeasonal([0.5], [0.3], 4, -1)]).toEqual([0.5, 0, 0, 0.3, -0.15]);
    // (1 + 0.4B)(1 + 0.2B^2) = 1 + 0.4B + 0.2B^2 + 0.08B^3
    const ma = [...expandSeasonal([0.4], [0.2], 2, 1)];
    expect(ma[0]).toBeCloseTo(0.4, 12);
    expect(ma[1]).toBeCloseTo(0.2, 12);
    expect(ma[2]).toBeCloseTo(0.08, 12);
  });

  it('gives AR(1) psi weights φ^j and a random walk variance σ²·k', () => {
    const psi = psiWeights(Float64Array.of(0.6), new Float64Array(0), 5);
    for (let j = 0; j < 5; j++) expect(psi[j]).toBeCloseTo(0.6 ** j, 12);
    const y = Float64Array.from({ length: 50 }, (_, t) => 10 + Math.sin(t));
    const walk = refitArima(y, { ...ARMA, d: 1, constant: false });
    expect([...fullAr(walk)]).toEqual([1]);
    const { mean, variance } = arimaForecast(walk, y, 4);
    for (let k = 0; k < 4; k++) {
      expect(mean[k]).toBeCloseTo(y[49]!, 12);
      expect(variance[k]! / walk.sigma2).toBeCloseTo(k + 1, 12);
    }
  });

  it('recovers AR and MA coefficients of simulated series by CSS', () => {
    const z = normals(11);
    const n = 2000;
    const ar = new Float64Array(n);
    const ma = new Float64Array(n);
    let ePrev = 0;
    for (let t = 0; t < n; t++) {
      const e = z();
      ar[t] = 5 + (t > 0 ? 0.7 * (ar[t - 1]! - 5) : 0) + e;
      ma[t] = e + 0.5 * ePrev;
      ePrev = e;
    }
    const arFit = fitArimaOrder({ ...ARMA, p: 1 }, ar, 1);
    expect(arFit.ar[0]).toBeGreaterThan(0.65);
    expect(arFit.ar[0]).toBeLessThan(0.75);
    expect(arFit.mu).toBeGreaterThan(4.8);
    expect(arFit.mu).toBeLessThan(5.2);
    expect(arFit.sigma2).toBeGreaterThan(0.9);
    expect(arFit.sigma2).toBeLessThan(1.1);
    const maFit = fitArimaOrder({ ...ARMA, q: 1, constant: false }, ma, 0);
    expect(maFit.ma[0]).toBeGreaterThan(0.45);
    expect(maFit.ma[0]).toBeLessThan(0.55);
    // The AICc prefers the true order to white noise.
    expect(arFit.aicc).toBeLessThan(fitArimaOrder(ARMA, ar, 1).aicc);
  });

  it('differences a random walk once and white noise not at all (KPSS, as ndiffs)', () => {
    const z = normals(7);
    const noise = Float64Array.from({ length: 300 }, () => z());
    const walk = new Float64Array(300);
    for (let t = 1; t < 300; t++) walk[t] = walk[t - 1]! + z();
    expect(kpssStatistic(noise)).toBeLessThan(0.463);
    expect(kpssStatistic(walk)).toBeGreaterThan(0.463);
    expect(ndiffs(noise)).toBe(0);
    expect(ndiffs(walk)).toBe(1);
  });

  it('takes a seasonal difference only for a strong season', () => {
    const z = normals(3);
    const strong = Float64Array.from(
      { length: 120 },
      (_, t) => 10 * Math.sin((2 * Math.PI * t) / 12) + z(),
    );
    const none = Float64Array.from({ length: 120 }, () => z());
    expect(nsdiffs(strong, 12)).toBe(1);
    expect(nsdiffs(none, 12)).toBe(0);
    expect(nsdiffs(strong, 1)).toBe(0);
  });

  it('continues a noisy linear trend with drift', () => {
    const z = normals(17);
    const y = Float64Array.from({ length: 80 }, (_, t) => 50 + 2 * t + 0.5 * z());
    const fit = autoArima(y, 1);
    expect(fit.order.d).toBe(1);
    expect(fit.order.constant).toBe(true);
    const { mean } = arimaForecast(fit, y, 10);
    expect(mean[9]! - mean[0]!).toBeGreaterThan(9 * 2 * 0.9);
    expect(mean[9]! - mean[0]!).toBeLessThan(9 * 2 * 1.1);
  });
});

describe('arima against R forecast::auto.arima', () => {
  const rows = fixture.series.map((s) => {
    const fit = autoArima(Float64Array.from(s.values), s.freq);
    const result = methodByName('arima').forecast(s.values, s.h, {
      seasonPeriods: s.freq > 1 ? [s.freq] : [],
      levels: [95],
    });
    let diff = 0;
    let width = 0;
    for (let k = 0; k < s.h; k++) {
      diff += Math.abs(result.mean[k]! - s.mean[k]!) / Math.abs(s.mean[k]!);
      width += (result.intervals[0]!.upper[k]! - result.mean[k]!) / (s.upper95[k]! - s.mean[k]!);
    }
    return { s, fit, diff: diff / s.h, width: width / s.h };
  });
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

  it(`takes R's differencing on every series (${fixture.r}, forecast ${fixture.forecast})`, () => {
    for (const { s, fit } of rows) {
      expect({ name: s.name, d: fit.order.d, D: fit.order.D }).toEqual({
        name: s.name,
        d: s.order.d,
        D: s.order.D,
      });
    }
  });

  it("chooses R's orders on a third of the series and forecasts within 2% of R's on most", () => {
    const same = rows.filter(
      ({ s, fit }) => arimaName(fit.order) === arimaName({ ...s.order, m: s.freq }),
    );
    expect(same.length).toBeGreaterThanOrEqual(rows.length / 3);
    expect(median(rows.map((r) => r.diff))).toBeLessThan(0.01);
    expect(rows.filter((r) => r.diff < 0.02).length).toBeGreaterThanOrEqual(rows.length - 3);
  });

  it("gives 95% bands about as wide as R's", () => {
    const m = median(rows.map((r) => r.width));
    expect(m).toBeGreaterThan(0.9);
    expect(m).toBeLessThan(1.1);
  });
});

describe('arima method', () => {
  it('chooses the order once per series and refits it on later windows (memory)', () => {
    const s = fixture.series.find((x) => x.name === 'USAccDeaths')!;
    const options = { seasonPeriods: [12], levels: [], memory: new Map<string, unknown>() };
    const method = methodByName('arima');
    method.forecast(s.values.slice(0, 48), 12, options);
    const chosen = (options.memory.get('arima') as { order: ArimaOrder }).order;
    const later = method.forecast(s.values, 12, options);
    const refit = refitArima(Float64Array.from(s.values), chosen);
    const expected = arimaForecast(refit, Float64Array.from(s.values), 12).mean;
    for (let k = 0; k < 12; k++) expect(later.mean[k]).toBeCloseTo(expected[k]!, 9);
    // Without memory the whole series gets its own search.
    const fresh = autoArima(Float64Array.from(s.values), 12);
    expect(arimaName(fresh.order)).not.toBe('');
  });

  it("the engine's final fit searches its own order instead of the oldest window's", () => {
    const s = fixture.series.find((x) => x.name === 'USAccDeaths')!;
    const h = 12;
    const spec = {
      horizon: h,
      seasonPeriods: [12],
      levels: [80],
      methods: ['arima'],
      backtest: { windows: 3, step: h },
      nonNegative: false,
      outliers: 'keep' as const,
    };
    const periods = s.values.map((_, t) => String(t));
    const [result] = forecastSeries([{ keys: {}, periods, values: s.values }], spec);
    // The backtest's oldest window (the first 3h values cut off) chose another order than the
    // whole series does, so refitting it would forecast differently.
    const oldest = autoArima(Float64Array.from(s.values.slice(0, s.values.length - 3 * h)), 12);
    const whole = autoArima(Float64Array.from(s.values), 12);
    expect(arimaName(oldest.order)).not.toBe(arimaName(whole.order));
    const fresh = methodByName('arima').forecast(s.values, h, {
      seasonPeriods: [12],
      levels: [80],
    });
    expect(result!.chosen.method).toBe('arima');
    expect(result!.backtest.filter((r) => r.method === 'arima')).toHaveLength(3);
    for (let k = 0; k < h; k++) expect(result!.forecast.mean[k]).toBeCloseTo(fresh.mean[k]!, 6);
  });
});
