/**
 * The source conformance suite: every connector lands data in the raw zone unchanged, addressed
 * by content, commits the raw manifest, and lands nothing twice. A connector's test provides a
 * way to offer it a new batch of bytes, and says which bytes it lands for what was offered (a file
 * lands as itself; a database table in full mode lands as it stands after the last offer); the
 * cases are the same for files, APIs and databases.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { silentProgress } from '../../src/core/index.js';
import {
  LocalObjectStore,
  lakeKeys,
  readManifest,
  type RawManifest,
} from '../../src/lake/index.js';
import type { Source } from '../../src/sources/index.js';

export interface SourceHarness {
  source: Source;
  sourceName: string;
  tableName: string;
  /** Makes `bytes` available to the source as a new item (a file, a page, a query result). */
  offer(name: string, bytes: string): Promise<void>;
  /**
   * The batches one landing produces from what was offered since the last one. Default: each
   * offer lands byte for byte as a batch of its own (files, API pages).
   */
  landsAs?(offered: string[]): string[];
}

export function describeSourceConformance(name: string, make: () => Promise<SourceHarness>): void {
  describe(`${name} source conformance`, () => {
    const now = new Date('2026-01-02T03:04:05Z');
    const open = async () => {
      const h = await make();
      const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'trib-src-lake-')));
      const tmpDir = mkdtempSync(join(tmpdir(), 'trib-src-tmp-'));
      const land = () => h.source.land({ store, progress: silentProgress, now, tmpDir });
      const landsAs = (offered: string[]) => (h.landsAs ? h.landsAs(offered) : offered);
      const manifest = () =>
        readManifest<RawManifest>(store, lakeKeys.rawManifest(h.sourceName, h.tableName));
      return { h, store, land, manifest, landsAs };
    };

    it('lands the original bytes under a key made of the ingest date and their hash', async () => {
      const { h, store, land, landsAs } = await open();
      await h.offer('a', 'id\n1\n');
      const result = await land();
      const [expected] = landsAs(['id\n1\n']);
      expect(result.landed).toHaveLength(1);
      const batch = result.landed[0]!;
      expect(batch.id).toBe(createHash('sha256').update(expected!).digest('hex'));
      expect(batch.key).toMatch(
        new RegExp(
          `^raw/${h.sourceName}/${h.tableName}/ingest_date=2026-01-02/${batch.id.slice(0, 16)}`,
        ),
      );
      expect((await store.get(batch.key))!.toString()).toBe(expected);
    });

    it('commits every landed batch to the raw manifest', async () => {
      const { h, land, manifest, landsAs } = await open();
      await h.offer('a', 'id\n1\n');
      await h.offer('b', 'id\n2\n');
      await land();
      expect((await manifest())!.batches.map((b) => b.bytes)).toEqual(
        landsAs(['id\n1\n', 'id\n2\n']).map((bytes) => Buffer.byteLength(bytes)),
      );
    });

    it('lands the same bytes once, however often they are offered', async () => {
      const { h, land, manifest } = await open();
      await h.offer('a', 'id\n1\n');
      await land();
      await h.offer('a-again', 'id\n1\n');
      const second = await land();
      expect(second.landed).toEqual([]);
      expect(second.unchanged).toBeGreaterThan(0);
      expect((await manifest())!.batches).toHaveLength(1);
    });

    it('leaves no temporary objects visible after landing', async () => {
      const { h, store, land } = await open();
      await h.offer('a', 'id\n1\n');
      await land();
      const keys = (await store.list('raw/')).map((o) => o.key);
      expect(keys.every((k) => k.endsWith('_manifest.json') || k.includes('/ingest_date='))).toBe(
        true,
      );
    });
  });
}
