/**
 * Stream tables in the orchestrator: their landing step goes to the stream module (the sources
 * module cannot know it: streams sit above sources), through the flusher of the process that owns
 * the log when there is one, else through the workspace's one opening of the log, which the
 * landings running at the same time share.
 */
import type { StreamSourceTable } from '../project/index.js';
import { TributaryError } from '../core/index.js';
import type { Project } from '../project/index.js';
import { LogOpening, StreamSource, advisoryFlushFence, openStreamLog } from '../stream/index.js';
import type { Workspace } from './workspace.js';

/** Each workspace's one opening of its stream log, leased by its landings (opening.ts). */
const openings = new WeakMap<Workspace, LogOpening>();

function openingOf(ws: Workspace): LogOpening {
  let opening = openings.get(ws);
  if (!opening) {
    opening = new LogOpening(() => openStreamLog(ws.project.config.stream.log, ws.project.dir));
    openings.set(ws, opening);
  }
  return opening;
}

/** The connector landing a stream table in this workspace. */
export function streamSourceFor(ws: Workspace, table: StreamSourceTable): StreamSource {
  return new StreamSource(
    table,
    ws.streams
      ? { flusher: ws.streams }
      : {
          // Landings at the same time (a run's stream tables) share one opening of the log.
          open: () => openingOf(ws).acquire(),
          // Shared, serve replicas and other workers flush the same tables from the same log.
          ...(ws.shared ? { fence: () => advisoryFlushFence(ws.state.engine) } : {}),
        },
  );
}

/**
 * Refuses to collect (serve, collect) in shared mode on the local segment log. Each replica
 * would append to a log of its own (its own disk; on one machine, two openers of one folder,
 * which its lock refuses), while the lake keeps one cursor per stream shard: records of one
 * replica's log would be read past as if flushed, or their sequence numbers taken for another
 * log's. JetStream is one log every replica reaches, and each flush is fenced (fence.ts).
 */
export function checkSharedStreamLog(project: Project, shared: boolean): void {
  if (!shared || project.config.stream.log.type !== 'local') return;
  throw new TributaryError(
    'this project is shared (state and warehouse on PostgreSQL), but its stream log is the local segment log, which only one process on one machine can own: replicas cannot collect into it',
    {
      code: 'CONFIG',
      location: { file: 'tributary.yml', path: 'stream.log' },
      hint: 'set stream.log to { type: jetstream, url: nats://… } so every replica appends to one log, or run the collector in a project that is not shared',
    },
  );
}
