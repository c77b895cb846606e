/**
 * The HTTP API (Fastify): tokens with roles on every route, an audit entry for every mutating
 * call (hooks.ts holds what every request passes through), the sandboxed SQL endpoint, runs,
 * logs, graph, catalog, quality, dead letters and dashboards, an OpenAPI description generated
 * from the route schemas, and the built web UI as static files. Tests call it in-process with
 * `app.inject()`; `tributary serve` listens on it, over HTTPS when given a certificate.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { TributaryError } from '../core/index.js';
import { lakeKeys, readManifest, type TableManifest } from '../lake/index.js';
import {
  partitionStates,
  replayDeadLetter,
  selectAssets,
  type PipelineServer,
  type Workspace,
} from '../orchestrator/index.js';
import { ROLES, type Role, type TokenStore } from './auth.js';
import { toArrowIpc } from './arrow.js';
import { csvLines } from './csv.js';
import type { DashboardService } from './dashboards-service.js';
import {
  HttpError,
  SESSION_COOKIE,
  installGuards,
  sessionCookie,
  sessionCookieHeader,
} from './hooks.js';
import type { ParamValue, SqlRunner } from './types.js';

export interface AppContext {
  ws: Workspace;
  tokens: TokenStore;
  sql: SqlRunner;
  dashboards?: DashboardService;
  /** The scheduler process, when serving: runs and replays go through its queue. */
  server?: PipelineServer;
  /** The built UI (dist/web); a note is served when it is missing. */
  staticDir?: string;
  version: string;
  /** A certificate and its key (PEM): the app then answers HTTPS only. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** A route as registered: what tests derive their route lists from. */
export interface RouteEntry {
  method: string;
  url: string;
  /** The least role it needs; undefined for a public route. */
  role?: Role;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered on the app, in order. */
    routeTable: RouteEntry[];
  }
}

export { HttpError };

const STATUS_BY_CODE: Record<string, number> = {
  USAGE: 400,
  CONFIG: 400,
  INPUT: 400,
  LOCKED: 409,
  GRAPH: 400,
};

