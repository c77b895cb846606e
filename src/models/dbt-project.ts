/**
 * Reading a dbt project folder: dbt_project.yml and profiles.yml, found and rendered where and how
 * dbt finds and renders them (env_var() and var() in values, --profiles-dir, DBT_PROFILES_DIR, the
 * current folder, ~/.dbt/), so an existing dbt project runs without edits.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { TributaryError, isErrno } from '../core/index.js';
import { JinjaEnvironment } from '../jinja/index.js';
import { ProblemsError, type Problem } from '../project/index.js';
import {
  DBT_PROJECT_KEYS,
  dbtProjectKeyExample,
  dbtProjectNameSchema,
  dbtProjectSchema,
} from './dbt-project-schema.js';
import type { DbtWarning } from './warn-error.js';

export interface DbtProject {
  dir: string;
  name: string;
  version: string;
  profile: string | undefined;
  modelPaths: string[];
  seedPaths: string[];
  snapshotPaths: string[];
  macroPaths: string[];
  testPaths: string[];
  analysisPaths: string[];
  docsPaths: string[];
  targetPath: string;
  /** Where `deps` installs packages and the loader reads them (`packages-install-path`). */
  packagesInstallPath: string;
  /** Variables: project-level (top of `vars:`) and per-package (`vars: {<project>: {...}}`). */
  vars: Record<string, unknown>;
  /** `vars:` as written: a package's nodes see the entry under their package's name too. */
  varsBlock: Record<string, unknown>;
  /** Variables given on the command line (--vars): they win everywhere, in every package. */
  cliVars: Record<string, unknown>;
  /** `require-dbt-version`: the dbt versions the project says it works with. */
  requireDbtVersion: string[];
  /** `dispatch:`: the packages adapter.dispatch searches for a macro namespace, in order. */
  dispatch: { macroNamespace: string; searchOrder: string[] }[];
  /** The config trees of dbt_project.yml, unrendered where dbt defers rendering (hooks). */
  models: Record<string, unknown>;
  seeds: Record<string, unknown>;
  snapshots: Record<string, unknown>;
  tests: Record<string, unknown>;
  sources: Record<string, unknown>;
  onRunStart: string[];
  onRunEnd: string[];
  /** `flags:` — dbt's behavior flags (`adapter.behavior.<flag>`) among them. */
  flags: Record<string, unknown>;
  /**
   * The config trees as written, before env_var()/var() render (dbt's project.unrendered): what
   * manifest nodes' `unrendered_config` shows.
   */
  unrendered?: Partial<Record<'models' | 'seeds' | 'snapshots' | 'tests', Record<string, unknown>>>;
  /** `quoting:` — which relation parts are quoted (over the adapter's default, all of them). */
  quoting: Record<string, unknown>;
  /** dbt's deprecation warnings for keys of this dbt_project.yml (`target-path`, `tests`…). */
  deprecations: DbtWarning[];
  /** Where dbt_project.yml keys sit, for error messages. */
  file: string;
}

export type TargetConfig = { type: string; schema: string; threads: number; name: string } & Record<
  string,
  unknown
>;

const yamlEnv = new JinjaEnvironment();

/** Functions available while rendering YAML values: env_var() and var(), as dbt offers there. */
export function yamlContext(vars: Record<string, unknown>, file: string): Record<string, unknown> {
  return {
    env_var: (name: string, fallback?: unknown) => envVar(name, fallback, file),
    var: (name: string, fallback?: unknown) => {
      if (name in vars) return vars[name];
      if (fallback !== undefined) return fallback;
      throw new TributaryError(`var('${name}') is not defined`, {
        code: 'CONFIG',
        location: { file },
        hint: `define it under vars: in dbt_project.yml or pass --vars '{"${name}": …}'`,
      });
    },
  };
}

