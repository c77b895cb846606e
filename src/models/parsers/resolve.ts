/**
 * What is settled once every node exists (dbt's ManifestLoader after parsing): each node's
 * schema, alias and relation (through generate_schema_name / generate_alias_name), the
 * dependencies its ref() and source() calls name, the child map, and cycles, which are problems
 * naming the nodes in the loop.
 */
import { relative, sep } from 'node:path';
import type { Dialect } from '../../engines/index.js';
import { TributaryError } from '../../core/index.js';
import { finalizeTestConfig } from '../config.js';
import { nodeGlobals, refText, type CompileRuntime } from '../context.js';
import { findRefTarget, findSource } from '../lookup.js';
import { INTERNAL_PACKAGE } from '../macro-namespace.js';
import type { Manifest, Node } from '../types.js';
import { DEFAULT_QUOTE_POLICY, mergeQuotePolicy, relationSql, type Policy } from '../relation.js';
import type { ParseSession } from './session.js';

/** Sets database, schema, alias, tags, meta and relation_name of every node, enabled or not. */
export async function resolveRelations(s: ParseSession): Promise<void> {
  const { manifest, opts } = s;
  const naming = namingFunctions(s.runtime);
  for (const node of [...manifest.nodes.values(), ...manifest.disabled.values()]) {
    await s.collect(node.original_file_path, async () => {
      if (node.resource_type === 'test')
        finalizeTestConfig(
          node.config,
          (message, hint) =>
            new TributaryError(message, {
              code: 'CONFIG',
              location: { file: node.original_file_path },
              ...(hint ? { hint } : {}),
            }),
        );
      // Tests too: their schema is where store_failures keeps failing rows (dbt_test__audit).
      if (node.resource_type === 'snapshot' && node.config.target_database)
        node.database = String(node.config.target_database);
      else node.database = await naming.database(node);
      if (node.resource_type === 'snapshot' && node.config.target_schema)
        node.schema = String(node.config.target_schema);
      else node.schema = await naming.schema(node);
      node.alias = await naming.alias(node);
      node.tags = node.config.tags;
      node.meta = node.config.meta;
      // dbt's create_from_node: the adapter's default under the root project's quoting:.
      node.quote_policy = mergeQuotePolicy(DEFAULT_QUOTE_POLICY, s.root.quoting);
      // A test is a relation only when it stores its failures (dbt's is_relational).
      node.relation_name =
        (node.resource_type === 'test' && node.config.store_failures !== true) ||
        node.resource_type === 'analysis' ||
        node.config.materialized === 'ephemeral'
          ? null
          : relationName(opts.dialect, node.database, node.schema, node.alias, node.quote_policy);
    });
  }
}

/**
 * Two enabled nodes building the same relation are dbt's AmbiguousAliasError, worded as dbt does
 * (with packages, a package's model may share a name and alias with one of the project's).
 */
export function reportAliasClashes(s: ParseSession): void {
  const built = new Map<string, Node>();
  for (const node of s.manifest.nodes.values()) {
    if (!node.relation_name || node.resource_type === 'test') continue;
    const key = node.relation_name.toLowerCase();
    const other = built.get(key);
    if (!other) {
      built.set(key, node);
      continue;
    }
    s.problems.push({
      message: `dbt found two resources with the database representation "${node.relation_name}". dbt cannot create two resources with identical database representations. To fix this, change the configuration (alias, schema) of one of these resources: ${other.unique_id} (${fileOf(s, other)}), ${node.unique_id} (${fileOf(s, node)})`,
      location: { file: fileOf(s, node) },
    });
  }
}

/**
 * A relation's name as dbt prints it in the manifest: `"database"."schema"."identifier"` (only
 * `"schema"."identifier"` when the target names no database), each part quoted as `policy` says.
 */
export function relationName(
  dialect: Dialect,
  database: string | null,
  schema: string,
  identifier: string,
  policy: Policy = DEFAULT_QUOTE_POLICY,
): string {
  return relationSql((p) => dialect.quoteIdentifier(p), { database, schema, identifier }, policy);
}

/** Resolves every node's ref() and source() calls into depends_on, parent and child maps. */
export function resolveDependencies(s: ParseSession): void {
  const { manifest } = s;
  for (const node of manifest.nodes.values()) {
    const deps = nodeDependencies(s, node);
    node.depends_on.nodes = [...deps];
    node.depends_on.macros = [];
    manifest.parentMap.set(node.unique_id, [...deps]);
  }
  for (const id of [...manifest.nodes.keys(), ...manifest.sources.keys()])
    manifest.childMap.set(id, []);
  for (const [child, parents] of manifest.parentMap)
    for (const p of parents) manifest.childMap.get(p)?.push(child);
  for (const id of manifest.sources.keys()) manifest.parentMap.set(id, []);
}

