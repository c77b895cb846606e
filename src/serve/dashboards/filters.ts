/**
 * Filter values: read from a request (query string or JSON), checked, and filled with the
 * filters' defaults. Values only ever reach SQL as bound parameters; checking them here gives
 * a clear message for a bad date instead of an engine error, not protection against injection.
 */
import { TributaryError } from '../../core/index.js';
import { isRealDate, type Dashboard, type FilterDef } from '../../project/index.js';

/** A date range, both ends inclusive; null means open on that side. */
export interface DateRange {
  from: string | null;
  to: string | null;
}

/** A select filter's value (null: none chosen, meaning all) or a date range. */
export type FilterValue = string | null | DateRange;

/** Every filter of a dashboard with its value, defaults applied. */
export type FilterValues = Record<string, FilterValue>;

/** Longest select value accepted. */
export const MAX_SELECT_LENGTH = 200;

export interface ResolveFiltersOptions {
  /** Ignore keys that name no filter (e.g. other query-string parameters) instead of refusing them. */
  ignoreUnknown?: boolean;
}

function usage(message: string, hint?: string): TributaryError {
  return new TributaryError(message, { code: 'USAGE', ...(hint ? { hint } : {}) });
}

function isDateRange(v: unknown): v is Partial<Record<'from' | 'to', unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function dateValue(filter: string, key: string, v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string' || !isRealDate(v))
    throw usage(
      `filter ${key}: expected a date YYYY-MM-DD, got ${JSON.stringify(v)?.slice(0, 40)}`,
      `${filter} is a date range: give ${filter}_from and ${filter}_to`,
    );
  return v;
}

function selectValue(key: string, v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string')
    throw usage(`filter ${key}: expected one value (text), got ${JSON.stringify(v)?.slice(0, 40)}`);
  if (v.length > MAX_SELECT_LENGTH)
    throw usage(`filter ${key}: the value is longer than ${MAX_SELECT_LENGTH} characters`);
  return v;
}

/**
 * The value of every filter of `dashboard`, from `input`: a select filter by its name, a date
 * range as `<name>_from` / `<name>_to`, or `<name>` as `{ from, to }` or `"from..to"`. A filter
 * not in `input` takes its default; one given as '' or null is unset (all values, open range).
 * Throws a USAGE error naming the filter for a bad value or a key that names no filter.
 */
export function resolveFilters(
  dashboard: Pick<Dashboard, 'name' | 'filters'>,
  input: Record<string, unknown> = {},
  options: ResolveFiltersOptions = {},
): FilterValues {
  const byName = new Map<string, FilterDef>(dashboard.filters.map((f) => [f.name, f]));
  const given = new Map<string, { from?: unknown; to?: unknown; value?: unknown }>();
  const slot = (name: string) => {
    let s = given.get(name);
    if (!s) given.set(name, (s = {}));
    return s;
  };
  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    const direct = byName.get(key);
    if (direct) {
      if (direct.type === 'select') {
        slot(key).value = raw;
      } else if (isDateRange(raw)) {
        for (const k of Object.keys(raw))
          if (k !== 'from' && k !== 'to')
            throw usage(`filter ${key}: a date range has from and to, not ${k}`);
        if ('from' in raw) slot(key).from = raw.from;
        if ('to' in raw) slot(key).to = raw.to;
      } else if (raw === null || raw === '') {
        Object.assign(slot(key), { from: null, to: null });
      } else if (typeof raw === 'string' && raw.includes('..')) {
        const [from, to] = raw.split('..', 2);
        Object.assign(slot(key), { from, to });
      } else
        throw usage(
          `filter ${key}: expected a date range, got ${JSON.stringify(raw)?.slice(0, 40)}`,
          `give ${key}_from and ${key}_to (YYYY-MM-DD), or ${key}=FROM..TO`,
        );
      continue;
    }
    const m = /^(.+)_(from|to)$/.exec(key);
    const range = m ? byName.get(m[1]!) : undefined;
    if (m && range?.type === 'date_range') {
      slot(range.name)[m[2] as 'from' | 'to'] = raw;
      continue;
    }
    if (!options.ignoreUnknown)
      throw usage(
        `dashboard ${dashboard.name} has no filter ${key}`,
        dashboard.filters.length
          ? `filters: ${dashboard.filters
              .map((f) => (f.type === 'date_range' ? `${f.name}_from, ${f.name}_to` : f.name))
              .join(', ')}`
          : 'this dashboard has no filters',
      );
  }
  const values: FilterValues = {};
  for (const f of dashboard.filters) {
    const g = given.get(f.name);
    if (f.type === 'select') {
      const fallback = typeof f.default === 'string' ? f.default : null;
      values[f.name] = g && 'value' in g ? selectValue(f.name, g.value) : fallback;
    } else {
      const d = typeof f.default === 'object' ? f.default : undefined;
      const from =
        g && 'from' in g ? dateValue(f.name, `${f.name}_from`, g.from) : (d?.from ?? null);
      const to = g && 'to' in g ? dateValue(f.name, `${f.name}_to`, g.to) : (d?.to ?? null);
      if (from && to && from > to)
        throw usage(`filter ${f.name}: the range ends (${to}) before it starts (${from})`);
      values[f.name] = { from, to };
    }
  }
  return values;
}

const DAY_MS = 86_400_000;
const toDay = (text: string) => Date.parse(`${text}T00:00:00Z`);
const fromDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The period just before a range, of the same length: 2025-03-01..2025-03-31 (31 days) gives
 * 2025-01-29..2025-02-28. Undefined when the range is open on either side.
 */
export function previousPeriod(range: DateRange): DateRange | undefined {
  if (!range.from || !range.to) return undefined;
  const from = toDay(range.from);
  const days = Math.round((toDay(range.to) - from) / DAY_MS) + 1;
  const prevTo = from - DAY_MS;
  return { from: fromDay(prevTo - (days - 1) * DAY_MS), to: fromDay(prevTo) };
}
