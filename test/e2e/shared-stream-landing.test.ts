/**
 * Landing one stream table from two machines at once (issue 18): two project folders (two
 * checkouts, as two machines have) share the state and warehouse on PostgreSQL, the lake (a
 * folder both name by its absolute path, as shared storage is) and the stream log: NATS JetStream,
 * or the local segment log in a folder both name the same way. Each folder runs `tributary run`
 * on the stream table's landing step over and over, both at the same time, with a small buffer
 * so every landing cuts many batches (on JetStream while records keep arriving; the local log
 * is filled first, since in shared mode nothing collects into it: serve and collect refuse). The
 * two never land the same records twice nor skip any, and neither fails because the other has
 * the log open: the raw zone holds every record exactly once (count, distinct ids, sum of ids).
 * What keeps them apart: the work queue holds one run's landing step while another run's step of
 * the same name runs, each flush holds the table's advisory lock in the state database
 * (src/stream/flush/fence.ts), and a flush commits only onto the cursor it read.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamLog } from '../../src/stream/index.js';
import { JetStreamLog } from '../../src/stream/jetstream/index.js';
import { LocalSegmentLog } from '../../src/stream/local/index.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { readLanded, streamProjectFiles, writeProjectFiles } from '../stream/harness.js';
import { logAdapters, natsTestUrl } from '../stream/log-adapters.js';
import { freshPostgresDatabase } from '../sync/support.js';
import { runTributary } from './crash-campaign/processes.js';

const URL_ENV = 'TRIBUTARY_TEST_SHARED_LANDING_URL';
const pgAvailable = await serviceAvailable('postgres', postgresTestUrl);
const jetstream = logAdapters.find((a) => a.name === 'jetstream');
const noJetStream = jetstream ? await jetstream.available() : 'no jetstream adapter';
if (noJetStream !== undefined && process.env.CI === 'true')
  throw new Error(`must run on CI: ${noJetStream}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records sent in all, in bursts while the two folders land. */
const BURSTS = 8;
const PER_BURST = 750;
/** Landings each folder runs, one after another, both folders at once. */
const LANDINGS = 2;

interface LogCase {
  name: string;
  /** tributary.yml's stream.log. */
  config: (shared: string, prefix: string) => string;
  open: (shared: string, prefix: string) => Promise<StreamLog>;
  /** Whether records may be appended while the folders land (another process may hold it). */
  appendsWhileLanding: boolean;
}

const cases: LogCase[] = [
  {
    name: 'jetstream',
    config: (_, prefix) => `{ type: jetstream, url: "${natsTestUrl}", prefix: ${prefix} }`,
    open: (_, prefix) => JetStreamLog.connect({ url: natsTestUrl, prefix, timeoutMs: 5000 }),
    appendsWhileLanding: true,
  },
  {
    name: 'local',
    config: (shared) => `{ type: local, path: "${join(shared, 'stream')}" }`,
    open: (shared) => LocalSegmentLog.open(join(shared, 'stream')),
    appendsWhileLanding: false,
  },
];

describe.skipIf(!pgAvailable || noJetStream !== undefined).each(cases)(
  'landing a stream table from two machines ($name log)',
  (logCase) => {
    let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
    let log: StreamLog | undefined;
    const prefix = `landing${process.pid}x${Date.now().toString(36)}${logCase.name}`;
    const shared = tempDir('trib-shared-lake-');
    const folders = [tempDir('trib-landing-a-'), tempDir('trib-landing-b-')];

    beforeAll(async () => {
      db = await freshPostgresDatabase('sharedlanding');
      process.env[URL_ENV] = db.url;
      const files = streamProjectFiles({ port: 0, maxBytes: '4KB', maxAge: '1h' });
      files['tributary.yml'] = files['tributary.yml']!.replace(
        'log: { type: local, path: .tributary/stream }',
        `log: ${logCase.config(shared, prefix)}`,
      ).concat(`lake: { path: "${join(shared, '.tributary', 'lake')}" }
state: { store: postgres, url: { env: ${URL_ENV} }, schema: state }
warehouse: { engine: postgres, url: { env: ${URL_ENV} } }
`);
      for (const dir of folders) writeProjectFiles(dir, files);
      log = await logCase.open(shared, prefix);
      await log.createStream('events', { shards: 2, maxAgeMs: 24 * 3600_000 });
    }, 60_000);

    afterAll(async () => {
      if (logCase.name === 'jetstream') {
        log ??= await logCase.open(shared, prefix);
        for (const name of await log.listStreams()) await log.deleteStream(name);
      }
      await log?.close();
      delete process.env[URL_ENV];
      await db?.drop();
    });

    /** Appends records with ids from..to-1 (each its own partition key, so both shards fill). */
    async function send(from: number, to: number): Promise<void> {
      const records = [];
      for (let id = from; id < to; id++)
        records.push({
          partitionKey: `k${id}`,
          data: Buffer.from(
            JSON.stringify({
              event_id: `e${id}`,
              user_id: id,
              event_type: 'view',
              event_ts: '2026-03-02T10:00:00Z',
              url: `/p/${'x'.repeat(40)}`,
            }),
          ),
        });
      const outcomes = await log!.append('events', records);
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    }

    it('lands every record exactly once when both folders land at the same time', async () => {
      let next = 1;
      const burst = async () => {
        await send(next, next + PER_BURST);
        next += PER_BURST;
      };
      await burst();
      if (!logCase.appendsWhileLanding) {
        // The local log has one opener at a time: filled first, then left to the landings.
        for (let b = 1; b < BURSTS; b++) await burst();
        await log!.close();
        log = undefined;
      }
      const land = async (dir: string) => {
        for (let i = 0; i < LANDINGS; i++) await runTributary(dir, ['run', 'raw:web.events']);
      };
      const arriving = (async () => {
        if (!logCase.appendsWhileLanding) return;
        for (let b = 1; b < BURSTS; b++) {
          await sleep(400);
          await burst();
        }
      })();
      await Promise.all([...folders.map(land), arriving]);
      // What arrived after the last landings: one more from either folder takes it.
      await runTributary(folders[1]!, ['run', 'raw:web.events']);

      const total = BURSTS * PER_BURST;
      const landed = await readLanded(shared);
      const ids = landed.raw.map((line) => Number((line as { user_id: unknown }).user_id));
      expect(ids.length).toBe(total);
      expect(new Set(ids).size).toBe(total);
      expect(ids.reduce((a, b) => a + b, 0)).toBe((total * (total + 1)) / 2);
    }, 600_000);
  },
);
