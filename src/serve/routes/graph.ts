/** The asset graph, for lineage; and column lineage: every asset's columns, one column's trace. */
import type { FastifyPluginAsync } from 'fastify';
import { TributaryError } from '../../core/index.js';
import { columnLineageOf, traceColumn, type TraceDirection } from '../../orchestrator/index.js';
import { VIEWER, type AppContext } from '../context.js';
import {
  columnTraceSchema,
  graphSchema,
  jsonResponse,
  lineageColumnsSchema,
} from '../api-schemas.js';

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

  app.get(
    '/api/lineage/columns',
    {
      config: VIEWER,
      schema: {
        tags: ['lineage'],
        summary: "Every asset's columns, as column lineage knows them",
        response: { 200: jsonResponse(lineageColumnsSchema) },
      },
    },
    async () => {
      const lineage = await columnLineageOf(ws);
      // Assets whose columns could not be resolved at all are listed too, with the reason.
      const unresolvedAssets = lineage.tableLevel.filter((t) => !t.tile).map((t) => t.asset);
      const keys = new Set([...lineage.columns.keys(), ...unresolvedAssets]);
      return {
        assets: [...keys].map((asset) => {
          const why = lineage.unresolved.get(asset);
          return {
            asset,
            columns: lineage.columns.get(asset) ?? [],
            ...(why ? { unresolved: why } : {}),
          };
        }),
      };
    },
  );

  app.get<{
    Params: { asset: string; column: string };
    Querystring: { direction?: TraceDirection };
  }>(
    '/api/lineage/columns/:asset/:column',
    {
      config: VIEWER,
      schema: {
        tags: ['lineage'],
        summary: "One column's upstream and downstream columns",
        querystring: {
          type: 'object',
          properties: {
            direction: { type: 'string', enum: ['upstream', 'downstream', 'both'] },
          },
        },
        response: { 200: jsonResponse(columnTraceSchema) },
      },
    },
    async (req) => {
      const lineage = await columnLineageOf(ws);
      const { asset, column } = req.params;
      if (!lineage.columns.get(asset)?.includes(column))
        throw new TributaryError(`${asset} has no column ${column} in the column lineage`, {
          code: 'NOT_FOUND',
          hint: 'GET /api/lineage/columns lists every asset with its columns',
        });
      return traceColumn(lineage, asset, column, req.query.direction ?? 'both');
    },
  );
};
