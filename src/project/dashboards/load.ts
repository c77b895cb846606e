/**
 * Loads a project's dashboards (`dashboards/*.yml`, the name is the file stem), validated with
 * every problem of every file collected and reported at its file, line and YAML path.
 */
import { TributaryError } from '../../core/index.js';
import {
  findInYamlFolder,
  loadYamlFolder,
  parseYaml,
  type Problem,
  type YamlFolder,
} from '../yaml.js';
import { withoutTrailingSemicolon } from './params.js';
import {
  dashboardSchema,
  filtersUsedBy,
  type FilterDef,
  type TileDef,
  type TileType,
} from './schema.js';

/** The folder of a project that holds dashboard files. */
export const DASHBOARDS_DIR = 'dashboards';

/** A tile as loaded: the file's definition with its width settled and the filters it reads. */
export interface Tile extends TileDef {
  width: number;
  /** Names of the dashboard filters this tile reads (its SQL's parameters, or its model's filters). */
  uses: string[];
}

export interface Dashboard {
  /** The file stem: `dashboards/executive.yml` is `executive`. */
  name: string;
  /** The file, relative to the project (for messages). */
  file: string;
  title: string;
  description?: string;
  filters: FilterDef[];
  tiles: Tile[];
}

const DEFAULT_WIDTH: Record<TileType, number> = {
  kpi: 1,
  line: 2,
  area: 2,
  bar: 2,
  stacked_bar: 2,
  table: 2,
  ranked: 2,
  heatmap: 4,
  map: 2,
};

/** Validates one dashboard file's text; `file` names it in problems. */
export function parseDashboard(
  name: string,
  file: string,
  text: string,
): { dashboard?: Dashboard; problems: Problem[] } {
  const parsed = parseYaml(file, text, dashboardSchema);
  if (!parsed.value) return { problems: parsed.problems };
  const d = parsed.value;
  const dashboard: Dashboard = {
    name,
    file,
    title: d.title,
    ...(d.description !== undefined ? { description: d.description } : {}),
    filters: d.filters,
    tiles: d.tiles.map((t) => ({
      ...t,
      ...(t.sql !== undefined ? { sql: withoutTrailingSemicolon(t.sql) } : {}),
      width: t.width ?? DEFAULT_WIDTH[t.type],
      uses: filtersUsedBy(t, d.filters),
    })),
  };
  return { dashboard, problems: [] };
}

const DASHBOARDS: YamlFolder<Dashboard> = {
  folder: DASHBOARDS_DIR,
  kind: 'dashboard',
  name: {
    pattern: /^[A-Za-z0-9_-]+$/,
    rule: 'letters, digits, - and _ (the name appears in URLs)',
  },
  parse: (name, file, text) => {
    const { dashboard, problems } = parseDashboard(name, file, text);
    return { value: dashboard, problems };
  },
};

/**
 * Reads and validates every `dashboards/*.yml` (and `.yaml`) of a project, sorted by name. A
 * project without the folder has no dashboards. Throws one ProblemsError listing every problem.
 */
export function loadDashboards(projectDir: string): Promise<Dashboard[]> {
  return loadYamlFolder(projectDir, DASHBOARDS);
}

/** The dashboard of that name, or a NOT_FOUND error listing the names there are. */
export function findDashboard(dashboards: readonly Dashboard[], name: string): Dashboard {
  return findInYamlFolder(dashboards, name, DASHBOARDS);
}

/** The tile of that id in a dashboard, or a NOT_FOUND error listing the ids there are. */
export function findTile(dashboard: Dashboard, id: string): Tile {
  const found = dashboard.tiles.find((t) => t.id === id);
  if (found) return found;
  throw new TributaryError(`dashboard ${dashboard.name} has no tile ${id}`, {
    code: 'NOT_FOUND',
    hint: `tiles: ${dashboard.tiles.map((t) => t.id).join(', ')}`,
  });
}
