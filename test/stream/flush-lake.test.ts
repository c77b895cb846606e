/**
 * Stream tables into the lake through a real run: records appended to a real local segment log
 * land as raw NDJSON batches and processed Parquet exactly once, bad events go to quarantine
 * with their sequence numbers and reasons, late events go to their event-time partitions, a
 * producer's retried duplicate lands once (contract primary key), and a fault between storing
 * the batch and committing it (or after the commit) is healed by the next run without a double.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRawManifest } from '../../src/sources/index.js';
import { runPipeline } from '../../src/orchestrator/index.js';
import { cursorOf } from '../../src/stream/index.js';
import { restoreFaultAfterEach, withWorkspace } from '../helpers.js';
import {
  appendToProject,
  click,
  openProjectLog,
  processedRows,
  quarantineRows,
  streamProject,
} from './flush-helpers.js';

restoreFaultAfterEach();

const rawFiles = (dir: string): string[] =>
  readdirSync(join(dir, '.tributary/lake/raw/web/clicks'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ndjson'));

describe('stream tables through a run', () => {
  it('lands every event once, quarantines bad ones with their sequence numbers, partitions by event time', async () => {
    const dir = streamProject();
    const seq = await appendToProject(dir, [
      click('e1', '2026-03-02T10:00:00Z'),
      click('e2', '2026-03-02T11:00:00Z', 'cart', 12.5),
      'this is not json',
      '[1, 2, 3]',
      click('e3', '2026-03-02T12:00:00Z', 'bogus'),
      click('e1', '2026-03-02T10:00:00Z'), // the producer retried e1
      click('e4', '2025-12-31T23:59:00Z', 'purchase', 99), // late: last year's partition
      '{\n  "event_id": "e5",\n  "ts": "2026-03-02T13:00:00Z",\n  "big": 12345678901234567890\n}',
    ]);
    await withWorkspace(dir, async (ws) => {
      const run = await runPipeline(ws);
      expect(run.status).toBe('succeeded');
      const rows = await processedRows(ws);
      expect(rows.map((r) => r.event_id).sort()).toEqual(['e1', 'e2', 'e4', 'e5']);
      // Metadata columns arrive typed without the contract listing them.
      const e2 = rows.find((r) => r.event_id === 'e2')!;
      expect(e2._sequence_number).toBe(seq[1]);
      expect(String(e2._shard_id)).toMatch(/^shardId-\d{12}$/);
      expect(e2._partition_key).toBe('k1');
      // A TIMESTAMP column (printed by the engine), not the ISO text the line carries.
      expect(String(e2._arrival_ts)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
      const q = await quarantineRows(ws);
      const byReason = Object.fromEntries(q.map((r) => [r._reason, r]));
      expect(Object.keys(byReason).sort()).toEqual([
        'allowed_values',
        'duplicate_key',
        'not_json',
        'not_object',
      ]);
      expect(byReason.not_json!._sequence_number).toBe(seq[2]);
      expect(byReason.not_json!._value).toBe('this is not json');
      expect(byReason.not_object!._sequence_number).toBe(seq[3]);
      expect(String(byReason.not_object!._message)).toContain('array');
      expect(byReason.allowed_values!._sequence_number).toBe(seq[4]);
      expect(byReason.duplicate_key!._sequence_number).toBe(seq[5]);
      // The late event sits in its own event-time partition, not in the arrival day's.
      const partitions = readdirSync(join(dir, '.tributary/lake/processed/clicks')).sort();
      expect(partitions.filter((p) => p.includes('2025-12-31'))).toHaveLength(1);
      expect(partitions.filter((p) => p.includes('2026-03-02'))).toHaveLength(1);
    });
    // The event's own text is kept: an integer beyond 2^53 is not rounded on the way.
    const raw = rawFiles(dir);
    expect(raw).toHaveLength(1);
    const text = readFileSync(join(dir, '.tributary/lake/raw/web/clicks', raw[0]!), 'utf8');
    expect(text).toContain('"big": 12345678901234567890');
    expect(text.trimEnd().split('\n')).toHaveLength(8);
  });

  it('takes only new records on the next run, and nothing when there is none', async () => {
    const dir = streamProject();
    await appendToProject(dir, [click('a1', '2026-03-02T10:00:00Z')]);
    await withWorkspace(dir, async (ws) => {
      expect((await runPipeline(ws)).status).toBe('succeeded');
      const again = await runPipeline(ws);
      expect(again.steps.find((s) => s.asset === 'raw:web.clicks')?.status).toBe('up_to_date');
    });
    // a1 again, as a producer's retry arriving in a later batch: the contract's key settles it.
    const later = await appendToProject(dir, [
      click('a2', '2026-03-02T11:00:00Z'),
      click('a1', '2026-03-02T10:00:00Z'),
    ]);
    await withWorkspace(dir, async (ws) => {
      await runPipeline(ws);
      expect((await processedRows(ws)).map((r) => r.event_id).sort()).toEqual(['a1', 'a2']);
      const q = await quarantineRows(ws);
      expect(q.map((r) => [r._reason, r._sequence_number])).toEqual([['duplicate_key', later[1]]]);
      const manifest = await readRawManifest(ws.store, 'web', 'clicks');
      expect(manifest.batches).toHaveLength(2);
      expect(Object.keys(cursorOf(manifest.cursor).shards).length).toBeGreaterThan(0);
    });
  });

  for (const point of ['flush-before-store', 'flush-before-commit', 'flush-after-commit']) {
    it(`lands exactly once after a fault at ${point}`, async () => {
      const dir = streamProject();
      await appendToProject(
        dir,
        Array.from({ length: 30 }, (_, i) => click(`f${i}`, '2026-03-02T10:00:00Z')),
      );
      await withWorkspace(dir, async (ws) => {
        process.env.TRIBUTARY_FAULT = `${point}:clicks`;
        const failed = await runPipeline(ws);
        expect(failed.status).toBe('failed');
        delete process.env.TRIBUTARY_FAULT;
        const healed = await runPipeline(ws);
        expect(healed.status).toBe('succeeded');
        const rows = await processedRows(ws);
        expect(rows).toHaveLength(30);
        expect(new Set(rows.map((r) => r.event_id)).size).toBe(30);
        expect((await readRawManifest(ws.store, 'web', 'clicks')).batches).toHaveLength(1);
      });
      // The batch re-cut after the fault has the same records, so the same id: one file.
      expect(rawFiles(dir)).toHaveLength(1);
    });
  }

  it('says plainly when another process holds the stream log', async () => {
    const dir = streamProject();
    await appendToProject(dir, [click('l1', '2026-03-02T10:00:00Z')]);
    const held = await openProjectLog(dir);
    try {
      await withWorkspace(dir, async (ws) => {
        const run = await runPipeline(ws);
        const step = run.steps.find((s) => s.asset === 'raw:web.clicks')!;
        expect(step.status).toBe('failed');
        expect(step.message).toMatch(/stream log is in use by another process/);
      });
    } finally {
      await held.close();
    }
  });
});
