/**
 * The adapter methods dbt-adapters implements by running a macro (SQLAdapter's execute_macro):
 * `get_columns_in_relation`, `list_relations_without_caching`, `list_schemas`,
 * `check_schema_exists`, `create_schema`, `drop_schema`, `drop_relation`, `truncate_relation`,
 * `rename_relation`. Tributary answers them from the engine directly, which is what dbt's own
 * macros do; when the root project or an installed package replaces the macro, the adapter
 * method runs that macro instead, as in dbt: execute_macro finds `name` in the root project,
 * then in an installed package, before dbt's own, and dbt's own dispatches in the `dbt`
 * namespace, so `duckdb__<name>` / `postgres__<name>` / `default__<name>` in the root project
 * (or a package listed under `dispatch:` for `dbt`) wins there.
 */
import { TributaryError } from '../core/index.js';
import { Kwargs, splitArgs, type MacroDefinition } from '../jinja/index.js';
import { relationsOf } from './context-adapter.js';
import { INTERNAL_PACKAGE, searchPackages, type DispatchScope } from './macro-namespace.js';
import { isRelation, type Relation, type RelationType } from './relation.js';
import type { TargetConfig } from './dbt-project.js';

type MacroFn = (...args: unknown[]) => Promise<unknown>;

/**
 * The definitions found for each name, per dispatch scope: the search depends only on the
 * registry and the scope, never on the render, and every node's adapter object asks for the
 * same nine names. Dropped when a macro is added (the registry's version moves).
 */
const overridingCache = new WeakMap<
  DispatchScope,
  { version: number; found: Map<string, MacroDefinition | null> }
>();

/** The definition that replaces dbt's `name` for execute_macro, if the project or a package has one. */
function findOverriding(scope: DispatchScope, name: string): MacroDefinition | undefined {
  const { registry } = scope;
  let cache = overridingCache.get(scope);
  if (!cache || cache.version !== registry.version) {
    cache = { version: registry.version, found: new Map() };
    overridingCache.set(scope, cache);
  }
  let def = cache.found.get(name);
  if (def === undefined) {
    def = searchOverriding(scope, name) ?? null;
    cache.found.set(name, def);
  }
  return def ?? undefined;
}

function searchOverriding(scope: DispatchScope, name: string): MacroDefinition | undefined {
  const { registry } = scope;
  const own =
    registry.of(registry.rootName).get(name) ??
    [...registry.packages.entries()]
      .find(([p, m]) => p !== registry.rootName && m.has(name))?.[1]
      .get(name);
  if (own) return own;
  for (const pkg of searchPackages(scope, INTERNAL_PACKAGE)) {
    if (pkg === null) continue;
    for (const prefix of [...scope.adapterChain, 'default']) {
      const candidate = `${prefix}__${name}`;
      if (pkg === INTERNAL_PACKAGE) {
        // dbt's own implementation comes first here: Tributary's built-in stands for it.
        if (registry.internal.has(candidate)) return undefined;
        continue;
      }
      const def = registry.packages.get(pkg)?.get(candidate);
      if (def) return def;
    }
  }
  return undefined;
}

/** The macro that replaces dbt's `name` for execute_macro, bound to the render's globals `g`. */
export function overridingMacro(
  scope: DispatchScope,
  g: Record<string, unknown>,
  name: string,
): MacroFn | undefined {
  return findOverriding(scope, name)?.bind(g) as MacroFn | undefined;
}

/** A method taking dbt's parameters by position or by name (`from_relation=…`). */
function named(names: string[], fn: (...a: unknown[]) => Promise<unknown>) {
  return (...raw: unknown[]) => {
    const { args, kwargs } = splitArgs(raw);
    return fn(...names.map((n, i) => kwargs[n] ?? args[i]));
  };
}

/** The rows of what a macro returned: an agate table, or any list of rows. */
function rowsOf(result: unknown, macro: string): unknown[][] {
  const iterable = (v: unknown): v is Iterable<unknown> =>
    v !== null && typeof v === 'object' && Symbol.iterator in v;
  const table = result && typeof result === 'object' && 'rows' in result ? result.rows : result;
  if (!iterable(table))
    throw new TributaryError(
      `macro ${macro} returned ${String(result)}, where the adapter expects a table of rows`,
      { code: 'CONFIG', hint: `return(load_result('${macro}').table) from it` },
    );
  return [...table].map((row) => (iterable(row) && typeof row !== 'string' ? [...row] : [row]));
}

const RELATION_TYPES = new Set(['table', 'view', 'cte', 'materialized_view', 'external']);

function relationArg(v: unknown, method: string): Relation {
  if (!isRelation(v))
    throw new TributaryError(
      `compilation error: adapter.${method}() needs a relation, got ${String(v)}`,
      {
        code: 'CONFIG',
      },
    );
  return v;
}

/**
 * The macro-backed adapter methods the project or a package overrides, each running its macro
 * as dbt's SQLAdapter does; methods nobody overrides are left out (the built-in stays).
 */
export function overriddenAdapterMethods(
  scope: DispatchScope,
  g: Record<string, unknown>,
  target: TargetConfig,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { factory } = relationsOf(target);
  const find = (name: string) => overridingMacro(scope, g, name);
  const none = (name: string, params: string[]) => {
    const m = find(name);
    if (m)
      out[name] = named(params, async (...a: unknown[]) => {
        await m(...a);
        return null;
      });
  };
  const columns = find('get_columns_in_relation');
  if (columns) {
    out.get_columns_in_relation = named(['relation'], (rel) => columns(rel));
    out.get_missing_columns = named(['from_relation', 'to_relation'], async (from, to) => {
      const have = new Set(((await columns(to)) as { name: string }[]).map((c) => c.name));
      return ((await columns(from)) as { name: string }[]).filter((c) => !have.has(c.name));
    });
  }
  const list = find('list_relations_without_caching');
  if (list)
    out.list_relations_without_caching = named(['schema_relation'], async (schemaRelation) =>
      rowsOf(await list(schemaRelation), 'list_relations_without_caching').map(
        ([database, name, schema, type]) =>
          factory.create(
            database ?? null,
            schema ?? null,
            name ?? null,
            (RELATION_TYPES.has(String(type)) ? String(type) : 'external') as RelationType,
            new Kwargs({ quote_policy: { database: true, schema: true, identifier: true } }),
          ),
      ),
    );
  const schemas = find('list_schemas');
  if (schemas)
    out.list_schemas = named(['database'], async (database) =>
      rowsOf(await schemas(database ?? null), 'list_schemas').map((row) => row[0]),
    );
  const exists = find('check_schema_exists');
  if (exists)
    out.check_schema_exists = named(['database', 'schema'], async (database, schema) => {
      const info = (
        factory.create(database ?? null, schema ?? null, 'INFORMATION_SCHEMA') as Relation
      ).information_schema();
      const rows = rowsOf(await exists(info, schema), 'check_schema_exists');
      return Number(rows[0]?.[0] ?? 0) > 0;
    });
  const drop = find('drop_relation');
  if (drop)
    out.drop_relation = named(['relation'], async (rel) => {
      const r = relationArg(rel, 'drop_relation');
      if (r.type === null)
        throw new TributaryError(`Tried to drop relation ${r.render()}, but its type is null.`, {
          code: 'CONFIG',
        });
      await drop(r);
      return null;
    });
  none('truncate_relation', ['relation']);
  none('rename_relation', ['from_relation', 'to_relation']);
  none('create_schema', ['relation']);
  none('drop_schema', ['relation']);
  return out;
}
