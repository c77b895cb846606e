/**
 * forecastSeriesParallel against the compiled worker (dist/, built by `npm run build`): the same
 * results as forecastSeries on one thread, in input order, with progress and errors passed on.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ForecastSpec, SeriesForecast, SeriesInput } from '../../src/forecast/types.js';

const dist = resolve(import.meta.dirname, '../../dist/src/forecast/index.js');

interface Forecasting {
  forecastSeries(series: SeriesInput[], spec: ForecastSpec): SeriesForecast[];
  forecastSeriesParallel(
    series: SeriesInput[],
    spec: ForecastSpec,
    onProgress?: (done: number, total: number) => void,
    options?: { workers?: number; chunk?: number },
  ): Promise<SeriesForecast[]>;
  parallelAvailable(): boolean;
}

let lib: Forecasting;

const periods = Array.from({ length: 70 }, (_, t) =>
  new Date(Date.UTC(2024, 0, 1 + t)).toISOString().slice(0, 10),
);
const series: SeriesInput[] = Array.from({ length: 12 }, (_, i) => ({
  keys: { id: String(i) },
  periods,
  values: periods.map((_, t) => 10 + i + 4 * Math.sin((2 * Math.PI * t) / 7) + ((t * (i + 3)) % 5)),
}));
const spec: ForecastSpec = {
  horizon: 7,
  seasonPeriods: [7],
  levels: [80, 95],
  methods: ['naive', 'seasonal_naive', 'naive2', 'ses', 'theta'],
  backtest: { windows: 2, step: 7 },
  nonNegative: true,
  frequency: 'day',
};

describe('forecastSeriesParallel', () => {
  beforeAll(async () => {
    expect(existsSync(dist), 'run `npm run build` first (npm test does)').toBe(true);
    lib = (await import(dist)) as Forecasting;
    expect(lib.parallelAvailable()).toBe(true);
  });

  it('gives the same results as forecastSeries, in input order, reporting progress', async () => {
    const calls: number[] = [];
    const parallel = await lib.forecastSeriesParallel(series, spec, (done) => calls.push(done), {
      workers: 2,
      chunk: 3,
    });
    expect(parallel).toEqual(lib.forecastSeries(series, spec));
    expect(calls[calls.length - 1]).toBe(12);
    expect(calls).toHaveLength(4);
  }, 60_000);

  it('rejects bad input before starting workers and passes on a worker’s error', async () => {
    const bad = [...series, { keys: { id: 'x' }, periods, values: periods.map(() => Number.NaN) }];
    await expect(
      lib.forecastSeriesParallel(bad, spec, undefined, { workers: 2, chunk: 3 }),
    ).rejects.toThrow(/non-finite value/);
    const empty = [...series, { keys: { id: 'empty' }, periods: [], values: [] }];
    await expect(
      lib.forecastSeriesParallel(empty, spec, undefined, { workers: 2, chunk: 3 }),
    ).rejects.toThrow(/no forecast method could fit a series of 0 values/);
  }, 60_000);
});
