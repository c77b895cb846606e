/**
 * The project's dashboards for the API, loaded from dashboards/*.yml, and their assets for the
 * graph (each reading the relations its tiles query).
 */
import { openDuckDB } from '../../engines/index.js';
import type { Asset, Workspace } from '../../orchestrator/index.js';
import {
  dashboardAssets,
  dashboardRoutes,
  loadDashboards,
  type DashboardService,
  type SqlRunner,
} from '../../serve/index.js';

export async function dashboardService(
  ws: Workspace,
  sql: SqlRunner,
): Promise<{ dashboards?: DashboardService; extraAssets?: Asset[] }> {
  const dashboards = await loadDashboards(ws.project.dir);
  // SQL is only parsed here: an in-memory instance, not the warehouse.
  const parser = await openDuckDB({ path: ':memory:' });
  try {
    return {
      dashboards: dashboardRoutes(dashboards, sql),
      extraAssets: await dashboardAssets(
        parser,
        dashboards,
        ws.graph,
        ws.models,
        ws.project.config.models.schema,
      ),
    };
  } finally {
    await parser.close();
  }
}
