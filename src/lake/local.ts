/**
 * The default lake store: a folder on the local file system. Every write is durable when it
 * returns (data fsynced before its rename into place, folders fsynced after), as the store
 * contract asks: a manifest committed next may name it, and a power cut must not lose it.
 */
import { readFile, readdir, stat, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import {
  copyFileAtomic,
  isErrno,
  moveFile,
  nodeSyncIo,
  writeFileAtomic,
  type SyncIo,
} from '../core/index.js';
import type { ObjectInfo, ObjectStore } from './store.js';

/** What a file being written is called until it is renamed into place (core/fs.ts). */
const TEMP_SUFFIX = '.tmp';

export class LocalObjectStore implements ObjectStore {
  readonly root: string;

  /** `io` is for tests that record the order of the syncs and the renames of moved files. */
  constructor(
    root: string,
    private readonly io: SyncIo = nodeSyncIo,
  ) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    if (key.split('/').some((part) => part === '..')) throw new Error(`invalid lake key ${key}`);
    return join(this.root, ...key.split('/'));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async put(key: string, data: string | Uint8Array): Promise<void> {
    await writeFileAtomic(this.path(key), data);
  }

  async putFile(key: string, localPath: string, options: { move?: boolean } = {}): Promise<void> {
    if (options.move) await moveFile(localPath, this.path(key), { io: this.io });
    else await copyFileAtomic(localPath, this.path(key));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.path(key));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    for (const { key, path } of await this.walk(prefix)) {
      if (!key.endsWith(TEMP_SUFFIX)) out.push({ key, size: (await stat(path)).size });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async removePartialWrites(prefix: string): Promise<number> {
    // Atomic writes here go to a `.tmp` file beside their target, then rename it into place.
    const partial = (await this.walk(prefix)).filter(({ key }) => key.endsWith(TEMP_SUFFIX));
    for (const { path } of partial) await rm(path, { force: true });
    return partial.length;
  }

  /** Every file whose key starts with `prefix`, temporary ones included. */
  private async walk(prefix: string): Promise<{ key: string; path: string }[]> {
    const out: { key: string; path: string }[] = [];
    const visit = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return;
        throw err;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await visit(full);
        else if (entry.isFile()) {
          const key = full
            .slice(this.root.length + 1)
            .split(sep)
            .join('/');
          if (key.startsWith(prefix)) out.push({ key, path: full });
        }
      }
    };
    // Walk from the deepest folder the prefix names, so listing one table does not scan the lake.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    await visit(folder ? this.path(folder) : this.root);
    return out;
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async rename(from: string, to: string): Promise<void> {
    // Objects of the lake are durable already: only their new name needs syncing.
    await moveFile(this.path(from), this.path(to), { dataSynced: true, io: this.io });
  }

  readableLocation(key: string): string {
    return this.path(key);
  }
}
