/**
 * The asset graph: every raw table, processed table, seed, model, snapshot, test and report of a
 * project with its upstream assets. Building it reads the project only (no engine; dbt nodes come
 * from the parsed manifest); schedules, runs, lineage and the catalog all read this one graph.
 */
import { TributaryError } from '../core/index.js';
import { PROCESSED_SCHEMA } from '../catalog/index.js';
import type { Node, ParsedProject } from '../models/index.js';
import { ProblemsError, type Problem, type Project } from '../project/index.js';

export type AssetKind =
  | 'raw'
  | 'processed'
  | 'seed'
  | 'model'
  | 'snapshot'
  | 'test'
  | 'report'
  /** Served, not built: in the graph for lineage (serve adds them from dashboards/*.yml). */
  | 'dashboard'
  /** A sync (syncs/*.yml): sends a model's changed rows to a destination (orchestrator/syncs.ts). */
  | 'sync';

/** dbt resource types as asset kinds; analyses are the pipeline's reports. */
function kindOf(node: Node): AssetKind {
  return node.resource_type === 'analysis' ? 'report' : node.resource_type;
}

export interface Asset {
  /** `<kind>:<name>`, unique in the graph. */
  key: string;
  kind: AssetKind;
  name: string;
  deps: string[];
  tags: string[];
  file?: string;
  /** The dbt node behind a seed, model, snapshot, test or report asset. */
  uniqueId?: string;
}

export interface AssetGraph {
  assets: Map<string, Asset>;
  /** Keys in a topological order (upstream first), stable across runs. */
  order: string[];
}

export const assetKey = (kind: AssetKind, name: string) => `${kind}:${name}`;

/** Builds the graph of a loaded project; cycles and dangling references are errors naming the files. */
export function buildAssetGraph(project: Project, models: ParsedProject | undefined): AssetGraph {
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
      file: t.kind === 'files' ? t.folder : t.contractFile,
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
  if (models) {
    const { manifest } = models;
    // A dbt source in the `processed` schema is the processed table of the same name.
    const depKey = (id: string): string | undefined => {
      const src = manifest.sources.get(id);
      if (src) {
        if (src.schema !== PROCESSED_SCHEMA) return undefined; // a table outside the pipeline
        if (!byTable.has(src.identifier)) {
          problems.push({
            message: `source ${src.source_name}.${src.name} points to processed.${src.identifier}, which is no table of tributary.yml`,
            location: { file: src.original_file_path },
          });
          return undefined;
        }
        return assetKey('processed', src.identifier);
      }
      const node = manifest.nodes.get(id);
      return node ? assetKey(kindOf(node), node.name) : undefined;
    };
    for (const node of manifest.nodes.values()) {
      add({
        key: assetKey(kindOf(node), node.name),
        kind: kindOf(node),
        name: node.name,
        deps: [
          ...new Set(
            (manifest.parentMap.get(node.unique_id) ?? [])
              .map(depKey)
              .filter((k): k is string => k !== undefined),
          ),
        ],
        tags: node.tags,
        file: node.original_file_path,
        uniqueId: node.unique_id,
      });
    }
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
 * Selects assets: `name` or `kind:name`, `tag:x`, `kind:model` (every asset of a kind), with `+`
 * before (and upstream) or after (and downstream); `*` is everything. No selectors means the
 * whole graph. A selector that matches nothing is an error.
 */
export function selectAssets(
  graph: AssetGraph,
  selectors: string[],
  exclude: string[] = [],
): Set<string> {
  let downstream: Map<string, string[]> | undefined;
  const pick = (selector: string): Set<string> => {
    const up = selector.startsWith('+');
    const down = selector.endsWith('+') && selector.length > 1;
    const name = selector.replace(/^\+/, '').replace(/\+$/, '');
    const roots = matchAssets(graph, name);
    if (roots.length === 0) {
      throw new TributaryError(`no asset matches ${name}`, {
        code: 'NOT_FOUND',
        hint: 'run `tributary graph` to list assets (names, kind:name, tag:x, kind:model)',
      });
    }
    const out = new Set(roots);
    if (up) for (const r of roots) walk(r, (k) => graph.assets.get(k)!.deps, out);
    if (down) {
      downstream ??= downstreamMap(graph);
      for (const r of roots) walk(r, (k) => downstream!.get(k) ?? [], out);
    }
    return out;
  };
  const selected = selectors.length
    ? new Set(selectors.flatMap((s) => [...pick(s)]))
    : new Set(graph.order);
  for (const e of exclude) for (const k of pick(e)) selected.delete(k);
  return selected;
}

const KINDS = new Set<string>([
  'raw',
  'processed',
  'seed',
  'model',
  'snapshot',
  'test',
  'report',
  'dashboard',
  'sync',
]);

/** Keys of the assets one selector (without `+`) names. */
export function matchAssets(graph: AssetGraph, selector: string): string[] {
  const all = [...graph.assets.values()];
  if (selector === '*') return all.map((a) => a.key);
  if (selector.startsWith('tag:')) {
    const tag = selector.slice(4);
    return all.filter((a) => a.tags.includes(tag)).map((a) => a.key);
  }
  if (selector.startsWith('kind:') && KINDS.has(selector.slice(5))) {
    const kind = selector.slice(5);
    return all.filter((a) => a.kind === kind).map((a) => a.key);
  }
  return all.filter((a) => a.key === selector || a.name === selector).map((a) => a.key);
}

/** Each asset's direct downstream assets. */
export function downstreamMap(graph: AssetGraph): Map<string, string[]> {
  const downstream = new Map<string, string[]>();
  for (const a of graph.assets.values())
    for (const d of a.deps) {
      const list = downstream.get(d);
      if (list) list.push(a.key);
      else downstream.set(d, [a.key]);
    }
  return downstream;
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

/**
 * The warehouse relation each buildable asset holds (`schema.name`), for mapping SQL that reads
 * relations (dashboard tiles) back to assets.
 */
export function relationAssets(graph: AssetGraph, models: ParsedProject): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of graph.assets.values()) {
    if (a.kind === 'processed') out.set(`${PROCESSED_SCHEMA}.${a.name}`, a.key);
    else if (a.uniqueId) {
      const node = models.manifest.nodes.get(a.uniqueId);
      if (node && node.resource_type !== 'test' && node.resource_type !== 'analysis')
        out.set(`${node.schema}.${node.alias}`, a.key);
    }
  }
  return out;
}

/** A copy of the graph with more assets (e.g. dashboards) added after their upstream ones. */
export function withAssets(graph: AssetGraph, extra: Asset[]): AssetGraph {
  if (!extra.length) return graph;
  const assets = new Map(graph.assets);
  for (const a of extra) assets.set(a.key, a);
  return { assets, order: [...graph.order, ...extra.map((a) => a.key)] };
}
