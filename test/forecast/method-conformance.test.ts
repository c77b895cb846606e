/**
 * The forecast method contract (src/forecast/method.ts), checked for every registered method on
 * the same series: each case below runs once per method in METHODS, so a new method is covered by
 * registering it. A case is skipped for a method only by a capability flag it declares, and the
 * skip says so in the test name.
 */
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import {
  METHODS,
  METHOD_NAMES,
  fallbackFor,
  methodByName,
  resolveForLength,
  type ForecastMethod,
  type ForecastOptions,
  type ForecastResult,
} from '../../src/forecast/index.js';
import { constant, intermittent, linearTrend, weeklyDaily } from './series.js';

const WEEKLY: ForecastOptions = { seasonPeriods: [7], levels: [80, 95] };
const H = 14;

const SERIES: Record<string, number[]> = {
  constant: constant(60),
  'linear trend': linearTrend(60),
  'weekly-seasonal daily': weeklyDaily(140),
  intermittent: intermittent(150),
  'long (two years daily)': weeklyDaily(730, 7),
  'all-zero': constant(60, 0),
  'single spike': constant(60, 0).map((v, t) => (t === 30 ? 100 : v)),
  'negative-valued': weeklyDaily(100, 8).map((v) => v - 150),
  'huge-valued (1e12)': weeklyDaily(100, 9).map((v) => v * 1e10),
  'last-value-only demand': constant(60, 0).map((v, t) => (t === 59 ? 5 : v)),
};

/** Checks the shape and ordering rules every result must meet. */
function expectValidResult(
  method: ForecastMethod,
  result: ForecastResult,
  n: number,
  h: number,
  options: ForecastOptions,
): void {
  expect(result.mean).toHaveLength(h);
  for (const v of result.mean) expect(Number.isFinite(v)).toBe(true);
  if (!method.capabilities.intervals) {
    expect(result.intervals).toEqual([]);
  } else {
    expect(result.intervals.map((b) => b.level)).toEqual([...options.levels]);
    for (const band of result.intervals) {
      expect(band.lower).toHaveLength(h);
      expect(band.upper).toHaveLength(h);
      for (let k = 0; k < h; k++) {
        expect(Number.isFinite(band.lower[k]!) && Number.isFinite(band.upper[k]!)).toBe(true);
        // A relative epsilon: symmetric bands of zero width may differ from the point in the last bit.
        const eps = 1e-9 * (1 + Math.abs(result.mean[k]!));
        expect(band.lower[k]!).toBeLessThanOrEqual(result.mean[k]! + eps);
        expect(band.upper[k]!).toBeGreaterThanOrEqual(result.mean[k]! - eps);
      }
    }
    const sorted = [...result.intervals].sort((a, b) => a.level - b.level);
    for (let i = 1; i < sorted.length; i++) {
      for (let k = 0; k < h; k++) {
        const eps = 1e-9 * (1 + Math.abs(result.mean[k]!));
        expect(sorted[i]!.lower[k]!).toBeLessThanOrEqual(sorted[i - 1]!.lower[k]! + eps);
        expect(sorted[i]!.upper[k]!).toBeGreaterThanOrEqual(sorted[i - 1]!.upper[k]! - eps);
      }
    }
  }
  if (result.fitted !== undefined) expect(result.fitted).toHaveLength(n);
}

