/** forecastSeries, the engine's one entry point: validation, choice, clamping, progress, periods. */
import { describe, expect, it } from 'vitest';
import { autoCandidates, forecastSeries } from '../../src/forecast/engine.js';
import { METHODS } from '../../src/forecast/methods/index.js';
import type { ForecastSpec, SeriesInput } from '../../src/forecast/types.js';

const days = (n: number): string[] =>
  Array.from({ length: n }, (_, t) =>
    new Date(Date.UTC(2024, 0, 1 + t)).toISOString().slice(0, 10),
  );

const spec = (over: Partial<ForecastSpec> = {}): ForecastSpec => ({
  horizon: 7,
  seasonPeriods: [7],
  levels: [80, 95],
  methods: 'auto',
  backtest: { windows: 3, step: 7 },
  nonNegative: true,
  ...over,
});

const weekly = (n: number): number[] =>
  Array.from({ length: n }, (_, t) => [3, 5, 8, 13, 21, 9, 4][t % 7]!);

describe('forecastSeries', () => {
  it('chooses seasonal naive for a pure weekly pattern and forecasts it exactly', () => {
    const [r] = forecastSeries(
      [{ keys: { store: '1' }, periods: days(56), values: weekly(56) }],
      spec({ methods: ['naive', 'seasonal_naive'] }),
    );
    expect(r!.chosen.method).toBe('seasonal_naive');
    expect(r!.chosen.fallbackReason).toBeNull();
    expect(r!.forecast.mean).toEqual(weekly(63).slice(56));
    expect(r!.forecast.intervals.map((b) => b.level)).toEqual([80, 95]);
    // naive2 is backtested as the reference even when not asked for
    expect(new Set(r!.backtest.map((b) => b.method))).toEqual(
      new Set(['naive', 'seasonal_naive', 'naive2']),
    );
    expect(
      r!.backtest.filter((b) => b.method === 'seasonal_naive').every((b) => b.smape === 0),
    ).toBe(true);
  });

  it('clamps points and bounds at zero when non-negative, not otherwise', () => {
    const falling = Array.from({ length: 40 }, (_, t) => 40 - t + (t % 2));
    const input: SeriesInput[] = [{ keys: {}, periods: days(40), values: falling }];
    const [clamped] = forecastSeries(input, spec({ methods: ['naive'], seasonPeriods: [] }));
    for (const band of clamped!.forecast.intervals)
      expect(Math.min(...band.lower)).toBeGreaterThanOrEqual(0);
    const [free] = forecastSeries(
      input,
      spec({ methods: ['naive'], seasonPeriods: [], nonNegative: false }),
    );
    expect(Math.min(...free!.forecast.intervals[1]!.lower)).toBeLessThan(0);
  });

  it('reports progress per series and names future periods', () => {
    const calls: [number, number][] = [];
    const input = [0, 1, 2].map((i) => ({
      keys: { i: String(i) },
      periods: days(30),
      values: weekly(30).map((v) => v + i),
    }));
    const results = forecastSeries(input, spec({ frequency: 'day' }), (done, total) =>
      calls.push([done, total]),
    );
    expect(calls).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(results[0]!.periods).toEqual([
      '2024-01-31',
      '2024-02-01',
      '2024-02-02',
      '2024-02-03',
      '2024-02-04',
      '2024-02-05',
      '2024-02-06',
    ]);
    expect(results.map((r) => r.keys)).toEqual(input.map((s) => s.keys));
  });

  it('keeps every candidate’s forecast when asked', () => {
    const [r] = forecastSeries(
      [{ keys: {}, periods: days(40), values: weekly(40) }],
      spec({ keepAllMethods: true }),
    );
    // The chosen forecast first (auto's hedged pool, a combination), then every candidate's.
    expect(r!.forecasts[0]).toBe(r!.forecast);
    expect(r!.forecast.method).toBe(r!.chosen.method);
    const names = r!.forecasts
      .map((f) => f.method)
      .filter((m) => !m.startsWith('combine('))
      .sort();
    expect(names).toEqual([...autoCandidates(weekly(40), [7])].sort());
  });

  it('rejects bad input with the series and what to do', () => {
    const bad = [{ keys: { sku: 'X' }, periods: days(3), values: [1, Number.NaN, 2] }];
    expect(() => forecastSeries(bad, spec())).toThrow(
      /series 1 \(\{"sku":"X"\}\) has a non-finite value NaN at period 2024-01-02/,
    );
    const ok = [{ keys: {}, periods: days(3), values: [1, 2, 3] }];
    expect(() => forecastSeries(ok, spec({ methods: ['prophet'] }))).toThrow(
      /unknown forecast method 'prophet'/,
    );
    expect(() => forecastSeries(ok, spec({ horizon: 0 }))).toThrow(/horizon/);
    expect(() => forecastSeries([{ keys: {}, periods: days(2), values: [1] }], spec())).toThrow(
      /2 periods but 1 values/,
    );
  });

  it('includes intermittent methods in auto only for intermittent series', () => {
    const sparse = Array.from({ length: 60 }, (_, t) => (t % 5 === 0 ? 2 : 0));
    const candidates = autoCandidates(sparse, [7]);
    const dense = autoCandidates(weekly(60), [7]);
    for (const m of ['croston', 'sba', 'tsb']) expect(dense).not.toContain(m);
    for (const m of ['croston', 'sba', 'tsb'].filter((name) => METHODS.has(name)))
      expect(candidates).toContain(m);
    expect(candidates.slice(0, 3)).toEqual(['naive', 'seasonal_naive', 'naive2']);
  });

  it('offers arima to auto for at most one season, mstl for several', () => {
    const y = weekly(60);
    for (const seasons of [[], [7], [12]]) {
      expect(autoCandidates(y, seasons)).toContain('arima');
      expect(autoCandidates(y, seasons)).not.toContain('mstl');
    }
    expect(autoCandidates(y, [7, 365])).not.toContain('arima');
    expect(autoCandidates(y, [7, 365])).toContain('mstl');
  });
});
