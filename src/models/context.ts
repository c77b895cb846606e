/**
 * The Jinja context a dbt node renders in: ref, source, config, var, env_var, target, this,
 * is_incremental, adapter, run_query, log, return, doc, exceptions, api, and the macros the
 * node's package reaches (its own, the root project's, dbt's own, and each package, `dbt`
 * included, as a namespace; macro-namespace.ts). Parsing renders each node once in "parse mode"
 * (execute is False, ref() records instead of resolving); compiling renders again with everything real.
 */
import { TributaryError } from '../core/index.js';
import type { Dialect, Engine } from '../engines/index.js';
import { envVar, type DbtProject, type TargetConfig } from './dbt-project.js';
import { Kwargs, MacroReturn, splitArgs } from '../jinja/index.js';
import { DBT_VERSION } from './dbt-version.js';
import { findDoc, findRefTarget, findSource, packageVars } from './lookup.js';
import {
  dispatchMacro,
  macroLayer,
  type DispatchScope,
  type MacroRegistry,
} from './macro-namespace.js';
import {
  adapterMethods,
  apiObject,
  loadResult,
  makeRelation,
  relationsOf,
  runStatement,
  type StatementResults,
} from './context-adapter.js';
import { baseFunctions, flagsObject, graphObject } from './context-functions.js';
import { PyDateTime, UTC } from './pymodules/datetime.js';
import { DEFAULT_QUOTE_POLICY, isRelation, mergeQuotePolicy, type Relation } from './relation.js';
import type { Manifest, Node, RefCall } from './types.js';
import { warnOrError, type WarnErrorPolicy } from './warn-error.js';
import { overriddenAdapterMethods } from './adapter-macros.js';

/** What a parse-mode render records about a node. */
export interface ParseCapture {
  refs: RefCall[];
  sources: [string, string][];
  config: Record<string, unknown>;
}

export interface CompileRuntime {
  project: DbtProject;
  manifest: Manifest;
  dialect: Dialect;
  target: TargetConfig;
  /** Macro prefixes adapter.dispatch tries before `default__`, e.g. ['duckdb']. */
  dispatchPrefixes: string[];
  /** Every macro, by package: dbt's, the root project's, each installed package's. */
  macros: MacroRegistry;
  /** The installed packages (dbt_packages/), by project name. */
  packages: ReadonlyMap<string, DbtProject>;
  engine?: Engine;
  fullRefresh: boolean;
  /** `--store-failures`: tests without a store_failures config keep their failing rows. */
  storeFailures?: boolean;
  which: string;
  invocationId: string;
  runStartedAt: Date;
  log(message: string): void;
  /** Which warnings are errors (--warn-error, --warn-error-options). */
  warnError?: WarnErrorPolicy;
  /** Renders a Jinja snippet (test arguments, hooks) with the given globals. */
  renderString(text: string, file: string, globals: Record<string, unknown>): Promise<string>;
}

function kw(args: unknown[]): { args: unknown[]; kwargs: Record<string, unknown> } {
  return splitArgs(args);
}

function refCall(args: unknown[]): RefCall {
  const { args: pos, kwargs } = kw(args);
  const version = (kwargs.version ?? kwargs.v ?? null) as string | number | null;
  if (pos.length === 2) return { package: String(pos[0]), name: String(pos[1]), version };
  if (pos.length === 1) return { name: String(pos[0]), version };
  throw new TributaryError(`ref() takes one or two arguments, got ${pos.length}`, {
    code: 'CONFIG',
  });
}

export interface NodeRenderState {
  /** Ephemeral models referenced (in order) while compiling, for CTE injection. */
  ephemerals: string[];
  /** Results of statement blocks by name (load_result reads them). */
  statements: StatementResults;
}

const baseCache = new WeakMap<CompileRuntime, Map<string, Record<string, unknown>>>();

/**
 * Globals shared by every render of a runtime, built once (10,000 renders should not rebuild
 * them): the node-independent functions, then per package the variables it sees and each macro
 * as a getter that binds it to the render's own globals (the object inheriting from this one),
 * so macros see the calling node. The macros are those the node's package reaches, in dbt's order.
 */
