/**
 * What a project asks for: the entries of `packages.yml` (or the `packages:` key of
 * `dependencies.yml`), read, rendered and checked as dbt-core 1.8/1.9 does
 * (core/dbt/config/project.py package_and_project_data_from_root, contracts/project.py
 * PackageSpec). Each entry is one of four kinds — `local:`, `git:`, `tarball:`, `package:` (the
 * hub) — with exactly the keys dbt takes; anything else is an error naming the file, the line,
 * the entry and the key. String values are rendered with `env_var()`/`var()` as dbt's
 * PackageRenderer does; the unrendered entry is kept, since dbt hashes it into package-lock.yml
 * and writes git and tarball URLs unrendered (so a secret in an env var never lands in the lock).
 *
 * Contract: readProjectSpecs(dir) → the specs of the project in `dir` (an empty list when it
 * declares none); parseSpecList(entries, origin) → the specs of an already-parsed list (the
 * hub's `packages` metadata of a version). Nothing here touches the network or the disk beyond
 * reading those two files.
 */
import { join } from 'node:path';
import semver from 'semver';
import { isMap, isSeq } from 'yaml';
import { TributaryError } from '../../core/index.js';
import { JinjaEnvironment } from '../../jinja/index.js';
import { closest, readPositionedYaml, yamlContext, type PositionedYaml } from '../dbt-project.js';

/** Where an entry was written and who asked for it, for error messages. */
export interface SpecOrigin {
  /** The file shown in messages (`packages.yml`, `dbt_packages/x/packages.yml`, `hub:a/b@1.0.0`). */
  file: string;
  line?: number;
  /** 1-based position of the entry in its `packages:` list. */
  entry: number;
  /** Who declared it: `packages.yml` for the root project, else the requiring package's name. */
  requiredBy: string;
}

interface SpecBase {
  /** The entry as written, before rendering: dbt's `unrendered`. */
  unrendered: Record<string, unknown>;
  /** The entry with env_var()/var() rendered, as dbt hashes it. */
  rendered: Record<string, unknown>;
  origin: SpecOrigin;
}

export type PackageSpec =
  | (SpecBase & { kind: 'local'; local: string })
  | (SpecBase & {
      kind: 'git';
      git: string;
      revision: string | undefined;
      warnUnpinned: boolean | undefined;
      subdirectory: string | undefined;
    })
  | (SpecBase & { kind: 'tarball'; tarball: string; name: string })
  | (SpecBase & {
      kind: 'hub';
      package: string;
      /** Each version specifier (`1.1.1`, `>=1.0.0`, `<2.0.0`). */
      versions: string[];
      installPrerelease: boolean;
    });

/** The keys each kind takes, as dbt's contracts declare them (dbt accepts both spellings of two). */
const KIND_KEYS: Record<PackageSpec['kind'], readonly string[]> = {
  local: ['local'],
  git: ['git', 'revision', 'warn-unpinned', 'warn_unpinned', 'subdirectory'],
  tarball: ['tarball', 'name'],
  hub: ['package', 'version', 'install-prerelease', 'install_prerelease'],
};
const ALL_KEYS = [...new Set(Object.values(KIND_KEYS).flat())];

export const PACKAGES_FILE = 'packages.yml';
export const DEPENDENCIES_FILE = 'dependencies.yml';

/** The specs a project declares, and the file they came from (undefined when none). */
export interface ProjectSpecs {
  file: string | undefined;
  specs: PackageSpec[];
}

/**
 * Reads `packages.yml` and `dependencies.yml` in `dir`. `shownDir` prefixes file names in
 * messages (empty for the root project); `requiredBy` is recorded on each spec.
 */
export async function readProjectSpecs(
  dir: string,
  shownDir = '',
  requiredBy = PACKAGES_FILE,
  vars: Record<string, unknown> = {},
): Promise<ProjectSpecs> {
  const shown = (f: string) => (shownDir ? `${shownDir.replace(/\/$/, '')}/${f}` : f);
  const pkgs = await readPositionedYaml(join(dir, PACKAGES_FILE), shown(PACKAGES_FILE), YAML_HINT);
  const deps = await readPositionedYaml(
    join(dir, DEPENDENCIES_FILE),
    shown(DEPENDENCIES_FILE),
    YAML_HINT,
  );
  const has = (d: PositionedYaml | undefined) =>
    Boolean(d && isMap(d.doc.contents) && d.doc.has('packages'));
  if (has(pkgs) && has(deps))
    throw new TributaryError(
      `both ${shown(PACKAGES_FILE)} and ${shown(DEPENDENCIES_FILE)} declare packages:`,
      {
        code: 'CONFIG',
        location: { file: shown(DEPENDENCIES_FILE) },
        hint: 'dbt reads packages from one file only: move every entry into one of them',
      },
    );
  if (has(deps)) return { file: deps!.file, specs: await specsOf(deps!, requiredBy, false, vars) };
  if (pkgs) return { file: pkgs.file, specs: await specsOf(pkgs, requiredBy, true, vars) };
  return { file: undefined, specs: [] };
}

