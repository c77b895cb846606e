/**
 * The registry of forecast methods: every name a forecasts/*.yml `methods:` list may use, and the
 * fixed fallback ladder `auto` and the pipeline walk down when a series is too short for a method.
 */
import { TributaryError } from '../../core/index.js';
import type { ForecastMethod, ForecastOptions } from '../method.js';
import { arima } from './arima.js';
import { comb } from './comb.js';
import { ets } from './ets.js';
import { damped, holt, ses } from './exponential-smoothing.js';
import { croston, sba, tsb } from './intermittent.js';
import { mstl } from './mstl.js';
import { naive, naive2, seasonalNaive } from './naive.js';
import { theta } from './theta.js';
import { dotm, otm } from './optimised-theta.js';

const ALL: readonly ForecastMethod[] = [
  naive,
  seasonalNaive,
  naive2,
  ses,
  holt,
  damped,
  ets,
  arima,
  theta,
  otm,
  dotm,
  comb,
  mstl,
  croston,
  sba,
  tsb,
];

export const METHODS: ReadonlyMap<string, ForecastMethod> = new Map(ALL.map((m) => [m.name, m]));

/** Registered method names, in registry order (simplest first). */
export const METHOD_NAMES: readonly string[] = ALL.map((m) => m.name);

/** The method registered under `name`; an unknown name is an INPUT error listing the known ones. */
export function methodByName(name: string): ForecastMethod {
  const method = METHODS.get(name);
  if (!method) {
    throw new TributaryError(`unknown forecast method '${name}'`, {
      code: 'INPUT',
      hint: `known methods: ${METHOD_NAMES.join(', ')}`,
    });
  }
  return method;
}

/**
 * The next simpler method to try when a series is too short for `name` (each step needs no more
 * history than the one above it): ets -> ses -> naive, mstl -> seasonal_naive -> naive,
 * arima -> ses -> naive, theta -> ses -> naive,
 * otm and dotm -> theta. `naive` (one value) is the bottom and has none.
 */
const FALLBACK: Readonly<Record<string, string>> = {
  seasonal_naive: 'naive',
  naive2: 'naive',
  ses: 'naive',
  holt: 'ses',
  damped: 'holt',
  ets: 'ses',
  arima: 'ses',
  theta: 'ses',
  otm: 'theta',
  dotm: 'theta',
  comb: 'ses',
  mstl: 'seasonal_naive',
  croston: 'naive',
  sba: 'naive',
  tsb: 'naive',
};

export function fallbackFor(name: string): string | undefined {
  methodByName(name);
  return FALLBACK[name];
}

/** A method usable on a series of a given length, and why it differs from the one asked for. */
export interface ResolvedMethod {
  method: ForecastMethod;
  /** Set when the ladder was walked: e.g. "series has 5 values; ets needs 10, ses needs 2". */
  fallbackReason?: string;
}

/**
 * Walks the fallback ladder from `name` down to the first method whose minLength the series
 * meets. Throws INPUT when even the bottom of the ladder needs more values (an empty series).
 */
export function resolveForLength(
  name: string,
  length: number,
  options: ForecastOptions,
): ResolvedMethod {
  const skipped: string[] = [];
  for (let current: string | undefined = name; current; current = fallbackFor(current)) {
    const method = methodByName(current);
    const needed = method.minLength(options);
    if (length >= needed) {
      if (skipped.length === 0) return { method };
      return {
        method,
        fallbackReason: `series has ${length} values; ${skipped.join(', ')}; using ${current}`,
      };
    }
    skipped.push(`${current} needs ${needed}`);
  }
  throw new TributaryError(
    `series has ${length} values, too few for ${name} and every simpler method`,
    { code: 'INPUT', hint: 'forecast series with at least one value' },
  );
}
