/**
 * File-system helpers with the atomicity the lake and state rely on: a file is written aside,
 * flushed, then renamed into place, so a reader sees the old bytes or the new ones, never half.
 */
import { randomBytes } from 'node:crypto';
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
import { dirname, join, basename } from 'node:path';
import { isErrno } from './errors.js';

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
  await mkdir(dir, { recursive: true });
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
  if (durable) await syncDir(dir);
}

/** Flushes a folder's entries so a rename survives power loss; a no-op where folders cannot be opened. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic there.
  }
}

/** Moves a file, falling back to copy + unlink across devices. The target folder is created. */
export async function moveFile(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await rename(from, to);
  } catch (err) {
    if (!isErrno(err, 'EXDEV')) throw err;
    await copyFileAtomic(from, to);
    await unlink(from);
  }
}

/** Copies a file atomically (copy-on-write clone where the file system offers it). */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  const dir = dirname(to);
  await mkdir(dir, { recursive: true });
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
