/**
 * Resolving declared packages into pinned ones, as dbt-core's deps/resolver.py does: the
 * declared specs are incorporated into one listing keyed by source (a hub package, a git URL
 * with or without `.git` plus its subdirectory, a local path, a tarball URL); each is pinned
 * (a hub version chosen, a git revision checked out, a tarball unpacked) and its own
 * packages.yml/dependencies.yml (for the hub: the version's `packages` metadata) is read and
 * incorporated in the next round, until nothing new appears. The same hub package required twice
 * merges: its version ranges are intersected, and the highest hub version satisfying all of them
 * is chosen; when none can, the error names the requirers whose ranges conflict.
 *
 * Contract: resolvePackages(specs, ctx) → the pinned packages in dbt's order (declared first,
 * then dependencies as found), each with its project `name`; git checkouts and unpacked
 * tarballs are left in ctx.downloads for install.ts to move into place. pinFromLock(entry)
 * turns a package-lock.yml entry back into a pinned package without resolving anything.
 */
import { access, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, resolve } from 'node:path';
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import { TributaryError } from '../../core/index.js';
import { downloadAndExtract, gitCheckout, singleTopFolder, type FetchContext } from './fetch.js';
import { DBT_VERSION } from '../dbt-version.js';
import { supportsDbt, type HubClient } from './hub.js';
import type { LockEntry } from './lock.js';
import { parseSpecList, readProjectSpecs, specError, type PackageSpec } from './spec.js';

/** A package pinned to one exact source, ready to install. */
export type Pinned =
  | {
      kind: 'hub';
      name: string;
      package: string;
      version: string;
      latest?: string;
      tarball: string;
    }
  | {
      kind: 'git';
      name: string;
      git: string;
      gitUnrendered: string;
      revision: string | undefined;
      sha: string;
      subdirectory: string | undefined;
      /** The checked-out project (the subdirectory, when one is given). */
      dir: string;
    }
  | { kind: 'local'; name: string; local: string; path: string }
  | { kind: 'tarball'; name: string; tarball: string; tarballUnrendered: string; dir: string };

export interface ResolveContext {
  /** The root project's folder: local paths are relative to it, as in dbt. */
  projectDir: string;
  /** The root project's name: no package may share it. */
  projectName: string;
  /** A scratch folder for checkouts and downloads. */
  downloads: string;
  hub: HubClient;
  /** --vars: var() in packages.yml entries renders with them, as in dbt's PackageRenderer. */
  vars: Record<string, unknown>;
  /** Only hub versions whose require_dbt_version admits dbt-core 1.9 (dbt's version check). */
  versionCheck: boolean;
  warn(message: string): void;
}

interface Unpinned {
  key: string;
  specs: PackageSpec[];
}

/** What an entry asks for: `dbt-labs/dbt_utils`, a git URL, `local ../x`, a tarball URL. */
function sourceText(spec: PackageSpec): string {
  switch (spec.kind) {
    case 'hub':
      return spec.package;
    case 'git':
      return `${spec.git}${spec.subdirectory ? ` (subdirectory ${spec.subdirectory})` : ''}`;
    case 'local':
      return `local ${spec.local}`;
    case 'tarball':
      return spec.tarball;
  }
}

/** How an entry is named in messages: `packages.yml:3 (dbt-labs/dbt_utils)`. */
export function describeSpec(spec: PackageSpec): string {
  const o = spec.origin;
  return `${o.file}${o.line ? `:${o.line}` : ''} (${sourceText(spec)})`;
}

/** For errors that carry the file and line as their location: `packages entry 2 (…)`. */
const contextOf = (spec: PackageSpec): FetchContext => ({
  what: `packages entry ${spec.origin.entry} (${sourceText(spec)})`,
  location: { file: spec.origin.file, ...(spec.origin.line ? { line: spec.origin.line } : {}) },
});

const stripGit = (url: string) => url.replace(/\.git$/, '');

function keyOf(spec: PackageSpec, projectDir: string): string {
  switch (spec.kind) {
    case 'hub':
      return `hub:${spec.package}`;
    case 'git':
      return `git:${stripGit(spec.git)}${spec.subdirectory ? `/${spec.subdirectory}` : ''}`;
    case 'local':
      return `local:${resolve(projectDir, spec.local)}`;
    case 'tarball':
      return `tarball:${spec.tarball}`;
  }
}

