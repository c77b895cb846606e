// Value formatting shared by tiles and tables: numbers arrive as numbers or, for BIGINT and
// DECIMAL, as exact strings (docs/api.md), so everything numeric goes through toNumber first.

/** A number from a JSON value (number, numeric string, bigint), or null when it is not one. */
export function toNumber(v: unknown): number | null {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'bigint') n = Number(v);
  else if (typeof v === 'string' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v.trim()))
    n = Number(v);
  else return null;
  // '1e400' and a huge bigint overflow to Infinity: not a number a cell can show
  return Number.isFinite(n) ? n : null;
}

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const full: Intl.NumberFormatOptions = { maximumSignificantDigits: 15 };
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

/**
 * Formats a value by a tile's `format`: currency (USD unless `currency` says otherwise), percent
 * (the value is a fraction: 0.25 → 25%), number; anything else as plain text.
 */
export function formatValue(v: unknown, format?: string, currency = 'USD'): string {
  const n = toNumber(v);
  if (n === null) return v === null || v === undefined ? '—' : String(v);
  switch (format) {
    case 'currency':
      try {
        return new Intl.NumberFormat(undefined, {
          style: 'currency',
          currency,
          maximumFractionDigits: Math.abs(n) >= 1000 ? 0 : 2,
        }).format(n);
      } catch {
        return nf.format(n);
      }
    case 'percent':
      return new Intl.NumberFormat(undefined, {
        style: 'percent',
        maximumFractionDigits: 1,
      }).format(n);
    default:
      return nf.format(n);
  }
}

/** Short axis labels: 1.2K, 3.4M, or percent/currency symbols by format. */
export function formatAxis(n: number, format?: string): string {
  if (format === 'percent') return `${Math.round(n * 1000) / 10}%`;
  const s = Math.abs(n) >= 10_000 ? compact.format(n) : nf.format(n);
  return format === 'currency' ? `$${s}` : s;
}

/** A table cell: numbers grouped, objects as JSON, null as an em dash. */
export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    return Number.isInteger(v) ? nf.format(v) : v.toLocaleString(undefined, full);
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A timestamp in the browser's locale, short. */
export function formatTime(v: string | null | undefined): string {
  if (!v) return '—';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return v;
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** The time between two timestamps as 850 ms / 12.3 s / 4m 05s / 2h 03m. */
export function formatDuration(
  from: string | null | undefined,
  to: string | null | undefined,
): string {
  if (!from) return '—';
  const a = new Date(from).getTime();
  const b = to ? new Date(to).getTime() : Date.now();
  if (Number.isNaN(a) || Number.isNaN(b)) return '—';
  return formatMs(b - a);
}

/**
 * A duration in ms as 850 ms / 12.3 s / 4m 05s / 2h 03m. Each unit rounds before the next is
 * chosen, so 59.96 s is "1m 00s", not "60.0 s".
 */
export function formatMs(ms: number): string {
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const tenths = Math.round(ms / 100) / 10;
  if (tenths < 60) return `${tenths.toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/**
 * The name SQL uses for a catalog table: lake zones are schemas (`processed.orders`,
 * `quarantine.orders`); warehouse entries are already qualified (`main.fct_sales`).
 */
export function sqlName(zone: string, name: string): string {
  return zone === 'processed' || zone === 'quarantine' ? `${zone}.${name}` : name;
}

/** Thousands-grouped integer, or an em dash. */
export function formatCount(v: unknown): string {
  const n = toNumber(v);
  return n === null ? '—' : nf.format(n);
}
