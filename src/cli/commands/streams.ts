/**
 * What `tributary collect` and `tributary serve` share about streams: whether a project has any,
 * the producers' credentials (producer keys in the state database, `tributary token create
 * --role producer`), and the collecting process started over an open workspace, its batches
 * told to the caller and its retention gaps logged as errors and alerted.
 */
import { describeError } from '../../core/index.js';
import { checkSharedStreamLog, type Workspace } from '../../orchestrator/index.js';
import type { Project, StreamSourceTable } from '../../project/index.js';
import type { TokenStore } from '../../serve/index.js';
import {
  advisoryFlushFence,
  startCollecting,
  streamTables,
  type Collecting,
  type CollectorCredentials,
  type FlushResult,
} from '../../stream/index.js';

/** Whether the project collects: stream tables, or streams listed in tributary.yml. */
export function collectsStreams(project: Project): boolean {
  return streamTables(project).length > 0 || Object.keys(project.config.stream.streams).length > 0;
}

/** Producers' credentials: producer keys in the state database (SigV4 secrets, bearer tokens). */
export function producerCredentials(tokens: TokenStore): CollectorCredentials {
  return {
    secretFor: (id) => tokens.producerSecret(id),
    checkBearer: (token) => tokens.checkProducer(token),
  };
}

export interface CollectOptions {
  tokens: TokenStore;
  host?: string;
  port?: number;
  log: (line: string) => void;
  /** Each committed batch (serve triggers the table's processing with it). */
  onBatch?: (table: StreamSourceTable, result: FlushResult) => void;
}

/**
 * Starts collecting for an open workspace; its landing steps then go through this flusher. In
 * shared mode every replica collects into the one JetStream log (a local log is refused), and
 * each flush holds its table's lock in the state database, so replicas' flushes never overlap.
 */
export async function collectFor(ws: Workspace, opts: CollectOptions): Promise<Collecting> {
  checkSharedStreamLog(ws.project, ws.shared);
  const fence = ws.shared ? advisoryFlushFence(ws.state.engine) : undefined;
  const collecting = await startCollecting(ws.project, ws.store, {
    ...(fence ? { fence } : {}),
    credentials: producerCredentials(opts.tokens),
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.onBatch ? { onBatch: opts.onBatch } : {}),
    onGap: (gap) => {
      opts.log(
        `error: stream ${gap.stream} ${gap.shardId}: records after sequence number ${gap.after} and before ${gap.before} were removed by retention before they were flushed into ${gap.table}; they are lost (raise the stream's retention or flush more often)`,
      );
      // Lost records alert as a failed run does; what no channel takes goes to dead letters.
      const { table, stream, shardId, after, before, detectedAt } = gap;
      ws.alerts
        ?.notify({ type: 'stream_gap', table, stream, shardId, after, before, at: detectedAt })
        .catch((err: unknown) => opts.log(`error: alerting a stream gap: ${describeError(err)}`));
    },
    onError: (table, err) => opts.log(`error: flushing ${table.id}: ${describeError(err)}`),
  }).catch(async (err: unknown) => {
    await fence?.close();
    throw err;
  });
  ws.streams = collecting.runtime.flusher;
  if (!fence) return collecting;
  return {
    ...collecting,
    stop: async () => {
      await collecting.stop();
      await fence.close();
    },
  };
}
