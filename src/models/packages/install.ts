/**
 * `deps`: installs a dbt project's packages as dbt-core 1.8/1.9's task/deps.py does. When
 * package-lock.yml is missing, `upgrade` is asked, or the lock's sha1_hash no longer matches the
 * declared specs, the specs are resolved (resolve.ts) and the lock is rewritten; otherwise the
 * lock's entries are installed as they are. `lock` only resolves and writes the lock.
 *
 * Installing replaces `packages-install-path` (default dbt_packages/) as a whole, as dbt does,
 * but atomically: every package is fetched into a sibling staging folder first, and only when
 * all of them are there is the old folder swapped out by rename. A failed fetch leaves the
 * previous install untouched. Each package's folder is named by its project `name:`; a local
 * package is a symlink to its folder (a copy where symlinks are refused), as in dbt.
 *
 * Contract: installDeps(projectDir, options) → what was installed and what happened to the lock.
 * Errors are TributaryErrors naming the file, the entry and what to do.
 */
import { cp, mkdir, mkdtemp, readdir, rename, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { TributaryError, isErrno, newId } from '../../core/index.js';
import { loadDbtProject } from '../dbt-project.js';
import { downloadAndExtract, singleTopFolder } from './fetch.js';
import { HubClient } from './hub.js';
import { LOCK_FILE, readLock, specsHash, writeLock, type LockEntry } from './lock.js';
import {
  pinFromLock,
  resolvePackages,
  sourceOf,
  type Pinned,
  type ResolveContext,
} from './resolve.js';
import { readProjectSpecs } from './spec.js';

export interface DepsOptions {
  /** Resolve again even when the lock matches (`dbt deps --upgrade`). */
  upgrade?: boolean;
  /** Write package-lock.yml only; install nothing (`dbt deps --lock`). */
  lockOnly?: boolean;
  /** --vars: var() in dbt_project.yml and packages.yml renders with them. */
  vars?: Record<string, unknown>;
  /** Hub versions whose require_dbt_version excludes dbt 1.9 are skipped unless false. */
  versionCheck?: boolean;
  /** A hub other than DBT_PACKAGE_HUB_URL / hub.getdbt.com. */
  hubUrl?: string;
  /** Warnings (an unpinned git package, a moved hub package). */
  warn?: (message: string) => void;
  /** Progress lines ("installing dbt_utils"). */
  log?: (message: string) => void;
}

/** One installed package, as `deps --json` reports it. */
export interface InstalledPackage {
  name: string;
  kind: Pinned['kind'];
  /** Where it came from: `dbt-labs/dbt_utils@1.1.1`, a git URL at a revision, a path, a URL. */
  source: string;
  version?: string;
  /** The newest non-prerelease version on the hub, when it is newer than the installed one. */
  latest?: string;
  revision?: string;
  sha?: string;
  /** The folder, relative to the project. */
  path: string;
  /** For a local package: linked (a symlink) or copied. */
  linked?: boolean;
}

export interface DepsResult {
  /** The file the packages were declared in; undefined when the project declares none. */
  specFile: string | undefined;
  installPath: string;
  /** `written`: resolved and (re)written; `reused`: installed from the existing lock. */
  lock: 'written' | 'reused' | 'none';
  /** False with `lockOnly`: the packages were resolved, not installed. */
  installed: boolean;
  packages: InstalledPackage[];
}

export async function installDeps(
  projectDir: string,
  options: DepsOptions = {},
): Promise<DepsResult> {
  const dir = resolve(projectDir);
  const vars = options.vars ?? {};
  const project = await loadDbtProject(dir, vars);
  const installPath = resolve(dir, project.packagesInstallPath);
  if (!relative(installPath, dir).startsWith('..'))
    // The install folder is replaced as a whole: it must not hold the project itself.
    throw new TributaryError(
      `packages-install-path ${project.packagesInstallPath} is the project folder or holds it`,
      {
        code: 'CONFIG',
        location: { file: 'dbt_project.yml' },
        hint: 'point packages-install-path at a folder of its own, e.g. dbt_packages',
      },
    );
  const declared = await readProjectSpecs(dir, '', undefined, vars);
  const shownInstall = relative(dir, installPath) || '.';
  const lockPath = join(dir, LOCK_FILE);
  if (!declared.specs.length) {
    if (!options.lockOnly) await replaceFolder(installPath, async () => {});
    return {
      specFile: declared.file,
      installPath: shownInstall,
      lock: 'none',
      installed: !options.lockOnly,
      packages: [],
    };
  }
  const downloads = await mkdtemp(join(tmpdir(), 'tributary-deps-'));
  const ctx: ResolveContext = {
    projectDir: dir,
    projectName: project.name,
    downloads,
    hub: new HubClient(options.hubUrl),
    versionCheck: options.versionCheck ?? true,
    vars,
    warn: options.warn ?? (() => {}),
  };
  try {
    const hash = specsHash(declared.specs);
    const existing = await readLock(lockPath);
    let pinned: Pinned[];
    let lock: DepsResult['lock'];
    if (existing && existing.sha1Hash === hash && !options.upgrade) {
      options.log?.(`installing from ${LOCK_FILE}`);
      pinned = [];
      for (const [i, entry] of existing.packages.entries())
        pinned.push(await pinFromLock(entry, i, ctx, LOCK_FILE));
      lock = 'reused';
    } else {
      options.log?.(`resolving ${declared.file}`);
      pinned = await resolvePackages(declared.specs, ctx);
      await writeLock(lockPath, { packages: pinned.map(lockEntryOf), sha1Hash: hash });
      lock = 'written';
    }
    if (options.lockOnly)
      return {
        specFile: declared.file,
        installPath: shownInstall,
        lock,
        installed: false,
        packages: pinned.map((p) => described(p, dir, installPath)),
      };
    const linked = new Map<string, boolean>();
    await replaceFolder(installPath, async (staging) => {
      for (const p of pinned) {
        options.log?.(`installing ${p.name} (${sourceOf(p)})`);
        linked.set(p.name, await placePackage(p, join(staging, p.name), downloads));
      }
    });
    return {
      specFile: declared.file,
      installPath: shownInstall,
      lock,
      installed: true,
      packages: pinned.map((p) => ({
        ...described(p, dir, installPath),
        ...(p.kind === 'local' ? { linked: linked.get(p.name) ?? false } : {}),
      })),
    };
  } finally {
    await rm(downloads, { recursive: true, force: true });
  }
}

/** The lock's entry for a pinned package, as dbt's PinnedPackage.to_dict() plus `name`. */
export function lockEntryOf(p: Pinned): LockEntry {
  switch (p.kind) {
    case 'hub':
      return { name: p.name, package: p.package, version: p.version };
    case 'git':
      return {
        name: p.name,
        git: p.gitUnrendered,
        // dbt's GitPinnedPackage.to_dict(): the revision as declared, HEAD when none was.
        revision: p.revision ?? 'HEAD',
        ...(p.subdirectory ? { subdirectory: p.subdirectory } : {}),
      };
    case 'local':
      return { name: p.name, local: p.local };
    case 'tarball':
      return { name: p.name, tarball: p.tarballUnrendered };
  }
}

function described(p: Pinned, dir: string, installPath: string): InstalledPackage {
  const base = {
    name: p.name,
    kind: p.kind,
    source: sourceOf(p),
    path: relative(dir, join(installPath, p.name)),
  };
  switch (p.kind) {
    case 'hub':
      return {
        ...base,
        version: p.version,
        ...(p.latest && p.latest !== p.version ? { latest: p.latest } : {}),
      };
    case 'git':
      return { ...base, ...(p.revision ? { revision: p.revision } : {}), sha: p.sha };
    default:
      return base;
  }
}

/**
 * Builds a new folder beside `target` with `fill`, then swaps it in by rename; the old one is
 * removed only after the swap. On failure the staging folder goes and `target` stays as it was.
 */
async function replaceFolder(
  target: string,
  fill: (staging: string) => Promise<void>,
): Promise<void> {
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  await removeLeftovers(parent, basename(target));
  const staging = join(parent, `.${basename(target)}.${newId()}.tmp`);
  const old = join(parent, `.${basename(target)}.${newId()}.old`);
  await mkdir(staging);
  try {
    await fill(staging);
    let moved = false;
    try {
      await rename(target, old);
      moved = true;
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    try {
      await rename(staging, target);
    } catch (err) {
      if (moved) await rename(old, target);
      throw err;
    }
    // rm removes a symlinked local package's link, never the folder it points to.
    if (moved) await rm(old, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Staging and old folders a killed `deps` left beside the install folder. */
async function removeLeftovers(parent: string, name: string): Promise<void> {
  const prefix = `.${name}.`;
  for (const entry of await readdir(parent))
    if (entry.startsWith(prefix) && /\.(tmp|old)$/.test(entry))
      await rm(join(parent, entry), { recursive: true, force: true });
}

/** Puts one pinned package at `dest`; true when it is a symlink (local packages). */
async function placePackage(p: Pinned, dest: string, downloads: string): Promise<boolean> {
  switch (p.kind) {
    case 'local': {
      const target = isAbsolute(p.path) ? p.path : resolve(p.path);
      try {
        await symlink(target, dest, 'dir');
        return true;
      } catch {
        // Where symlinks are refused (Windows without the privilege), dbt copies the folder.
        await cp(target, dest, { recursive: true });
        return false;
      }
    }
    case 'git':
    case 'tarball':
      // Pinned checkouts and archives are already unpacked in the downloads folder.
      await cp(p.dir, dest, { recursive: true });
      return false;
    case 'hub': {
      const ctx = { what: `${p.package}@${p.version}` };
      const dir = join(downloads, `hub-${p.name}-${p.version}`);
      await downloadAndExtract(p.tarball, dir, ctx);
      await rename(await singleTopFolder(dir, p.tarball, ctx), dest);
      return false;
    }
  }
}
