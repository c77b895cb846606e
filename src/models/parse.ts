/**
 * Parsing a dbt project into a Manifest: models, seeds, snapshots, singular and generic tests,
 * sources, macros and docs, each with its resolved config, schema, alias and dependencies. One
 * parser per resource type (in parsers/, as dbt-core has) runs in dbt's order over one shared
 * session. Every problem in every file is collected, so one run shows them all (dataform's
 * rule), and cycles are parse errors naming the nodes in the loop.
 */
import type { Dialect } from '../engines/index.js';
import type { JinjaEnvironment, JinjaTemplate, MacroDefinition } from '../jinja/index.js';
import { ProblemsError } from '../project/index.js';
import type { DbtProject, TargetConfig } from './dbt-project.js';
import { parseGenericTests } from './parsers/generic-tests.js';
import { parseDocs, parseMacros } from './parsers/macros.js';
import { parseModels } from './parsers/models.js';
import { readProperties, reportUnmatched } from './parsers/properties.js';
import { reportCycle, resolveDependencies, resolveRelations } from './parsers/resolve.js';
import { ParseSession, type ParseOptions } from './parsers/session.js';
import { parseSeeds } from './parsers/seeds.js';
import { parseSingularTests } from './parsers/singular-tests.js';
import { parseSnapshots } from './parsers/snapshots.js';
import { parseSources, queueSourceTests } from './parsers/sources.js';
import type { Manifest } from './types.js';

export interface ParsedProject {
  project: DbtProject;
  manifest: Manifest;
  macros: Map<string, MacroDefinition>;
  /** Parsed templates by unique id (models, tests, snapshots, analyses). */
  templates: Map<string, JinjaTemplate>;
  env: JinjaEnvironment;
  target: TargetConfig;
  dialect: Dialect;
  dispatchPrefixes: string[];
  /** Errors of nodes whose parse-mode render failed, raised when each node runs. */
  nodeErrors: Map<string, unknown>;
}

/** Parses a project into a manifest; throws a ProblemsError listing every problem found. */
export async function parseProject(
  project: DbtProject,
  opts: ParseOptions,
): Promise<ParsedProject> {
  const s = new ParseSession(project, opts);
  await parseMacros(s);
  await parseDocs(s);
  s.properties = await readProperties(s);
  parseSources(s); // first: nodes resolve source() against them
  await parseModels(s);
  await parseSeeds(s);
  await parseSnapshots(s);
  await parseSingularTests(s);
  reportUnmatched(s);
  queueSourceTests(s);
  await parseGenericTests(s);
  await resolveRelations(s);
  resolveDependencies(s);
  reportCycle(s);
  if (s.problems.length) throw new ProblemsError(s.problems);
  return {
    project,
    manifest: s.manifest,
    macros: s.macros,
    templates: s.templates,
    env: s.env,
    target: opts.target,
    dialect: opts.dialect,
    dispatchPrefixes: opts.dispatchPrefixes,
    nodeErrors: s.nodeErrors,
  };
}
