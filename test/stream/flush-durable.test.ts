/**
 * A stream batch is durable before the manifest that advances the cursor past its records is
 * committed: synced as it is written (every 4 MiB, so the last sync is small), its data synced
 * before its rename into the lake and its folder after. On a real local log and lake folder,
 * through a recorder around the real sync calls.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../src/lake/index.js';
import { loadProject, type StreamSourceTable } from '../../src/project/index.js';
import { flushOnce, type StreamLog } from '../../src/stream/index.js';
import { SyncRecorder } from '../lake/sync-recorder.js';
import { appendEvents, click, openProjectLog, streamProject } from './flush-helpers.js';

const MIB = 1024 * 1024;
const opened: StreamLog[] = [];
afterEach(async () => {
  for (const log of opened.splice(0)) await log.close();
});

describe('stream batch durability', () => {
  it('syncs a large batch every 4 MiB as it is written, then before and after its move', async () => {
    const dir = streamProject('{ max_bytes: 64MB, max_age: 10s }');
    const project = await loadProject(dir);
    const table = project.tables[0] as StreamSourceTable;
    const log = await openProjectLog(dir);
    opened.push(log);
    // About 14 MB of events, over the stream's two shards.
    const padding = 'x'.repeat(1000);
    for (let round = 0; round < 14; round++) {
      const events = Array.from({ length: 1000 }, (_, i) => ({
        ...click(`e${round}-${i}`, '2026-03-02T10:00:00Z'),
        padding,
      }));
      await appendEvents(log, events);
    }
    const recorder = new SyncRecorder();
    const store = new LocalObjectStore(project.paths.lake, recorder.io);
    const result = await flushOnce(
      { store, tmpDir: project.paths.tmp, log, syncIo: recorder.io },
      table,
      { force: true },
    );
    const batch = result.batch!;
    expect(batch.bytes).toBeGreaterThan(12 * MIB);

    const landed = store.readableLocation(batch.key);
    const { ino, size } = statSync(landed);
    const renameAt = recorder.events.findIndex((e) => e.op === 'rename' && e.to === landed);
    const syncs = recorder.events.slice(0, renameAt).filter((e) => e.op === 'datasync');
    expect(syncs.every((s) => s.ino === ino)).toBe(true);
    // Progressive syncs, at least 4 MiB apart, never two at once; the store's sync comes last,
    // right before the rename, and sees the whole file. How many progressive syncs there are
    // depends on how fast the disk syncs against how fast lines are written (bytes written during
    // a sync wait for the next one), but the first 4 MiB always start one before the end.
    const sizes = syncs.map((s) => s.size);
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    expect(sizes[0]).toBeLessThan(size);
    for (let i = 1; i < sizes.length - 1; i++)
      expect(sizes[i]! - sizes[i - 1]!).toBeGreaterThanOrEqual(4 * MIB);
    expect(sizes.at(-1)).toBe(size);
    expect(recorder.events[renameAt - 1]).toEqual({ op: 'datasync', ino, size });
    expect(recorder.maxRunning).toBe(1);
    expect(recorder.events[renameAt + 1]).toEqual({ op: 'syncDir', dir: dirname(landed) });
  });
});
