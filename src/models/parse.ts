/**
 * Parsing a dbt project into a Manifest: models, seeds, snapshots, singular and generic tests,
 * sources, macros and docs of the project and of each installed package (dbt_packages/), each
 * with its resolved config, schema, alias and dependencies. One
 * parser per resource type (in parsers/, as dbt-core has) runs in dbt's order over one shared
 * session. Every problem in every file is collected, so one run shows them all (dataform's
 * rule), and cycles are parse errors naming the nodes in the loop.
 */
import { relative, sep } from 'node:path';
import type { Dialect } from '../engines/index.js';
import type { JinjaEnvironment, JinjaTemplate } from '../jinja/index.js';
import { ProblemsError } from '../project/index.js';
import type { DbtProject, TargetConfig } from './dbt-project.js';
import type { MacroRegistry } from './macro-namespace.js';
import { loadPackages, versionWarnings } from './packages/load.js';
import { parseGenericTests } from './parsers/generic-tests.js';
import { addBuiltinMacros, parseDocs, parseMacros } from './parsers/macros.js';
import { parseModels } from './parsers/models.js';
import { readProperties, reportUnmatched } from './parsers/properties.js';
import {
  reportAliasClashes,
  reportCycle,
  resolveDependencies,
  resolveRelations,
} from './parsers/resolve.js';
import { ParseSession, type ParseOptions } from './parsers/session.js';
import { parseSeeds } from './parsers/seeds.js';
import { parseSingularTests } from './parsers/singular-tests.js';
import { parseSnapshots } from './parsers/snapshots.js';
import { parseSources, queueSourceTests } from './parsers/sources.js';
import type { Manifest } from './types.js';
import { warnOrError, type DbtWarning, type WarnErrorPolicy } from './warn-error.js';

export interface ParsedProject {
  project: DbtProject;
  /** The installed packages (dbt_packages/), by project name, in load order. */
  packages: ReadonlyMap<string, DbtProject>;
  manifest: Manifest;
  macros: MacroRegistry;
  /** Parsed templates by unique id (models, tests, snapshots, analyses). */
  templates: Map<string, JinjaTemplate>;
  env: JinjaEnvironment;
  target: TargetConfig;
  dialect: Dialect;
  dispatchPrefixes: string[];
  /** What parsing noticed but went on with (a package's require-dbt-version, for one). */
  warnings: DbtWarning[];
  /** Which warnings are errors (--warn-error, --warn-error-options, DBT_WARN_ERROR…). */
  warnError?: WarnErrorPolicy;
  /** Errors of nodes whose parse-mode render failed, raised when each node runs. */
  nodeErrors: Map<string, unknown>;
}

/**
 * Runs one parsing step for the root project, then for each installed package. Problems found in
 * a package's files are located from the root project's folder (dbt_packages/x/models/…), while
 * the package's nodes keep paths relative to the package, as dbt writes them.
 */
async function eachProject(
  s: ParseSession,
  step: (s: ParseSession) => Promise<unknown> | unknown,
): Promise<void> {
  for (const p of s.projects) {
    s.project = p;
    const before = s.problems.length;
    await step(s);
    if (p !== s.root) {
      const prefix = relative(s.root.dir, p.dir).split(sep).join('/');
      for (const problem of s.problems.slice(before))
        if (problem.location.file && !problem.location.file.startsWith(prefix))
          problem.location = { ...problem.location, file: `${prefix}/${problem.location.file}` };
    }
  }
  s.project = s.root;
}

/** Parses a project and its installed packages into a manifest; throws a ProblemsError listing every problem found. */
export async function parseProject(
  project: DbtProject,
  opts: ParseOptions,
): Promise<ParsedProject> {
  const installed = await loadPackages(project);
  const s = new ParseSession(project, opts, installed.packages);
  s.problems.push(...installed.problems);
  s.warnings.push(...projectDeprecations(s.projects, project));
  s.warnings.push(...versionWarnings(s.projects, project.name));
  addBuiltinMacros(s);
  await eachProject(s, parseMacros);
  await eachProject(s, parseDocs);
  await eachProject(s, async () => (s.properties = await readProperties(s)));
  await eachProject(s, parseSources); // first: nodes resolve source() against them
  await eachProject(s, parseModels);
  await eachProject(s, parseSeeds);
  await eachProject(s, parseSnapshots);
  await eachProject(s, parseSingularTests);
  await eachProject(s, reportUnmatched);
  await eachProject(s, queueSourceTests);
  await parseGenericTests(s);
  await resolveRelations(s);
  reportAliasClashes(s);
  resolveDependencies(s);
  reportCycle(s);
  const promoted = s.warnings.filter((w) => opts.warnError?.errors(w.event));
  for (const w of s.warnings)
    if (!promoted.includes(w)) warnOrError(w, opts.warnError, (m) => opts.log?.(m));
  if (s.problems.length) throw new ProblemsError(s.problems);
  // A warning --warn-error promotes stops the parse, as dbt's warn_or_error raises there.
  if (promoted.length) warnOrError(promoted[0]!, opts.warnError, () => undefined);
  return {
    project,
    packages: s.runtime.packages,
    manifest: s.manifest,
    macros: s.macros,
    templates: s.templates,
    env: s.env,
    target: opts.target,
    dialect: opts.dialect,
    dispatchPrefixes: opts.dispatchPrefixes,
    warnings: s.warnings,
    ...(opts.warnError ? { warnError: opts.warnError } : {}),
    nodeErrors: s.nodeErrors,
  };
}

/**
 * The deprecations of the root project's and the packages' dbt_project.yml, each event once as
 * dbt fires it; `tests:` only for the root project (dbt-core 1.8.4 limited it so).
 */
function projectDeprecations(projects: DbtProject[], root: DbtProject): DbtWarning[] {
  const seen = new Set<string>();
  const out: DbtWarning[] = [];
  for (const p of projects)
    for (const d of p.deprecations ?? []) {
      if (seen.has(d.event) || (p !== root && d.event === 'TestsConfigDeprecation')) continue;
      seen.add(d.event);
      out.push(d);
    }
  return out;
}
