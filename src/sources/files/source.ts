/**
 * Files connector: files dropped in a landing folder are copied byte for byte into the raw zone,
 * addressed by content hash. Landing the same bytes twice is a no-op, whatever the file's name.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import picomatch from 'picomatch';
import { TributaryError, isErrno, newId, scanFile } from '../../core/index.js';
import {
  commitManifest,
  lakeKeys,
  readManifest,
  type RawBatch,
  type RawManifest,
} from '../../lake/index.js';
import type { FileSourceTable } from '../../project/index.js';
import type { LandContext, LandResult, Source } from '../types.js';

/** Landing-side facts about a raw batch that processing needs (kept beside the manifest entry). */
export interface RawBatchFacts {
  utf8Error?: { line: number; column: number; offset: number };
  mtimeMs: number;
}

export type LandedBatch = RawBatch & RawBatchFacts;

export class FilesSource implements Source {
  readonly id: string;

  constructor(private readonly table: FileSourceTable) {
    this.id = table.id;
  }

  /** Files in the landing folder that match the table's pattern, sorted by name. */
  async matchingFiles(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.table.folder);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) {
        throw new TributaryError('landing folder does not exist', {
          location: { file: this.table.folder },
          hint: `create it and drop ${this.table.pattern} files there, or run \`tributary generate\``,
        });
      }
      throw err;
    }
    const match = picomatch(this.table.pattern, { dot: false });
    return names.filter((n) => match(n)).sort();
  }

  async land(ctx: LandContext): Promise<LandResult> {
    const { source, table } = this.table;
    const manifestKey = lakeKeys.rawManifest(source, table);
    const manifest: RawManifest = (await readManifest<RawManifest>(ctx.store, manifestKey)) ?? {
      format: 1,
      source,
      table,
      version: 0,
      updatedAt: '',
      batches: [],
    };
    const known = new Set(manifest.batches.map((b) => b.id));
    // A file seen before with the same name, size and mtime is not hashed again.
    const seen = new Map(
      (manifest.batches as LandedBatch[]).map((b) => [
        `${b.originalName}|${b.bytes}|${b.mtimeMs}`,
        b.id,
      ]),
    );
    const files = await this.matchingFiles();
    if (files.length === 0) {
      throw new TributaryError(`no files match ${this.table.pattern} in ${this.table.folder}`, {
        hint: 'drop the file into the landing folder (or run `tributary generate`), or fix `files:` in tributary.yml',
      });
    }
    const landed: LandedBatch[] = [];
    let unchanged = 0;
    const ingestDate = ctx.now.toISOString().slice(0, 10);
    for (const [i, name] of files.entries()) {
      const path = join(this.table.folder, name);
      const info = await stat(path);
      ctx.progress.update({
        label: `land ${this.id}`,
        done: i,
        total: files.length,
        unit: 'files',
      });
      const cached = seen.get(`${name}|${info.size}|${info.mtimeMs}`);
      if (cached && known.has(cached)) {
        unchanged++;
        continue;
      }
      // The copy and the hash run at the same time (the copy in the I/O pool, the hash here); the
      // copy lands under a temporary name, then takes its content-addressed key.
      const tmpKey = `${lakeKeys.rawTable(source, table)}/.landing-${newId()}.tmp`;
      const [scan] = await Promise.all([scanFile(path), ctx.store.putFile(tmpKey, path)]);
      if (known.has(scan.sha256) || landed.some((b) => b.id === scan.sha256)) {
        await ctx.store.delete(tmpKey);
        unchanged++;
        continue;
      }
      const ext = extname(name).toLowerCase();
      const key = lakeKeys.rawFile(source, table, ingestDate, scan.sha256, ext);
      // The bytes take their final key before the manifest names them: readers only follow the manifest.
      await ctx.store.rename(tmpKey, key);
      landed.push({
        id: scan.sha256,
        key,
        originalName: name,
        bytes: scan.bytes,
        ingestedAt: ctx.now.toISOString(),
        mtimeMs: info.mtimeMs,
        ...(scan.utf8Error ? { utf8Error: scan.utf8Error } : {}),
      });
    }
    if (landed.length) {
      await commitManifest(ctx.store, manifestKey, {
        ...manifest,
        batches: [...manifest.batches, ...landed],
      });
    }
    return { landed, unchanged, warnings: [] };
  }
}
