/**
 * Following one column through the project's column lineage: every column upstream it is made
 * from, down to the landing file's field, and every column, dashboard tile and sync field
 * downstream it feeds, with how each hop transforms it and where the trail goes cold (unresolved,
 * with the reason, and table-level readers whose own columns could not be resolved).
 */
import { TributaryError } from '../core/index.js';
import type { AssetGraph } from './graph.js';
import {
  columnId,
  type ColumnLineage,
  type LineageTransform,
  type TableLevelRead,
} from './column-lineage.js';

export type TraceDirection = 'upstream' | 'downstream' | 'both';

export interface TracedColumn {
  id: string;
  asset: string;
  column: string;
  /** Hops from the traced column. */
  depth: number;
  /** The column one hop nearer the traced one. */
  via: string;
  /** How the downstream one of the two is made from the upstream one. */
  transform: LineageTransform;
  unresolved?: string;
}

export interface ColumnTrace {
  id: string;
  asset: string;
  column: string;
  unresolved?: string;
  upstream?: TracedColumn[];
  downstream?: TracedColumn[];
  /** Readers downstream whose columns could not be resolved: they read an asset on the way. */
  tableLevel?: TableLevelRead[];
}

/**
 * Finds `<relation>.<column>`: the relation as an asset key (`model:dim_customers`,
 * `raw:shop.customers`), an asset name (`dim_customers`), or `schema.name`; a column may have
 * dots itself (a JSON path of a landing file, a tile's `<tile>.<column>`).
 */
export function locateColumn(
  lineage: ColumnLineage,
  graph: AssetGraph,
  ref: string,
): { asset: string; column: string } {
  const found: { asset: string; column: string }[] = [];
  const named = new Set<string>();
  for (let i = ref.indexOf('.'); i > 0; i = ref.indexOf('.', i + 1)) {
    const left = ref.slice(0, i);
    const column = ref.slice(i + 1);
    for (const asset of assetsNamed(lineage, graph, left)) {
      named.add(asset);
      const match = lineage.columns
        .get(asset)
        ?.find((c) => c === column || c.toLowerCase() === column.toLowerCase());
      if (match) found.push({ asset, column: match });
    }
  }
  const unique = [...new Map(found.map((f) => [columnId(f.asset, f.column), f])).values()];
  if (unique.length === 1) return unique[0]!;
  if (unique.length > 1)
    throw new TributaryError(
      `${ref} is ambiguous: ${unique.map((f) => columnId(f.asset, f.column)).join(', ')}`,
      { code: 'USAGE', hint: 'name the relation as kind:name, e.g. model:dim_customers.email' },
    );
  if (named.size) {
    const asset = [...named][0]!;
    const columns = lineage.columns.get(asset) ?? [];
    const why = lineage.unresolved.get(asset);
    throw new TributaryError(`${asset} has no column ${ref.slice(ref.indexOf('.') + 1)}`, {
      code: 'NOT_FOUND',
      hint: why
        ? `its columns could not be resolved: ${why}`
        : `its columns: ${columns.join(', ') || '(none known)'}`,
    });
  }
  throw new TributaryError(`no relation matches ${ref}`, {
    code: 'NOT_FOUND',
    hint: 'give <relation>.<column>, e.g. dim_customers.email or raw:shop.customers.email (`tributary graph` lists relations)',
  });
}

function assetsNamed(lineage: ColumnLineage, graph: AssetGraph, name: string): string[] {
  if (lineage.columns.has(name)) return [name];
  const byName = [...graph.assets.values()]
    .filter((a) => a.name === name && a.kind !== 'test')
    .map((a) => a.key);
  if (byName.length) return byName;
  const byRelation = lineage.relations.get(name.toLowerCase());
  return byRelation ? [byRelation] : [];
}

/** The column's upstream and/or downstream columns, nearest first. */
export function traceColumn(
  lineage: ColumnLineage,
  asset: string,
  column: string,
  direction: TraceDirection = 'both',
): ColumnTrace {
  const id = columnId(asset, column);
  const why = lineage.unresolved.get(id);
  const trace: ColumnTrace = { id, asset, column, ...(why ? { unresolved: why } : {}) };
  const assetOf = new Map<string, { asset: string; column: string }>();
  for (const [a, cols] of lineage.columns)
    for (const c of cols) assetOf.set(columnId(a, c), { asset: a, column: c });
  if (direction !== 'downstream') trace.upstream = walk(lineage, id, 'up', assetOf);
  if (direction !== 'upstream') {
    trace.downstream = walk(lineage, id, 'down', assetOf);
    const reached = new Set([asset, ...trace.downstream.map((t) => t.asset)]);
    trace.tableLevel = lineage.tableLevel.filter((t) => t.reads.some((r) => reached.has(r)));
  }
  return trace;
}

function walk(
  lineage: ColumnLineage,
  start: string,
  way: 'up' | 'down',
  assetOf: Map<string, { asset: string; column: string }>,
): TracedColumn[] {
  const next = new Map<string, { id: string; transform: LineageTransform }[]>();
  for (const e of lineage.edges) {
    const [a, b] = way === 'up' ? [e.to, e.from] : [e.from, e.to];
    const list = next.get(a);
    const hop = { id: b, transform: e.transform };
    if (list) list.push(hop);
    else next.set(a, [hop]);
  }
  const out: TracedColumn[] = [];
  const seen = new Set([start]);
  let frontier = [start];
  for (let depth = 1; frontier.length; depth++) {
    const following: string[] = [];
    for (const id of frontier)
      for (const hop of next.get(id) ?? []) {
        if (seen.has(hop.id)) continue;
        seen.add(hop.id);
        following.push(hop.id);
        const where = assetOf.get(hop.id) ?? { asset: hop.id, column: '' };
        const why = lineage.unresolved.get(hop.id);
        out.push({
          id: hop.id,
          ...where,
          depth,
          via: id,
          transform: hop.transform,
          ...(why ? { unresolved: why } : {}),
        });
      }
    frontier = following;
  }
  return out;
}
