/**
 * Records that a stream's retention removed before they were flushed are lost for good, so a run
 * that finds such a gap sends a `stream_gap` alert through the project's channels (a webhook
 * receiver here), once per gap, besides the step's message and the error log.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/orchestrator/index.js';
import { LocalSegmentLog } from '../../src/stream/index.js';
import { tempDir, withWorkspace } from '../helpers.js';
import { startReceiver } from '../notify/receivers.js';
import { appendEvents, click, streamProject } from './flush-helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** The bytes of a segment holding one `click` record (the same size as g1, g2 and g3's). */
async function oneRecordSegmentBytes(): Promise<number> {
  const dir = tempDir('trib-gap-size-');
  const log = await LocalSegmentLog.open(dir, { segmentBytes: 64, retentionIntervalMs: 0 });
  try {
    await log.createStream('clicks', { shards: 1, maxAgeMs: 3_600_000 });
    await appendEvents(log, [click('g0', '2026-03-02T10:00:00Z')]);
  } finally {
    await log.close();
  }
  const shardDir = join(dir, 'streams', 'clicks', 'shard-000000000000');
  return Math.max(
    ...readdirSync(shardDir)
      .filter((n) => n.endsWith('.seg'))
      .map((n) => statSync(join(shardDir, n)).size),
  );
}

interface GapBody {
  event: { type: string; table: string; stream: string; shardId: string; before: string };
  summary: string;
}

describe('stream_gap alert', () => {
  it('alerts once when a run finds records retention removed before they were landed', async () => {
    const hook = await startReceiver();
    closers.push(() => hook.close());
    const dir = streamProject(
      '{ max_bytes: 1MB, max_age: 10s }',
      `alerts:\n  channels:\n    ops: { type: webhook, url: "${hook.url}/hook" }\n`,
    );
    // One shard, tiny segments (one record each) and a byte limit of one and a half segments:
    // retention by bytes drops exactly the older records when asked, whatever the machine's
    // speed (an age limit would race the run's own start on a loaded machine).
    const segment = await oneRecordSegmentBytes();
    const log = await LocalSegmentLog.open(join(dir, '.tributary', 'stream'), {
      segmentBytes: 64,
      retentionIntervalMs: 0,
    });
    await log.createStream('clicks', {
      shards: 1,
      maxAgeMs: 24 * 3_600_000,
      maxBytes: Math.floor(segment * 1.5),
    });
    await appendEvents(log, [click('g1', '2026-03-02T10:00:00Z')]);
    await log.close();
    await withWorkspace(dir, async (ws) => {
      expect((await runPipeline(ws)).status).toBe('succeeded');
    });
    expect(hook.requests).toHaveLength(0);

    const again = await LocalSegmentLog.open(join(dir, '.tributary', 'stream'), {
      segmentBytes: 64,
      retentionIntervalMs: 0,
    });
    await appendEvents(again, [click('g2', '2026-03-02T10:00:00Z')]);
    const [kept] = await appendEvents(again, [click('g3', '2026-03-02T10:00:00Z')]);
    await again.enforceRetention('clicks');
    await again.close();

    await withWorkspace(dir, async (ws) => {
      const result = await runPipeline(ws);
      expect(result.status).toBe('succeeded');
      const raw = result.steps.find((s) => s.asset === 'raw:web.clicks')!;
      expect(raw.message).toMatch(/removed by retention before they were flushed; they are lost/);
      // A later run finds nothing new: the gap is not told twice.
      await runPipeline(ws);
    });
    const gaps = hook.requests
      .map((r) => JSON.parse(r.body) as GapBody)
      .filter((b) => b.event.type === 'stream_gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.event).toMatchObject({ table: 'web.clicks', stream: 'clicks', before: kept });
    expect(gaps[0]!.summary).toMatch(/^stream clicks shardId-\d+: records after \d+ and before/);
  });
});