/** Resolves the declared specs and everything they depend on. */
export async function resolvePackages(
  declared: PackageSpec[],
  ctx: ResolveContext,
): Promise<Pinned[]> {
  const listing = new Map<string, Unpinned>();
  const pins = new Map<string, Promise<{ pinned: Pinned; deps: PackageSpec[] }>>();
  const seen = new Set<string>();
  const pinOf = (u: Unpinned) => {
    const id = pinId(u);
    let hit = pins.get(id);
    if (!hit) pins.set(id, (hit = pin(u, ctx)));
    return hit;
  };
  let pending = declared;
  while (pending.length) {
    const next: PackageSpec[] = [];
    for (const spec of pending) {
      // The same entry from the same requirer adds nothing: this ends dependency cycles.
      const once = `${spec.origin.requiredBy}\0${keyOf(spec, ctx.projectDir)}\0${JSON.stringify(spec.rendered)}`;
      if (seen.has(once)) continue;
      seen.add(once);
      const u = incorporate(listing, spec, ctx.projectDir);
      next.push(...(await pinOf(u)).deps);
    }
    pending = next;
  }
  const pinned: Pinned[] = [];
  for (const u of listing.values()) pinned.push((await pinOf(u)).pinned);
  checkNames(pinned, ctx.projectName);
  return pinned;
}

function incorporate(listing: Map<string, Unpinned>, spec: PackageSpec, dir: string): Unpinned {
  const key = keyOf(spec, dir);
  const existing = listing.get(key);
  if (!existing) {
    const u = { key, specs: [spec] };
    listing.set(key, u);
    return u;
  }
  existing.specs.push(spec);
  return existing;
}

/** What a pin depends on: a new hub version or git revision makes a new pin. */
function pinId(u: Unpinned): string {
  const first = u.specs[0]!;
  if (first.kind === 'git') return `${u.key}@${gitRevision(u)}`;
  if (first.kind === 'hub')
    return `${u.key}@${u.specs.flatMap((s) => (s.kind === 'hub' ? s.versions : [])).join(' ')}`;
  return u.key;
}

async function pin(
  u: Unpinned,
  ctx: ResolveContext,
): Promise<{ pinned: Pinned; deps: PackageSpec[] }> {
  const first = u.specs[0]!;
  switch (first.kind) {
    case 'hub':
      return pinHub(u, ctx);
    case 'git': {
      const revision = gitRevision(u);
      const warn = u.specs.every((s) => s.kind !== 'git' || s.warnUnpinned !== false);
      if (
        warn &&
        (revision === undefined ||
          revision === 'HEAD' ||
          revision === 'main' ||
          revision === 'master')
      )
        ctx.warn(
          `the git package ${first.git} is ${revision ? `pinned to the "${revision}" branch` : 'not pinned, using the default branch'}: it can change under the project without warning (pin a tag or sha in revision:, or set warn-unpinned: false)`,
        );
      const dir = join(ctx.downloads, `git-${md5(u.key)}-${md5(revision ?? 'HEAD')}`);
      const { sha } = await gitCheckout(first.git, revision, dir, contextOf(first));
      const project = first.subdirectory ? join(dir, first.subdirectory) : dir;
      if (relative(dir, project).startsWith('..') || isAbsolute(relative(dir, project)))
        throw specError(
          first.origin,
          `subdirectory ${first.subdirectory} leaves the repository`,
          'give a folder inside the repository, e.g. subdirectory: packages/my_package',
        );
      await requireProject(
        project,
        first,
        `subdirectory ${first.subdirectory ?? ''} of ${first.git}`,
      );
      const name = await projectName(project, first);
      return {
        pinned: {
          kind: 'git',
          name,
          git: first.git,
          gitUnrendered: String(first.unrendered.git),
          revision,
          sha,
          subdirectory: first.subdirectory,
          dir: project,
        },
        deps: (await readProjectSpecs(project, name, name, ctx.vars)).specs,
      };
    }
    case 'local': {
      const path = resolve(ctx.projectDir, first.local);
      await requireProject(path, first, `local path ${first.local} (${path})`);
      const name = await projectName(path, first);
      return {
        pinned: { kind: 'local', name, local: first.local, path },
        deps: (await readProjectSpecs(path, first.local, name, ctx.vars)).specs,
      };
    }
    case 'tarball': {
      const dir = join(ctx.downloads, `tarball-${md5(u.key)}`);
      await downloadAndExtract(first.tarball, dir, contextOf(first));
      const project = await singleTopFolder(dir, first.tarball, contextOf(first));
      await requireProject(project, first, `the archive at ${first.tarball}`);
      return {
        pinned: {
          kind: 'tarball',
          name: first.name,
          tarball: first.tarball,
          tarballUnrendered: String(first.unrendered.tarball),
          dir: project,
        },
        deps: (await readProjectSpecs(project, first.name, first.name, ctx.vars)).specs,
      };
    }
  }
}

