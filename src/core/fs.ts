/**
 * File-system helpers with the atomicity the lake and state rely on: a file is written aside,
 * flushed, then renamed into place, so a reader sees the old bytes or the new ones, never half.
 * The durable ones also fsync the folders whose entries changed, so what they wrote survives an
 * OS crash or power cut once they return (a process crash alone never loses the page cache).
 */
import { randomBytes } from 'node:crypto';
import { fdatasync } from 'node:fs';
import {
  mkdir,
  open,
  readdir,
  rename,
  copyFile,
  unlink,
  rm,
  stat,
  constants,
} from 'node:fs/promises';
import { dirname, join, basename, resolve } from 'node:path';
import { isErrno } from './errors.js';

/**
 * The calls that make a file durable where it lands. A seam (like the stream log's `SegmentIo`)
 * so tests can record their order around the real calls: data synced before the rename, the
 * folder synced after it.
 */
export interface SyncIo {
  /** Flushes an open file's data (fdatasync). */
  datasync(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Flushes a folder's entries; a no-op where folders cannot be opened. */
  syncDir(dir: string): Promise<void>;
}

/** The real thing: Node's fs calls. */
export const nodeSyncIo: SyncIo = {
  datasync: (fd) =>
    new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve()))),
  rename: (from, to) => rename(from, to),
  syncDir: (dir) => syncDir(dir),
};

/**
 * Writes `data` to `path` atomically: temp file in the same folder, fsync, rename, fsync folder.
 * `durable: false` skips the fsyncs for derived files (compiled SQL) that are rebuilt on demand:
 * still never half-written for a reader, just not guaranteed to survive a power cut.
 * `mode` sets the file's permissions from its creation on (0o600 for a file holding a secret), so
 * no reader ever sees it with wider ones.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { durable?: boolean; mode?: number } = {},
): Promise<void> {
  const durable = options.durable ?? true;
  const dir = dirname(path);
  const changedFolders = await makeFolder(dir);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'w', options.mode ?? 0o666);
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  if (durable) for (const folder of changedFolders) await syncDir(folder);
}

/**
 * Creates `dir` and its missing parents. Returns the folders whose entries a file landing in
 * `dir` changes, deepest first: `dir` itself, plus the parent of each folder created here (a new
 * folder's own name is an entry of its parent, lost in a power cut unless that parent is synced).
 */
async function makeFolder(dir: string): Promise<string[]> {
  const firstCreated = await mkdir(dir, { recursive: true });
  const folders = [dir];
  if (firstCreated === undefined) return folders;
  // Walked on resolved paths, up to the first folder created (the root at the latest).
  const top = resolve(firstCreated);
  for (let folder = resolve(dir); folder !== top && dirname(folder) !== folder;) {
    folder = dirname(folder);
    folders.push(folder);
  }
  folders.push(dirname(top));
  return folders;
}

/**
 * Where a folder cannot be opened for fsync (Windows: EISDIR or EPERM; some file systems:
 * EINVAL): the rename is still atomic there, just not flushed. Anything else (EIO, ENOSPC) is a
 * real failure of the sync, and the caller must not report the write durable.
 */
const FOLDER_SYNC_UNSUPPORTED = ['EISDIR', 'EPERM', 'EINVAL', 'EACCES'];

/** Flushes a folder's entries so a file created, renamed or removed in it survives power loss. */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!FOLDER_SYNC_UNSUPPORTED.some((code) => isErrno(err, code))) throw err;
  } finally {
    await handle?.close();
  }
}

/**
 * Moves a file durably, falling back to copy + unlink across devices; the target folder is
 * created. When it returns, the file's bytes and its new name are on disk: its data is synced
 * before the rename (a rename can reach the disk before the data it names), the folders after.
 * `dataSynced` skips the data sync for a file already durable (an object of the lake moving to
 * another key): a second fdatasync of a clean file still costs the disk a cache flush.
 */
export async function moveFile(
  from: string,
  to: string,
  options: { dataSynced?: boolean; io?: SyncIo } = {},
): Promise<void> {
  const io = options.io ?? nodeSyncIo;
  const changedFolders = await makeFolder(dirname(to));
  if (!options.dataSynced) await syncFileData(from, io);
  try {
    await io.rename(from, to);
  } catch (err) {
    if (!isErrno(err, 'EXDEV')) throw err;
    await copyFileAtomic(from, to);
    await unlink(from);
  }
  for (const folder of changedFolders) await io.syncDir(folder);
}

/** Flushes the data of the file at `path` (written by someone else, who may not have synced it). */
async function syncFileData(path: string, io: SyncIo): Promise<void> {
  // Opened for writing: some platforms (Windows) refuse to flush a read-only handle.
  const handle = await open(path, 'r+');
  try {
    await io.datasync(handle.fd);
  } finally {
    await handle.close();
  }
}

/**
 * Copies a file atomically (copy-on-write clone where the file system offers it) and durably: the
 * copy's data is synced before its rename into place, the folders whose entries changed after.
 */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  const dir = dirname(to);
  const changedFolders = await makeFolder(dir);
  const tmp = join(dir, `.${basename(to)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await copyFile(from, tmp, constants.COPYFILE_FICLONE);
    const handle = await open(tmp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, to);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  for (const folder of changedFolders) await syncDir(folder);
}

/**
 * Deletes the `*.tmp` files under `dir` (recursively unless told not to): what atomic writes leave when their
 * process dies between writing and renaming. Only for a folder this process owns (the project's
 * lock holder), since another writer's temporary file may be in flight; where others write too,
 * `olderThanMs` keeps to files no live writer can still be writing. Returns how many.
 */
export async function removeTempFiles(
  dir: string,
  options: { recursive?: boolean; olderThanMs?: number } = {},
): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: options.recursive ?? true, withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 0;
    throw err;
  }
  let removed = 0;
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith('.tmp')) continue;
    const path = join(e.parentPath, e.name);
    if (options.olderThanMs !== undefined) {
      // A writer in flight touched its file moments ago; only a dead one's is this old.
      const modified = await stat(path).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      if (modified === undefined || Date.now() - modified < options.olderThanMs) continue;
    }
    await rm(path, { force: true });
    removed++;
  }
  return removed;
}

/** A short random id, sortable by time: used for runs, batches of writes and temp folders. */
export function newId(prefix = ''): string {
  const time = Date.now().toString(36).padStart(9, '0');
  return `${prefix}${time}${randomBytes(4).toString('hex')}`;
}
