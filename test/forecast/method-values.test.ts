/**
 * Known values per method: results worked out by hand or taken from the textbook property each
 * method is defined by, so a wrong formula fails here even when the contract holds.
 */
import { describe, expect, it } from 'vitest';
import { methodByName, zForLevel, type ForecastOptions } from '../../src/forecast/index.js';
import { additiveAutoEts } from '../../src/forecast/methods/ets.js';
import {
  fitSmoothing,
  smoothingForecast,
  smoothingStandardErrors,
} from '../../src/forecast/smoothing.js';
import { linearTrend, seededRandom, weeklyDaily } from './series.js';

const NONE: ForecastOptions = { seasonPeriods: [], levels: [95] };

describe('naive family', () => {
  it('naive repeats the last value with bands sigma*sqrt(k) (FPP3 5.5)', () => {
    const result = methodByName('naive').forecast([1, 2, 4, 7], 3, NONE);
    expect(result.mean).toEqual([7, 7, 7]);
    const sigma = Math.sqrt((1 + 4 + 9) / 3);
    const z = zForLevel(95);
    expect(z).toBeCloseTo(1.959964, 6);
    for (let k = 1; k <= 3; k++) {
      expect(result.intervals[0]!.upper[k - 1]).toBeCloseTo(7 + z * sigma * Math.sqrt(k), 9);
      expect(result.intervals[0]!.lower[k - 1]).toBeCloseTo(7 - z * sigma * Math.sqrt(k), 9);
    }
    expect(result.fitted).toEqual([NaN, 1, 2, 4]);
  });

  it('seasonal naive repeats the last season with bands sigma*sqrt(floor((k-1)/m)+1)', () => {
    const y = [1, 2, 3, 4, 2, 3, 4, 6];
    const result = methodByName('seasonal_naive').forecast(y, 6, {
      seasonPeriods: [4],
      levels: [80],
    });
    expect(result.mean).toEqual([2, 3, 4, 6, 2, 3]);
    const sigma = Math.sqrt((1 + 1 + 1 + 4) / 4);
    const z = zForLevel(80);
    const expected = [1, 1, 1, 1, Math.SQRT2, Math.SQRT2].map((f) => 2 * z * sigma * f);
    const band = result.intervals[0]!;
    band.upper.forEach((u, k) => expect(u - band.lower[k]!).toBeCloseTo(expected[k]!, 9));
  });

  it('naive2 forecasts the adjusted last value times the seasonal index (M4 Naive2)', () => {
    const pattern = [0.8, 1.2, 0.9, 1.1];
    const y = Array.from({ length: 40 }, (_, t) => 100 * pattern[t % 4]!);
    const result = methodByName('naive2').forecast(y, 6, { seasonPeriods: [4], levels: [] });
    result.mean.forEach((v, k) => expect(v).toBeCloseTo(100 * pattern[(40 + k) % 4]!, 9));
    // Without a seasonal period it is plain naive.
    const plain = methodByName('naive2').forecast(y, 2, NONE);
    expect(plain.mean).toEqual([y[39], y[39]]);
  });
});

describe('exponential smoothing (smoothing.ts)', () => {
  it('SES with alpha and the initial level fixed reproduces the hand computation', () => {
    // l: 3 -> 3 (e 0) -> 4 (e 2) -> 4 (e 0) -> 5 (e 2); SSE 8, sigma^2 = 8 / (4 - 2).
    const fit = fitSmoothing(Float64Array.from([3, 5, 4, 6]), 'none', {
      alpha: 0.5,
      initialLevel: 3,
    });
    expect(Array.from(fit.fitted)).toEqual([3, 3, 4, 4]);
    expect(Array.from(smoothingForecast(fit, 3))).toEqual([5, 5, 5]);
    const se = smoothingStandardErrors(fit, 3);
    expect(se[0]).toBeCloseTo(2, 12);
    expect(se[1]).toBeCloseTo(2 * Math.sqrt(1.25), 12);
    expect(se[2]).toBeCloseTo(2 * Math.sqrt(1.5), 12);
  });

  it('solves the initial level exactly: no other l0 gives a smaller SSE', () => {
    const y = Float64Array.from(weeklyDaily(60, 8));
    const fit = fitSmoothing(y, 'none', { alpha: 0.3 });
    for (let l0 = fit.initialLevel - 5; l0 <= fit.initialLevel + 5; l0 += 0.5) {
      if (Math.abs(l0 - fit.initialLevel) < 1e-9) continue;
      const other = fitSmoothing(y, 'none', { alpha: 0.3, initialLevel: l0 });
      expect(other.sse).toBeGreaterThan(fit.sse);
    }
  });

  it('damped trend with fixed parameters reproduces the hand computation', () => {
    // t0: f 0.9, e 0.1, l 0.95, b 0.92; t1: f 1.778, e 1.222, l 2.389, b 1.0724.
    const fit = fitSmoothing(Float64Array.from([1, 3]), 'damped', {
      alpha: 0.5,
      beta: 0.2,
      phi: 0.9,
      initialLevel: 0,
      initialSlope: 1,
    });
    const forecast = smoothingForecast(fit, 2);
    expect(forecast[0]).toBeCloseTo(3.35416, 10);
    expect(forecast[1]).toBeCloseTo(4.222804, 10);
  });

  it('Holt continues an exact linear trend', () => {
    const result = methodByName('holt').forecast(linearTrend(30), 5, NONE);
    result.mean.forEach((v, k) => expect(v).toBeCloseTo(5 + 2 * (30 + k), 6));
  });

  it('the least-squares search finds a better alpha than a poor fixed one', () => {
    const y = Float64Array.from(weeklyDaily(100, 12));
    const searched = fitSmoothing(y, 'none');
    expect(searched.sse).toBeLessThanOrEqual(fitSmoothing(y, 'none', { alpha: 0.9 }).sse);
    expect(searched.sse).toBeLessThanOrEqual(fitSmoothing(y, 'none', { alpha: 0.01 }).sse);
  });

  it('reuses a fit only for equal values and never lets a caller spoil it', () => {
    const y = Float64Array.from(weeklyDaily(100, 16));
    const first = fitSmoothing(y, 'damped');
    first.fitted.fill(0);
    const again = fitSmoothing(y, 'damped');
    expect(again.fitted[50]).not.toBe(0);
    const changed = y.slice();
    changed[99] = changed[99]! + 40;
    expect(fitSmoothing(changed, 'damped').level).not.toBeCloseTo(again.level, 3);
  });

  it('comb is the mean of ses, holt and damped on the same adjusted series (M4 Comb)', () => {
    const y = weeklyDaily(140, 13);
    const options: ForecastOptions = { seasonPeriods: [7], levels: [] };
    const parts = ['ses', 'holt', 'damped'].map((m) => methodByName(m).forecast(y, 10, options));
    const combined = methodByName('comb').forecast(y, 10, options);
    combined.mean.forEach((v, k) => {
      const mean = (parts[0]!.mean[k]! + parts[1]!.mean[k]! + parts[2]!.mean[k]!) / 3;
      expect(v).toBeCloseTo(mean, 9);
    });
  });
});

