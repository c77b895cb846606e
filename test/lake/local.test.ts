import { mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../src/lake/index.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('local folder', async () => {
  const root = mkdtempSync(join(tmpdir(), 'trib-lake-'));
  return {
    store: new LocalObjectStore(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
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
