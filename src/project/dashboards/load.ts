/**
 * Loads a project's dashboards (`dashboards/*.yml`, the name is the file stem), validated with
 * every problem of every file collected and reported at its file, line and YAML path.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { TributaryError, isErrno } from '../../core/index.js';
import { ProblemsError, parseYaml, type Problem } from '../yaml.js';
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

/**
 * Reads and validates every `dashboards/*.yml` (and `.yaml`) of a project, sorted by name. A
 * project without the folder has no dashboards. Throws one ProblemsError listing every problem.
 */
export async function loadDashboards(projectDir: string): Promise<Dashboard[]> {
  const dir = join(projectDir, DASHBOARDS_DIR);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const files = entries
    .filter((e) => ['.yml', '.yaml'].includes(extname(e)) && !e.startsWith('.'))
    .sort();
  const problems: Problem[] = [];
  const dashboards: Dashboard[] = [];
  const seen = new Map<string, string>();
  for (const entry of files) {
    const name = entry.slice(0, -extname(entry).length);
    const file = `${DASHBOARDS_DIR}/${entry}`;
    if (!/^[A-Za-z0-9_-]+$/.test(name)) {
      problems.push({
        message: `dashboard file names are letters, digits, - and _ (the name appears in URLs); rename ${entry}`,
        location: { file },
      });
      continue;
    }
    const other = seen.get(name);
    if (other) {
      problems.push({
        message: `dashboard ${name} is defined twice (${other} and ${file}); remove one`,
        location: { file },
      });
      continue;
    }
    seen.set(name, file);
    const result = parseDashboard(name, file, await readFile(join(dir, entry), 'utf8'));
    problems.push(...result.problems);
    if (result.dashboard) dashboards.push(result.dashboard);
  }
  if (problems.length) throw new ProblemsError(problems);
  return dashboards.sort((a, b) => a.name.localeCompare(b.name));
}

/** The dashboard of that name, or a NOT_FOUND error listing the names there are. */
export function findDashboard(dashboards: readonly Dashboard[], name: string): Dashboard {
  const found = dashboards.find((d) => d.name === name);
  if (found) return found;
  throw new TributaryError(`no dashboard named ${name}`, {
    code: 'NOT_FOUND',
    hint: dashboards.length
      ? `dashboards: ${dashboards.map((d) => d.name).join(', ')}`
      : `add one as ${DASHBOARDS_DIR}/${name}.yml`,
  });
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