/** The one revision every requirer of a git package asks for (none: the default branch). */
function gitRevision(u: Unpinned): string | undefined {
  const asked = new Map<string, PackageSpec>();
  for (const s of u.specs)
    if (s.kind === 'git' && s.revision !== undefined) asked.set(s.revision, s);
  if (asked.size > 1) {
    const [a, b] = [...asked.values()] as [PackageSpec, PackageSpec];
    const rev = (s: PackageSpec) => (s.kind === 'git' ? s.revision : '');
    throw new TributaryError(
      `git package ${(u.specs[0] as { git: string }).git} is required at two revisions: ${rev(a)} by ${a.origin.requiredBy} (${describeSpec(a)}) and ${rev(b)} by ${b.origin.requiredBy} (${describeSpec(b)})`,
      {
        code: 'CONFIG',
        location: { file: b.origin.file, ...(b.origin.line ? { line: b.origin.line } : {}) },
        hint: 'dbt installs one revision of a git package: make the revisions agree',
      },
    );
  }
  return asked.keys().next().value;
}

async function pinHub(
  u: Unpinned,
  ctx: ResolveContext,
): Promise<{ pinned: Pinned; deps: PackageSpec[] }> {
  const specs = u.specs.filter((s): s is Extract<PackageSpec, { kind: 'hub' }> => s.kind === 'hub');
  const first = specs[0]!;
  const info = await ctx.hub.package(first.package, contextOf(first));
  if (info.redirect)
    ctx.warn(`the hub package ${first.package} has moved to ${info.redirect}: update packages.yml`);
  const range = specs.flatMap((s) => s.versions).join(' ');
  // dbt keeps the first entry's install-prerelease, and allows pre-releases a range names.
  const prerelease =
    first.installPrerelease || specs.some((s) => s.versions.some((v) => /\d-[0-9A-Za-z]/.test(v)));
  const compatible = [...info.versions.values()].filter((v) => !ctx.versionCheck || supportsDbt(v));
  if (!compatible.length)
    throw specError(
      first.origin,
      `no version of ${first.package} on the hub supports dbt-core ${DBT_VERSION}, the dbt version Tributary runs as`,
      'pin a git: revision of the package instead, or run deps with --no-version-check',
    );
  const installable = compatible
    .map((v) => v.version)
    .filter((v) => semver.valid(v) && (prerelease || !semver.prerelease(v)));
  const chosen = semver.maxSatisfying(installable, range, { includePrerelease: true });
  if (!chosen) throw noVersion(specs, installable, info.versions.size - compatible.length);
  const meta = info.versions.get(chosen)!;
  const latest = installable.sort(semver.compare).at(-1);
  const origin = `hub:${first.package}@${chosen}`;
  const deps = await parseSpecList(
    meta.packages,
    (i) => ({ file: origin, entry: i + 1, requiredBy: meta.name }),
    ctx.vars,
  );
  return {
    pinned: {
      kind: 'hub',
      name: meta.name,
      package: first.package,
      version: chosen,
      ...(latest ? { latest } : {}),
      tarball: meta.tarball,
    },
    deps,
  };
}

/** No hub version fits: name the two requirers whose ranges cannot meet, or list what exists. */
function noVersion(
  specs: Extract<PackageSpec, { kind: 'hub' }>[],
  available: string[],
  incompatible: number,
): TributaryError {
  const range = (s: (typeof specs)[number]) => s.versions.join(' ');
  for (const [i, a] of specs.entries())
    for (const b of specs.slice(i + 1))
      if (!semver.intersects(range(a), range(b), { includePrerelease: true }))
        return new TributaryError(
          `version conflict for ${a.package}: ${a.origin.requiredBy} requires ${a.versions.join(', ')} (${describeSpec(a)}) and ${b.origin.requiredBy} requires ${b.versions.join(', ')} (${describeSpec(b)}); no version satisfies both`,
          {
            code: 'CONFIG',
            location: { file: a.origin.file, ...(a.origin.line ? { line: a.origin.line } : {}) },
            hint: `widen one of the ranges so they overlap (dbt installs one version of ${a.package})`,
          },
        );
  const first = specs[0]!;
  const asked = specs.map((s) => `${s.versions.join(', ')} (${s.origin.requiredBy})`).join('; ');
  return specError(
    first.origin,
    `no version of ${first.package} on the hub satisfies ${asked}`,
    `available: ${available.sort(semver.compare).slice(-10).join(', ') || 'none'}${first.installPrerelease ? '' : ' (pre-releases need install-prerelease: true)'}${incompatible ? `; ${incompatible} more require a dbt other than ${DBT_VERSION} (--no-version-check installs them)` : ''}`,
  );
}