describe.each(METHOD_NAMES.map((name) => [name]))('forecast method %s', (name) => {
  const method = methodByName(name);

  it.each(Object.keys(SERIES).map((s) => [s]))(
    'gives exactly h finite points and ordered, nested bands on a %s series',
    (seriesName) => {
      const y = SERIES[seriesName]!;
      const result = method.forecast(y, H, WEEKLY);
      expectValidResult(method, result, y.length, H, WEEKLY);
    },
  );

  it('is deterministic and never mutates y', () => {
    const y = weeklyDaily(200, 3);
    const before = [...y];
    const first = method.forecast(y, H, WEEKLY);
    expect(y).toEqual(before);
    const second = method.forecast(Object.freeze([...y]), H, WEEKLY);
    expect(second).toEqual(first);
  });

  it('accepts a series of exactly minLength values and rejects one value fewer', () => {
    const needed = method.minLength(WEEKLY);
    expect(needed).toBeGreaterThanOrEqual(1);
    const y = weeklyDaily(needed, 4);
    expectValidResult(method, method.forecast(y, H, WEEKLY), needed, H, WEEKLY);
    const short = y.slice(0, needed - 1);
    let thrown: unknown;
    try {
      method.forecast(short, H, WEEKLY);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TributaryError);
    expect((thrown as TributaryError).code).toBe('INPUT');
    expect((thrown as TributaryError).message).toContain(name);
  });

  it('works without seasonality, with h = 1 and with no interval levels', () => {
    const y = weeklyDaily(120, 5);
    const plain: ForecastOptions = { seasonPeriods: [], levels: [95] };
    expectValidResult(method, method.forecast(y, 1, plain), y.length, 1, plain);
    const noLevels: ForecastOptions = { seasonPeriods: [7], levels: [] };
    const result = method.forecast(y, 5, noLevels);
    expect(result.mean).toHaveLength(5);
    expect(result.intervals).toEqual([]);
  });

  it('gives nothing for h = 0', () => {
    const result = method.forecast(weeklyDaily(120, 6), 0, WEEKLY);
    expect(result.mean).toEqual([]);
    for (const band of result.intervals) expect([band.lower, band.upper]).toEqual([[], []]);
  });

  it('scales with the data: forecasting 1000·y gives 1000 times the forecast of y', () => {
    const y = weeklyDaily(140, 14);
    const base = method.forecast(y, H, WEEKLY);
    const scaled = method.forecast(
      y.map((v) => v * 1000),
      H,
      WEEKLY,
    );
    base.mean.forEach((v, k) => {
      expect(Math.abs(scaled.mean[k]! - 1000 * v)).toBeLessThanOrEqual(1e-6 * Math.abs(1000 * v));
    });
  });

  it('rejects a non-finite value, a fractional horizon and a level outside (0, 100)', () => {
    const y = weeklyDaily(120, 6);
    const withNaN = [...y];
    withNaN[50] = NaN;
    expect(() => method.forecast(withNaN, H, WEEKLY)).toThrow(/value 50/);
    expect(() => method.forecast(y, 2.5, WEEKLY)).toThrow(TributaryError);
    expect(() => method.forecast(y, H, { seasonPeriods: [7], levels: [100] })).toThrow(
      TributaryError,
    );
  });

  it('keeps a forecast of a constant series at that constant (SBA: its 1 - alpha/2 deflation)', () => {
    const result = method.forecast(constant(84, 42), H, WEEKLY);
    // SBA multiplies Croston's estimate by 1 - alpha/2 = 0.95 by definition (bias correction).
    const expected = name === 'sba' ? 42 * 0.95 : 42;
    for (const v of result.mean) expect(Math.abs(v - expected)).toBeLessThan(1e-4);
  });

  it('has a fallback ladder that ends at naive and never needs more history', () => {
    let current: string | undefined = name;
    const seen = new Set<string>();
    while (current) {
      expect(seen.has(current)).toBe(false);
      seen.add(current);
      const next = fallbackFor(current);
      if (next) {
        expect(METHODS.has(next)).toBe(true);
        expect(methodByName(next).minLength(WEEKLY)).toBeLessThanOrEqual(
          methodByName(current).minLength(WEEKLY),
        );
      } else {
        expect(current).toBe('naive');
      }
      current = next;
    }
  });
});

describe('method registry', () => {
  it('names an unknown method and lists the known ones', () => {
    let thrown: unknown;
    try {
      methodByName('prophet');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TributaryError);
    expect((thrown as TributaryError).code).toBe('INPUT');
    expect((thrown as TributaryError).message).toContain("'prophet'");
    for (const name of METHOD_NAMES) expect((thrown as TributaryError).hint).toContain(name);
  });

  it('registers each method under its own name', () => {
    for (const [name, method] of METHODS) expect(method.name).toBe(name);
  });

  it('resolveForLength walks down the ladder and says why', () => {
    const resolved = resolveForLength('seasonal_naive', 3, WEEKLY);
    expect(resolved.method.name).toBe('naive');
    expect(resolved.fallbackReason).toContain('seasonal_naive needs 7');
    expect(resolveForLength('seasonal_naive', 30, WEEKLY).fallbackReason).toBeUndefined();
    expect(() => resolveForLength('naive', 0, WEEKLY)).toThrow(TributaryError);
  });
});