describe('theta', () => {
  it('continues a pure linear trend at half its slope (SES with drift b/2, Hyndman & Billah)', () => {
    const y = linearTrend(50);
    const result = methodByName('theta').forecast(y, 6, NONE);
    result.mean.forEach((v, k) => expect(v).toBeCloseTo(y[49]! + (k + 1), 2));
  });
});

describe('intermittent demand', () => {
  const y = [0, 3, 0, 0, 6, 0, 2];

  it('Croston smooths sizes (3, 6, 2) and intervals (2, 3, 2) with alpha 0.1', () => {
    // sizes 3 -> 3.3 -> 3.17, intervals 2 -> 2.1 -> 2.09
    const result = methodByName('croston').forecast(y, 3, NONE);
    for (const v of result.mean) expect(v).toBeCloseTo(3.17 / 2.09, 12);
    const fitted = result.fitted!;
    expect(fitted.slice(0, 2)).toEqual([NaN, NaN]);
    expect(fitted.slice(2, 5)).toEqual([1.5, 1.5, 1.5]);
    expect(fitted[5]).toBeCloseTo(3.3 / 2.1, 12);
  });

  it('SBA is Croston times 1 - alpha/2', () => {
    const result = methodByName('sba').forecast(y, 2, NONE);
    for (const v of result.mean) expect(v).toBeCloseTo((0.95 * 3.17) / 2.09, 12);
  });

  it('TSB updates the demand probability every period', () => {
    // p: 0, .1, .09, .081, .1729, .15561, .240049; z: 3, 3.3, 3.17
    const result = methodByName('tsb').forecast(y, 2, NONE);
    for (const v of result.mean) expect(v).toBeCloseTo(0.240049 * 3.17, 12);
    expect(methodByName('tsb').forecast([0, 0, 0], 2, NONE).mean).toEqual([0, 0]);
    expect(methodByName('croston').forecast([0, 0, 0], 2, NONE).mean).toEqual([0, 0]);
  });
});

describe('ets and mstl', () => {
  it('ets extrapolates a noisy linear trend', () => {
    const random = seededRandom(21);
    const y = Array.from({ length: 120 }, (_, t) => 50 + 0.5 * t + (random() - 0.5));
    const result = methodByName('ets').forecast(y, 10, NONE);
    result.mean.forEach((v, k) => expect(Math.abs(v - (50 + 0.5 * (120 + k)))).toBeLessThan(1.5));
  });

  it('the additive ETS search picks a trend for a trend and none for level noise', () => {
    const random = seededRandom(22);
    const trend = Float64Array.from({ length: 80 }, (_, t) => 10 + t + (random() - 0.5));
    expect(additiveAutoEts(trend).trend).not.toBe('none');
    const level = Float64Array.from({ length: 80 }, () => 10 + (random() - 0.5));
    expect(additiveAutoEts(level).trend).toBe('none');
  });

  it('mstl repeats a pure weekly cycle', () => {
    const cycle = (t: number) => 50 + 10 * Math.sin((2 * Math.PI * t) / 7);
    const y = Array.from({ length: 140 }, (_, t) => cycle(t));
    const result = methodByName('mstl').forecast(y, 14, { seasonPeriods: [7], levels: [80] });
    result.mean.forEach((v, k) => expect(Math.abs(v - cycle(140 + k))).toBeLessThan(0.5));
  });
});
