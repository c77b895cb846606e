/** Rolling-origin backtests: origins, hand-computed window scores, skipped and failed methods. */
import { describe, expect, it } from 'vitest';
import { backtestOrigins, backtestSeries, summarize } from '../../src/forecast/backtest.js';
import type { BacktestConfig } from '../../src/forecast/backtest.js';
import type { ForecastMethod } from '../../src/forecast/method.js';
import { methodByName } from '../../src/forecast/methods/index.js';

const days = (n: number): string[] =>
  Array.from({ length: n }, (_, t) =>
    new Date(Date.UTC(2024, 0, 1 + t)).toISOString().slice(0, 10),
  );

const config = (over: Partial<BacktestConfig> = {}): BacktestConfig => ({
  horizon: 2,
  windows: 2,
  step: 2,
  seasonPeriods: [],
  levels: [80, 95],
  nonNegative: false,
  ...over,
});

/** A naive forecast that insists on 7 values, to see a window skipped. */
const needsSeven: ForecastMethod = {
  ...methodByName('naive'),
  name: 'needs_seven',
  minLength: () => 7,
};
const alwaysFails: ForecastMethod = {
  ...methodByName('naive'),
  name: 'always_fails',
  forecast: () => {
    throw new Error('singular matrix');
  },
};

describe('rolling-origin backtest', () => {
  it('places origins S apart, the newest ending at the series end, dropping those with < 2 training values', () => {
    expect(backtestOrigins(20, 4, 3, 4)).toEqual([8, 12, 16]);
    expect(backtestOrigins(7, 4, 3, 2)).toEqual([3]);
    expect(backtestOrigins(5, 4, 3, 1)).toEqual([]);
  });

  it('scores each window against the next h actuals (values worked by hand)', () => {
    const y = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const bt = backtestSeries(y, days(10), [methodByName('naive')], config());
    expect(bt.rows.map((r) => [r.window, r.origin, r.originPeriod])).toEqual([
      [1, 6, '2024-01-07'],
      [2, 8, '2024-01-09'],
    ]);
    const first = bt.rows[0]!;
    // train 1..6, actual [7, 8], forecast [6, 6]: sMAPE 100·(1/13 + 2/14); MAE 1.5 / scale 1
    expect(first.smape).toBeCloseTo(100 * (1 / 13 + 2 / 14), 10);
    expect(first.mase).toBeCloseTo(1.5, 10);
    // RMSSE sqrt(((1 + 4)/2) / 1)
    expect(first.rmsse).toBeCloseTo(Math.sqrt(2.5), 10);
    expect(Object.keys(first.coverage)).toEqual(['80', '95']);
    expect(first.msis).not.toBeNull();
  });

  it('skips a method whose minLength is not met at an origin, with the reason, and scores it later', () => {
    const y = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const bt = backtestSeries(y, days(10), [needsSeven, alwaysFails], config());
    const mine = bt.rows.filter((r) => r.method === 'needs_seven');
    expect(mine[0]!.skipped).toBe('needs 7 values, window has 6');
    expect(mine[0]!.smape).toBeNull();
    expect(mine[1]!.skipped).toBeUndefined();
    expect(mine[1]!.smape).toBeGreaterThan(0);
    const failed = bt.rows.filter((r) => r.method === 'always_fails');
    expect(failed.every((r) => r.skipped === 'failed: singular matrix')).toBe(true);
    const scores = summarize(bt.rows, ['needs_seven', 'always_fails']);
    expect(scores[0]).toMatchObject({ method: 'needs_seven', windows: 1 });
    expect(scores[0]!.skipped).toMatch(/needs 7/);
    expect(scores[1]).toMatchObject({ windows: 0, owa: null, smape: null });
  });

  it('relative score is 1 for Naive2 itself and compares others to it window by window', () => {
    const y = Array.from(
      { length: 60 },
      (_, t) => 50 + 10 * Math.sin((2 * Math.PI * t) / 7) + (t % 5),
    );
    const bt = backtestSeries(
      y,
      days(60),
      [methodByName('naive'), methodByName('seasonal_naive'), methodByName('naive2')],
      config({ horizon: 7, windows: 3, step: 7, seasonPeriods: [7] }),
    );
    for (const r of bt.rows.filter((x) => x.method === 'naive2')) expect(r.owa).toBe(1);
    for (const r of bt.rows) expect(r.owa).not.toBeNull();
    expect(bt.windows).toHaveLength(3);
    expect(bt.tooShort).toBeNull();
  });

  it('a constant training series gives null MASE, RMSSE and MSIS with a note, not Infinity', () => {
    const y = [5, 5, 5, 5, 5, 5, 7, 9];
    const bt = backtestSeries(y, days(8), [methodByName('naive')], config({ windows: 1 }));
    const row = bt.rows[0]!;
    expect(row.mase).toBeNull();
    expect(row.rmsse).toBeNull();
    expect(row.msis).toBeNull();
    expect(row.smape).toBeGreaterThan(0);
    expect(row.note).toMatch(/constant/);
  });

  it('reports a series too short for any window', () => {
    const bt = backtestSeries([1, 2, 3], days(3), [methodByName('naive')], config({ horizon: 7 }));
    expect(bt.rows).toEqual([]);
    expect(bt.tooShort).toMatch(/too short for a backtest window/);
  });

  it('clamps window forecasts at zero when non-negative', () => {
    const y = [9, 7, 5, 3, 1, 0, 0, 1, 0, 0];
    const bt = backtestSeries(y, days(10), [methodByName('naive')], config({ nonNegative: true }));
    const w = bt.windows[0]!.forecasts.get('naive')!;
    for (const band of w.intervals) expect(Math.min(...band.lower)).toBeGreaterThanOrEqual(0);
  });
});
