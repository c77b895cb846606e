/**
 * Known values per method: results worked out by hand or taken from the textbook property each
 * method is defined by, so a wrong formula fails here even when the contract holds.
 */
import { describe, expect, it } from 'vitest';
import { methodByName, zForLevel, type ForecastOptions } from '../../src/forecast/index.js';

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
