// Dashboard tiles: a tile definition (type, format, x, y, series) plus its data (columns, rows,
// and for KPIs value/previous/change) rendered as a KPI, an ECharts chart or an HTML table.
// Defaults: x is the first column, y the numeric columns other than x and series.
import type { TileData, TileDef, TileEntry } from '../api';
import { formatAxis, formatValue, toNumber } from '../format';
import {
  bandSeries,
  heatmapAxes,
  kpiValues,
  label,
  pickAxes,
  rankedMax,
  rankedRows,
  uniq,
} from '../tile-data';
import { Chart } from './Chart';
import type { ChartOption } from './echarts';
import { SEQUENTIAL } from './echarts';
import { DataTable } from './DataTable';
import { ErrorBox } from './ui';

function baseTooltip(format?: string) {
  return {
    trigger: 'axis' as const,
    confine: true,
    valueFormatter: (v: unknown) => formatValue(v, format),
  };
}

/** The ECharts option for a line, area, bar or stacked bar tile. */
export function cartesianOption(tile: TileDef, data: TileData): ChartOption {
  const { x, y, series } = pickAxes(tile, data.columns, data.rows);
  const type = tile.type;
  const isBar = type === 'bar' || type === 'stacked_bar';
  const stacked = type === 'stacked_bar' || (type === 'area' && series !== undefined);
  const categories = uniq(data.rows.map((r) => r[x]));
  let out: { name: string; data: (number | null)[] }[];
  if (series) {
    const measure = y[0];
    const groups = uniq(data.rows.map((r) => r[series]));
    const index = new Map<string, (number | null)[]>();
    for (const g of groups)
      index.set(
        g,
        categories.map(() => (stacked ? 0 : null)),
      );
    const pos = new Map(categories.map((c, i) => [c, i]));
    for (const r of data.rows) {
      const arr = index.get(label(r[series]));
      const i = pos.get(label(r[x]));
      const v = measure ? toNumber(r[measure]) : null;
      if (arr && i !== undefined && v !== null) arr[i] = (arr[i] ?? 0) + v;
    }
    out = groups.map((g) => ({ name: g, data: index.get(g) ?? [] }));
  } else {
    const pos = new Map(categories.map((c, i) => [c, i]));
    out = y.map((col) => {
      const arr: (number | null)[] = categories.map(() => null);
      for (const r of data.rows) {
        const i = pos.get(label(r[x]));
        if (i !== undefined) arr[i] = toNumber(r[col]);
      }
      return { name: col, data: arr };
    });
  }
  const many = out.length > 1 || tile.band !== undefined;
  const band = series
    ? undefined
    : bandSeries(
        tile,
        data.columns.map((c) => c.name),
        data.rows,
        x,
        categories,
      );
  const bandName = tile.band?.label ?? 'interval';
  // The band is an invisible lower edge with its width stacked on top, shaded.
  const bandLines = band
    ? [
        { name: `${bandName} (lower)`, data: band.lower, shade: false },
        { name: bandName, data: band.width, shade: true },
      ].map((b) => ({
        name: b.name,
        type: 'line' as const,
        data: b.data,
        stack: 'band',
        symbol: 'none',
        lineStyle: { opacity: 0 },
        areaStyle: b.shade ? { opacity: 0.2, color: '#7aa6d8' } : undefined,
        tooltip: { show: false },
        silent: true,
      }))
    : [];
  return {
    tooltip: baseTooltip(tile.format),
    legend: many
      ? {
          type: 'scroll',
          top: 0,
          // The band's invisible lower edge has no legend entry of its own.
          data: [...out.map((s) => s.name), ...(band ? [bandName] : [])],
        }
      : undefined,
    grid: { left: 8, right: 16, top: many ? 36 : 16, bottom: 8, containLabel: true },
    xAxis: {
      type: 'category',
      data: categories,
      boundaryGap: isBar,
      axisLabel: categoryLabels(categories),
    },
    yAxis: {
      type: 'value',
      axisLabel: { formatter: (v: number) => formatAxis(v, tile.format) },
    },
    series: [
      ...bandLines,
      ...out.map((s) => ({
        name: s.name,
        type: isBar ? ('bar' as const) : ('line' as const),
        data: s.data,
        stack: stacked ? 'total' : undefined,
        areaStyle: type === 'area' ? { opacity: many ? 0.55 : 0.25 } : undefined,
        showSymbol: !isBar && categories.length <= 40,
        smooth: false,
        connectNulls: false,
        emphasis: { focus: 'series' },
      })),
    ],
  };
}

