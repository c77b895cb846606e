/**
 * A collecting process (`tributary collect`, and `tributary serve` beside its API): the project's
 * stream log opened and its configured streams created, the flusher loop landing micro-batches
 * in the lake, and the collector's producer API (Kinesis, Firehose, POST /api/events) listening
 * on `stream.collector.host/port`. The collector has a port of its own, not the API server's:
 * the Kinesis SDK speaks cleartext HTTP/2 to an http:// endpoint (dualProtocolServerFactory),
 * and producers authenticate per request with SigV4, which the API's guards and audit log are
 * not for. Shutdown stops taking requests and lets those in flight finish their appends, lets the
 * flush in progress commit (a batch is committed whole or not at all), then closes the log.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ObjectStore } from '../lake/index.js';
import type { Project } from '../project/index.js';
import {
  collectorRoutes,
  dualProtocolServerFactory,
  type CollectorCredentials,
} from './collector/index.js';
import { startStreamRuntime, type RuntimeOptions, type StreamRuntime } from './flush/index.js';

export interface CollectingOptions extends RuntimeOptions {
  credentials: CollectorCredentials;
  /** Where the collector listens (default tributary.yml's stream.collector). */
  host?: string;
  port?: number;
  /** The region signatures are scoped to (any when unset). */
  region?: string;
}

export interface Collecting {
  runtime: StreamRuntime;
  /** The collector's URL, e.g. http://127.0.0.1:4567 (producers' `endpoint`). */
  url: string;
  /** Stops taking requests, finishes those in flight, commits or abandons the flush, closes the log. */
  stop(): Promise<void>;
}

/** Opens the log, starts the flusher loop and the collector's listener. */
export async function startCollecting(
  project: Project,
  store: ObjectStore,
  options: CollectingOptions,
): Promise<Collecting> {
  const runtime = await startStreamRuntime(project, store, options);
  let app: FastifyInstance | undefined;
  try {
    app = Fastify({ logger: false, serverFactory: dualProtocolServerFactory });
    await app.register(collectorRoutes, {
      log: runtime.log,
      credentials: options.credentials,
      ...(options.region ? { region: options.region } : {}),
    });
    const host = options.host ?? project.config.stream.collector.host;
    await app.listen({ host, port: options.port ?? project.config.stream.collector.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const shown = host.includes(':') ? `[${host}]` : host;
    const listening = app;
    return {
      runtime,
      url: `http://${shown}:${port}`,
      stop: async () => {
        await listening.close();
        await runtime.stop();
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await runtime.stop();
    throw err;
  }
}