function baseGlobals(rt: CompileRuntime, execute: boolean, pkg: string): Record<string, unknown> {
  let cached = baseCache.get(rt);
  if (!cached) baseCache.set(rt, (cached = new Map()));
  const key = `${execute ? 1 : 0}:${pkg}`;
  let layer = cached.get(key);
  if (!layer) {
    const commonKey = execute ? '1' : '0';
    let common = cached.get(commonKey);
    if (!common) cached.set(commonKey, (common = makeBaseGlobals(rt, execute)));
    // var() and doc() answer per package; macros sit above them (a macro may shadow them, as in dbt).
    const scoped = Object.create(common) as Record<string, unknown>;
    scoped.var = varFunction(packageVars(rt.project, rt.packages.get(pkg)), execute);
    scoped.doc = (...a: unknown[]) => {
      const args = kw(a).args.map(String);
      const [target, name] = args.length > 1 ? [args[0], args[1]!] : [null, args[0]!];
      const doc = findDoc(rt.manifest, name, pkg, target);
      if (!doc && execute)
        throw new TributaryError(`doc('${args.join("', '")}') names no docs block`, {
          code: 'CONFIG',
        });
      return doc?.block_contents ?? '';
    };
    layer = macroLayer(scoped, rt.macros, pkg);
    cached.set(key, layer);
  }
  return Object.create(layer) as Record<string, unknown>;
}

/** var(name, default): the variable, else the default, else (when executing) an error naming it. */
function varFunction(vars: Record<string, unknown>, execute: boolean) {
  return (...a: unknown[]) => {
    const [name, fallback] = kw(a).args as [string, unknown];
    if (name in vars) return vars[name];
    if (fallback !== undefined) return fallback;
    if (!execute) return undefined; // dbt only insists on vars when it runs
    throw new TributaryError(`var('${name}') is not defined and has no default`, {
      code: 'CONFIG',
      hint: `define it under vars: in dbt_project.yml or pass --vars '{"${name}": …}'`,
    });
  };
}

const dispatchScopes = new WeakMap<CompileRuntime, DispatchScope>();

/** What adapter.dispatch searches for this runtime (the root project's dispatch: config). */
function dispatchScope(rt: CompileRuntime): DispatchScope {
  let scope = dispatchScopes.get(rt);
  if (!scope) {
    scope = {
      registry: rt.macros,
      config: rt.project.dispatch,
      adapterChain: rt.dispatchPrefixes,
    };
    dispatchScopes.set(rt, scope);
  }
  return scope;
}

function makeBaseGlobals(rt: CompileRuntime, execute: boolean): Record<string, unknown> {
  const base = commonGlobals(rt, execute);
  // The manifest is complete once nodes execute; while parsing it is still being filled in.
  let graph: Record<string, unknown> | undefined;
  Object.defineProperty(base, 'graph', {
    get: () => (execute ? (graph ??= graphObject(rt.manifest)) : graphObject(rt.manifest)),
    enumerable: true,
  });
  return base;
}

function commonGlobals(rt: CompileRuntime, execute: boolean): Record<string, unknown> {
  const { target } = rt;
  return {
    execute,
    target: { ...target, database: target.database ?? target.dbname ?? null },
    project_name: rt.project.name,
    dbt_version: DBT_VERSION,
    invocation_id: rt.invocationId,
    run_started_at: PyDateTime.fromEpochMs(rt.runStartedAt.getTime(), UTC),
    flags: flagsObject(rt.fullRefresh, rt.which, rt.storeFailures ?? false, rt.warnError),
    env_var: (name: string, fallback?: unknown) => envVar(name, fallback, 'env_var'),
    log: (...a: unknown[]) => {
      const { args, kwargs } = kw(a);
      if (kwargs.info === true || args[1] === true) rt.log(String(args[0]));
      return '';
    },
    ...baseFunctions(
      (m) => rt.log(m),
      // dbt's exceptions.warn fires JinjaLogWarning through warn_or_error.
      (m) => warnOrError({ event: 'JinjaLogWarning', message: m }, rt.warnError, (w) => rt.log(w)),
    ),
    return: (value: unknown) => {
      throw new MacroReturn(value);
    },
    api: apiObject(target),
    is_relation: (v: unknown) => isRelation(v),
    load_relation: (rel: unknown) =>
      (adapterObject(rt, {}).load_relation as (r: unknown) => unknown)(rel),
  };
}