/**
 * Category axis labels: every label when there are few categories (slanted when long), else
 * as many as fit.
 */
function categoryLabels(categories: string[]) {
  if (categories.length > 12) return { hideOverlap: true };
  const long = categories.some((c) => c.length > 8);
  return long && categories.length > 4
    ? { interval: 0, rotate: 30, width: 110, overflow: 'truncate' as const }
    : { interval: 0, width: 110, overflow: 'truncate' as const };
}

export function rankedOption(
  tile: TileDef,
  items: { label: string; value: number }[],
): ChartOption {
  const top = items.slice(0, rankedMax(tile));
  return {
    tooltip: { ...baseTooltip(tile.format), axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
    xAxis: {
      type: 'value',
      axisLabel: { formatter: (v: number) => formatAxis(v, tile.format), hideOverlap: true },
    },
    yAxis: {
      type: 'category',
      inverse: true,
      data: top.map((t) => t.label),
      axisLabel: { width: 140, overflow: 'truncate' },
    },
    series: [
      {
        type: 'bar',
        data: top.map((t) => t.value),
        label: {
          show: true,
          position: 'right',
          formatter: (p: { value: unknown }) => formatAxis(Number(p.value), tile.format),
        },
      },
    ],
  };
}

/** A cohort heatmap: x, y and value columns (the tile's x/y, else the first two, then a number). */
export function heatmapOption(tile: TileDef, data: TileData): ChartOption {
  const { x, y, v } = heatmapAxes(tile, data);
  if (!x || !y || !v) return {};
  const xs = uniq(data.rows.map((r) => r[x]));
  const ys = uniq(data.rows.map((r) => r[y]));
  const xi = new Map(xs.map((s, i) => [s, i]));
  const yi = new Map(ys.map((s, i) => [s, i]));
  const cells: [number, number, number][] = [];
  let min = Infinity;
  let max = -Infinity;
  for (const r of data.rows) {
    const n = toNumber(r[v]);
    const a = xi.get(label(r[x]));
    const b = yi.get(label(r[y]));
    if (n === null || a === undefined || b === undefined) continue;
    cells.push([a, b, n]);
    min = Math.min(min, n);
    max = Math.max(max, n);
  }
  if (!cells.length) {
    min = 0;
    max = 1;
  }
  const showLabels = cells.length <= 200;
  const base = {
    tooltip: {
      confine: true,
      formatter: (p: { value: [number, number, number] }) =>
        `${escapeHtml(y)} ${escapeHtml(ys[p.value[1]] ?? '')} · ${escapeHtml(x)} ${escapeHtml(
          xs[p.value[0]] ?? '',
        )}<br/><b>${escapeHtml(formatValue(p.value[2], tile.format))}</b>`,
    },
    grid: { left: 8, right: 16, top: 8, bottom: 64, containLabel: true },
    xAxis: {
      type: 'category',
      data: xs,
      name: x,
      nameLocation: 'middle',
      nameGap: 26,
      splitArea: { show: true },
    },
    yAxis: { type: 'category', data: ys, inverse: true, splitArea: { show: true } },
    visualMap: {
      min,
      max,
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 120,
      itemWidth: 10,
      text: [formatAxis(max, tile.format), formatAxis(min, tile.format)],
      inRange: { color: SEQUENTIAL },
    },
    series: [
      {
        type: 'heatmap',
        data: cells,
        label: {
          show: showLabels,
          fontSize: 10,
          formatter: (p: { value: [number, number, number] }) =>
            formatAxis(p.value[2], tile.format),
        },
        emphasis: { itemStyle: { borderColor: '#000', borderWidth: 1 } },
      },
    ],
  };
  // narrow tiles (phones): no numbers in the cells, the tooltip has them
  return {
    baseOption: base,
    media: [
      { query: { maxWidth: 560 }, option: { series: [{ label: { show: false } }] } },
      { option: { series: [{ label: { show: showLabels } }] } },
    ],
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function Kpi({ tile, data }: { tile: TileDef; data: TileData }) {
  const { value, raw, previous, change } = kpiValues(tile, data);
  return (
    <div className="kpi">
      <div
        className="kpi-value"
        data-testid={`kpi-value-${tile.id}`}
        data-value={value === null ? '' : String(value)}
      >
        {value === null ? '—' : formatValue(raw, tile.format)}
      </div>
      {change !== null ? (
        <div
          className={`kpi-change ${change > 0 ? 'up' : change < 0 ? 'down' : 'flat'}`}
          title={
            previous !== null ? `Previous period: ${formatValue(previous, tile.format)}` : undefined
          }
        >
          <span aria-hidden="true">{change > 0 ? '▲' : change < 0 ? '▼' : '■'}</span>{' '}
          {new Intl.NumberFormat(undefined, {
            style: 'percent',
            maximumFractionDigits: 1,
          }).format(Math.abs(change))}{' '}
          <span className="kpi-compare">vs previous period</span>
        </div>
      ) : null}
    </div>
  );
}

/** The body of a tile by its type. */
export function TileBody({ tile, data }: { tile: TileDef; data: TileEntry | undefined }) {
  if (!data) return <div className="tile-placeholder">No data.</div>;
  if ('error' in data) return <ErrorBox title="This tile failed" error={data.error} />;
  // renderAs: how the server says to draw it (map → ranked); type keeps the note for maps
  const as = typeof tile.renderAs === 'string' && tile.type !== 'map' ? tile.renderAs : tile.type;
  switch (as) {
    case 'kpi':
      return <Kpi tile={tile} data={data} />;
    case 'line':
    case 'area':
    case 'bar':
    case 'stacked_bar':
      if (!data.rows.length) return <div className="tile-placeholder">No rows.</div>;
      return <Chart option={cartesianOption(tile, data)} ariaLabel={tile.title} />;
    case 'ranked':
    case 'map': {
      if (!data.rows.length) return <div className="tile-placeholder">No rows.</div>;
      const items = rankedRows(tile, data);
      const max = rankedMax(tile);
      const shown = Math.min(items.length, max);
      return (
        <>
          {tile.type === 'map' && !/rank/i.test(tile.description ?? '') ? (
            <p className="tile-note">Shown as regions ranked by value (no map tiles offline).</p>
          ) : null}
          <Chart
            option={rankedOption(tile, items)}
            height={Math.max(160, shown * 24 + 40)}
            ariaLabel={tile.title}
          />
          {items.length > max ? (
            <p className="tile-note">
              Top {max} of {items.length}.
            </p>
          ) : null}
        </>
      );
    }
    case 'heatmap': {
      if (!data.rows.length) return <div className="tile-placeholder">No rows.</div>;
      const yCol = heatmapAxes(tile, data).y;
      const ys = yCol ? new Set(data.rows.map((r) => label(r[yCol]))).size : 0;
      return (
        <Chart
          option={heatmapOption(tile, data)}
          height={Math.max(260, Math.min(640, ys * 26 + 100))}
          ariaLabel={tile.title}
        />
      );
    }
    case 'table':
      return <DataTable columns={data.columns} rows={data.rows} max={500} readable />;
    default:
      return (
        <>
          <p className="tile-note">Unknown tile type “{tile.type}”; shown as a table.</p>
          <DataTable columns={data.columns} rows={data.rows} max={200} />
        </>
      );
  }
}
