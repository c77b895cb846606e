/**
 * The dbt package hub's API, as dbt-core's clients/registry.py reads it: one JSON document per
 * package at `<hub>/api/v1/<namespace>/<name>.json`, holding `versions` (each with the
 * project's `name`, its own `packages` and `downloads.tarball`) and `latest`. The hub is
 * https://hub.getdbt.com/ unless DBT_PACKAGE_HUB_URL names another (a mirror), as in dbt.
 *
 * Contract: HubClient.versions(pkg) → the package's versions (memoized per run); a package the
 * hub does not know is an error naming the entry and the URL.
 */
import semver from 'semver';
import { TributaryError } from '../../core/index.js';
import { DBT_VERSION } from '../dbt-version.js';
import { getJson, type FetchContext } from './fetch.js';

export const DEFAULT_HUB_URL = 'https://hub.getdbt.com/';

/** One version of a hub package, as the API describes it. */
export interface HubVersion {
  /** The project name: the folder it installs into. */
  name: string;
  version: string;
  /** Its own dependencies, as packages.yml entries. */
  packages: unknown[];
  tarball: string;
  /** The dbt versions it supports (`require_dbt_version`), each a specifier; empty: any. */
  requireDbtVersion: string[];
}

/**
 * dbt's registry.is_compatible_version: every specifier of the version admits the dbt version
 * Tributary answers to (dbt installs only hub versions compatible with itself).
 */
export function supportsDbt(v: HubVersion, dbtVersion = DBT_VERSION): boolean {
  return v.requireDbtVersion.every((spec) => {
    const range = semver.validRange(spec.trim());
    // A specifier semver cannot read is not held against the package, as a missing one is not.
    return range === null || semver.satisfies(dbtVersion, range, { includePrerelease: true });
  });
}

export interface HubPackage {
  versions: Map<string, HubVersion>;
  latest: string | undefined;
  /** The package's new home when the hub redirects it (dbt warns and installs it anyway). */
  redirect: string | undefined;
}

export class HubClient {
  private readonly cache = new Map<string, Promise<HubPackage>>();
  readonly base: string;

  constructor(base = process.env.DBT_PACKAGE_HUB_URL || DEFAULT_HUB_URL) {
    this.base = base.endsWith('/') ? base : `${base}/`;
  }

  urlOf(pkg: string): string {
    return `${this.base}api/v1/${pkg}.json`;
  }

  package(pkg: string, ctx: FetchContext): Promise<HubPackage> {
    let hit = this.cache.get(pkg);
    if (!hit) {
      hit = this.load(pkg, ctx);
      this.cache.set(pkg, hit);
      hit.catch(() => this.cache.delete(pkg));
    }
    return hit;
  }

  private async load(pkg: string, ctx: FetchContext): Promise<HubPackage> {
    const url = this.urlOf(pkg);
    const body = await getJson(
      url,
      ctx,
      `${pkg} is not on the hub: check the spelling at hub.getdbt.com, or install it with git: and its repository URL`,
    );
    const bad = (why: string) =>
      new TributaryError(`${ctx.what}: the hub's answer for ${pkg} (${url}) ${why}`, {
        code: 'INPUT',
        ...(ctx.location ? { location: ctx.location } : {}),
        hint: 'check that DBT_PACKAGE_HUB_URL points at a dbt package hub, or try again later',
      });
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('is not an object');
    const doc = body as Record<string, unknown>;
    const raw = doc.versions;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('has no versions');
    const versions = new Map<string, HubVersion>();
    for (const [version, v] of Object.entries(raw as Record<string, unknown>)) {
      const meta = (v ?? {}) as Record<string, unknown>;
      const downloads = (meta.downloads ?? {}) as Record<string, unknown>;
      if (typeof meta.name !== 'string' || typeof downloads.tarball !== 'string')
        throw bad(`lacks name or downloads.tarball for version ${version}`);
      versions.set(version, {
        name: meta.name,
        version,
        packages: Array.isArray(meta.packages) ? meta.packages : [],
        tarball: downloads.tarball,
        requireDbtVersion: specifiers(meta.require_dbt_version),
      });
    }
    const ns = (doc.redirectnamespace ?? doc.namespace) as string | undefined;
    const nm = (doc.redirectname ?? doc.name) as string | undefined;
    const moved = (doc.redirectnamespace || doc.redirectname) && ns && nm && `${ns}/${nm}` !== pkg;
    return {
      versions,
      latest: typeof doc.latest === 'string' ? doc.latest : undefined,
      redirect: moved ? `${ns}/${nm}` : undefined,
    };
  }
}

/** `require_dbt_version` as a list of specifiers (a string, a list, or comma-separated). */
function specifiers(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}