/** How a node renders: parsing (record what it calls) or executing (resolve and run). */
type RenderMode =
  { execute: false; capture: ParseCapture } | { execute: true; state: NodeRenderState };

/** Creates per-render globals for a node: base functions, node functions and bound macros. */
export function nodeGlobals(
  rt: CompileRuntime,
  node: Node,
  mode: RenderMode,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const g: Record<string, unknown> = baseGlobals(rt, mode.execute, node.package_name);
  const materialized = node.config.materialized;
  g.this =
    materialized === 'ephemeral'
      ? relationsOf(rt.target).factory.createEphemeral(node.alias)
      : makeRelation(
          rt.target,
          node.database ?? undefined,
          node.schema,
          node.alias,
          materialized === 'view' ? 'view' : 'table',
        );
  g.model = node;
  g.ref = (...a: unknown[]) => {
    const call = refCall(a);
    if (!mode.execute) {
      mode.capture.refs.push(call);
      return makeRelation(rt.target, undefined, rt.target.schema, call.name, null);
    }
    return resolveRef(rt, node, call, mode.state);
  };
  g.source = (...a: unknown[]) => {
    const [s, t] = kw(a).args.map(String) as [string, string];
    if (!mode.execute) {
      mode.capture.sources.push([s, t]);
      return makeRelation(rt.target, undefined, s, t, null);
    }
    return resolveSource(rt, node, s, t);
  };
  g.config = configFunction(node, mode);
  g.is_incremental = async () => {
    if (!mode.execute || !rt.engine) return false;
    if (node.config.materialized !== 'incremental') return false;
    if (rt.fullRefresh && node.config.full_refresh !== false) return false;
    if (node.config.full_refresh === true) return false;
    return (await rt.engine.describe(node.schema, node.alias)) !== undefined;
  };
  g.run_query = async (sql: unknown) => {
    if (!mode.execute || !rt.engine) return null;
    return (await runStatement(rt, String(sql), true)).table;
  };
  addStatementFunctions(g, rt, mode);
  // Most renders never read `adapter` (a model without dispatch, a test checked at parse):
  // build it on first read only.
  lazyGlobal(g, 'adapter', () => adapterObject(rt, g));
  Object.assign(g, extra);
  return g;
}

/**
 * Defines `g[name]` as made by `make` on its first read, then kept as a plain value; assigning it
 * first (a caller's `extra`) simply sets the value.
 */
function lazyGlobal(g: Record<string, unknown>, name: string, make: () => unknown): void {
  const settle = (value: unknown) => {
    Object.defineProperty(g, name, { value, writable: true, enumerable: true, configurable: true });
    return value;
  };
  Object.defineProperty(g, name, {
    get: () => settle(make()),
    set: settle,
    enumerable: true,
    configurable: true,
  });
}

function resolveSource(rt: CompileRuntime, node: Node, s: string, t: string): Relation {
  const src = findSource(rt.manifest, s, t, node.package_name);
  if (!src)
    throw new TributaryError(`source('${s}', '${t}') names no source table`, {
      code: 'CONFIG',
      hint: 'declare it under sources: in a .yml file in the models folder',
    });
  // dbt's create_from_source: the adapter's default under the source's (and table's) quoting.
  return makeRelation(
    rt.target,
    src.database ?? undefined,
    src.schema,
    src.identifier,
    'table',
    mergeQuotePolicy(DEFAULT_QUOTE_POLICY, src.quoting),
  );
}

