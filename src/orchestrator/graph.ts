/**
 * The asset graph: every raw table, processed table, model, test and report of a project with
 * its upstream assets. Building it reads the project only (no engine, no user code); schedules,
 * runs, lineage and the catalog all read this one graph.
 */
import { TributaryError } from '../core/index.js';
import type { ModelSet } from '../models/index.js';
import { ProblemsError, type Problem, type Project } from '../project/index.js';

export type AssetKind = 'raw' | 'processed' | 'model' | 'test' | 'report';

export interface Asset {
  /** `<kind>:<name>`, unique in the graph. */
  key: string;
  kind: AssetKind;
  name: string;
  deps: string[];
  tags: string[];
  file?: string;
}

export interface AssetGraph {
  assets: Map<string, Asset>;
  /** Keys in a topological order (upstream first), stable across runs. */
  order: string[];
}

export const assetKey = (kind: AssetKind, name: string) => `${kind}:${name}`;

/** Builds the graph of a loaded project; cycles and dangling references are errors naming the files. */
export function buildAssetGraph(project: Project, models: ModelSet): AssetGraph {
  const assets = new Map<string, Asset>();
  const problems: Problem[] = [];
  const add = (asset: Asset) => assets.set(asset.key, asset);
  const byTable = new Map(project.tables.map((t) => [t.table, t]));

  for (const t of project.tables) {
    add({
      key: assetKey('raw', t.id),
      kind: 'raw',
      name: t.id,
      deps: [],
      tags: [t.source],
      file: t.folder,
    });
    const parents = t.contract.columns
      .filter((c) => c.references)
      .map((c) => assetKey('processed', c.references!.split('.')[0]!))
      .filter((k) => k !== assetKey('processed', t.table));
    add({
      key: assetKey('processed', t.table),
      kind: 'processed',
      name: t.table,
      deps: [assetKey('raw', t.id), ...new Set(parents)],
      tags: [t.source],
      file: t.contractFile,
    });
  }
  const sourceDeps = (node: { file: string; sources: { source: string; table: string }[] }) =>
    node.sources.map((s) => {
      const t = byTable.get(s.table);
      if (!t || t.source !== s.source) {
        problems.push({
          message: `source('${s.source}', '${s.table}') names no table of tributary.yml`,
          location: { file: node.file },
        });
      }
      return assetKey('processed', s.table);
    });
  for (const m of models.models) {
    add({
      key: assetKey('model', m.name),
      kind: 'model',
      name: m.name,
      deps: [...new Set([...m.refs.map((r) => assetKey('model', r)), ...sourceDeps(m)])],
      tags: m.config.tags,
      file: m.file,
    });
  }
  for (const t of models.tests) {
    add({
      key: assetKey('test', t.name),
      kind: 'test',
      name: t.name,
      deps: [
        assetKey('model', t.model),
        ...(t.to && t.to !== t.model ? [assetKey('model', t.to)] : []),
      ],
      tags: [],
      file: t.file,
    });
  }
  for (const r of models.reports) {
    add({
      key: assetKey('report', r.name),
      kind: 'report',
      name: r.name,
      deps: [...new Set([...r.refs.map((x) => assetKey('model', x)), ...sourceDeps(r)])],
      tags: [],
      file: r.file,
    });
  }
  if (problems.length) throw new ProblemsError(problems);
  return { assets, order: topologicalOrder(assets) };
}

/** Kahn's algorithm in declaration order; a cycle is an error that names its members. */
function topologicalOrder(assets: Map<string, Asset>): string[] {
  const indegree = new Map<string, number>();
  const downstream = new Map<string, string[]>();
  for (const a of assets.values()) {
    indegree.set(a.key, a.deps.length);
    for (const d of a.deps) downstream.set(d, [...(downstream.get(d) ?? []), a.key]);
  }
  const ready = [...assets.keys()].filter((k) => indegree.get(k) === 0);
  const order: string[] = [];
  while (ready.length) {
    const key = ready.shift()!;
    order.push(key);
    for (const next of downstream.get(key) ?? []) {
      const left = indegree.get(next)! - 1;
      indegree.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  if (order.length !== assets.size) {
    const stuck = [...assets.keys()].filter((k) => !order.includes(k));
    const files = stuck.map((k) => `${k}${assets.get(k)!.file ? ` (${assets.get(k)!.file})` : ''}`);
    throw new TributaryError(`the asset graph has a cycle through ${files.join(', ')}`, {
      code: 'GRAPH',
      hint: 'a model cannot depend on itself, directly or through other models',
    });
  }
  return order;
}

/**
 * Selects assets: `name` or `kind:name`, `+name` (with upstream), `name+` (with downstream).
 * No selectors means the whole graph. Unknown names are errors.
 */
export function selectAssets(
  graph: AssetGraph,
  selectors: string[],
  exclude: string[] = [],
): Set<string> {
  const pick = (selector: string): Set<string> => {
    const up = selector.startsWith('+');
    const down = selector.endsWith('+');
    const name = selector.replace(/^\+/, '').replace(/\+$/, '');
    const roots = [...graph.assets.values()]
      .filter((a) => a.key === name || a.name === name)
      .map((a) => a.key);
    if (roots.length === 0) {
      throw new TributaryError(`no asset named ${name}`, {
        code: 'USAGE',
        hint: 'run `tributary graph` to list assets',
      });
    }
    const out = new Set(roots);
    if (up) for (const r of roots) walk(r, (k) => graph.assets.get(k)!.deps, out);
    if (down) {
      const downstream = new Map<string, string[]>();
      for (const a of graph.assets.values())
        for (const d of a.deps) downstream.set(d, [...(downstream.get(d) ?? []), a.key]);
      for (const r of roots) walk(r, (k) => downstream.get(k) ?? [], out);
    }
    return out;
  };
  const selected = selectors.length
    ? new Set(selectors.flatMap((s) => [...pick(s)]))
    : new Set(graph.order);
  for (const e of exclude) for (const k of pick(e)) selected.delete(k);
  return selected;
}

function walk(start: string, next: (k: string) => string[], out: Set<string>): void {
  const stack = [start];
  while (stack.length) {
    for (const n of next(stack.pop()!)) {
      if (!out.has(n)) {
        out.add(n);
        stack.push(n);
      }
    }
  }
}
