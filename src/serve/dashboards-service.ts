/**
 * The dashboards' part of the API: definitions, filter options, every tile of a dashboard at
 * once (the cached endpoint the UI and the benchmark use), one tile, and one tile as CSV. One
 * QueryCache per server: results are keyed by SQL, parameters and the versions of the relations
 * the SQL reads, so a run that changes a table drops only what read it.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  dashboardDefinitionSchema,
  dashboardResultSchema,
  dashboardSummarySchema,
  filterOptionsSchema,
  jsonResponse,
  tileResultSchema,
} from './api-schemas.js';
import type { Role } from './auth.js';
import {
  QueryCache,
  dashboardDefinition,
  dashboardSummary,
  findDashboard,
  findTile,
  runDashboard,
  runTile,
  selectOptions,
  tileCsv,
  type Dashboard,
} from './dashboards/index.js';
import type { SqlRunner } from './types.js';

export interface DashboardService {
  /** Adds the /api/dashboards routes, each needing `role`. */
  register(app: FastifyInstance, role: { role: Role }): void;
  readonly cache: QueryCache;
}

type Query = Record<string, string>;

export function dashboardRoutes(dashboards: Dashboard[], sql: SqlRunner): DashboardService {
  const cache = new QueryCache({ maxEntries: 2000 });
  // Tiles run under the viewing user's read rules (PII masked for viewers), cached per role.
  const as = (role: Role) => ({ cache, ignoreUnknownFilters: true, limits: { role } });
  return {
    cache,
    register(app, config) {
      app.get(
        '/api/dashboards',
        {
          config,
          schema: {
            tags: ['dashboards'],
            summary: 'The dashboards of dashboards/*.yml',
            response: { 200: jsonResponse(z.array(dashboardSummarySchema)) },
          },
        },
        async () => dashboards.map(dashboardSummary),
      );
      app.get<{ Params: { name: string } }>(
        '/api/dashboards/:name',
        {
          config,
          schema: {
            tags: ['dashboards'],
            summary: 'A dashboard: filters and tiles (no SQL)',
            response: { 200: jsonResponse(dashboardDefinitionSchema) },
          },
        },
        async (req) => dashboardDefinition(findDashboard(dashboards, req.params.name)),
      );
      app.get<{ Params: { name: string; filter: string } }>(
        '/api/dashboards/:name/filters/:filter/options',
        {
          config,
          schema: {
            tags: ['dashboards'],
            summary: "A select filter's options",
            response: { 200: jsonResponse(filterOptionsSchema) },
          },
        },
        async (req) => ({
          options: await selectOptions(
            sql,
            findDashboard(dashboards, req.params.name),
            req.params.filter,
            as(req.user!.role),
          ),
        }),
      );
      app.get<{ Params: { name: string }; Querystring: Query }>(
        '/api/dashboards/:name/data',
        {
          config,
          schema: {
            tags: ['dashboards'],
            summary: 'Every tile of a dashboard with the filters of the query string (cached)',
            response: { 200: jsonResponse(dashboardResultSchema) },
          },
        },
        async (req) =>
          runDashboard(
            sql,
            findDashboard(dashboards, req.params.name),
            req.query,
            as(req.user!.role),
          ),
      );
      app.get<{ Params: { name: string; tile: string }; Querystring: Query }>(
        '/api/dashboards/:name/tiles/:tile',
        {
          config,
          schema: {
            tags: ['dashboards'],
            summary: 'One tile (".csv" at the end: as CSV)',
            response: { 200: jsonResponse(tileResultSchema) },
          },
        },
        async (req, reply) => {
          const d = findDashboard(dashboards, req.params.name);
          const csv = req.params.tile.endsWith('.csv');
          const tile = findTile(d, csv ? req.params.tile.slice(0, -4) : req.params.tile);
          const result = await runTile(sql, d, tile, req.query, as(req.user!.role));
          if (!csv) return result;
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${d.name}-${tile.id}.csv"`)
            .send(tileCsv(result));
        },
      );
    },
  };
}
