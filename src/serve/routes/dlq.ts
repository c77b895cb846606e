/** Dead letters: the list, one entry, and replaying one (through the run queue when serving). */
import type { FastifyPluginAsync } from 'fastify';
import { TributaryError } from '../../core/index.js';
import { replayDeadLetter } from '../../orchestrator/index.js';
import { OPERATOR, VIEWER, type AppContext } from '../context.js';
import { z } from 'zod';
import { deadLetterSchema, jsonResponse, replayedSchema } from '../api-schemas.js';

interface ListQuery {
  status?: 'pending' | 'replaying' | 'replayed';
  kind?: 'notification' | 'event' | 'record';
}

export const dlqRoutes: FastifyPluginAsync<AppContext> = async (app, { ws, server }) => {
  app.get<{ Querystring: ListQuery }>(
    '/api/dlq',
    {
      config: VIEWER,
      schema: {
        tags: ['dead letters'],
        summary: 'Dead letters',
        response: { 200: jsonResponse(z.array(deadLetterSchema)) },
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['pending', 'replaying', 'replayed'] },
            kind: { type: 'string', enum: ['notification', 'event', 'record'] },
          },
        },
      },
    },
    async (req) =>
      ws.dlq.list({
        ...(req.query.status ? { status: req.query.status } : {}),
        ...(req.query.kind ? { kind: req.query.kind } : {}),
        limit: 1000,
      }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/dlq/:id',
    {
      config: VIEWER,
      schema: {
        tags: ['dead letters'],
        summary: 'One dead letter',
        response: { 200: jsonResponse(deadLetterSchema) },
      },
    },
    async (req) => {
      const entry = await ws.dlq.get(req.params.id);
      if (!entry)
        throw new TributaryError(`no dead letter ${req.params.id}`, {
          code: 'NOT_FOUND',
          hint: 'GET /api/dlq lists them',
        });
      return entry;
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/dlq/:id/replay',
    {
      config: OPERATOR,
      schema: {
        tags: ['dead letters'],
        summary: 'Replay one dead letter (applied once)',
        response: { 200: jsonResponse(replayedSchema) },
      },
    },
    async (req) => {
      const replay = () => replayDeadLetter(ws, req.params.id);
      const entry = server
        ? await server.exclusive(`replay:${req.params.id}`, replay)
        : await replay();
      return { id: entry.id, status: entry.status };
    },
  );
};
