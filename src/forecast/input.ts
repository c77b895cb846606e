/**
 * Checks every method makes on its arguments before fitting, so a bad call fails the same way
 * whichever method it reaches: a TributaryError (code INPUT) naming the method and what to do.
 */
import { TributaryError } from '../core/index.js';
import type { ForecastOptions } from './method.js';

/**
 * Copies `y` into a Float64Array after checking it is long enough and finite, and checks `h` and
 * the levels. Methods work on the copy, so the caller's array is never touched.
 */
export function prepareSeries(
  method: string,
  y: readonly number[],
  h: number,
  options: ForecastOptions,
  minLength: number,
): Float64Array {
  if (!Number.isInteger(h) || h < 0) {
    throw new TributaryError(`${method}: horizon must be a whole number >= 0, got ${h}`, {
      code: 'INPUT',
    });
  }
  for (const level of options.levels) {
    if (!(level > 0 && level < 100)) {
      throw new TributaryError(`${method}: interval level ${level} is not between 0 and 100`, {
        code: 'INPUT',
        hint: 'levels are percentages such as 80 and 95',
      });
    }
  }
  if (y.length < minLength) {
    throw new TributaryError(
      `${method}: series has ${y.length} values, the method needs at least ${minLength}`,
      { code: 'INPUT', hint: 'check minLength() first and fall back to a simpler method' },
    );
  }
  const copy = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (!Number.isFinite(v)) {
      throw new TributaryError(`${method}: value ${i} of the series is ${v}, not a finite number`, {
        code: 'INPUT',
        hint: 'fill gaps before forecasting (fill_gaps: zero)',
      });
    }
    copy[i] = v;
  }
  return copy;
}

/** Season lengths worth modelling: whole numbers above 1, shortest first, without repeats. */
export function usablePeriods(options: ForecastOptions): number[] {
  const periods = new Set<number>();
  for (const p of options.seasonPeriods) if (Number.isInteger(p) && p > 1) periods.add(p);
  return [...periods].sort((a, b) => a - b);
}

/** The main season length (the shortest one above 1), or 1 when the options have none. */
export function primaryPeriod(options: ForecastOptions): number {
  return usablePeriods(options)[0] ?? 1;
}

/** A plain array from a typed one (results are plain arrays; hot loops use typed ones). */
export function toArray(values: Float64Array): number[] {
  return Array.from(values);
}
