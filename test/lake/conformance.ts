/**
 * The lake store conformance suite: every ObjectStore (local folder today, S3 next) passes these
 * same cases, so the lake's atomic-commit reasoning holds whatever the store.
 */
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitManifest, readManifest, type ObjectStore } from '../../src/lake/index.js';

export interface StoreUnderTest {
  store: ObjectStore;
  cleanup(): Promise<void>;
  /** Leaves what a writer of `key` killed mid-write leaves in this store. */
  crashWhileWriting(key: string): Promise<void>;
}

export function describeStoreConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`${name} object store conformance`, () => {
    let store: ObjectStore;
    let cleanup: () => Promise<void>;
    let crashWhileWriting: (key: string) => Promise<void>;
    const scratch = mkdtempSync(join(tmpdir(), 'trib-store-src-'));

    beforeAll(async () => {
      ({ store, cleanup, crashWhileWriting } = await open());
    });
    afterAll(async () => cleanup());

    it('returns undefined for a key that was never written', async () => {
      expect(await store.get('nope/missing.json')).toBeUndefined();
      expect(await store.exists('nope/missing.json')).toBe(false);
    });

    it('puts and gets bytes under nested keys', async () => {
      await store.put('a/b/c.txt', 'hello');
      expect((await store.get('a/b/c.txt'))?.toString()).toBe('hello');
      expect(await store.exists('a/b/c.txt')).toBe(true);
    });

    it('overwrites a key whole', async () => {
      await store.put('over/x.txt', 'a much longer first value');
      await store.put('over/x.txt', 'short');
      expect((await store.get('over/x.txt'))?.toString()).toBe('short');
    });

    it('lists objects under a prefix, sorted, with sizes, and nothing else', async () => {
      await store.put('list/t/2.txt', '22');
      await store.put('list/t/1.txt', '1');
      await store.put('list/t/sub/3.txt', '333');
      await store.put('list/other.txt', 'x');
      expect(await store.list('list/t/')).toEqual([
        { key: 'list/t/1.txt', size: 1 },
        { key: 'list/t/2.txt', size: 2 },
        { key: 'list/t/sub/3.txt', size: 3 },
      ]);
    });

    it('stores a local file by copy, leaving the original', async () => {
      const file = join(scratch, 'copy.bin');
      writeFileSync(file, 'copied');
      await store.putFile('files/copy.bin', file);
      expect((await store.get('files/copy.bin'))?.toString()).toBe('copied');
      expect(existsSync(file)).toBe(true);
    });

    it('stores a local file by move, consuming it', async () => {
      const file = join(scratch, 'move.bin');
      writeFileSync(file, 'moved');
      await store.putFile('files/move.bin', file, { move: true });
      expect((await store.get('files/move.bin'))?.toString()).toBe('moved');
      expect(existsSync(file)).toBe(false);
    });

    it('deletes a key, and deleting a missing key is not an error', async () => {
      await store.put('del/x.txt', 'x');
      await store.delete('del/x.txt');
      await store.delete('del/x.txt');
      expect(await store.exists('del/x.txt')).toBe(false);
    });

    it('renames an object to a new key', async () => {
      await store.put('ren/a.txt', 'moving');
      await store.rename('ren/a.txt', 'ren/deeper/b.txt');
      expect(await store.exists('ren/a.txt')).toBe(false);
      expect((await store.get('ren/deeper/b.txt'))?.toString()).toBe('moving');
    });

    it('refuses keys that climb out of the store', async () => {
      await expect(store.put('../escape.txt', 'x')).rejects.toThrow(/invalid lake key/);
    });

    it('removes the partial writes under a prefix, and nothing else', async () => {
      await store.put('partial/t/_manifest.json', '{"v":1}');
      await store.put('partial/other/x.txt', 'kept');
      await crashWhileWriting('partial/t/_manifest.json');
      await crashWhileWriting('partial/t/ingest_date=2026-01-01/abc.csv');
      await crashWhileWriting('partial/other/y.txt');
      expect(await store.removePartialWrites('partial/t/')).toBe(2);
      expect(await store.removePartialWrites('partial/t/')).toBe(0);
      expect((await store.get('partial/t/_manifest.json'))?.toString()).toBe('{"v":1}');
      expect((await store.list('partial/')).map((o) => o.key)).toEqual([
        'partial/other/x.txt',
        'partial/t/_manifest.json',
      ]);
      expect(await store.removePartialWrites('partial/')).toBe(1);
    });

    it('commits manifests with increasing versions', async () => {
      const first = await commitManifest(store, 'm/_manifest.json', {
        version: 0,
        updatedAt: '',
        items: [1],
      });
      const second = await commitManifest(store, 'm/_manifest.json', { ...first, items: [1, 2] });
      expect(second.version).toBe(2);
      expect(await readManifest(store, 'm/_manifest.json')).toEqual(second);
    });
  });
}
