/** Runs: history, one run with its steps, its log lines, and queueing a new run. */
import type { FastifyPluginAsync } from 'fastify';
import { TributaryError } from '../../core/index.js';
import { selectAssets, type PipelineServer, type RunRequest } from '../../orchestrator/index.js';
import { OPERATOR, VIEWER, type AppContext } from '../context.js';
import { HttpError } from '../errors.js';
import { z } from 'zod';
import {
  jsonResponse,
  logLineSchema,
  runDetailSchema,
  runQueuedSchema,
  runSchema,
} from '../api-schemas.js';

const noRun = (id: string) =>
  new TributaryError(`no run ${id}`, {
    code: 'NOT_FOUND',
    hint: 'GET /api/runs (or `tributary runs`) lists run ids',
  });

export interface QueuedRun {
  queued: true;
  /** Its place in the queue when answered: 1 is running now. */
  position: number;
  /** The run's id, once it started (it then is in GET /api/runs). */
  runId?: string;
}

/**
 * Queues a run. When nothing is ahead of it, the answer waits until the run is recorded in
 * history, so a run that cannot start (its state cannot be written, say) is answered with that
 * error instead of 202. Queued behind another run, it is answered at once; if it later cannot
 * start, the scheduler reports it (serve's log) like any run it could not start.
 */
export async function queueRun(
  server: PipelineServer,
  request: Omit<RunRequest, 'trigger' | 'onStart'> & {
    select: string[];
    exclude: string[];
    command: string;
  },
): Promise<QueuedRun> {
  const queue = server.scheduler.queue;
  const ahead = queue.size;
  let started!: (runId: string) => void;
  const start = new Promise<string>((resolve) => (started = resolve));
  const done = queue.submit({ trigger: 'api', ...request, onStart: (id) => started(id) });
  const position = queue.size;
  if (ahead > 0) {
    // Its failure, should it come, is the scheduler's to report (its error event, logged).
    done.catch(() => undefined);
    return { queued: true, position };
  }
  const first = await Promise.race([
    start.then((runId) => ({ runId })),
    done.then((result) => ({ result })),
  ]);
  if ('runId' in first) {
    done.catch(() => undefined); // from here its outcome is in run history
    return { queued: true, position, runId: first.runId };
  }
  if (first.result) return { queued: true, position, runId: first.result.runId };
  throw new HttpError(
    503,
    'the server is stopping: the run was not started',
    'try again after it restarts',
  );
}

export const runRoutes: FastifyPluginAsync<AppContext> = async (app, { ws, server }) => {
  app.get<{ Querystring: { limit?: number } }>(
    '/api/runs',
    {
      config: VIEWER,
      schema: {
        tags: ['runs'],
        summary: 'Recent runs, newest first',
        response: { 200: jsonResponse(z.array(runSchema)) },
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } },
        },
      },
    },
    async (req) => ws.state.listRuns(req.query.limit ?? 50),
  );

  app.get<{ Params: { id: string } }>(
    '/api/runs/:id',
    {
      config: VIEWER,
      schema: {
        tags: ['runs'],
        summary: 'A run and its steps',
        response: { 200: jsonResponse(runDetailSchema) },
      },
    },
    async (req) => {
      const run = await ws.state.getRun(req.params.id);
      if (!run) throw noRun(req.params.id);
      return { run, steps: await ws.state.listSteps(run.runId) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { step?: string } }>(
    '/api/runs/:id/logs',
    {
      config: VIEWER,
      schema: {
        tags: ['runs'],
        summary: "A run's log lines, or one step's",
        response: { 200: jsonResponse(z.array(logLineSchema)) },
        querystring: { type: 'object', properties: { step: { type: 'string' } } },
      },
    },
    async (req) => {
      const run = await ws.state.getRun(req.params.id);
      if (!run) throw noRun(req.params.id);
      return ws.state.stepLogs(run.runId, req.query.step);
    },
  );

  app.post<{ Body: { select?: string[]; exclude?: string[] } }>(
    '/api/runs',
    {
      config: OPERATOR,
      schema: {
        tags: ['runs'],
        summary: 'Queue a run of the pipeline (or a selection)',
        response: { 202: jsonResponse(runQueuedSchema) },
        body: {
          type: 'object',
          properties: {
            select: { type: 'array', items: { type: 'string', maxLength: 300 }, maxItems: 100 },
            exclude: { type: 'array', items: { type: 'string', maxLength: 300 }, maxItems: 100 },
          },
        },
      },
    },
    async (req, reply) => {
      if (!server)
        throw new HttpError(
          409,
          'runs are started by `tributary serve`; this API has no scheduler',
        );
      const select = req.body?.select ?? [];
      const exclude = req.body?.exclude ?? [];
      // Checked now, so a selector that names no asset is answered (404) and not a failed run later.
      selectAssets(ws.graph, select, exclude);
      const command = ['run', ...select].join(' ') + ` (api, ${req.user!.name})`;
      return reply.status(202).send(await queueRun(server, { select, exclude, command }));
    },
  );
};
