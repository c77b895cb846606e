/**
 * Periods of a forecast's frequency, in UTC: reading the period starts an engine returns
 * (`date_trunc` results as DuckDB or PostgreSQL print them), stepping to the next period, and the
 * text written back into the warehouse. Periods are kept as epoch milliseconds in between, so
 * gap filling and future periods are arithmetic, not string handling. futurePeriods names future
 * periods from ISO text, for forecastSeries' callers that have no epoch values.
 */
import { TributaryError } from '../core/index.js';
import type { Frequency } from '../project/index.js';
import type { ForecastFrequency } from './types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Epoch ms of a period start as an engine prints it: `2024-03-04`, `2024-03-04 05:00:00[.000]`, ISO. */
export function parsePeriod(text: string): number {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]00(?::?00)?)?$/.exec(
      text.trim(),
    );
  if (!m)
    throw new TributaryError(`cannot read the period start ${JSON.stringify(text)}`, {
      code: 'INPUT',
      hint: 'the time column must be a date or timestamp (without a time zone other than UTC)',
    });
  const [, y, mo, d, h = '0', mi = '0', s = '0'] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

/** The start of the period after `ms`. */
export function nextPeriod(ms: number, frequency: Frequency): number {
  switch (frequency) {
    case 'hour':
      return ms + HOUR;
    case 'day':
      return ms + DAY;
    case 'week':
      return ms + 7 * DAY;
    case 'month': {
      const d = new Date(ms);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

/** Every period start from `first` through `last`, both included. */
export function periodRange(first: number, last: number, frequency: Frequency): number[] {
  const out: number[] = [];
  for (let p = first; p <= last; p = nextPeriod(p, frequency)) out.push(p);
  return out;
}

/** The `count` period starts after `last`. */
export function periodsAfter(last: number, count: number, frequency: Frequency): number[] {
  const out: number[] = [];
  let p = last;
  for (let i = 0; i < count; i++) out.push((p = nextPeriod(p, frequency)));
  return out;
}

/**
 * A period start as text both engines cast into the period column: a date (`2024-03-04`) for
 * days, weeks and months, a timestamp (`2024-03-04 05:00:00`) for hours.
 */
export function periodText(ms: number, frequency: Frequency): string {
  const iso = new Date(ms).toISOString();
  return frequency === 'hour' ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso.slice(0, 10);
}

/** The column type of periods: timestamps for hourly forecasts, dates otherwise. */
export function periodType(frequency: Frequency): 'timestamp' | 'date' {
  return frequency === 'hour' ? 'timestamp' : 'date';
}

/**
 * Season lengths when the file names none: hour [24, 168] (day and week), day [7] plus 365 once
 * the longest series covers two years, week [52], month [12].
 */
export function defaultSeasonPeriods(frequency: Frequency, longestSeries: number): number[] {
  switch (frequency) {
    case 'hour':
      return [24, 168];
    case 'day':
      return longestSeries >= 2 * 365 ? [7, 365] : [7];
    case 'week':
      return [52];
    case 'month':
      return [12];
  }
}

/**
 * The next `h` period starts after `last` at `frequency`. A date-only input ('2024-03-31') gives
 * date-only outputs; anything else gives full ISO timestamps. Months step by calendar month from
 * the first of the month (period starts come from date_trunc, so they are firsts).
 */
export function futurePeriods(last: string, frequency: ForecastFrequency, h: number): string[] {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(last);
  const start = new Date(dateOnly ? `${last}T00:00:00Z` : last);
  if (Number.isNaN(start.getTime())) {
    throw new TributaryError(`period '${last}' is not an ISO date or timestamp`, {
      hint: 'the time column must be a date or timestamp',
    });
  }
  const out: string[] = [];
  for (let k = 1; k <= h; k++) {
    const d = new Date(start.getTime());
    if (frequency === 'hour') d.setUTCHours(d.getUTCHours() + k);
    else if (frequency === 'day') d.setUTCDate(d.getUTCDate() + k);
    else if (frequency === 'week') d.setUTCDate(d.getUTCDate() + 7 * k);
    else d.setUTCMonth(d.getUTCMonth() + k);
    const iso = d.toISOString();
    out.push(dateOnly ? iso.slice(0, 10) : iso);
  }
  return out;
}
