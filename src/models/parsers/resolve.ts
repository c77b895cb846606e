/**
 * What is settled once every node exists (dbt's ManifestLoader after parsing): each node's
 * schema, alias and relation (through generate_schema_name / generate_alias_name), the
 * dependencies its ref() and source() calls name, the child map, and cycles, which are problems
 * naming the nodes in the loop.
 */
import { TributaryError } from '../../core/index.js';
import { finalizeTestConfig } from '../config.js';
import { findRefTarget, nodeGlobals, type CompileRuntime } from '../context.js';
import type { Manifest, Node } from '../types.js';
import type { ParseSession } from './session.js';

/** Sets schema, alias, tags, meta and relation_name of every node, enabled or not. */
export async function resolveRelations(s: ParseSession): Promise<void> {
  const { manifest, opts } = s;
  const naming = namingFunctions(s.runtime, s.projectMacros);
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
      if (node.resource_type === 'snapshot' && node.config.target_schema)
        node.schema = String(node.config.target_schema);
      else node.schema = await naming.schema(node);
      node.alias = await naming.alias(node);
      node.tags = node.config.tags;
      node.meta = node.config.meta;
      // A test is a relation only when it stores its failures (dbt's is_relational).
      node.relation_name =
        (node.resource_type === 'test' && node.config.store_failures !== true) ||
        node.resource_type === 'analysis' ||
        node.config.materialized === 'ephemeral'
          ? null
          : opts.dialect.relation(node.schema, node.alias);
    });
  }
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
  const { manifest, project } = s;
  const deps = new Set<string>();
  for (const ref of node.refs) {
    const target = findRefTarget(manifest, ref);
    if (!target) {
      const disabled = [...manifest.disabled.values()].find((d) => d.name === ref.name);
      s.problems.push({
        message: disabled
          ? `${node.name} refers to ${ref.name}, which is disabled`
          : `ref('${ref.name}') in ${node.name} names no model, seed or snapshot`,
        location: { file: node.original_file_path },
      });
      continue;
    }
    deps.add(target.unique_id);
  }
  for (const [src, table] of node.sources) {
    const id = `source.${project.name}.${src}.${table}`;
    if (!manifest.sources.has(id)) {
      s.problems.push({
        message: `source('${src}', '${table}') in ${node.name} names no source table`,
        location: { file: node.original_file_path },
      });
      continue;
    }
    deps.add(id);
  }
  return deps;
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
 * computed directly (fast on 10,000 models); a project that overrides either gets its macro run.
 */
function namingFunctions(runtime: CompileRuntime, projectMacros: Set<string>) {
  const overridden = (name: string) =>
    projectMacros.has(name) ||
    [...runtime.dispatchPrefixes, 'default'].some((p) => projectMacros.has(`${p}__${name}`));
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
  return {
    schema: (node: Node): Promise<string> | string => {
      if (overridden('generate_schema_name'))
        return viaMacro('generate_schema_name', node.config.schema, node);
      const custom = node.config.schema;
      return custom ? `${target}_${String(custom).trim()}` : target;
    },
    alias: (node: Node): Promise<string> | string => {
      if (overridden('generate_alias_name'))
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
