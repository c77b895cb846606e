/** The project's dashboards for the API, loaded from dashboards/*.yml (none: no routes). */
import type { Workspace } from '../../orchestrator/index.js';
import {
  dashboardRoutes,
  loadDashboards,
  type DashboardService,
  type SqlRunner,
} from '../../serve/index.js';

export async function dashboardService(
  ws: Workspace,
  sql: SqlRunner,
): Promise<{ dashboards?: DashboardService }> {
  const dashboards = await loadDashboards(ws.project.dir);
  return { dashboards: dashboardRoutes(dashboards, sql) };
}
