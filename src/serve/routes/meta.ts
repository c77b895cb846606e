/** The API's description of itself (OpenAPI) and its liveness check: public. */
import type { FastifyPluginAsync } from 'fastify';
import { PUBLIC, type AppContext } from '../context.js';
import { healthSchema, jsonResponse } from '../api-schemas.js';

export const metaRoutes: FastifyPluginAsync<AppContext> = async (app, ctx) => {
  app.get('/api/openapi.json', { config: PUBLIC, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  app.get(
    '/api/health',
    {
      config: PUBLIC,
      schema: {
        tags: ['meta'],
        summary: 'Liveness',
        security: [],
        response: { 200: jsonResponse(healthSchema) },
      },
    },
    async () => {
      const scheduler = ctx.server?.scheduler;
      const leader = await scheduler?.leader();
      return {
        ok: true,
        version: ctx.version,
        dataVersion: ctx.sql.dataVersion(),
        auditFailures: ctx.tokens.audit.failures,
        ...(scheduler
          ? {
              scheduler: {
                leading: scheduler.leading,
                leader: leader ? { since: leader.since, seenAt: leader.seenAt } : null,
              },
            }
          : {}),
      };
    },
  );
};
