/**
 * The folders of a local stream log: `streams/<name>/stream.json` (the stream's settings and
 * creation time) and `streams/<name>/shard-<id>/` of segment files. A stream appears by one
 * rename of a fully built folder and disappears by one rename out of the way, so a crash never
 * leaves half a stream behind; leftovers of either are removed on the next open.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TributaryError, isErrno } from '../../core/errors.js';
import type { StreamSettings } from '../log.js';
import { shardIdOf } from '../shards.js';
import { syncDir } from '../../core/fs.js';
import { ShardLog } from './shard-log.js';

/** What stream.json holds. */
export interface StreamMetadata {
  version: 1;
  name: string;
  settings: StreamSettings;
  createdAtMs: number;
}

/** The folder of shard `index` of a stream folder. */
export const shardFolder = (streamDir: string, index: number) =>
  join(streamDir, shardIdOf(index).replace('shardId-', 'shard-'));

/** Builds a stream's folder aside and renames it into place; CONFLICT when the name is taken. */
export async function createStreamFolder(
  streamsDir: string,
  meta: StreamMetadata,
): Promise<string> {
  const target = join(streamsDir, meta.name);
  const building = join(streamsDir, `.creating-${randomBytes(6).toString('hex')}`);
  await mkdir(building);
  try {
    for (let i = 0; i < meta.settings.shards; i++) {
      await mkdir(shardFolder(building, i));
      await ShardLog.createFiles(shardFolder(building, i));
    }
    const json = join(building, 'stream.json');
    await writeFile(json, `${JSON.stringify(meta, null, 2)}\n`, { flush: true });
    await syncDir(building);
    await rename(building, target).catch((err: unknown) => {
      if (isErrno(err, 'EEXIST') || isErrno(err, 'ENOTEMPTY')) throw conflict(meta.name);
      throw err;
    });
    await syncDir(streamsDir);
  } catch (err) {
    await rm(building, { recursive: true, force: true });
    throw err;
  }
  return target;
}

/** The error for a stream that exists already. */
export function conflict(name: string): TributaryError {
  return new TributaryError(`stream ${name} exists already`, {
    code: 'CONFLICT',
    hint: 'pick another name, or delete the stream first',
  });
}

/** Moves a stream's folder out of the way (one rename), then removes it. */
export async function removeStreamFolder(streamsDir: string, name: string): Promise<void> {
  const doomed = join(streamsDir, `.deleting-${randomBytes(6).toString('hex')}`);
  await rename(join(streamsDir, name), doomed);
  await syncDir(streamsDir);
  await rm(doomed, { recursive: true, force: true });
}

/** The stream folders under `streamsDir` with their metadata; removes leftovers of crashes. */
export async function listStreamFolders(
  streamsDir: string,
): Promise<{ dir: string; meta: StreamMetadata }[]> {
  const out: { dir: string; meta: StreamMetadata }[] = [];
  for (const entry of await readdir(streamsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(streamsDir, entry.name);
    if (entry.name.startsWith('.')) {
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    out.push({ dir, meta: await readMetadata(dir, entry.name) });
  }
  return out;
}

async function readMetadata(dir: string, name: string): Promise<StreamMetadata> {
  const file = join(dir, 'stream.json');
  let meta: StreamMetadata;
  try {
    meta = JSON.parse(await readFile(file, 'utf8')) as StreamMetadata;
  } catch (err) {
    throw new TributaryError(`cannot read the settings of stream ${name}: ${String(err)}`, {
      code: 'STATE',
      location: { file },
      hint: 'restore the file from a backup, or delete the stream folder to drop the stream',
      cause: err,
    });
  }
  if (meta.version !== 1 || meta.name !== name || !Number.isFinite(meta.createdAtMs))
    throw new TributaryError(`the settings of stream ${name} are not ones this version wrote`, {
      code: 'STATE',
      location: { file },
      hint: 'restore the file from a backup, or delete the stream folder to drop the stream',
    });
  return meta;
}
