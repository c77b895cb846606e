import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../src/lake/index.js';
import { describeStoreConformance } from './conformance.js';

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
