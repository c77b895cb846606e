/**
 * Stream tables in the orchestrator: their landing step goes to the stream module (the sources
 * module cannot know it: streams sit above sources), through the flusher of the process that owns
 * the log when there is one, else through the log opened for the landing.
 */
import type { StreamSourceTable } from '../project/index.js';
import { StreamSource, openStreamLog } from '../stream/index.js';
import type { Workspace } from './workspace.js';

/** The connector landing a stream table in this workspace. */
export function streamSourceFor(ws: Workspace, table: StreamSourceTable): StreamSource {
  return new StreamSource(
    table,
    ws.streams
      ? { flusher: ws.streams }
      : { open: () => openStreamLog(ws.project.config.stream.log, ws.project.dir) },
  );
}
