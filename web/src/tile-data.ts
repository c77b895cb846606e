// What a dashboard tile shows, from its definition and its rows, apart from React and ECharts so
// it can be tested on its own: grid span, which columns are axes, ranked rows, heatmap axes, a
// KPI's numbers; and the column helpers tables share.
import type { Column, Row, TileData, TileDef } from './api';
import { formatCell, toNumber } from './format';

const RATIO_NAME = /(^|_)(rate|share|pct|percent|ratio)$/i;

/** A dashboard table cell: rounded, and ratios as percentages. */
export function readableCell(v: unknown, column: string): string {
  const n = toNumber(v);
  if (n === null || typeof v === 'boolean') return formatCell(v);
  if (RATIO_NAME.test(column) && Math.abs(n) <= 10) {
    return new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 }).format(
      n,
    );
  }
  if (Math.abs(n) < 1 && n !== 0) {
    return new Intl.NumberFormat(undefined, { maximumSignificantDigits: 3 }).format(n);
  }
  return new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(n);
}

export function columnName(c: Column | string): string {
  return typeof c === 'string' ? c : c.name;
}

/** Whether a column holds numbers, by its declared kind or by its values. */
export function isNumericColumn(c: Column | string, rows: Row[]): boolean {
  if (typeof c !== 'string' && c.kind) return c.kind === 'number';
  const name = columnName(c);
  let seen = 0;
  for (const r of rows.slice(0, 50)) {
    const v = r[name];
    if (v === null || v === undefined) continue;
    if (toNumber(v) === null) return false;
    seen++;
  }
  return seen > 0;
}

/** Dashboards lay tiles out on a grid this many columns wide (docs/dashboards.md). */
export const GRID_COLUMNS = 4;

/** How many grid columns a tile spans: its `width` (1–4), else kpi 1, heatmap 4, others 2. */
export function tileSpan(tile: TileDef): number {
  const n = typeof tile.width === 'number' ? tile.width : Number(tile.width);
  if (Number.isFinite(n) && n >= 1) return Math.min(GRID_COLUMNS, Math.round(n));
  if (tile.type === 'kpi') return 1;
  if (tile.type === 'heatmap') return GRID_COLUMNS;
  return 2;
}

export function list(v: string | string[] | undefined): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** A category label: midnight timestamps shortened to their date. */
export function label(v: unknown): string {
  if (v === null || v === undefined) return '∅';
  const s = String(v);
  const m = /^(\d{4}-\d{2}-\d{2})[T ]00:00:00(\.0+)?(Z|[+-]00(:?00)?)?$/.exec(s);
  return m ? m[1] : s;
}

export interface Axes {
  x: string;
  y: string[];
  series?: string;
}

/** Which columns a chart uses: the tile's x/y/series, else the first column and the numeric rest. */
export function pickAxes(tile: TileDef, columns: (Column | string)[], rows: Row[]): Axes {
  const names = columns.map(columnName);
  const x = tile.x && names.includes(tile.x) ? tile.x : (names[0] ?? '');
  const series = tile.series && names.includes(tile.series) ? tile.series : undefined;
  let y = list(tile.y).filter((n) => names.includes(n));
  if (y.length === 0) {
    y = columns
      .filter((c) => {
        const n = columnName(c);
        return (
          n !== x &&
          n !== series &&
          n !== tile.band?.lower &&
          n !== tile.band?.upper &&
          isNumericColumn(c, rows)
        );
      })
      .map(columnName);
  }
  return { x, y, series };
}

export function uniq(values: unknown[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of values) {
    const s = label(v);
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  }
  return out;
}

/** How many bars a ranked tile shows (the tile's `limit`, else 12) so it sits beside other tiles. */
export function rankedMax(tile: TileDef): number {
  const n = tile.limit;
  return n !== undefined && Number.isFinite(n) && n > 0 ? Math.min(100, Math.round(n)) : 12;
}

/** Rows for a ranked bar: label and value, largest first. */
export function rankedRows(tile: TileDef, data: TileData): { label: string; value: number }[] {
  const { x, y } = pickAxes(tile, data.columns, data.rows);
  const measure = y[0];
  return data.rows
    .map((r) => ({ label: label(r[x]), value: measure ? (toNumber(r[measure]) ?? 0) : 0 }))
    .sort((a, b) => b.value - a.value);
}

/** A heatmap's columns: the tile's x/y (else the first two columns) and a numeric value column. */
export function heatmapAxes(tile: TileDef, data: TileData): { x?: string; y?: string; v?: string } {
  const names = data.columns.map(columnName);
  const x = tile.x && names.includes(tile.x) ? tile.x : names[0];
  const yName = list(tile.y)[0];
  const y = yName && names.includes(yName) ? yName : names.find((n) => n !== x);
  const valueKey = typeof tile.value === 'string' ? tile.value : 'value';
  const v =
    names.includes(valueKey) && valueKey !== x && valueKey !== y
      ? valueKey
      : data.columns
          .filter(
            (c) => columnName(c) !== x && columnName(c) !== y && isNumericColumn(c, data.rows),
          )
          .map(columnName)[0];
  return { x, y, v };
}

/** A KPI's number, its previous-period number and the change between them (a fraction). */
export function kpiValues(
  tile: TileDef,
  data: TileData,
): {
  value: number | null;
  raw: unknown;
  previous: number | null;
  change: number | null;
} {
  let raw: unknown = data.value;
  if (
    raw === undefined &&
    data.rows[0] &&
    typeof tile.value === 'string' &&
    tile.value in data.rows[0]
  ) {
    raw = data.rows[0][tile.value];
  }
  if (raw === undefined) {
    const row = data.rows[0];
    const col = data.columns.find((c) => row && toNumber(row[columnName(c)]) !== null);
    raw = row && col ? row[columnName(col)] : undefined;
  }
  const value = toNumber(raw);
  const previous = toNumber(data.previous);
  // computed from the two numbers when both are there; else the server's change, a fraction
  const change =
    value !== null && previous !== null && previous !== 0
      ? (value - previous) / Math.abs(previous)
      : toNumber(data.change);
  return { value, raw, previous, change };
}

/**
 * A line or area tile's band (e.g. a forecast's prediction interval) along the x categories, as
 * ECharts draws one: an invisible lower line and the band's width stacked on it. Undefined
 * when the tile has no band or the result lacks its columns.
 */
export function bandSeries(
  tile: TileDef,
  names: string[],
  rows: Row[],
  x: string,
  categories: string[],
): { lower: (number | null)[]; width: (number | null)[] } | undefined {
  const band = tile.band;
  if (!band || !names.includes(band.lower) || !names.includes(band.upper)) return undefined;
  const pos = new Map(categories.map((c, i) => [c, i]));
  const lower: (number | null)[] = categories.map(() => null);
  const width: (number | null)[] = categories.map(() => null);
  for (const r of rows) {
    const i = pos.get(label(r[x]));
    const lo = toNumber(r[band.lower]);
    const hi = toNumber(r[band.upper]);
    if (i === undefined || lo === null || hi === null) continue;
    lower[i] = lo;
    width[i] = Math.max(0, hi - lo);
  }
  return { lower, width };
}
