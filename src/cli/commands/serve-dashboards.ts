/** The project's dashboards for the API (filled in when the dashboards module lands). */
import type { Workspace } from '../../orchestrator/index.js';
import type { DashboardService, SqlRunner } from '../../serve/index.js';

export async function dashboardService(
  _ws: Workspace,
  _sql: SqlRunner,
): Promise<{ dashboards?: DashboardService }> {
  return {};
}