/** env_var() as dbt has it: the variable, else the default, else an error naming it. */
export function envVar(name: string, fallback: unknown, file: string): unknown {
  const value = process.env[name];
  if (value !== undefined) return value;
  if (fallback !== undefined) return fallback;
  throw new TributaryError(`env_var('${name}') is not set and has no default`, {
    code: 'CONFIG',
    location: { file },
    hint: `export ${name}=… or give a default: env_var('${name}', '…')`,
  });
}

const SKIP_RENDER = new Set([
  'pre-hook',
  'post-hook',
  '+pre-hook',
  '+post-hook',
  'on-run-start',
  'on-run-end',
  // dbt renders the query comment per query, where `target` and `node` exist.
  'query-comment',
]);

/** Renders every string holding Jinja in a YAML value, leaving hooks for run time as dbt does. */
async function renderValues(
  value: unknown,
  context: Record<string, unknown>,
  file: string,
): Promise<unknown> {
  if (typeof value === 'string') {
    if (!value.includes('{{') && !value.includes('{%')) return value;
    return yamlEnv.parse(value, file).render(context);
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => renderValues(v, context, file)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SKIP_RENDER.has(k) ? v : await renderValues(v, context, file);
    }
    return out;
  }
  return value;
}

/** A YAML file's value; undefined when the file does not exist. */
async function readYaml(path: string, display: string): Promise<unknown> {
  return (await readPositionedYaml(path, display))?.value;
}

const asObject = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** True when a folder holds a dbt project. */
export async function isDbtProject(dir: string): Promise<boolean> {
  return (await readYaml(join(dir, 'dbt_project.yml'), 'dbt_project.yml')) !== undefined;
}

/** A project with dbt's defaults, for a pipeline folder that has models/ but no dbt_project.yml. */
export function defaultDbtProject(dir: string, name: string): DbtProject {
  return {
    dir,
    name: name.replace(/\W/g, '_'),
    version: '1.0.0',
    profile: undefined,
    modelPaths: ['models'],
    seedPaths: ['seeds'],
    snapshotPaths: ['snapshots'],
    macroPaths: ['macros'],
    testPaths: ['tests'],
    analysisPaths: ['analyses'],
    docsPaths: [],
    targetPath: 'target',
    packagesInstallPath: 'dbt_packages',
    vars: {},
    varsBlock: {},
    cliVars: {},
    requireDbtVersion: [],
    dispatch: [],
    models: {},
    seeds: {},
    snapshots: {},
    tests: {},
    sources: {},
    onRunStart: [],
    onRunEnd: [],
    flags: {},
    quoting: {},
    deprecations: [],
    file: join(dir, 'dbt_project.yml'),
  };
}

