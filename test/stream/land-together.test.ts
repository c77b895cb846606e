/**
 * A run lands several stream tables of one log at once (one step each, run concurrently): with
 * no collecting process, each landing used to open the log itself, and the local segment log's
 * one-opener lock refused the second landing, from its own process. The landings of a process
 * now share one opening of the log (flush/opening.ts): both tables land, every record once, and
 * the log is closed after (the test opens it again). Runs on each stream log.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/orchestrator/index.js';
import type { StreamLog } from '../../src/stream/index.js';
import { JetStreamLog } from '../../src/stream/jetstream/index.js';
import { LocalSegmentLog } from '../../src/stream/local/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';
import { readLanded } from './harness.js';
import { logAdapters, natsTestUrl } from './log-adapters.js';

const jetstream = logAdapters.find((a) => a.name === 'jetstream');
const noJetStream = jetstream ? await jetstream.available() : 'no jetstream adapter';
if (noJetStream !== undefined && process.env.CI === 'true')
  throw new Error(`must run on CI: ${noJetStream}`);
const TABLES = ['events', 'clicks', 'orders'];
const PER_TABLE = 400;

interface LogCase {
  name: string;
  skip: boolean;
  config: (dir: string) => string;
  open: (dir: string) => Promise<StreamLog>;
}

const prefix = `together${process.pid}x${Date.now().toString(36)}`;
const cases: LogCase[] = [
  {
    name: 'local',
    skip: false,
    config: () => '{ type: local, path: .tributary/stream }',
    open: (dir) =>
      LocalSegmentLog.open(join(dir, '.tributary', 'stream'), { retentionIntervalMs: 0 }),
  },
  {
    name: 'jetstream',
    skip: noJetStream !== undefined,
    config: () => `{ type: jetstream, url: "${natsTestUrl}", prefix: ${prefix} }`,
    open: () => JetStreamLog.connect({ url: natsTestUrl, prefix, timeoutMs: 5000 }),
  },
];

afterAll(async () => {
  if (noJetStream !== undefined) return;
  const log = await JetStreamLog.connect({ url: natsTestUrl, prefix, timeoutMs: 5000 });
  for (const name of await log.listStreams()) await log.deleteStream(name);
  await log.close();
});

describe.each(cases)('landing stream tables together ($name log)', (logCase) => {
  it.skipIf(logCase.skip)(
    'lands every table of one log in one run, each record once',
    async () => {
      const dir = tempDir('trib-land-together-');
      const contract = `columns:
  - { name: event_id, type: string, required: true }
  - { name: user_id, type: bigint, required: true }
`;
      writeFiles(dir, {
        'tributary.yml': `name: together
concurrency: 4
stream:
  log: ${logCase.config(dir)}
sources:
  web:
    type: stream
    tables:
${TABLES.map((t) => `      ${t}: { stream: ${t}, buffer: { max_bytes: 4KB, max_age: 1h } }`).join('\n')}
`,
        ...Object.fromEntries(TABLES.map((t) => [`contracts/${t}.yml`, contract])),
      });
      const log = await logCase.open(dir);
      for (const table of TABLES) {
        await log.createStream(table, { shards: 2, maxAgeMs: 24 * 3_600_000 });
        const records = Array.from({ length: PER_TABLE }, (_, i) => ({
          partitionKey: `k${i}`,
          data: Buffer.from(JSON.stringify({ event_id: `${table}-${i}`, user_id: i + 1 })),
        }));
        expect((await log.append(table, records)).every((o) => o.ok)).toBe(true);
      }
      await log.close();

      await withWorkspace(dir, async (ws) => {
        const run = await runPipeline(ws);
        const failed = run.steps.filter((s) => s.status !== 'succeeded');
        expect(failed, JSON.stringify(failed)).toEqual([]);
      });
      for (const table of TABLES) {
        const ids = (await readLanded(dir, table)).raw.map((l) =>
          Number((l as { user_id: number }).user_id),
        );
        expect(ids.length).toBe(PER_TABLE);
        expect(new Set(ids).size).toBe(PER_TABLE);
        expect(ids.reduce((a, b) => a + b, 0)).toBe((PER_TABLE * (PER_TABLE + 1)) / 2);
      }
      // Released by the last landing: the log opens again.
      await (await logCase.open(dir)).close();
    },
    180_000,
  );
});
