/** The asset graph, for lineage. */
import type { FastifyPluginAsync } from 'fastify';
import { VIEWER, type AppContext } from '../context.js';
import { graphSchema, jsonResponse } from '../api-schemas.js';

export const graphRoutes: FastifyPluginAsync<AppContext> = async (app, { ws }) => {
  app.get(
    '/api/graph',
    {
      config: VIEWER,
      schema: {
        tags: ['lineage'],
        summary: 'The asset graph',
        response: { 200: jsonResponse(graphSchema) },
      },
    },
    async () => ({
      assets: ws.graph.order.map((k) => {
        const a = ws.graph.assets.get(k)!;
        return {
          key: a.key,
          kind: a.kind,
          name: a.name,
          deps: a.deps,
          tags: a.tags,
          ...(a.file ? { file: a.file } : {}),
        };
      }),
    }),
  );
};
