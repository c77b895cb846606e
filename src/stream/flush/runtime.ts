/**
 * The stream side of a long-running process (`tributary collect`, `tributary serve`): the
 * project's log opened (it is this process's while it runs), the streams tributary.yml lists
 * created when missing, and the flusher loop started over the project's stream tables. Stopping
 * lets the flush in progress commit and then closes the log, which finishes pending appends; the
 * caller stops taking requests first.
 */
import { TributaryError } from '../../core/index.js';
import { LocalObjectStore, type ObjectStore } from '../../lake/index.js';
import type { Project, StreamSourceTable } from '../../project/index.js';
import type { StreamLog } from '../log.js';
import { openStreamLog } from '../open.js';
import { StreamFlusher, type FlushService, type StreamFlusherOptions } from './service.js';
import { FlusherThread, flusherThreadAvailable } from './thread.js';

export interface StreamRuntime {
  log: StreamLog;
  /** On a thread of its own when it can be (the built code, a local lake), else on this one. */
  flusher: FlushService;
  /** Streams created at start (they were in tributary.yml and not in the log). */
  created: string[];
  stop(): Promise<void>;
}

export type RuntimeOptions = Pick<
  StreamFlusherOptions,
  'onBatch' | 'onGap' | 'onError' | 'pollMs' | 'now' | 'fence'
> & {
  /** Run the flusher on this thread even where a thread of its own is possible. */
  flusherOnMainThread?: boolean;
};

/** The project's stream tables. */
export function streamTables(project: Project): StreamSourceTable[] {
  return project.tables.filter((t): t is StreamSourceTable => t.kind === 'stream');
}

/** Opens the log, creates the configured streams and starts flushing. */
export async function startStreamRuntime(
  project: Project,
  store: ObjectStore,
  options: RuntimeOptions = {},
): Promise<StreamRuntime> {
  const log = await openStreamLog(project.config.stream.log, project.dir);
  try {
    const created: string[] = [];
    for (const [name, def] of Object.entries(project.config.stream.streams)) {
      if (await log.describeStream(name)) continue;
      try {
        await log.createStream(name, {
          shards: def.shards,
          maxAgeMs: def.retention.max_age,
          ...(def.retention.max_bytes !== undefined ? { maxBytes: def.retention.max_bytes } : {}),
        });
      } catch (err) {
        // Another replica sharing the log created it a moment ago: it is there, as wanted.
        if (
          err instanceof TributaryError &&
          err.code === 'CONFLICT' &&
          (await log.describeStream(name))
        )
          continue;
        throw err;
      }
      created.push(name);
    }
    const flusher = startFlusher(project, store, log, options);
    return {
      log,
      flusher,
      created,
      stop: async () => {
        await flusher.stop();
        await log.close();
      },
    };
  } catch (err) {
    await log.close();
    throw err;
  }
}

/**
 * The flusher on a thread of its own (thread.ts) when the built code and a local lake allow it
 * and no test clock or fence is given; otherwise on this thread.
 */
function startFlusher(
  project: Project,
  store: ObjectStore,
  log: StreamLog,
  options: RuntimeOptions,
): FlushService {
  const { flusherOnMainThread, ...rest } = options;
  const tables = streamTables(project);
  const tmpDir = project.paths.tmp;
  // The fence's lock is taken on the state database, which the thread does not reach.
  if (
    !flusherOnMainThread &&
    !options.now &&
    !options.fence &&
    store instanceof LocalObjectStore &&
    flusherThreadAvailable()
  ) {
    const thread = new FlusherThread({ ...rest, log, tables, tmpDir, lakeDir: store.root });
    thread.start();
    return thread;
  }
  const flusher = new StreamFlusher({ ...rest, store, tmpDir, log, tables });
  flusher.start();
  return flusher;
}
