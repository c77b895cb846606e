import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../src/lake/index.js';
import { RawBatchWriter } from '../../src/sources/index.js';
import { tempDir } from '../helpers.js';
import { SyncRecorder } from '../lake/sync-recorder.js';

const KIB = 1024;

async function openWriter(recorder: SyncRecorder, syncEveryBytes?: number) {
  const root = tempDir('trib-lake-');
  const tmpDir = tempDir('trib-tmp-');
  const writer = await RawBatchWriter.open({
    store: new LocalObjectStore(root, recorder.io),
    tmpDir,
    source: 'app',
    table: 'events',
    ext: '.ndjson',
    now: new Date('2026-01-02T03:04:05Z'),
    originalName: 'test',
    io: recorder.io,
    ...(syncEveryBytes ? { syncEveryBytes } : {}),
  });
  return { writer, root, tmpDir };
}

/** Awaits until the writer's write callbacks and the syncs they start have run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('RawBatchWriter durability', () => {
  it('lands a batch whose bytes are synced before its rename and whose folder is synced after', async () => {
    const recorder = new SyncRecorder();
    const { writer, root } = await openWriter(recorder);
    for (let i = 0; i < 1000; i++) await writer.writeRecord({ i });
    const batch = (await writer.finish())!;

    const landed = join(root, ...batch.key.split('/'));
    const { ino, size } = statSync(landed);
    expect(size).toBe(batch.bytes);
    // No progressive syncs by default: one sync of the whole file, when it is stored.
    expect(recorder.ops().slice(0, 3)).toEqual(['datasync', 'rename', 'syncDir']);
    expect(recorder.events[0]).toEqual({ op: 'datasync', ino, size });
    expect(recorder.events[1]).toMatchObject({ op: 'rename', to: landed });
    expect(recorder.events[2]).toEqual({ op: 'syncDir', dir: dirname(landed) });
    // The folders the move created are synced in their parents too, up to the lake's root.
    expect(recorder.events.at(-1)).toEqual({ op: 'syncDir', dir: root });
  });

  it('syncs every syncEveryBytes as it writes, never two syncs at once, leaving little for the last', async () => {
    const recorder = new SyncRecorder();
    const { writer, root } = await openWriter(recorder, 64 * KIB);
    const chunk = Buffer.alloc(16 * KIB, 'a');

    await writer.writeOwned(chunk);
    await writer.write(Buffer.alloc(40 * KIB, 'b'));
    await settle();
    expect(recorder.datasyncs()).toEqual([]); // 56 KiB: not due yet

    recorder.hold();
    await writer.writeOwned(chunk); // 72 KiB written: the chunk that crossed 64 KiB starts a sync
    await settle();
    expect(recorder.datasyncs().map((s) => s.size)).toEqual([72 * KIB]);

    // While that sync runs, 200 KiB more are written: no second sync of the same file starts.
    for (let i = 0; i < 10; i++) await writer.writeOwned(Buffer.alloc(20 * KIB, 'c'));
    await settle();
    expect(recorder.datasyncs()).toHaveLength(1);

    // Once it is done, the bytes written meanwhile are due at once.
    recorder.release();
    await settle();
    expect(recorder.datasyncs().map((s) => s.size)).toEqual([72 * KIB, 272 * KIB]);

    await writer.writeOwned(Buffer.alloc(10 * KIB, 'd'));
    const batch = (await writer.finish())!;
    expect(batch.bytes).toBe(282 * KIB);
    expect(recorder.maxRunning).toBe(1);

    // The store's sync before the rename is the last of the file's; only 10 KiB were unsynced.
    const landed = join(root, ...batch.key.split('/'));
    const { ino } = statSync(landed);
    expect(recorder.ops().slice(0, 5)).toEqual([
      'datasync',
      'datasync',
      'datasync',
      'rename',
      'syncDir',
    ]);
    expect(recorder.datasyncs().every((s) => s.ino === ino)).toBe(true);
    expect(recorder.events[2]).toEqual({ op: 'datasync', ino, size: 282 * KIB });
  });

  it('fails the batch when a progressive sync fails, landing nothing', async () => {
    const recorder = new SyncRecorder();
    const { writer, root, tmpDir } = await openWriter(recorder, 8 * KIB);
    recorder.failNextDatasync = Object.assign(new Error('EIO: i/o error, fdatasync'), {
      code: 'EIO',
    });
    await writer.writeOwned(Buffer.alloc(16 * KIB, 'a'));
    await settle();
    // The kernel may have dropped the pages that failed: a later sync succeeding proves nothing,
    // so none is tried, and the batch fails.
    expect(recorder.datasyncs()).toHaveLength(1);
    await expect(writer.writeOwned(Buffer.alloc(16 * KIB, 'b'))).rejects.toThrow(/EIO/);
    await expect(writer.finish()).rejects.toThrow(/EIO/);
    expect(recorder.datasyncs()).toHaveLength(1);
    expect(readdirSync(tmpDir)).toEqual([]);
    expect(existsSync(join(root, 'raw'))).toBe(false);
  });
});