const YAML_HINT = 'fix the YAML syntax, then run deps again';

/** The `packages:` list of a loaded file; packages.yml takes no other top-level key. */
async function specsOf(
  y: PositionedYaml,
  requiredBy: string,
  strict: boolean,
  vars: Record<string, unknown>,
): Promise<PackageSpec[]> {
  const top: unknown = y.doc.toJS();
  if (top === null || top === undefined) return [];
  if (typeof top !== 'object' || Array.isArray(top))
    throw new TributaryError('expected a mapping with a packages: list', {
      code: 'CONFIG',
      location: { file: y.file, line: 1 },
      hint: 'write it as\npackages:\n  - package: dbt-labs/dbt_utils\n    version: [">=1.0.0", "<2.0.0"]',
    });
  if (strict)
    for (const key of Object.keys(top)) {
      if (key === 'packages') continue;
      throw new TributaryError(`unknown key ${key}`, {
        code: 'CONFIG',
        location: { file: y.file, ...lineOfKey(y, [], key) },
        hint:
          key === 'projects'
            ? 'projects: (dbt Mesh) belongs in dependencies.yml'
            : `${y.file} takes only a packages: list`,
      });
    }
  const list = (top as Record<string, unknown>).packages;
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list))
    throw new TributaryError('packages: must be a list of entries', {
      code: 'CONFIG',
      location: { file: y.file, ...lineOfKey(y, [], 'packages') },
      hint: 'start each entry with "- ", e.g. "- package: dbt-labs/dbt_utils"',
    });
  const seq = y.doc.get('packages', true);
  const lineOf = (i: number): number | undefined => {
    if (!isSeq(seq)) return undefined;
    const item = seq.items[i] as { range?: [number, number, number] } | undefined;
    return item?.range ? y.lines.linePos(item.range[0]).line : undefined;
  };
  return parseSpecList(
    list,
    (i) => ({ file: y.file, line: lineOf(i), entry: i + 1, requiredBy }),
    vars,
  );
}

function lineOfKey(y: PositionedYaml, path: string[], key: string): { line?: number } {
  const parent = path.length ? y.doc.getIn(path, true) : y.doc.contents;
  if (!isMap(parent)) return {};
  const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
  const range = (pair?.key as { range?: [number, number, number] } | null)?.range;
  return range ? { line: y.lines.linePos(range[0]).line } : {};
}

/** Parses a list of entries (from a file or from the hub's metadata) into specs. */
export async function parseSpecList(
  list: unknown[],
  originOf: (index: number) => SpecOrigin,
  vars: Record<string, unknown> = {},
): Promise<PackageSpec[]> {
  const out: PackageSpec[] = [];
  for (const [i, raw] of list.entries()) out.push(await parseSpec(raw, originOf(i), vars));
  return out;
}

/** An error about one entry: the file, line and entry number, and what to do. */
export function specError(origin: SpecOrigin, message: string, hint: string): TributaryError {
  return new TributaryError(`packages entry ${origin.entry}: ${message}`, {
    code: 'CONFIG',
    location: { file: origin.file, ...(origin.line ? { line: origin.line } : {}) },
    hint,
  });
}

const yamlEnv = new JinjaEnvironment();

/** Renders `{{ env_var(...) }}` and `{{ var(...) }}` in a value, as dbt's PackageRenderer. */
async function render(
  value: unknown,
  file: string,
  vars: Record<string, unknown>,
): Promise<unknown> {
  if (typeof value === 'string') {
    if (!value.includes('{{') && !value.includes('{%')) return value;
    return yamlEnv.parse(value, file).render(yamlContext(vars, file));
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => render(v, file, vars)));
  return value;
}

