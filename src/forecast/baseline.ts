/**
 * Stand-in naive and seasonal naive methods so the engine runs before the methods registry
 * (methods/index.ts, branch fc-methods) is merged. Removed once the registry lands.
 */
import { TributaryError } from '../core/errors.js';
import type { ForecastMethod, ForecastOptions, ForecastResult } from './method.js';

function seasonOf(options: ForecastOptions): number {
  const m = options.seasonPeriods[0] ?? 1;
  return m > 1 ? m : 1;
}

function repeatLast(y: readonly number[], h: number, m: number): ForecastResult {
  if (y.length < m) {
    throw new TributaryError(`series of ${y.length} values is shorter than one season (${m})`);
  }
  const mean: number[] = [];
  for (let k = 0; k < h; k++) mean.push(y[y.length - m + (k % m)]!);
  return { mean, intervals: [] };
}

export const BASELINE_METHODS: ReadonlyMap<string, ForecastMethod> = new Map([
  [
    'naive',
    {
      name: 'naive',
      capabilities: {
        intervals: false,
        seasonal: false,
        multiSeasonal: false,
        intermittent: false,
      },
      minLength: () => 1,
      forecast: (y, h) => repeatLast(y, h, 1),
    },
  ],
  [
    'seasonal_naive',
    {
      name: 'seasonal_naive',
      capabilities: { intervals: false, seasonal: true, multiSeasonal: false, intermittent: false },
      minLength: (o) => seasonOf(o),
      forecast: (y, h, o) => repeatLast(y, h, seasonOf(o)),
    },
  ],
]);
