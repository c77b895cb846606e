/** Naming future periods: the ISO starts of the h periods after a series' last one (UTC). */
import { TributaryError } from '../core/errors.js';
import type { ForecastFrequency } from './types.js';

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
