/**
 * What clients see of a dashboard before any query runs: a summary for lists and the definition
 * a UI lays out (filters with defaults, tiles with chart settings). SQL stays on the server.
 */
import {
  type Dashboard,
  type FilterType,
  type TileFormat,
  type TileType,
} from '../../project/index.js';

export interface DashboardSummary {
  name: string;
  title: string;
  description?: string;
  tiles: number;
}

export interface FilterDefinition {
  name: string;
  type: FilterType;
  label: string;
  /** select: the value chosen at first (null: all); date_range: { from, to } (null: open). */
  default: string | null | { from: string | null; to: string | null };
  /** The query-string parameters that set it: `[name]`, or `[name_from, name_to]` for a range. */
  params: string[];
}

export interface TileDefinition {
  id: string;
  title: string;
  description?: string;
  type: TileType;
  /** How a UI draws it: `map` renders as ranked regions (no geometry ships offline). */
  renderAs: TileType;
  format?: TileFormat;
  width: number;
  x?: string;
  y?: string | string[];
  series?: string;
  value?: string;
  compare?: 'previous_period';
  /** line/area: a shaded band between two columns (a forecast's interval). */
  band?: { lower: string; upper: string; label?: string };
  /** Model tiles: the query keeps the first n groups (ranked/map: the n largest); a UI shows them all. */
  limit?: number;
  /** The filters this tile reads; the others do not change it. */
  filters: string[];
}

export interface DashboardDefinition {
  name: string;
  title: string;
  description?: string;
  filters: FilterDefinition[];
  tiles: TileDefinition[];
}

/** One line of a dashboard list. */
export function dashboardSummary(d: Dashboard): DashboardSummary {
  return {
    name: d.name,
    title: d.title,
    ...(d.description !== undefined ? { description: d.description } : {}),
    tiles: d.tiles.length,
  };
}

/** The layout of a dashboard for a UI: filters and tiles without their SQL. */
export function dashboardDefinition(d: Dashboard): DashboardDefinition {
  return {
    name: d.name,
    title: d.title,
    ...(d.description !== undefined ? { description: d.description } : {}),
    filters: d.filters.map((f) => ({
      name: f.name,
      type: f.type,
      label: f.label ?? f.name,
      default:
        f.type === 'select'
          ? typeof f.default === 'string'
            ? f.default
            : null
          : {
              from: typeof f.default === 'object' ? (f.default.from ?? null) : null,
              to: typeof f.default === 'object' ? (f.default.to ?? null) : null,
            },
      params: f.type === 'date_range' ? [`${f.name}_from`, `${f.name}_to`] : [f.name],
    })),
    tiles: d.tiles.map((t) => {
      const x = t.x ?? t.by;
      // Model tiles name their result columns: <by>, <series>, value.
      const generated = t.model !== undefined;
      const y = t.y ?? (generated && t.type !== 'kpi' ? 'value' : undefined);
      const value = t.value ?? (generated && t.type === 'kpi' ? 'value' : undefined);
      return {
        id: t.id,
        title: t.title,
        ...(t.description !== undefined ? { description: t.description } : {}),
        type: t.type,
        renderAs: t.type === 'map' ? 'ranked' : t.type,
        ...(t.format !== undefined ? { format: t.format } : {}),
        width: t.width,
        ...(x !== undefined ? { x } : {}),
        ...(y !== undefined ? { y } : {}),
        ...(t.series !== undefined ? { series: t.series } : {}),
        ...(value !== undefined ? { value } : {}),
        ...(t.compare !== undefined ? { compare: t.compare } : {}),
        ...(t.band !== undefined ? { band: t.band } : {}),
        ...(t.limit !== undefined ? { limit: t.limit } : {}),
        filters: t.uses,
      };
    }),
  };
}
