import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../src/lake/index.js';
import { tempDir } from '../helpers.js';
import { describeStoreConformance } from './conformance.js';
import { SyncRecorder } from './sync-recorder.js';

describeStoreConformance('local folder', async () => {
  const root = mkdtempSync(join(tmpdir(), 'trib-lake-'));
  return {
    store: new LocalObjectStore(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
    // An atomic write's temporary file, beside its target, as core/fs.ts names it.
    crashWhileWriting: async (key) => {
      const target = join(root, ...key.split('/'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(join(dirname(target), `.${basename(target)}.0123456789ab.tmp`), 'half');
    },
  };
});

describe('local folder store', () => {
  it('leaves no temporary files behind after atomic writes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'trib-lake-'));
    const store = new LocalObjectStore(root);
    for (let i = 0; i < 5; i++) await store.put('t/_manifest.json', `{"v":${i}}`);
    expect(readdirSync(join(root, 't'))).toEqual(['_manifest.json']);
  });

  it('gives engines an absolute path to read an object from', () => {
    const store = new LocalObjectStore('/tmp/some-lake');
    expect(store.readableLocation('processed/orders/part-1.parquet')).toBe(
      '/tmp/some-lake/processed/orders/part-1.parquet',
    );
  });
});

describe('local folder store durability', () => {
  it('syncs a moved file’s data before the rename, and its folder and the new folders’ parents after', async () => {
    const root = tempDir('trib-lake-');
    const recorder = new SyncRecorder();
    const store = new LocalObjectStore(root, recorder.io);
    const local = join(tempDir('trib-tmp-'), 'batch.ndjson');
    writeFileSync(local, '{"a":1}\n');
    const { ino } = statSync(local);

    await store.putFile('raw/app/orders/ingest_date=2026-01-01/abc.ndjson', local, { move: true });

    const target = join(root, 'raw', 'app', 'orders', 'ingest_date=2026-01-01', 'abc.ndjson');
    expect(readFileSync(target, 'utf8')).toBe('{"a":1}\n');
    expect(recorder.events).toEqual([
      { op: 'datasync', ino, size: 8 },
      { op: 'rename', from: local, to: target },
      // The file's folder, then the parent of each folder the move created (root existed).
      { op: 'syncDir', dir: dirname(target) },
      { op: 'syncDir', dir: join(root, 'raw', 'app', 'orders') },
      { op: 'syncDir', dir: join(root, 'raw', 'app') },
      { op: 'syncDir', dir: join(root, 'raw') },
      { op: 'syncDir', dir: root },
    ]);

    // Into a folder that exists: only that folder's entries changed.
    recorder.events.length = 0;
    writeFileSync(local, '{"a":2}\n');
    await store.putFile('raw/app/orders/ingest_date=2026-01-01/def.ndjson', local, { move: true });
    expect(recorder.ops()).toEqual(['datasync', 'rename', 'syncDir']);
    expect(recorder.events[2]).toEqual({ op: 'syncDir', dir: dirname(target) });
  });

  it('renames an object (already durable) without syncing its data again, then syncs the folder', async () => {
    const root = tempDir('trib-lake-');
    const recorder = new SyncRecorder();
    const store = new LocalObjectStore(root, recorder.io);
    await store.put('raw/app/orders/.landing-1.tmp', 'x');
    await store.rename('raw/app/orders/.landing-1.tmp', 'raw/app/orders/d=1/x.csv');
    expect(recorder.ops()).toEqual(['rename', 'syncDir', 'syncDir']);
    expect(recorder.events.slice(1)).toEqual([
      { op: 'syncDir', dir: join(root, 'raw', 'app', 'orders', 'd=1') },
      { op: 'syncDir', dir: join(root, 'raw', 'app', 'orders') },
    ]);
    expect(await store.get('raw/app/orders/d=1/x.csv')).toEqual(Buffer.from('x'));
  });
});