/** config(): records the node's config while parsing; .get() and .require() read it. */
function configFunction(node: Node, mode: RenderMode) {
  const config = (...a: unknown[]) => {
    if (!mode.execute) {
      const { args, kwargs } = kw(a);
      const dict =
        args[0] && typeof args[0] === 'object' && !(args[0] instanceof Kwargs)
          ? (args[0] as object)
          : {};
      Object.assign(mode.capture.config, dict, kwargs);
    }
    return '';
  };
  config.get = (key: string, fallback: unknown = null) => {
    const v = node.config[key];
    return v === undefined ? fallback : v;
  };
  config.require = (key: string) => {
    const v = node.config[key];
    if (v === undefined || v === null)
      throw new TributaryError(`model ${node.name} needs config '${key}'`, { code: 'CONFIG' });
    return v;
  };
  return config;
}

/** statement() blocks and load_result(): run and remember results when executing, else no-ops. */
function addStatementFunctions(
  g: Record<string, unknown>,
  rt: CompileRuntime,
  mode: RenderMode,
): void {
  if (!mode.execute) {
    g.statement = () => '';
    g.load_result = () => null;
    return;
  }
  const statements = mode.state.statements;
  g.statement = async (...a: unknown[]) => {
    const { args, kwargs } = kw(a);
    const name = String(args[0] ?? kwargs.name ?? 'main');
    const caller = kwargs.caller as (() => Promise<string> | string) | undefined;
    const sql = caller ? String(await caller()) : '';
    if (!rt.engine) return '';
    const fetch = (kwargs.fetch_result ?? args[1]) === true;
    statements.set(name, await runStatement(rt, sql, fetch));
    return '';
  };
  g.load_result = (name: unknown) => loadResult(statements, String(name));
}

/**
 * dbt's behavior flags as `adapter.behavior.<flag>`: each is False unless `flags:` in
 * dbt_project.yml sets it, read through `.setting` or `.no_warn` (dbt warns on the former when
 * the flag is off; here neither warns). Only the flags dbt's macros read are known.
 */
const BEHAVIOR_FLAGS: Readonly<Record<string, boolean>> = {
  enable_truthy_nulls_equals_macro: false,
};

function behaviorFlags(flags: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, fallback] of Object.entries(BEHAVIOR_FLAGS)) {
    const on = name in flags ? flags[name] === true : fallback;
    out[name] = { setting: on, no_warn: on };
  }
  return out;
}

const adapterCache = new WeakMap<CompileRuntime, Record<string, unknown>>();

/** dbt's `adapter`: dispatch (through the render's globals `g`), quoting and introspection. */
function adapterObject(rt: CompileRuntime, g: Record<string, unknown>): Record<string, unknown> {
  let methods = adapterCache.get(rt);
  if (!methods)
    adapterCache.set(
      rt,
      (methods = { ...adapterMethods(rt), behavior: behaviorFlags(rt.project.flags ?? {}) }),
    );
  const scope = dispatchScope(rt);
  return {
    ...methods,
    // What the project or a package overrides of the macros behind adapter methods (dbt runs them).
    ...overriddenAdapterMethods(scope, g, rt.target),
    dispatch: (...a: unknown[]) => dispatchMacro(scope, g, a),
  };
}

function resolveRef(
  rt: CompileRuntime,
  node: Node,
  call: RefCall,
  state: NodeRenderState,
): Relation {
  const { manifest } = rt;
  const target = findRefTarget(manifest, call, node.package_name);
  if (!target)
    throw new TributaryError(
      `${refText(call)} in ${node.name} names no model, seed or snapshot${call.package ? ` of package ${call.package}` : ''}`,
      {
        code: 'CONFIG',
        location: { file: node.original_file_path },
      },
    );
  if (target.config.materialized === 'ephemeral') {
    if (!state.ephemerals.includes(target.unique_id)) state.ephemerals.push(target.unique_id);
    return relationsOf(rt.target).factory.createEphemeral(target.name);
  }
  return makeRelation(
    rt.target,
    target.database ?? undefined,
    target.schema,
    target.alias,
    target.config.materialized === 'view' ? 'view' : 'table',
  );
}

/** A ref() call as it was written, for messages. */
export function refText(call: RefCall): string {
  return call.package ? `ref('${call.package}', '${call.name}')` : `ref('${call.name}')`;
}
