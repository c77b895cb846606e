/**
 * What a dashboard tile shows (web/src/tile-data.ts), in Node: grid spans, which columns become
 * axes, ranked rows, heatmap axes, KPI numbers with exact strings and nulls, and readable cells.
 * Tiles and results are typed by the generated API types, so these are the shapes the server
 * sends.
 */
import { describe, expect, it } from 'vitest';
import type { Column, Row, TileData, TileDef } from '../../web/src/api';
import {
  GRID_COLUMNS,
  bandSeries,
  columnName,
  heatmapAxes,
  isNumericColumn,
  kpiValues,
  label,
  pickAxes,
  rankedMax,
  rankedRows,
  readableCell,
  tileSpan,
  uniq,
} from '../../web/src/tile-data';

const tile = (over: Partial<TileDef> = {}): TileDef => ({
  id: 't',
  title: 'T',
  type: 'bar',
  renderAs: 'bar',
  width: 2,
  filters: [],
  ...over,
});
const col = (name: string, kind: Column['kind'] = 'number'): Column => ({
  name,
  type: kind === 'number' ? 'DECIMAL(12,2)' : 'VARCHAR',
  kind,
});
const data = (columns: Column[], rows: Row[], over: Partial<TileData> = {}): TileData => ({
  tile: 't',
  type: 'bar',
  columns,
  rows,
  truncated: false,
  dataVersion: 'v1',
  cached: false,
  ms: 1,
  ...over,
});

describe('tileSpan', () => {
  it('uses the width, rounded and capped at the grid', () => {
    expect(tileSpan(tile({ width: 1 }))).toBe(1);
    expect(tileSpan(tile({ width: 2.6 }))).toBe(3);
    expect(tileSpan(tile({ width: 9 }))).toBe(GRID_COLUMNS);
  });

  it('falls back by type for a width below 1', () => {
    expect(tileSpan(tile({ width: 0, type: 'kpi' }))).toBe(1);
    expect(tileSpan(tile({ width: 0, type: 'heatmap' }))).toBe(GRID_COLUMNS);
    expect(tileSpan(tile({ width: -1, type: 'line' }))).toBe(2);
  });
});

describe('columns', () => {
  it('decide numeric by the declared kind, else by the first values', () => {
    expect(isNumericColumn(col('amount', 'number'), [])).toBe(true);
    expect(isNumericColumn(col('region', 'string'), [{ region: '12' }])).toBe(false);
    // a name alone: numbers (exact strings too) after nulls count; text or no values do not
    expect(isNumericColumn('n', [{ n: null }, { n: '12.50' }, { n: 3 }])).toBe(true);
    expect(isNumericColumn('n', [{ n: 1 }, { n: 'x' }])).toBe(false);
    expect(isNumericColumn('n', [{ n: null }])).toBe(false);
    expect(columnName(col('a'))).toBe('a');
  });

  it('shows ratio columns as percentages and rounds the rest for reading', () => {
    const nf = (n: number, o: Intl.NumberFormatOptions) =>
      new Intl.NumberFormat(undefined, o).format(n);
    expect(readableCell('0.256', 'return_rate')).toBe(
      nf(0.256, { style: 'percent', maximumFractionDigits: 1 }),
    );
    // a large value in a ratio-named column is not a ratio
    expect(readableCell(250, 'conversion_pct')).toBe(nf(250, { maximumFractionDigits: 2 }));
    expect(readableCell(0.012345, 'avg')).toBe(nf(0.012345, { maximumSignificantDigits: 3 }));
    expect(readableCell('1234.5678', 'revenue')).toBe(nf(1234.5678, { maximumFractionDigits: 2 }));
    expect(readableCell(null, 'revenue')).toBe('—');
    expect(readableCell(true, 'flag')).toBe('true');
    expect(readableCell('North', 'region')).toBe('North');
  });
});

describe('labels', () => {
  it('shorten midnight timestamps to their date and show null as ∅', () => {
    expect(label('2024-03-01T00:00:00Z')).toBe('2024-03-01');
    expect(label('2024-03-01 00:00:00.000')).toBe('2024-03-01');
    expect(label('2024-03-01T10:30:00Z')).toBe('2024-03-01T10:30:00Z');
    expect(label(null)).toBe('∅');
    expect(label(42)).toBe('42');
  });

  it('keep the first occurrence of each label in order', () => {
    expect(uniq(['b', 'a', 'b', null, '2024-01-01T00:00:00Z', '2024-01-01'])).toEqual([
      'b',
      'a',
      '∅',
      '2024-01-01',
    ]);
  });
});

describe('pickAxes', () => {
  const columns = [col('month', 'date'), col('region', 'string'), col('revenue'), col('orders')];

  it('uses the tile x, y and series when the columns exist', () => {
    expect(pickAxes(tile({ x: 'month', y: 'revenue', series: 'region' }), columns, [])).toEqual({
      x: 'month',
      y: ['revenue'],
      series: 'region',
    });
    expect(pickAxes(tile({ x: 'month', y: ['orders', 'revenue'] }), columns, []).y).toEqual([
      'orders',
      'revenue',
    ]);
  });

  it('falls back to the first column and the numeric others for missing or unknown names', () => {
    expect(pickAxes(tile({ x: 'nope', y: 'gone' }), columns, [])).toEqual({
      x: 'month',
      y: ['revenue', 'orders'],
      series: undefined,
    });
  });

  it('copes with a result without columns', () => {
    expect(pickAxes(tile(), [], [])).toEqual({ x: '', y: [], series: undefined });
  });
});