/** Turns a package-lock.yml entry into a pinned package (fetching what it names). */
export async function pinFromLock(
  entry: LockEntry,
  index: number,
  ctx: ResolveContext,
  lockFile: string,
): Promise<Pinned> {
  const [spec] = await parseSpecList(
    [lockSpec(entry)],
    () => ({ file: lockFile, entry: index + 1, requiredBy: lockFile }),
    ctx.vars,
  );
  const name = typeof entry.name === 'string' ? entry.name : undefined;
  if (spec!.kind === 'hub') {
    const version = spec!.versions[0]!;
    const info = await ctx.hub.package(spec!.package, contextOf(spec!));
    const meta = info.versions.get(version);
    if (!meta)
      throw specError(
        spec!.origin,
        `${spec!.package} ${version} is not on the hub`,
        `run deps --upgrade to resolve the packages again`,
      );
    const latest = [...info.versions.keys()]
      .filter((v) => semver.valid(v) && !semver.prerelease(v))
      .sort(semver.compare)
      .at(-1);
    return {
      kind: 'hub',
      name: meta.name,
      package: spec!.package,
      version,
      ...(latest ? { latest } : {}),
      tarball: meta.tarball,
    };
  }
  const u = { key: keyOf(spec!, ctx.projectDir), specs: [spec!] };
  const { pinned } = await pin(u, { ...ctx, warn: () => {} });
  if (name && pinned.name !== name)
    ctx.warn(
      `${lockFile} entry ${index + 1} names ${name}, but the package is now named ${pinned.name}: it installs as ${pinned.name}`,
    );
  return pinned;
}

/** A lock entry as a packages.yml entry (the lock adds `name:`, which only tarballs take). */
function lockSpec(entry: LockEntry): Record<string, unknown> {
  const { name, ...rest } = entry;
  if ('tarball' in rest) return { ...rest, name };
  if ('git' in rest) return { ...rest, 'warn-unpinned': false };
  return rest;
}

async function requireProject(dir: string, spec: PackageSpec, what: string): Promise<void> {
  try {
    await access(join(dir, 'dbt_project.yml'));
  } catch {
    throw specError(
      spec.origin,
      `${what} holds no dbt_project.yml`,
      spec.kind === 'local'
        ? 'local: is a path to a dbt project folder, relative to the project (e.g. ../shared/my_package)'
        : spec.kind === 'git'
          ? 'point subdirectory: at the folder holding the package dbt_project.yml'
          : 'a package is a dbt project: its folder must hold dbt_project.yml',
    );
  }
}

/** The package's project name (its dbt_project.yml `name:`), which is its folder's name. */
async function projectName(dir: string, spec: PackageSpec): Promise<string> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(join(dir, 'dbt_project.yml'), 'utf8'));
  } catch (err) {
    throw specError(
      spec.origin,
      `the package's dbt_project.yml cannot be read: ${(err as Error).message.split('\n')[0]}`,
      'fix the package, or pin a revision whose dbt_project.yml is valid',
    );
  }
  const name = (doc as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || !/^[^\d\W]\w*$/u.test(name))
    throw specError(
      spec.origin,
      `the package's dbt_project.yml has no valid name: (${JSON.stringify(name)})`,
      'a package needs name: made of letters, digits and underscores',
    );
  return name;
}

/** dbt refuses two packages with one project name, and a package named like the project. */
function checkNames(pinned: Pinned[], rootName: string): void {
  const seen = new Map<string, Pinned>();
  for (const p of pinned) {
    if (p.name === rootName)
      throw new TributaryError(
        `the package ${sourceOf(p)} is named ${p.name}, like the project itself`,
        {
          code: 'CONFIG',
          hint: 'package names must be unique in a project: rename the project or drop the package',
        },
      );
    const other = seen.get(p.name);
    if (other)
      throw new TributaryError(
        `two packages are named ${p.name}: ${sourceOf(other)} and ${sourceOf(p)}`,
        {
          code: 'CONFIG',
          hint: 'a project can install one package of each name: keep one of them',
        },
      );
    seen.set(p.name, p);
  }
}

export function sourceOf(p: Pinned): string {
  switch (p.kind) {
    case 'hub':
      return `${p.package}@${p.version}`;
    case 'git':
      return `${p.git}@${p.revision ?? 'HEAD'}${p.subdirectory ? ` (subdirectory ${p.subdirectory})` : ''}`;
    case 'local':
      return `local ${p.local}`;
    case 'tarball':
      return p.tarball;
  }
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex').slice(0, 12);
