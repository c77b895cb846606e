/**
 * The flusher over NATS JetStream (`stream.log: { type: jetstream }`): a project whose log is a
 * JetStream prefix of its own on the test server, events appended through JetStreamLog, a run
 * that lands them once (a fault before the commit, then a clean run), quarantine with sequence
 * numbers. Without a JetStream server it says plainly that it did not run (it must run on CI).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/orchestrator/index.js';
import { readRawManifest } from '../../src/sources/index.js';
import { JetStreamLog } from '../../src/stream/jetstream/index.js';
import type { StreamLog } from '../../src/stream/index.js';
import { restoreFaultAfterEach, withWorkspace } from '../helpers.js';
import {
  appendEvents,
  click,
  processedRows,
  quarantineRows,
  streamProject,
} from './flush-helpers.js';
import { logAdapters, natsTestUrl } from './log-adapters.js';

restoreFaultAfterEach();

const jetstream = logAdapters.find((a) => a.name === 'jetstream');
const whyNot = jetstream ? await jetstream.available() : 'no jetstream adapter in this build';
if (whyNot !== undefined) {
  if (process.env.CI === 'true')
    throw new Error(`the JetStream flush test must run on CI: ${whyNot}`);
  console.warn(`the JetStream flush test did not run: ${whyNot}`);
}

describe.skipIf(whyNot !== undefined)('flushing from JetStream', () => {
  const prefix = `flush${process.pid}x${Date.now().toString(36)}`;
  let log: StreamLog | undefined;

  afterAll(async () => {
    if (!log) return;
    for (const name of await log.listStreams()) await log.deleteStream(name);
    await log.close();
  });

  it('lands every acknowledged event once, through a fault before the commit', async () => {
    const dir = streamProject(
      '{ max_bytes: 1MB, max_age: 10s }',
      '',
      `{ type: jetstream, url: "${natsTestUrl}", prefix: ${prefix} }`,
    );
    log = await JetStreamLog.connect({ url: natsTestUrl, prefix, timeoutMs: 5000 });
    await log.createStream('clicks', { shards: 2, maxAgeMs: 3_600_000 });
    const seq = await appendEvents(log, [
      click('j1', '2026-03-02T10:00:00Z'),
      'not json',
      click('j2', '2026-03-02T11:00:00Z'),
      click('j3', '2026-03-02T12:00:00Z', 'bogus'),
    ]);
    await withWorkspace(dir, async (ws) => {
      process.env.TRIBUTARY_FAULT = 'flush-before-commit:clicks';
      expect((await runPipeline(ws)).status).toBe('failed');
      delete process.env.TRIBUTARY_FAULT;
      expect((await runPipeline(ws)).status).toBe('succeeded');
      expect((await processedRows(ws)).map((r) => r.event_id).sort()).toEqual(['j1', 'j2']);
      const q = await quarantineRows(ws);
      expect(q.map((r) => [r._reason, r._sequence_number]).sort()).toEqual(
        [
          ['allowed_values', seq[3]],
          ['not_json', seq[1]],
        ].sort(),
      );
      expect((await readRawManifest(ws.store, 'web', 'clicks')).batches).toHaveLength(1);
      const again = await runPipeline(ws);
      expect(again.steps.find((s) => s.asset === 'raw:web.clicks')?.status).toBe('up_to_date');
    });
  });
});
