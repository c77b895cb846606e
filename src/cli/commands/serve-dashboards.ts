/** The project's dashboards for the API (dashboards/*.yml, loaded with the workspace). */
import type { Workspace } from '../../orchestrator/index.js';
import { dashboardRoutes, type DashboardService, type SqlRunner } from '../../serve/index.js';

export function dashboardService(ws: Workspace, sql: SqlRunner): { dashboards: DashboardService } {
  return { dashboards: dashboardRoutes(ws.dashboards, sql) };
}
