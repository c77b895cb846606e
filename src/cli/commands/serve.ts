/**
 * `tributary serve`: one process runs the scheduler (schedules, triggers, freshness, alerts,
 * crash recovery) and the HTTP API with the web UI (HTTPS when given a certificate), and, for a
 * project with streams, the collector and the flusher loop (stream.collector's port), until
 * SIGTERM or Ctrl-C. The demo ends here too, serving the template's dashboards. With state and
 * warehouse on PostgreSQL several replicas may serve one project: each answers the API, and the
 * one that leads (docs/state.md) fires the schedules.
 */
import { join, resolve } from 'node:path';
import { TributaryError } from '../../core/index.js';
import { PipelineServer, openWorkspace, type Workspace } from '../../orchestrator/index.js';
import {
  queryRunnerFor,
  TokenStore,
  buildApp,
  loadTlsFiles,
  startHttp,
  type TlsFiles,
} from '../../serve/index.js';
import { packageRoot, packageVersion } from '../paths.js';
import type { Collecting } from '../../stream/index.js';
import { dashboardService } from './serve-dashboards.js';
import { collectFor, collectsStreams } from './streams.js';

export interface ServeOptions {
  host: string;
  port: number;
  /** Resume runs a crashed process left running. */
  resume: boolean;
  /** On SIGTERM, how long running steps may take before they are interrupted. */
  graceMs: number;
  quiet: boolean;
  /** Certificate and key files (PEM) for HTTPS, relative to the working folder; both or neither. */
  tlsCert?: string;
  tlsKey?: string;
  /** Told the URL once listening (the demo prints it with a token). */
  onListening?: (url: string, ws: Workspace, tokens: TokenStore) => Promise<void> | void;
}

/** The certificate to serve HTTPS with: from the options, else from tributary.yml, else none. */
async function tlsOf(ws: Workspace, opts: ServeOptions): Promise<TlsFiles | undefined> {
  if (opts.tlsCert !== undefined || opts.tlsKey !== undefined) {
    if (opts.tlsCert === undefined || opts.tlsKey === undefined)
      throw new TributaryError('--tls-cert and --tls-key go together', {
        code: 'USAGE',
        hint: 'give both the certificate and its private key',
      });
    return loadTlsFiles(resolve(opts.tlsCert), resolve(opts.tlsKey), '--tls-cert/--tls-key');
  }
  const tls = ws.project.config.serve?.tls;
  if (!tls) return undefined;
  return loadTlsFiles(
    resolve(ws.project.dir, tls.cert),
    resolve(ws.project.dir, tls.key),
    'serve.tls in tributary.yml',
  );
}

export async function serveProject(projectDir: string, opts: ServeOptions): Promise<void> {
  const ws = await openWorkspace(projectDir, 'serve');
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const sandbox = queryRunnerFor(ws);
  const server = new PipelineServer(ws, {
    resumeAbandoned: opts.resume,
    runDefaults: { progress: { update: () => undefined, log: (m) => log(m) } },
    onEvent: (e) => {
      if (['run_finished', 'error', 'leadership'].includes(e.kind) || !opts.quiet) log(e.message);
    },
    onPublished: () => sandbox.refresh(),
  });
  let http: { url: string; close(): Promise<void> } | undefined;
  let collecting: Collecting | undefined;
  let stopping: Promise<void> | undefined;
  // What the signal's stop closed: a signal can come while serve is still starting (a resumed
  // run already running, the HTTP server or the collector not up yet); what starts after it is
  // closed when the start ends, or the listening socket keeps the process alive for good.
  const closedBySignal = new Set<unknown>();
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log(`${signal} again: interrupting running steps`);
        server.scheduler.queue.abortCurrent();
        return;
      }
      log(`${signal}: finishing running steps (up to ${opts.graceMs} ms), then stopping`);
      const grace = setTimeout(() => server.scheduler.queue.abortCurrent(), opts.graceMs);
      stopping = (async () => {
        if (http) closedBySignal.add(http);
        await http?.close();
        if (collecting) closedBySignal.add(collecting);
        await collecting?.stop();
        await server.stop('drain');
      })().finally(() => {
        clearTimeout(grace);
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  // Between runs nothing else may keep the event loop (and so the process) alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let tokens: TokenStore | undefined;
  try {
    const tls = await tlsOf(ws, opts);
    tokens = await TokenStore.open(ws.state.engine);
    // Replicas hear each other's revocations: a revoked token stops working on all of them.
    if (ws.shared) await tokens.watchRevocations();
    // Requests a dead server left `started` are marked interrupted, but only when this process
    // owns the project: a replica sharing the state would mark the others' live requests too.
    const interrupted = ws.shared ? 0 : await tokens.audit.closeInterrupted();
    if (interrupted)
      log(
        `${interrupted} audited request(s) were cut short by the previous server's end: marked interrupted`,
      );
    // Streams first: a run the start resumes lands stream tables through this flusher, not a
    // second opener of the log.
    if (collectsStreams(ws.project)) {
      // The collector and the flusher loop beside the scheduler: each committed batch runs its
      // table's processing and what is downstream, as a file arrival does.
      collecting = await collectFor(ws, {
        tokens,
        log,
        onBatch: (table) => server.streamLanded(table),
      });
      log(`collecting streams at ${collecting.url}`);
    }
    await server.start();
    await sandbox.refresh();
    const app = await buildApp({
      ws,
      tokens,
      sql: sandbox,
      server,
      staticDir: join(packageRoot(), 'dist', 'web'),
      version: packageVersion(),
      ...(tls ? { tls } : {}),
      ...dashboardService(ws, sandbox),
    });
    http = await startHttp(app, tokens, ws.project.paths.work, {
      host: opts.host,
      port: opts.port,
      ...(tls ? { tlsCert: tls.certPath } : {}),
    });
    const ticks = server.scheduler.nextTicks();
    log(
      `serving ${ws.project.config.name} at ${http.url} (pid ${process.pid}): ${ticks.length} schedule(s)${ticks.map((t) => `, ${t.schedule} next ${t.next ?? 'never'}`).join('')}; ${Object.keys(ws.project.config.triggers).length} trigger(s)`,
    );
    await opts.onListening?.(http.url, ws, tokens);
    await stopped;
  } finally {
    clearInterval(keepAlive);
    const stoppedBySignal = stopping !== undefined;
    if (!stoppedBySignal) {
      await http?.close();
      await collecting?.stop();
      await server.stop('drain');
    }
    await stopping;
    if (stoppedBySignal) {
      if (http && !closedBySignal.has(http)) await http.close();
      if (collecting && !closedBySignal.has(collecting)) await collecting.stop();
    }
    await sandbox.close();
    await tokens?.close();
    await ws.close();
  }
}
