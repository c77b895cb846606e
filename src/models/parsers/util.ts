/** Small helpers the resource parsers share: folder walks, checksums, lenient YAML accessors. */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isErrno } from '../../core/index.js';

/** Files under `root` with one of `exts`, sorted; a missing folder is an empty one (as in dbt). */
export async function walkFolder(root: string, exts: string[]): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && exts.includes(extname(e.name).toLowerCase()))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** sha256 hex of a text, as dbt's node checksums. */
export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The value if it is a mapping, else an empty one. */
export const asObject = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The value if it is a list, else an empty one. */
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The value if it is a string, else `fallback`. */
export const asString = (v: unknown, fallback = ''): string =>
  typeof v === 'string' ? v : fallback;