/** Loads dbt_project.yml; `cliVars` (from --vars) win over the project's vars. */
export async function loadDbtProject(
  dir: string,
  cliVars: Record<string, unknown> = {},
): Promise<DbtProject> {
  const file = 'dbt_project.yml';
  const yml = await readPositionedYaml(join(dir, file), file);
  if (yml === undefined)
    throw new TributaryError(`no dbt_project.yml in ${dir}`, {
      code: 'CONFIG',
      hint: 'run from a dbt project folder or pass --project-dir',
    });
  const top = yml.value;
  if (!top || typeof top !== 'object' || Array.isArray(top))
    throw new TributaryError('dbt_project.yml must be a mapping of keys (name:, profile:, …)', {
      code: 'CONFIG',
      location: { file, line: 1 },
    });
  // The name comes first and is never rendered: vars are keyed by it.
  const named = dbtProjectNameSchema.safeParse((top as Record<string, unknown>).name);
  if (!named.success) throw projectProblems(yml, named.error.issues, ['name']);
  const name = named.data;
  // Project vars: top-level ones, plus those under the project's own name.
  const vars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(asObject((top as Record<string, unknown>).vars))) {
    if (k === name && v && typeof v === 'object') Object.assign(vars, v);
    else vars[k] = v;
  }
  Object.assign(vars, cliVars);
  // dbt validates the rendered project (a value may come from env_var() or var()).
  const rendered = await renderValues(top, yamlContext(vars, file), file);
  const checked = dbtProjectSchema.safeParse(rendered);
  if (!checked.success) throw projectProblems(yml, checked.error.issues);
  const p = checked.data;
  return {
    dir,
    name,
    version: String(p.version ?? '1.0.0'),
    profile: p.profile ?? undefined,
    modelPaths: p['model-paths'] ?? p['source-paths'] ?? ['models'],
    seedPaths: p['seed-paths'] ?? p['data-paths'] ?? ['seeds'],
    snapshotPaths: p['snapshot-paths'] ?? ['snapshots'],
    macroPaths: p['macro-paths'] ?? ['macros'],
    testPaths: p['test-paths'] ?? ['tests'],
    analysisPaths: p['analysis-paths'] ?? ['analyses'],
    docsPaths: p['docs-paths'] ?? [],
    targetPath: p['target-path'] ?? 'target',
    packagesInstallPath: p['packages-install-path'] ?? 'dbt_packages',
    vars,
    varsBlock: asObject((top as Record<string, unknown>).vars),
    cliVars: { ...cliVars },
    requireDbtVersion: asList(p['require-dbt-version']),
    dispatch: (p.dispatch ?? []).map((d) => ({
      macroNamespace: d.macro_namespace,
      searchOrder: d.search_order,
    })),
    models: p.models ?? {},
    seeds: p.seeds ?? {},
    snapshots: p.snapshots ?? {},
    tests: p.data_tests ?? p.tests ?? {},
    sources: p.sources ?? {},
    onRunStart: asList(p['on-run-start']),
    onRunEnd: asList(p['on-run-end']),
    flags: (p.flags ?? {}) as Record<string, unknown>,
    quoting: (p.quoting ?? {}) as Record<string, unknown>,
    unrendered: unrenderedTrees(top as Record<string, unknown>),
    deprecations: projectDeprecations(rendered as Record<string, unknown>),
    file: join(dir, file),
  };
}

/** The config trees of dbt_project.yml as written (a tree that is not a mapping is left out). */
function unrenderedTrees(top: Record<string, unknown>): DbtProject['unrendered'] {
  const tree = (v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  return {
    models: tree(top.models),
    seeds: tree(top.seeds),
    snapshots: tree(top.snapshots),
    tests: tree(top.data_tests ?? top.tests),
  };
}

/** The description dbt's deprecation events print, under dbt's "Deprecated functionality". */
const deprecated = (event: string, description: string): DbtWarning => ({
  event,
  message: `Deprecated functionality\n\n${description}`,
});

/**
 * The deprecations dbt-core 1.9 fires when it loads a dbt_project.yml: the renamed path keys,
 * `log-path` and `target-path` (flags now) unless set to their defaults (`logs`, `target`: dbt's
 * check_config_path passes those, as many projects and packages spell the defaults out), and
 * `tests:` (now `data_tests:`).
 */
function projectDeprecations(p: Record<string, unknown>): DbtWarning[] {
  const out: DbtWarning[] = [];
  const renamed = (event: string, old: string, now: string) =>
    deprecated(
      event,
      `The \`${old}\` config has been renamed to \`${now}\`. Please update your \`dbt_project.yml\` configuration to reflect this change.`,
    );
  const moved = (event: string, key: string, output: string, flag: string, envVar: string) =>
    deprecated(
      event,
      `The \`${key}\` config in \`dbt_project.yml\` has been deprecated, and will no longer be supported in a future version of dbt-core. If you wish to write dbt ${output} to a custom directory, please use the ${flag} CLI flag or ${envVar} env var instead.`,
    );
  if ('source-paths' in p)
    out.push(renamed('ConfigSourcePathDeprecation', 'source-paths', 'model-paths'));
  if ('data-paths' in p) out.push(renamed('ConfigDataPathDeprecation', 'data-paths', 'seed-paths'));
  if ('log-path' in p && p['log-path'] !== 'logs')
    out.push(moved('ConfigLogPathDeprecation', 'log-path', 'logs', '--log-path', 'DBT_LOG_PATH'));
  if ('target-path' in p && p['target-path'] !== 'target')
    out.push(
      moved(
        'ConfigTargetPathDeprecation',
        'target-path',
        'artifacts',
        '--target-path',
        'DBT_TARGET_PATH',
      ),
    );
  if ('tests' in p)
    out.push(
      deprecated(
        'TestsConfigDeprecation',
        'The `tests` config has been renamed to `data_tests`. Please see https://docs.getdbt.com/docs/build/data-tests#new-data_tests-syntax for more information.',
      ),
    );
  return out;
}

const asList = (v: string | string[] | null | undefined): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];