export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  // With `https`, Fastify's instance is typed for an https.Server; the routes are the same.
  const app = Fastify({
    logger: false,
    bodyLimit: 1 << 20,
    ajv: { customOptions: { allowUnionTypes: true } },
    ...(ctx.tls ? { https: { cert: ctx.tls.cert, key: ctx.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  const { ws, tokens, sql } = ctx;
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      routeTable.push({
        method,
        url: route.url,
        ...(route.config?.role ? { role: route.config.role } : {}),
      });
  });

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

  installGuards(app, tokens);

  app.setErrorHandler((err, _req, reply) => {
    const e = err as Error & { statusCode?: number; validation?: unknown };
    if (err instanceof HttpError)
      return reply.status(err.status).send({
        error: {
          code: String(err.status),
          message: err.message,
          ...(err.hint ? { hint: err.hint } : {}),
        },
      });
    if (err instanceof TributaryError) {
      const status =
        /^no (run|dead letter|dashboard|tile|table|asset|active token)|matches no asset|no asset matches|has no tile|is not partitioned/.test(
          err.message,
        )
          ? 404
          : (STATUS_BY_CODE[err.code] ?? 500);
      return reply.status(status).send({
        error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) },
      });
    }
    if (e.validation)
      return reply.status(400).send({ error: { code: 'USAGE', message: e.message } });
    if (e.statusCode && e.statusCode < 500)
      return reply.status(e.statusCode).send({ error: { code: 'USAGE', message: e.message } });
    return reply.status(500).send({ error: { code: 'INTERNAL', message: e.message } });
  });

  const { graph } = ws;
  const viewer = { role: 'viewer' as const };
  const operator = { role: 'operator' as const };
  const admin = { role: 'admin' as const };

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/api/health',
    { schema: { tags: ['meta'], summary: 'Liveness', security: [] } },
    async () => ({
      ok: true,
      version: ctx.version,
      dataVersion: sql.dataVersion(),
      auditFailures: tokens.audit.failures,
    }),
  );

  app.post<{ Body: { token: string } }>(
    '/api/session',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with a token: opens a session and sets its cookie',
        security: [],
        body: {
          type: 'object',
          required: ['token'],
          properties: { token: { type: 'string', maxLength: 200 } },
        },
      },
    },
    async (req, reply) => {
      const checked = await tokens.check(req.body.token);
      if (!checked.ok) {
        req.refusal = { reason: checked.reason, tokenId: checked.tokenId };
        throw new HttpError(401, 'unknown or revoked token');
      }
      const info = checked.info;
      req.user = info;
      void reply.header('set-cookie', sessionCookieHeader(req, await tokens.createSession(info)));
      return { id: info.id, name: info.name, role: info.role };
    },
  );

  app.delete(
    '/api/session',
    { schema: { tags: ['auth'], summary: 'Log out: ends the session', security: [] } },
    async (req, reply) => {
      const session = sessionCookie(req);
      if (session !== undefined) await tokens.endSession(session);
      void reply.header('set-cookie', sessionCookieHeader(req));
      return { ok: true };
    },
  );

  app.get(
    '/api/me',
    { config: viewer, schema: { tags: ['auth'], summary: 'Who the token is' } },
    async (req) => ({
      id: req.user!.id,
      name: req.user!.name,
      role: req.user!.role,
    }),
  );

  // --- SQL ---------------------------------------------------------------------------------
  app.post<{
    Body: {
      sql: string;
      params?: Record<string, ParamValue>;
      format?: 'json' | 'csv' | 'arrow';
      limit?: number;
      timeoutMs?: number;
    };
  }>(
    '/api/query',
    {
      config: viewer,
      schema: {
        tags: ['sql'],
        summary: 'Run one read-only SELECT on the published warehouse snapshot',
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

  // --- runs, logs, graph -------------------------------------------------------------------
  app.get<{ Querystring: { limit?: number } }>(
    '/api/runs',
    {
      config: viewer,
      schema: {
        tags: ['runs'],
        summary: 'Recent runs, newest first',
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
    { config: viewer, schema: { tags: ['runs'], summary: 'A run and its steps' } },
    async (req) => {
      const run = await ws.state.getRun(req.params.id);
      if (!run) throw new HttpError(404, `no run ${req.params.id}`);
      return { run, steps: await ws.state.listSteps(run.runId) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { step?: string } }>(
    '/api/runs/:id/logs',
    {
      config: viewer,
      schema: {
        tags: ['runs'],
        summary: "A run's log lines, or one step's",
        querystring: { type: 'object', properties: { step: { type: 'string' } } },
      },
    },
    async (req) => {
      const run = await ws.state.getRun(req.params.id);
      if (!run) throw new HttpError(404, `no run ${req.params.id}`);
      return ws.state.stepLogs(run.runId, req.query.step);
    },
  );

  app.post<{ Body: { select?: string[]; exclude?: string[] } }>(
    '/api/runs',
    {
      config: operator,
      schema: {
        tags: ['runs'],
        summary: 'Queue a run of the pipeline (or a selection)',
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
      if (!ctx.server)
        throw new HttpError(
          409,
          'runs are started by `tributary serve`; this API has no scheduler',
        );
      const select = req.body?.select ?? [];
      const exclude = req.body?.exclude ?? [];
      // Validate now, so a typo is a 400 and not a failed run later.
      selectAssets(ws.graph, select, exclude);
      void ctx.server.scheduler.queue
        .submit({
          trigger: 'api',
          select,
          exclude,
          command: ['run', ...select].join(' ') + ` (api, ${req.user!.name})`,
        })
        .catch(() => undefined);
      return reply.status(202).send({ queued: true, position: ctx.server.scheduler.queue.size });
    },
  );

  app.get(
    '/api/graph',
    { config: viewer, schema: { tags: ['lineage'], summary: 'The asset graph' } },
    async () => ({
      assets: graph.order.map((k) => {
        const a = graph.assets.get(k)!;
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

  // --- catalog, partitions, quality --------------------------------------------------------
  app.get(
    '/api/catalog',
    { config: viewer, schema: { tags: ['catalog'], summary: 'Every table in every zone' } },
    async () => ws.state.listCatalog(),
  );

  app.get<{ Params: { zone: string; name: string } }>(
    '/api/catalog/:zone/:name',
    {
      config: viewer,
      schema: { tags: ['catalog'], summary: 'One table with its schema versions' },
    },
    async (req) => {
      const entry = (await ws.state.listCatalog()).find(
        (e) => e.zone === req.params.zone && e.name === req.params.name,
      );
      if (!entry)
        throw new HttpError(404, `no table ${req.params.zone}.${req.params.name} in the catalog`);
      return { ...entry, versions: await ws.state.schemaVersions(entry.zone, entry.name) };
    },
  );

  app.get<{ Params: { asset: string } }>(
    '/api/partitions/:asset',
    {
      config: viewer,
      schema: { tags: ['runs'], summary: 'Every partition of a partitioned model, with status' },
    },
    async (req) => partitionStates(ws, req.params.asset),
  );

  app.get(
    '/api/quality',
    {
      config: viewer,
      schema: { tags: ['quality'], summary: 'Latest test results and quarantine per table' },
    },
    async () => {
      const tests = (await ws.state.latestSteps('test')).map((s) => ({
        asset: s.asset,
        status: s.status,
        failingRows: s.rowsOut,
        message: s.message,
        runId: s.runId,
        finishedAt: s.finishedAt,
      }));
      const quarantine = [];
      for (const t of ws.project.tables) {
        const m = await readManifest<TableManifest>(ws.store, lakeKeys.processedManifest(t.table));
        const reasons: Record<string, number> = {};
        let rows = 0;
        for (const q of m?.quarantine ?? []) {
          rows += q.rows;
          for (const [r, n] of Object.entries(q.reasons)) reasons[r] = (reasons[r] ?? 0) + n;
        }
        quarantine.push({
          table: t.table,
          source: t.source,
          rows,
          reasons,
          rejectedFiles: Object.keys(m?.rejected ?? {}).length,
        });
      }
      return { tests, quarantine };
    },
  );

  app.get<{ Params: { table: string }; Querystring: { limit?: number } }>(
    '/api/quarantine/:table',
    {
      // Rejected rows are raw values, personal data unmasked: the quarantine zone's rule.
      config: operator,
      schema: {
        tags: ['quality'],
        summary: "A table's quarantined rows with their reasons",
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 10000 } },
        },
      },
    },
    async (req) => {
      const table = ws.project.tables.find((t) => t.table === req.params.table);
      if (!table) throw new HttpError(404, `no table ${req.params.table}`);
      const q = ws.warehouse.dialect.quoteIdentifier;
      const result = await sql.query(
        `SELECT * FROM quarantine.${q(table.table)} ORDER BY _source_file, _record`,
        {},
        { rowLimit: req.query.limit ?? 1000, role: req.user!.role },
      );
      return { columns: result.columns, rows: result.rows, truncated: result.truncated };
    },
  );

  // --- dead letters -----------------------------------------------------------------------
  app.get<{
    Querystring: {
      status?: 'pending' | 'replaying' | 'replayed';
      kind?: 'notification' | 'event' | 'record';
    };
  }>(
    '/api/dlq',
    {
      config: viewer,
      schema: {
        tags: ['dead letters'],
        summary: 'Dead letters',
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
    { config: viewer, schema: { tags: ['dead letters'], summary: 'One dead letter' } },
    async (req) => {
      const entry = await ws.dlq.get(req.params.id);
      if (!entry) throw new HttpError(404, `no dead letter ${req.params.id}`);
      return entry;
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/dlq/:id/replay',
    {
      config: operator,
      schema: { tags: ['dead letters'], summary: 'Replay one dead letter (applied once)' },
    },
    async (req) => {
      const replay = () => replayDeadLetter(ws, req.params.id);
      const entry = ctx.server
        ? await ctx.server.exclusive(`replay:${req.params.id}`, replay)
        : await replay();
      return { id: entry.id, status: entry.status };
    },
  );

  // --- tokens and audit ---------------------------------------------------------------------
  app.get(
    '/api/tokens',
    { config: admin, schema: { tags: ['auth'], summary: 'Tokens (never their secrets)' } },
    async () => tokens.list(),
  );

  app.post<{ Body: { role: Role; name?: string } }>(
    '/api/tokens',
    {
      config: admin,
      schema: {
        tags: ['auth'],
        summary: 'Create a token (shown once)',
        body: {
          type: 'object',
          required: ['role'],
          properties: {
            role: { type: 'string', enum: [...ROLES] },
            name: { type: 'string', maxLength: 100 },
          },
        },
      },
    },
    async (req, reply) => {
      const { info, token } = await tokens.create(req.body.role, req.body.name);
      return reply.status(201).send({ ...info, token });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/tokens/:id',
    { config: admin, schema: { tags: ['auth'], summary: 'Revoke a token' } },
    async (req) => tokens.revoke(req.params.id),
  );

  app.get<{ Querystring: { limit?: number } }>(
    '/api/audit',
    {
      config: admin,
      schema: {
        tags: ['auth'],
        summary: 'The audit log, newest first',
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 10000 } },
        },
      },
    },
    async (req) => tokens.audit.list(req.query.limit ?? 100),
  );

  // --- dashboards ----------------------------------------------------------------------------
  if (ctx.dashboards) ctx.dashboards.register(app, viewer);

  // --- the UI --------------------------------------------------------------------------------
  const dir = ctx.staticDir;
  if (dir && existsSync(join(dir, 'index.html'))) {
    await app.register(fastifyStatic, { root: dir, prefix: '/', index: ['index.html'] });
    app.setNotFoundHandler((req, reply) => {
      if (req.url.startsWith('/api/'))
        return reply.status(404).send({
          error: { code: '404', message: `no route ${req.method} ${req.url.split('?')[0]}` },
        });
      return reply.sendFile('index.html');
    });
  } else {
    app.get('/', async (_req, reply: FastifyReply) =>
      reply
        .type('text/html')
        .send(
          '<!doctype html><title>Tributary</title><p>The web UI is not built: run <code>npm run build:web</code>. The API is under <a href="/api/openapi.json">/api</a>.</p>',
        ),
    );
    app.setNotFoundHandler((req, reply) =>
      reply.status(404).send({
        error: { code: '404', message: `no route ${req.method} ${req.url.split('?')[0]}` },
      }),
    );
  }
  return app;
}