function nodeDependencies(s: ParseSession, node: Node): Set<string> {
  const { manifest } = s;
  const deps = new Set<string>();
  const where = { file: fileOf(s, node) };
  for (const ref of node.refs) {
    let target: Node | undefined;
    try {
      target = findRefTarget(manifest, ref, node.package_name);
    } catch (err) {
      if (!(err instanceof TributaryError)) throw err;
      s.problems.push({ message: `${node.name}: ${err.message}`, location: where });
      continue;
    }
    if (!target) {
      const disabled = [...manifest.disabled.values()].find(
        (d) => d.name === ref.name && (!ref.package || d.package_name === ref.package),
      );
      s.problems.push({
        message: disabled
          ? `${node.name} refers to ${ref.name}, which is disabled`
          : `${refText(ref)} in ${node.name} names no model, seed or snapshot${ref.package ? ` of package ${ref.package}` : ''}`,
        location: where,
      });
      continue;
    }
    deps.add(target.unique_id);
  }
  for (const [src, table] of node.sources) {
    const found = findSource(manifest, src, table, node.package_name);
    if (!found) {
      s.problems.push({
        message: `source('${src}', '${table}') in ${node.name} names no source table`,
        location: where,
      });
      continue;
    }
    deps.add(found.unique_id);
  }
  return deps;
}

/** A node's file as the user finds it from the root project (a package's under its folder). */
function fileOf(s: ParseSession, node: Node): string {
  if (node.package_name === s.root.name) return node.original_file_path;
  const pkg = s.projectNamed(node.package_name);
  return `${relative(s.root.dir, pkg.dir).split(sep).join('/')}/${node.original_file_path}`;
}

/** A dependency cycle is a problem naming the nodes in the loop. */
export function reportCycle(s: ParseSession): void {
  const cycle = findCycle(s.manifest);
  if (!cycle) return;
  const nodes = cycle.map((id) => s.manifest.nodes.get(id)!);
  s.problems.push({
    message: `dependency cycle: ${nodes.map((n) => n.name).join(' → ')} → ${nodes[0]!.name}`,
    location: { file: nodes[0]!.original_file_path },
  });
}

/**
 * schema and alias of nodes: dbt's generate_schema_name / generate_alias_name. The defaults are
 * computed directly (fast on 10,000 models); when the node's package or the root project
 * overrides either (or a dispatch: entry reorders dbt's namespace), the macro runs.
 */
function namingFunctions(runtime: CompileRuntime) {
  const registry = runtime.macros;
  const root = registry.of(registry.rootName);
  const dbtReordered = runtime.project.dispatch.some((d) => d.macroNamespace === INTERNAL_PACKAGE);
  const known = new Map<string, boolean>();
  const overridden = (name: string, pkg: string): boolean => {
    const key = `${pkg}:${name}`;
    let answer = known.get(key);
    if (answer === undefined) {
      answer =
        dbtReordered ||
        registry.resolve(pkg, name) !== registry.internal.get(name) ||
        [...runtime.dispatchPrefixes, 'default'].some((p) => root.has(`${p}__${name}`));
      known.set(key, answer);
    }
    return answer;
  };
  const viaMacro = async (macro: string, custom: unknown, node: Node): Promise<string> => {
    const g = nodeGlobals(runtime, node, {
      execute: false,
      capture: { refs: [], sources: [], config: {} },
    });
    const fn = g[macro] as (...a: unknown[]) => Promise<unknown>;
    const out = await fn(custom ?? null, node);
    return String(out).trim();
  };
  const target = runtime.target.schema;
  const targetDatabase = (runtime.target.database as string | null | undefined) ?? null;
  return {
    database: (node: Node): Promise<string> | string | null => {
      if (overridden('generate_database_name', node.package_name))
        return viaMacro('generate_database_name', node.config.database, node);
      const custom = node.config.database;
      return custom ? String(custom).trim() : targetDatabase;
    },
    schema: (node: Node): Promise<string> | string => {
      if (overridden('generate_schema_name', node.package_name))
        return viaMacro('generate_schema_name', node.config.schema, node);
      const custom = node.config.schema;
      return custom ? `${target}_${String(custom).trim()}` : target;
    },
    alias: (node: Node): Promise<string> | string => {
      if (overridden('generate_alias_name', node.package_name))
        return viaMacro('generate_alias_name', node.config.alias, node);
      return node.config.alias ? String(node.config.alias).trim() : node.name;
    },
  };
}

/** A cycle among nodes, as unique ids in order, or undefined. */
function findCycle(manifest: Manifest): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const s = state.get(id);
    if (s === 2) return undefined;
    if (s === 1) return stack.slice(stack.indexOf(id));
    state.set(id, 1);
    stack.push(id);
    for (const p of manifest.parentMap.get(id) ?? []) {
      if (!manifest.nodes.has(p)) continue;
      const c = visit(p);
      if (c) return c;
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const id of manifest.nodes.keys()) {
    const c = visit(id);
    if (c) return c.reverse();
  }
  return undefined;
}
