/** Syncs (reverse ETL): each sync with its last run, and one sync's run history. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { listSyncs, syncRunHistory } from '../../orchestrator/index.js';
import { jsonResponse, syncRunSchema, syncSummarySchema } from '../api-schemas.js';
import { VIEWER, type AppContext } from '../context.js';

export const syncRoutes: FastifyPluginAsync<AppContext> = async (app, { ws }) => {
  app.get(
    '/api/syncs',
    {
      config: VIEWER,
      schema: {
        tags: ['syncs'],
        summary: 'Syncs with their last run, counts and waiting dead letters',
        response: { 200: jsonResponse(z.array(syncSummarySchema)) },
      },
    },
    async () => listSyncs(ws),
  );

  app.get<{ Params: { name: string }; Querystring: { limit?: number } }>(
    '/api/syncs/:name/runs',
    {
      config: VIEWER,
      schema: {
        tags: ['syncs'],
        summary: "One sync's runs, newest first (dry runs marked)",
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } },
        },
        response: { 200: jsonResponse(z.array(syncRunSchema)) },
      },
    },
    async (req) => syncRunHistory(ws, req.params.name, req.query.limit ?? 50),
  );
};