describe('ranked tiles', () => {
  it('show the tile limit (capped at 100), else 12', () => {
    expect(rankedMax(tile())).toBe(12);
    expect(rankedMax(tile({ limit: 20 }))).toBe(20);
    expect(rankedMax(tile({ limit: 5000 }))).toBe(100);
    expect(rankedMax(tile({ limit: 0 }))).toBe(12);
  });

  it('rank rows largest first, exact strings read as numbers and nulls as 0', () => {
    const d = data(
      [col('region', 'string'), col('revenue')],
      [
        { region: 'North', revenue: '10.50' },
        { region: 'South', revenue: '200.00' },
        { region: null, revenue: null },
        { region: 'East', revenue: 30 },
      ],
    );
    expect(rankedRows(tile({ type: 'ranked', x: 'region', y: 'revenue' }), d)).toEqual([
      { label: 'South', value: 200 },
      { label: 'East', value: 30 },
      { label: 'North', value: 10.5 },
      { label: '∅', value: 0 },
    ]);
  });

  it('give no rows for an empty result', () => {
    expect(rankedRows(tile({ type: 'ranked' }), data([], []))).toEqual([]);
  });
});

describe('heatmapAxes', () => {
  it('uses x, y and the value column when named', () => {
    const d = data([col('cohort', 'date'), col('age', 'number'), col('value')], []);
    expect(heatmapAxes(tile({ type: 'heatmap', x: 'cohort', y: 'age' }), d)).toEqual({
      x: 'cohort',
      y: 'age',
      v: 'value',
    });
  });

  it('falls back to the first two columns and the first numeric other', () => {
    const d = data([col('a', 'string'), col('b', 'string'), col('label', 'string'), col('n')], []);
    expect(heatmapAxes(tile({ type: 'heatmap' }), d)).toEqual({ x: 'a', y: 'b', v: 'n' });
  });

  it('finds no value column when there is none', () => {
    const d = data([col('a', 'string')], []);
    expect(heatmapAxes(tile({ type: 'heatmap' }), d)).toEqual({
      x: 'a',
      y: undefined,
      v: undefined,
    });
  });
});

describe('kpiValues', () => {
  const kpi = tile({ type: 'kpi', value: 'value' });

  it("reads the server's exact value and computes the change from the previous period", () => {
    const d = data([col('value')], [{ value: '150.00' }], { value: '150.00', previous: '100.00' });
    expect(kpiValues(kpi, d)).toEqual({ value: 150, raw: '150.00', previous: 100, change: 0.5 });
  });

  it("uses the server's change when the previous period is 0 or missing", () => {
    expect(kpiValues(kpi, data([], [], { value: 5, previous: 0, change: null })).change).toBeNull();
    expect(kpiValues(kpi, data([], [], { value: 5, change: 0.25 })).change).toBe(0.25);
    // a negative previous value: the change is relative to its size
    expect(kpiValues(kpi, data([], [], { value: -50, previous: -100 })).change).toBe(0.5);
  });

  it('falls back to the value column of the first row, then its first numeric cell', () => {
    expect(kpiValues(kpi, data([col('value')], [{ value: '7' }])).value).toBe(7);
    const d = data([col('label', 'string'), col('n')], [{ label: 'x', n: '12' }]);
    expect(kpiValues(tile({ type: 'kpi' }), d)).toMatchObject({ value: 12, raw: '12' });
  });

  it('has no value for an empty result or a null one', () => {
    expect(kpiValues(kpi, data([col('value')], []))).toEqual({
      value: null,
      raw: undefined,
      previous: null,
      change: null,
    });
    expect(kpiValues(kpi, data([col('value')], [{ value: null }], { value: null })).value).toBe(
      null,
    );
  });
});

describe('bandSeries', () => {
  const band = { lower: 'lower_80', upper: 'upper_80' };
  const rows: Row[] = [
    { period: '2026-01-02', forecast: 5, lower_80: 3, upper_80: 8 },
    { period: '2026-01-01', forecast: 4, lower_80: '2.5', upper_80: '6' },
    { period: '2026-01-03', actual: 7, forecast: null, lower_80: null, upper_80: null },
  ];
  const names = ['period', 'actual', 'forecast', 'lower_80', 'upper_80'];
  const categories = ['2026-01-01', '2026-01-02', '2026-01-03'];

  it('gives the lower edge and the width at each x, and gaps where the band has no values', () => {
    expect(bandSeries(tile({ type: 'line', band }), names, rows, 'period', categories)).toEqual({
      lower: [2.5, 3, null],
      width: [3.5, 5, null],
    });
  });

  it('is undefined without a band or without its columns', () => {
    expect(bandSeries(tile({ type: 'line' }), names, rows, 'period', categories)).toBeUndefined();
    expect(
      bandSeries(tile({ type: 'line', band }), ['period', 'forecast'], rows, 'period', categories),
    ).toBeUndefined();
  });

  it('keeps the band columns out of the default value columns', () => {
    const cols = [col('period', 'string'), col('forecast'), col('lower_80'), col('upper_80')];
    expect(pickAxes(tile({ type: 'line', band }), cols, rows).y).toEqual(['forecast']);
  });
});
