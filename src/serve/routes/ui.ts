/**
 * The built web UI as static files, with every path that is not a file or an API route answered
 * by index.html (the UI's own routes); without a build, a note that says how to make one. Both
 * are public: the UI asks for a token itself, and every API route it calls checks it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { noRoute } from '../errors.js';
import { servesPublicFilesOnly } from '../route-table.js';
import { PUBLIC } from '../context.js';

const NOT_BUILT =
  '<!doctype html><title>Tributary</title><p>The web UI is not built: run <code>npm run build:web</code>. The API is under <a href="/api/openapi.json">/api</a>.</p>';

/**
 * Registered on the app itself, not as an encapsulated plugin: the not-found handler it sets
 * answers every path, and Fastify allows one per prefix.
 */
export async function registerUi(
  app: FastifyInstance,
  staticDir: string | undefined,
): Promise<void> {
  if (staticDir && existsSync(join(staticDir, 'index.html'))) {
    // The files, in a scope of their own that vouches for the routes @fastify/static adds.
    await app.register(async (scope) => {
      servesPublicFilesOnly(scope);
      await scope.register(fastifyStatic, {
        root: staticDir,
        prefix: '/',
        index: ['index.html'],
        decorateReply: false,
      });
    });
    // reply.sendFile on the app, with no routes, for the fallback below.
    await app.register(fastifyStatic, { root: staticDir, serve: false });
    app.setNotFoundHandler((req, reply) => {
      if (req.url.startsWith('/api/')) return noRoute(req, reply);
      return reply.sendFile('index.html');
    });
  } else {
    app.get('/', { config: PUBLIC, schema: { hide: true } }, async (_req, reply: FastifyReply) =>
      reply.type('text/html').send(NOT_BUILT),
    );
    app.setNotFoundHandler(noRoute);
  }
}
