/**
 * dbt's `run-operation`: one macro called with keyword arguments against the live warehouse, as
 * dbt-core's RunOperationTask calls it (`adapter.execute_macro(name, project=package,
 * kwargs=args)`). `package.macro` names the package; a bare name is looked up as dbt's
 * `find_macro_by_name` ranks candidates: the root project's macro, then an installed package's,
 * then dbt's own. The macro runs in its own package's context (unqualified calls inside it resolve
 * from that package, as under dbt's runtime macro context), with `execute` true; what it logs or
 * prints goes to `log`, and its return value is discarded, as dbt discards it.
 */
import { TributaryError } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import type { MacroDefinition } from '../jinja/index.js';
import { defaultConfig } from './config.js';
import { nodeGlobals } from './context.js';
import { DbtSession } from './execute.js';
import { INTERNAL_PACKAGE } from './macro-namespace.js';
import type { ParsedProject } from './parse.js';
import { newNode } from './types.js';

export interface OperationOptions {
  /** `--args`: the macro's keyword arguments. */
  args?: Record<string, unknown>;
  /** What the macro logs (`log(…, info=True)`, `print`). */
  log?: (message: string) => void;
}

/** The package defining the macro `name` calls, and the macro itself (dbt's candidate order). */
export function findOperationMacro(
  pp: ParsedProject,
  name: string,
): { pkg: string; macro: MacroDefinition } {
  const dot = name.indexOf('.');
  const wanted = dot >= 0 ? name.slice(0, dot) : undefined;
  const macroName = dot >= 0 ? name.slice(dot + 1) : name;
  const registry = pp.macros;
  const root = pp.project.name;
  const order = wanted
    ? [wanted]
    : [root, ...[...registry.packages.keys()].filter((p) => p !== root), INTERNAL_PACKAGE];
  for (const pkg of order) {
    const macro = registry.of(pkg).get(macroName);
    if (macro) return { pkg, macro };
  }
  throw new TributaryError(
    `dbt could not find a macro with the name '${macroName}'${wanted ? ` in ${wanted}` : ' in any package'}`,
    { code: 'CONFIG', hint: 'give the macro as <name> or <package>.<name>' },
  );
}

/** Runs one macro as `dbt run-operation <name> --args <args>` does. */
export async function runOperation(
  pp: ParsedProject,
  engine: Engine,
  name: string,
  opts: OperationOptions = {},
): Promise<void> {
  const { pkg, macro } = findOperationMacro(pp, name);
  const session = new DbtSession(pp, {
    which: 'run-operation',
    ...(opts.log ? { log: opts.log } : {}),
  });
  const rt = session.runtime(engine);
  // dbt's runtime macro context has no model; an operation node stands in for it.
  const operation = newNode({
    unique_id: `operation.${pkg}.${macro.name}`,
    resource_type: 'analysis',
    package_name: pkg,
    name: macro.name,
    path: 'dbt_project.yml',
    original_file_path: 'dbt_project.yml',
    fqn: [pkg, macro.name],
    raw_code: '',
    checksum: { name: 'sha256', checksum: '' },
    config: defaultConfig('analysis'),
    schema: pp.target.schema,
  });
  const globals = nodeGlobals(rt, operation, {
    execute: true,
    state: { ephemerals: [], statements: new Map() },
  });
  globals.__tributary_operation = macro.bind(globals);
  globals.__tributary_operation_args = opts.args ?? {};
  await rt.renderString(
    '{%- do __tributary_operation(**__tributary_operation_args) -%}',
    macro.file,
    globals,
  );
}
