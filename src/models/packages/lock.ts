/**
 * package-lock.yml as dbt-core 1.7+ writes it (task/deps.py): `packages:` lists every resolved
 * package (the declared ones and their dependencies) with its project `name` — hub entries
 * pinned to one `version`, git entries to a `revision`, local and tarball entries as declared —
 * and `sha1_hash:` is the SHA-1 of the declared specs, each serialized as Python's
 * `json.dumps(spec.to_dict(), sort_keys=True)`, sorted and joined by newlines. A later `deps`
 * whose specs hash the same installs exactly what the lock lists; a lock dbt wrote for the same
 * packages.yml is reused by Tributary and the other way round.
 *
 * A git entry keeps the revision as declared (`HEAD` when none was), as dbt-core's
 * GitPinnedPackage.to_dict() writes it: a branch stays a branch, so a later `deps` from the lock
 * checks out where that branch is then, as dbt does.
 *
 * Contract: specsHash(specs) → dbt's sha1_hash; readLock/writeLock read and write the file;
 * lockEntryOf(pinned) → one `packages:` entry.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { isErrno, writeFileAtomic } from '../../core/index.js';
import type { PackageSpec } from './spec.js';

export const LOCK_FILE = 'package-lock.yml';

/** A spec's `to_dict()` as dbt's mashumaro contracts produce it (None kept, aliases used). */
function specDict(spec: PackageSpec): Record<string, unknown> {
  const r = spec.rendered;
  const unrendered = spec.unrendered;
  switch (spec.kind) {
    case 'local':
      return { local: r.local, unrendered };
    case 'tarball':
      return { tarball: r.tarball, name: r.name, unrendered };
    case 'git':
      return {
        git: r.git,
        revision: r.revision ?? null,
        'warn-unpinned': r['warn-unpinned'] ?? r.warn_unpinned ?? null,
        subdirectory: r.subdirectory ?? null,
        unrendered,
      };
    case 'hub':
      return {
        package: r.package,
        version: r.version,
        install_prerelease: r['install-prerelease'] ?? r.install_prerelease ?? false,
        unrendered,
      };
  }
}

/** dbt's _create_sha1_hash over the declared specs. */
export function specsHash(specs: PackageSpec[]): string {
  const lines = specs.map((s) => pythonJson(specDict(s))).sort();
  return createHash('sha1').update(lines.join('\n'), 'utf8').digest('hex');
}

/**
 * Python's json.dumps(value, sort_keys=True): `", "` and `": "` separators, non-ASCII escaped
 * as \uXXXX. (A YAML float such as `1.0` reaches JavaScript as 1 and prints so; Python prints 1.0.)
 */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string')
    return JSON.stringify(value).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value instanceof Date) return pythonJson(value.toISOString());
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${pythonJson(k)}: ${pythonJson(obj[k])}`).join(', ')}}`;
}

/** One entry of the lock's `packages:`. */
export type LockEntry = Record<string, unknown> & { name: string };

export interface LockFile {
  packages: LockEntry[];
  sha1Hash: string | undefined;
}

/** The lock file's contents; undefined when there is none or it cannot be read as a lock. */
export async function readLock(path: string): Promise<LockFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    // A broken lock is rewritten from the specs, as dbt does when the hash does not match.
    return undefined;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const d = doc as Record<string, unknown>;
  const packages = Array.isArray(d.packages)
    ? d.packages.filter((p): p is LockEntry => !!p && typeof p === 'object' && !Array.isArray(p))
    : [];
  return { packages, sha1Hash: typeof d.sha1_hash === 'string' ? d.sha1_hash : undefined };
}

/** Writes the lock as dbt's yaml.dump does: keys sorted, list items indented under their key. */
export async function writeLock(path: string, lock: LockFile): Promise<void> {
  const text = stringify(
    { packages: lock.packages, sha1_hash: lock.sha1Hash },
    { sortMapEntries: true, indentSeq: true, lineWidth: 0 },
  );
  await writeFileAtomic(path, text);
}
