/** One read-only SELECT on the published warehouse snapshot, answered as JSON, CSV or Arrow. */
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { toArrowIpc } from '../arrow.js';
import { VIEWER, type AppContext } from '../context.js';
import { csvLines } from '../csv.js';
import type { ParamValue } from '../types.js';
import { jsonResponse, queryResultSchema } from '../api-schemas.js';

interface QueryBody {
  sql: string;
  params?: Record<string, ParamValue>;
  format?: 'json' | 'csv' | 'arrow';
  limit?: number;
  timeoutMs?: number;
}

export const sqlRoutes: FastifyPluginAsync<AppContext> = async (app, { sql }) => {
  app.post<{ Body: QueryBody }>(
    '/api/query',
    {
      config: VIEWER,
      schema: {
        tags: ['sql'],
        summary: 'Run one read-only SELECT on the published warehouse snapshot',
        response: { 200: jsonResponse(queryResultSchema) },
        body: {
          type: 'object',
          required: ['sql'],
          properties: {
            sql: { type: 'string', minLength: 1, maxLength: 100_000 },
            params: {
              type: 'object',
              additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
            },
            format: { type: 'string', enum: ['json', 'csv', 'arrow'] },
            limit: { type: 'integer', minimum: 0, maximum: 1_000_000 },
            // Capped per role below that (read-policy.ts): a longer ask is a 400 naming the cap.
            timeoutMs: { type: 'integer', minimum: 1, maximum: 300_000 },
          },
        },
      },
    },
    async (req, reply) => {
      const { format = 'json' } = req.body;
      const result = await sql.query(req.body.sql, req.body.params ?? {}, {
        role: req.user!.role,
        ...(req.body.limit !== undefined ? { rowLimit: req.body.limit } : {}),
        ...(req.body.timeoutMs !== undefined ? { timeoutMs: req.body.timeoutMs } : {}),
      });
      void reply.header('x-data-version', result.dataVersion);
      void reply.header('x-truncated', String(result.truncated));
      if (format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="query.csv"')
          .send(
            Readable.from(
              csvLines(
                result.columns.map((c) => c.name),
                result.rows,
              ),
            ),
          );
      }
      if (format === 'arrow') {
        return reply.type('application/vnd.apache.arrow.stream').send(toArrowIpc(result));
      }
      return result;
    },
  );
};
