/**
 * The HTTP API (Fastify): tokens with roles on every route, an audit entry for every mutating
 * call (hooks.ts holds what every request passes through), the sandboxed SQL endpoint, runs,
 * logs, graph, catalog, quality, dead letters and dashboards, an OpenAPI description generated
 * from the route schemas, and the built web UI as static files. Each resource's routes are a
 * plugin of their own (routes/); every route names the role it needs or says it is public
 * (route-table.ts). Tests call it in-process with `app.inject()`; `tributary serve` listens on
 * it, over HTTPS when given a certificate.
 */
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { VIEWER, type AppContext } from './context.js';
import { sendError } from './errors.js';
import { SESSION_COOKIE, installGuards } from './hooks.js';
import { installRouteTable } from './route-table.js';
import { catalogRoutes } from './routes/catalog.js';
import { dlqRoutes } from './routes/dlq.js';
import { graphRoutes } from './routes/graph.js';
import { metaRoutes } from './routes/meta.js';
import { qualityRoutes } from './routes/quality.js';
import { runRoutes } from './routes/runs.js';
import { sessionRoutes } from './routes/session.js';
import { sqlRoutes } from './routes/sql.js';
import { syncRoutes } from './routes/syncs.js';
import { tokenRoutes } from './routes/tokens.js';
import { registerUi } from './routes/ui.js';

export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  // With `https`, Fastify's instance is typed for an https.Server; the routes are the same.
  const app = Fastify({
    logger: false,
    bodyLimit: 1 << 20,
    ajv: { customOptions: { allowUnionTypes: true } },
    ...(ctx.tls ? { https: { cert: ctx.tls.cert, key: ctx.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  installRouteTable(app);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Tributary API',
        version: ctx.version,
        description: 'Pipeline runs, catalog, quality, sandboxed SQL and dashboards (docs/api.md).',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  // Response schemas (api-schemas.ts) document the answers (OpenAPI, the web UI's types) and are
  // checked against real responses in the tests; serialising stays JSON.stringify, as for a route
  // without one, so a field a schema does not list is never dropped and no value is coerced.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  installGuards(app, ctx.tokens);
  app.setErrorHandler(sendError);

  for (const routes of [
    metaRoutes,
    sessionRoutes,
    sqlRoutes,
    runRoutes,
    graphRoutes,
    catalogRoutes,
    qualityRoutes,
    dlqRoutes,
    syncRoutes,
    tokenRoutes,
  ])
    await app.register(routes, ctx);
  const { dashboards } = ctx;
  if (dashboards) await app.register(async (scope) => dashboards.register(scope, VIEWER));
  await registerUi(app, ctx.staticDir);
  return app;
}
