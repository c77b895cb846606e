/**
 * Compiling nodes: rendering their Jinja with everything real (execute is True), inlining
 * ephemeral models as CTEs the way dbt does, and building generic tests' queries from their
 * macros. Compiled SQL is what target/compiled/ holds and what the materializations run.
 */
import { TributaryError } from '../core/index.js';
import { nodeGlobals, type CompileRuntime, type NodeRenderState } from './context.js';
import { Kwargs } from '../jinja/index.js';
import type { ParsedProject } from './parse.js';
import { renderTestKwargs, testMacro } from './test-kwargs.js';
import type { Node } from './types.js';

export interface CompiledNode {
  node: Node;
  /** The SQL to run, with ephemeral CTEs inlined; for tests, the query returning failing rows. */
  sql: string;
}

/** Inserts CTEs in front of a query, into its own WITH clause when it has one (as dbt does). */
function injectCtes(sql: string, ctes: { name: string; sql: string }[]): string {
  if (!ctes.length) return sql;
  const defs = ctes.map((c) => `__dbt__cte__${c.name} as (\n${c.sql}\n)`).join(',\n');
  const lead = /^((?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*)with\b(\s+recursive\b)?/i.exec(sql);
  if (lead)
    return `${lead[1]}with${lead[2] ?? ''} ${defs},\n${sql.slice(lead[0].length).trimStart()}`;
  return `with ${defs}\n${sql}`;
}

/** Strips a trailing semicolon and surrounding whitespace (a model is one query). */
function tidy(sql: string): string {
  return sql.trim().replace(/;\s*$/, '').trim();
}

/** Compiles one node (model, snapshot, test, analysis) to runnable SQL. */
export async function compileNode(
  pp: ParsedProject,
  rt: CompileRuntime,
  node: Node,
): Promise<CompiledNode> {
  const seen = new Map<string, string>();
  const sql = await compileWithEphemerals(pp, rt, node, seen);
  return { node, sql };
}

async function renderNode(
  pp: ParsedProject,
  rt: CompileRuntime,
  node: Node,
  state: NodeRenderState,
): Promise<string> {
  if (pp.nodeErrors.has(node.unique_id)) throw pp.nodeErrors.get(node.unique_id);
  if (node.resource_type === 'test' && node.test_metadata)
    return renderGenericTest(rt, node, state);
  const tpl = pp.templates.get(node.unique_id);
  if (!tpl)
    throw new TributaryError(`${node.resource_type} ${node.name} has no SQL to compile`, {
      code: 'INTERNAL',
      location: { file: node.original_file_path },
    });
  return tidy(await tpl.render(nodeGlobals(rt, node, { execute: true, state })));
}

async function compileWithEphemerals(
  pp: ParsedProject,
  rt: CompileRuntime,
  node: Node,
  seen: Map<string, string>,
): Promise<string> {
  const state: NodeRenderState = { ephemerals: [], statements: new Map() };
  const body = await renderNode(pp, rt, node, state);
  const ctes: { name: string; sql: string }[] = [];
  const collect = async (id: string, chain: string[]) => {
    if (seen.has(id)) return;
    if (chain.includes(id)) return;
    const eph = rt.manifest.nodes.get(id)!;
    const inner: NodeRenderState = { ephemerals: [], statements: new Map() };
    const sql = await renderNode(pp, rt, eph, inner);
    for (const dep of inner.ephemerals) await collect(dep, [...chain, id]);
    seen.set(id, sql);
    ctes.push({ name: eph.name, sql });
  };
  for (const id of state.ephemerals) await collect(id, []);
  return injectCtes(body, ctes);
}

/**
 * Renders a generic test as dbt does: its kwargs rendered natively (`model` is
 * `{{ get_where_subquery(ref(...)) }}`, so the where config filters it), then its macro called
 * with them.
 */
async function renderGenericTest(
  rt: CompileRuntime,
  node: Node,
  state: NodeRenderState,
): Promise<string> {
  const meta = node.test_metadata!;
  const g = nodeGlobals(rt, node, { execute: true, state });
  const kwargs = await renderTestKwargs(rt, meta.kwargs, node.original_file_path, g);
  g._dbt_generic_test_kwargs = kwargs;
  const out = await testMacro(g, meta.namespace, meta.name)(new Kwargs(kwargs));
  return tidy(String(out));
}