export interface PositionedYaml {
  file: string;
  doc: Document;
  lines: LineCounter;
  value: unknown;
}

/**
 * Reads a YAML file keeping source positions; undefined when the file does not exist. A syntax
 * error names `display` with line and column, and carries `hint` when the caller has one.
 */
export async function readPositionedYaml(
  path: string,
  display: string,
  hint?: string,
): Promise<PositionedYaml | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = lines.linePos(e.pos[0]);
    throw new TributaryError(`invalid YAML: ${e.message.split('\n')[0]}`, {
      code: 'CONFIG',
      location: { file: display, line: pos.line, column: pos.col },
      ...(hint ? { hint } : {}),
    });
  }
  return { file: display, doc, lines, value: doc.toJS() ?? {} };
}

/**
 * The problems of dbt_project.yml as one error: each names the line and column of the key or
 * value at fault and its config path, with a hint (the key meant, for an unknown one).
 */
function projectProblems(
  yml: PositionedYaml,
  issues: readonly z.core.$ZodIssue[],
  prefix: (string | number)[] = [],
): TributaryError {
  const found: (Problem & { hint?: string })[] = [];
  const at = (path: (string | number)[], atKey: boolean) => ({
    file: yml.file,
    ...positionOf(yml, path, atKey),
    path: path.join('.') || undefined,
  });
  for (const issue of issues) {
    const path = [...prefix, ...issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k))];
    const example = path.length ? dbtProjectKeyExample(String(path[0])) : undefined;
    const written = example === undefined ? undefined : `write it like ${example}`;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const near = path.length ? undefined : closest(key, DBT_PROJECT_KEYS);
        const hint = near
          ? `did you mean ${near}?`
          : (written ?? 'docs/dbt-compatibility.md lists the keys dbt_project.yml takes');
        found.push({ message: `unknown key ${key}`, location: at([...path, key], true), hint });
      }
      continue;
    }
    const custom = issue.code === 'custom' ? (issue.params?.hint as string | undefined) : undefined;
    found.push({ message: issue.message, location: at(path, false), hint: custom ?? written });
  }
  found.sort(
    (a, b) =>
      (a.location.line ?? 0) - (b.location.line ?? 0) ||
      (a.location.column ?? 0) - (b.location.column ?? 0),
  );
  if (found.length === 1) {
    const only = found[0]!;
    return new TributaryError(only.message, {
      code: 'CONFIG',
      location: only.location,
      ...(only.hint ? { hint: only.hint } : {}),
    });
  }
  return new ProblemsError(
    found.map((p) => ({
      message: p.hint ? `${p.message} (${p.hint})` : p.message,
      location: p.location,
    })),
  );
}

/** The line and column of `path` in the document: of the key itself when `atKey`, else of its value. */
function positionOf(
  yml: PositionedYaml,
  path: (string | number)[],
  atKey: boolean,
): { line?: number; column?: number } {
  const at = (range: [number, number, number] | undefined | null) => {
    if (!range) return undefined;
    const pos = yml.lines.linePos(range[0]);
    return { line: pos.line, column: pos.col };
  };
  if (atKey && path.length) {
    const parent = path.length === 1 ? yml.doc.contents : yml.doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((i) => isScalar(i.key) && i.key.value === path.at(-1));
      const pos = isScalar(pair?.key) ? at(pair.key.range) : undefined;
      if (pos) return pos;
    }
  }
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? yml.doc.contents : yml.doc.getIn(path.slice(0, depth), true);
    const pos = isNode(node) ? at(node.range) : undefined;
    if (pos) return pos;
  }
  return {};
}

