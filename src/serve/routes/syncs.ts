/**
 * Syncs (reverse ETL): each sync with its last run, one sync's run history, and running one on the
 * server's executor (queued like any API-triggered run; a dry run waits and answers the plan).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  listSyncs,
  planSyncRun,
  syncRunHistory,
  type PipelineServer,
  type Workspace,
} from '../../orchestrator/index.js';
import {
  jsonResponse,
  runQueuedSchema,
  syncDryRunSchema,
  syncRunSchema,
  syncSummarySchema,
} from '../api-schemas.js';
import { OPERATOR, VIEWER, type AppContext } from '../context.js';
import { HttpError } from '../errors.js';
import { queueRun } from './runs.js';

/** A dry run, queued behind any run in progress, answered with its plan once it has run. */
async function dryRunPlan(ws: Workspace, server: PipelineServer, name: string, user: string) {
  const plan = planSyncRun(ws, name, { dryRun: true, trigger: 'api' });
  const result = await server.scheduler.queue.submit({
    ...plan.options,
    command: `${plan.options.command} (api, ${user})`,
  });
  if (!result)
    throw new HttpError(
      503,
      'the server is stopping: the dry run was not started',
      'try again after it restarts',
    );
  const outcome = plan.outcome();
  const step = result.steps.find((s) => s.asset === `sync:${plan.sync.name}`);
  return {
    runId: result.runId,
    status: result.status,
    dryRun: true as const,
    inserted: outcome?.inserted ?? 0,
    updated: outcome?.updated ?? 0,
    deleted: outcome?.deleted ?? 0,
    unchanged: outcome?.unchanged ?? 0,
    samples: outcome?.samples ?? { insert: [], update: [], delete: [] },
    message: outcome?.message ?? step?.message ?? result.status,
  };
}

export const syncRoutes: FastifyPluginAsync<AppContext> = async (app, { ws, server }) => {
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

  app.post<{ Params: { name: string }; Body: { dryRun?: boolean; fullResync?: boolean } | null }>(
    '/api/syncs/:name/run',
    {
      config: OPERATOR,
      schema: {
        tags: ['syncs'],
        summary:
          'Run one sync on the server: queued like any run (202 with its run id); a dry run waits and answers what it would send',
        body: {
          type: ['object', 'null'],
          properties: { dryRun: { type: 'boolean' }, fullResync: { type: 'boolean' } },
          additionalProperties: false,
        },
        response: { 200: jsonResponse(syncDryRunSchema), 202: jsonResponse(runQueuedSchema) },
      },
    },
    async (req, reply) => {
      if (!server)
        throw new HttpError(
          409,
          'syncs are run by `tributary serve`; this API has no scheduler',
          'run it with `tributary sync <name>` instead',
        );
      const user = req.user!.name;
      if (req.body?.dryRun)
        return reply.status(200).send(await dryRunPlan(ws, server, req.params.name, user));
      // Checked now (a sync that does not exist or is turned off is answered, not a failed run later).
      const plan = planSyncRun(ws, req.params.name, {
        fullResync: Boolean(req.body?.fullResync),
        trigger: 'api',
      });
      const queued = await queueRun(server, {
        ...plan.options,
        exclude: [],
        command: `${plan.options.command} (api, ${user})`,
      });
      return reply.status(202).send(queued);
    },
  );
};
