/**
 * The stream-log adapters the conformance suite (log-conformance.test.ts) runs against. Each entry
 * makes its own storage (a temp folder, a unique JetStream prefix) on `open`, can open a second log
 * over the same storage after the first was closed (`reopen`, to check what survives a restart),
 * and removes everything it made on `cleanup`. Add an adapter here and the whole suite runs on it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamLog } from '../../src/stream/index.js';
import { JetStreamLog } from '../../src/stream/jetstream/index.js';
import { LocalSegmentLog } from '../../src/stream/local/index.js';

/** The NATS server the JetStream tests use: TRIBUTARY_TEST_NATS_URL, or the local default. */
export const natsTestUrl = process.env.TRIBUTARY_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface LogAdapter {
  name: string;
  /** Undefined when the adapter can run here, else why not (a service that does not answer). */
  available(): Promise<string | undefined>;
  /** A log over fresh, empty storage. */
  open(): Promise<StreamLog>;
  /** A new log over the storage of the last `open` (the previous log must be closed first). */
  reopen?(): Promise<StreamLog>;
  /** Removes every folder, stream or prefix the adapter made. */
  cleanup(): Promise<void>;
}

/** The local segment log in a temp folder; small segments so rolling and retention show. */
function localAdapter(): LogAdapter {
  const dirs: string[] = [];
  const options = { segmentBytes: 64 * 1024, retentionIntervalMs: 0 };
  return {
    name: 'local',
    available: () => Promise.resolve(undefined),
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'tributary-log-'));
      dirs.push(dir);
      return LocalSegmentLog.open(dir, options);
    },
    reopen() {
      const dir = dirs.at(-1);
      if (!dir) throw new Error('reopen before open');
      return LocalSegmentLog.open(dir, options);
    },
    async cleanup() {
      for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** JetStream on the test NATS server, under a prefix unique to each `open`. */
function jetStreamAdapter(): LogAdapter {
  const prefixes: string[] = [];
  const connectTo = (prefix: string) =>
    JetStreamLog.connect({ url: natsTestUrl, prefix, timeoutMs: 5000 });
  return {
    name: 'jetstream',
    async available() {
      try {
        await (
          await JetStreamLog.connect({ url: natsTestUrl, prefix: 'probe', timeoutMs: 3000 })
        ).close();
        return undefined;
      } catch (err) {
        return `no JetStream at ${natsTestUrl} (${err instanceof Error ? err.message : String(err)})`;
      }
    },
    open() {
      const prefix = `conf${process.pid}x${Date.now().toString(36)}x${prefixes.length}`;
      prefixes.push(prefix);
      return connectTo(prefix);
    },
    reopen() {
      const prefix = prefixes.at(-1);
      if (!prefix) throw new Error('reopen before open');
      return connectTo(prefix);
    },
    async cleanup() {
      for (const prefix of prefixes.splice(0)) {
        const log = await connectTo(prefix);
        try {
          for (const name of await log.listStreams()) await log.deleteStream(name);
        } finally {
          await log.close();
        }
      }
    },
  };
}

/** Every adapter the conformance suite runs. */
export const logAdapters: LogAdapter[] = [localAdapter(), jetStreamAdapter()];