/** The known key closest to a typo (model_paths → model-paths), if one is close enough. */
export function closest(key: string, known: readonly string[]): string | undefined {
  const norm = (k: string) => k.toLowerCase().replace(/_/g, '-');
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1;
  for (const k of known) {
    const d = norm(k) === norm(key) ? 0 : editDistance(norm(k), norm(key));
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length]!;
}

export interface ProfileOptions {
  profilesDir?: string;
  target?: string;
  /** Profile name, defaulting to dbt_project.yml's `profile:`. */
  profile?: string;
  vars?: Record<string, unknown>;
}

/** The folders dbt searches for profiles.yml, in dbt's order. */
function profileSearchPath(opts: ProfileOptions): string[] {
  if (opts.profilesDir) return [resolve(opts.profilesDir)];
  if (process.env.DBT_PROFILES_DIR) return [resolve(process.env.DBT_PROFILES_DIR)];
  return [process.cwd(), join(homedir(), '.dbt')];
}

/** Finds profiles.yml and returns the chosen target's output, rendered (env_var works). */
export async function loadTarget(project: DbtProject, opts: ProfileOptions): Promise<TargetConfig> {
  const profileName = opts.profile ?? project.profile;
  if (!profileName)
    throw new TributaryError('dbt_project.yml names no profile', {
      code: 'CONFIG',
      location: { file: 'dbt_project.yml', path: 'profile' },
      hint: 'add `profile: <name>` matching an entry of profiles.yml',
    });
  const searched = profileSearchPath(opts);
  // dbt also finds profiles.yml beside dbt_project.yml when run from that folder.
  if (!opts.profilesDir && !process.env.DBT_PROFILES_DIR && !searched.includes(project.dir))
    searched.splice(1, 0, project.dir);
  for (const dir of searched) {
    const file = join(dir, 'profiles.yml');
    const raw = await readYaml(file, file);
    if (raw === undefined) continue;
    const profiles = asObject(raw);
    const profile = asObject(profiles[profileName]);
    if (!profiles[profileName])
      throw new TributaryError(`profiles.yml has no profile named ${profileName}`, {
        code: 'CONFIG',
        location: { file },
        hint: `profiles here: ${
          Object.keys(profiles)
            .filter((k) => k !== 'config')
            .join(', ') || 'none'
        }`,
      });
    // dbt renders all of profiles.yml, so `target:` may come from env_var() too.
    const targetName =
      opts.target ??
      (typeof profile.target === 'string'
        ? String(
            await renderValues(profile.target, yamlContext(opts.vars ?? project.vars, file), file),
          ).trim()
        : 'dev');
    const outputs = asObject(profile.outputs);
    const output = outputs[targetName];
    if (!output)
      throw new TributaryError(`profile ${profileName} has no target ${targetName}`, {
        code: 'CONFIG',
        location: { file, path: `${profileName}.outputs` },
        hint: `targets: ${Object.keys(outputs).join(', ') || 'none'}; pick one with --target`,
      });
    const rendered = asObject(
      await renderValues(output, yamlContext(opts.vars ?? project.vars, file), file),
    );
    const type = String(rendered.type ?? '');
    if (!type)
      throw new TributaryError(`target ${targetName} has no type`, {
        code: 'CONFIG',
        location: { file, path: `${profileName}.outputs.${targetName}.type` },
      });
    return {
      ...rendered,
      type,
      name: targetName,
      profile_name: profileName,
      // Empty when the profile names none: the adapter supplies its default (main, public).
      schema:
        rendered.schema === undefined || rendered.schema === null ? '' : String(rendered.schema),
      threads: Number(rendered.threads ?? 1),
    };
  }
  throw new TributaryError(`profiles.yml not found (looked in ${searched.join(', ')})`, {
    code: 'CONFIG',
    hint: 'create profiles.yml in one of those folders, or pass --profiles-dir / set DBT_PROFILES_DIR',
  });
}
