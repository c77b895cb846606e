/**
 * Reading a dbt project folder: dbt_project.yml and profiles.yml, found and rendered where and how
 * dbt finds and renders them (env_var() and var() in values, --profiles-dir, DBT_PROFILES_DIR, the
 * current folder, ~/.dbt/), so an existing dbt project runs without edits.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { TributaryError, isErrno } from '../core/index.js';
import { JinjaEnvironment } from '../jinja/index.js';

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
  /** Variables: project-level (top of `vars:`) and per-package (`vars: {<project>: {...}}`). */
  vars: Record<string, unknown>;
  /** The config trees of dbt_project.yml, unrendered where dbt defers rendering (hooks). */
  models: Record<string, unknown>;
  seeds: Record<string, unknown>;
  snapshots: Record<string, unknown>;
  tests: Record<string, unknown>;
  sources: Record<string, unknown>;
  onRunStart: string[];
  onRunEnd: string[];
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
]);

/** Renders every string holding Jinja in a YAML value, leaving hooks for run time as dbt does. */
export async function renderValues(
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

async function readYaml(path: string, display: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new TributaryError(`invalid YAML: ${e.message.split('\n')[0]}`, {
      code: 'CONFIG',
      location: { file: display, line: e.linePos?.[0].line, column: e.linePos?.[0].col },
    });
  }
  return doc.toJS() ?? {};
}

const asList = (v: unknown, fallback: string[]): string[] =>
  v === undefined || v === null ? fallback : Array.isArray(v) ? v.map(String) : [String(v)];

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
    vars: {},
    models: {},
    seeds: {},
    snapshots: {},
    tests: {},
    sources: {},
    onRunStart: [],
    onRunEnd: [],
    file: join(dir, 'dbt_project.yml'),
  };
}

/** Loads dbt_project.yml; `cliVars` (from --vars) win over the project's vars. */
export async function loadDbtProject(
  dir: string,
  cliVars: Record<string, unknown> = {},
): Promise<DbtProject> {
  const file = 'dbt_project.yml';
  const raw = await readYaml(join(dir, file), file);
  if (raw === undefined)
    throw new TributaryError(`no dbt_project.yml in ${dir}`, {
      code: 'CONFIG',
      hint: 'run from a dbt project folder or pass --project-dir',
    });
  const top = asObject(raw);
  if (typeof top.name !== 'string' || !/^[A-Za-z_][\w]*$/.test(top.name))
    throw new TributaryError('dbt_project.yml needs a name made of letters, digits and _', {
      code: 'CONFIG',
      location: { file, path: 'name' },
    });
  const name = top.name;
  // Project vars: top-level ones, plus those under the project's own name.
  const varsTree = asObject(top.vars);
  const vars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(varsTree)) {
    if (k === name && v && typeof v === 'object') Object.assign(vars, v);
    else vars[k] = v;
  }
  Object.assign(vars, cliVars);
  const rendered = asObject(await renderValues(top, yamlContext(vars, file), file));
  return {
    dir,
    name,
    version: String(rendered.version ?? '1.0.0'),
    profile: typeof rendered.profile === 'string' ? rendered.profile : undefined,
    modelPaths: asList(rendered['model-paths'] ?? rendered['source-paths'], ['models']),
    seedPaths: asList(rendered['seed-paths'] ?? rendered['data-paths'], ['seeds']),
    snapshotPaths: asList(rendered['snapshot-paths'], ['snapshots']),
    macroPaths: asList(rendered['macro-paths'], ['macros']),
    testPaths: asList(rendered['test-paths'], ['tests']),
    analysisPaths: asList(rendered['analysis-paths'], ['analyses']),
    docsPaths: asList(rendered['docs-paths'], []),
    targetPath: String(rendered['target-path'] ?? 'target'),
    vars,
    models: asObject(rendered.models),
    seeds: asObject(rendered.seeds),
    snapshots: asObject(rendered.snapshots),
    tests: asObject(rendered.tests ?? rendered['data_tests']),
    sources: asObject(rendered.sources),
    onRunStart: asList(top['on-run-start'], []),
    onRunEnd: asList(top['on-run-end'], []),
    file: join(dir, file),
  };
}

export interface ProfileOptions {
  profilesDir?: string;
  target?: string;
  /** Profile name, defaulting to dbt_project.yml's `profile:`. */
  profile?: string;
  vars?: Record<string, unknown>;
}

/** The folders dbt searches for profiles.yml, in dbt's order. */
export function profileSearchPath(opts: ProfileOptions): string[] {
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