async function parseSpec(
  raw: unknown,
  origin: SpecOrigin,
  vars: Record<string, unknown>,
): Promise<PackageSpec> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw specError(
      origin,
      'an entry must be a mapping',
      'write e.g. "- package: dbt-labs/dbt_utils" with "version:" under it, or "- local: ../shared"',
    );
  const entry = raw as Record<string, unknown>;
  const kinds = (Object.keys(KIND_KEYS) as PackageSpec['kind'][]).filter(
    (k) => KIND_KEYS[k][0]! in entry,
  );
  if ('private' in entry)
    throw specError(
      origin,
      'private: packages are resolved through dbt Cloud, which Tributary does not use',
      'install it with git: and its URL instead',
    );
  if (kinds.length !== 1)
    throw specError(
      origin,
      kinds.length
        ? `an entry takes one of ${kinds.map((k) => `${KIND_KEYS[k][0]}:`).join(' and ')}, not both`
        : `no package source in {${Object.keys(entry).join(', ')}}`,
      'each entry is one of package: (the hub), git:, tarball: or local:',
    );
  const kind = kinds[0]!;
  for (const key of Object.keys(entry))
    if (!KIND_KEYS[kind].includes(key)) {
      const near = closest(key, KIND_KEYS[kind]) ?? closest(key, ALL_KEYS);
      throw specError(
        origin,
        `unknown key ${key} in a ${KIND_KEYS[kind][0]}: entry`,
        near && KIND_KEYS[kind].includes(near)
          ? `did you mean ${near}?`
          : `a ${KIND_KEYS[kind][0]}: entry takes ${KIND_KEYS[kind].join(', ')}`,
      );
    }
  const rendered: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) rendered[k] = await render(v, origin.file, vars);
  const base = { unrendered: entry, rendered, origin };
  switch (kind) {
    case 'local':
      return { ...base, kind, local: requiredString(rendered, 'local', origin) };
    case 'tarball':
      return {
        ...base,
        kind,
        tarball: requiredString(rendered, 'tarball', origin),
        name: requiredString(rendered, 'name', origin),
      };
    case 'git':
      return { ...base, kind, ...gitFields(rendered, origin) };
    case 'hub':
      return { ...base, kind, ...hubFields(rendered, origin) };
  }
}

function requiredString(entry: Record<string, unknown>, key: string, origin: SpecOrigin): string {
  const v = entry[key];
  if (typeof v === 'string' && v.trim()) return v;
  if (typeof v === 'number') return String(v);
  throw specError(origin, `${key}: must be a non-empty string`, `give ${key}: a value`);
}

function optionalBool(entry: Record<string, unknown>, keys: string[], origin: SpecOrigin) {
  for (const key of keys) {
    const v = entry[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'boolean') return v;
    throw specError(origin, `${key}: must be true or false`, `write ${key}: true or ${key}: false`);
  }
  return undefined;
}

function gitFields(entry: Record<string, unknown>, origin: SpecOrigin) {
  const revision = entry.revision;
  if (revision !== undefined && revision !== null && typeof revision === 'object')
    throw specError(
      origin,
      'revision: must be one branch, tag or commit sha',
      'write e.g. revision: 1.1.1',
    );
  const subdirectory = entry.subdirectory;
  return {
    git: requiredString(entry, 'git', origin),
    revision: revision === undefined || revision === null ? undefined : String(revision),
    warnUnpinned: optionalBool(entry, ['warn-unpinned', 'warn_unpinned'], origin),
    subdirectory:
      subdirectory === undefined || subdirectory === null
        ? undefined
        : requiredString(entry, 'subdirectory', origin),
  };
}

function hubFields(entry: Record<string, unknown>, origin: SpecOrigin) {
  const name = requiredString(entry, 'package', origin);
  if (!/^[^/\s]+\/[^/\s]+$/.test(name))
    throw specError(
      origin,
      `${name} is not a hub package name`,
      'hub packages are named <namespace>/<name>, e.g. dbt-labs/dbt_utils',
    );
  const raw = entry.version;
  if (raw === undefined || raw === null || raw === '' || (Array.isArray(raw) && !raw.length))
    throw specError(
      origin,
      `${name} is missing its version`,
      'hub packages need version:, e.g. version: [">=1.0.0", "<2.0.0"]',
    );
  const list = Array.isArray(raw) ? raw : [raw];
  const versions: string[] = [];
  for (const v of list) {
    if (typeof v !== 'string' && typeof v !== 'number')
      throw specError(
        origin,
        `version ${JSON.stringify(v)} is not a version`,
        'write e.g. ">=1.0.0"',
      );
    for (const part of String(v).split(',')) {
      const text = part.trim();
      if (!semver.validRange(text))
        throw specError(
          origin,
          `version ${JSON.stringify(text)} of ${name} is not a version or range`,
          'write versions as 1.1.1, ">=1.0.0" or "<2.0.0"',
        );
      versions.push(text);
    }
  }
  return {
    package: name,
    versions,
    installPrerelease:
      optionalBool(entry, ['install-prerelease', 'install_prerelease'], origin) ?? false,
  };
}
