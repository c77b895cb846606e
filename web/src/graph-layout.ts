// The asset graph's logic, apart from React and ECharts so it can be tested on its own: layers by
// dependency depth (cycles cut), barycentre ordering, pixel placement with wrapped tall layers,
// colours per kind, lineage (everything upstream or downstream of an asset) and search.
import { PALETTE } from './components/palette';

/** What the layout needs of an asset (an /api/graph asset is one). */
export interface GraphNode {
  key: string;
  kind: string;
  deps: string[];
}

export interface Layout {
  pos: Map<string, { depth: number; index: number }>;
  layers: string[][];
}

/** Places assets in layers: depth 0 has no known deps, else 1 + the deepest dep (cycles cut). */
export function layoutGraph(assets: readonly GraphNode[]): Layout {
  const byKey = new Map(assets.map((a) => [a.key, a]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (start: string): number => {
    // iterative DFS so deep chains cannot overflow the stack
    const stack: { key: string; i: number; best: number }[] = [{ key: start, i: 0, best: 0 }];
    visiting.add(start);
    let result = 0;
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const deps = (byKey.get(top.key)?.deps ?? []).filter((d) => byKey.has(d));
      if (top.i < deps.length) {
        const d = deps[top.i++]!;
        const known = depth.get(d);
        if (known !== undefined) top.best = Math.max(top.best, known + 1);
        else if (!visiting.has(d)) {
          visiting.add(d);
          stack.push({ key: d, i: 0, best: 0 });
        }
      } else {
        stack.pop();
        visiting.delete(top.key);
        depth.set(top.key, top.best);
        result = top.best;
        const parent = stack[stack.length - 1];
        if (parent) parent.best = Math.max(parent.best, top.best + 1);
      }
    }
    return result;
  };
  for (const a of assets) if (!depth.has(a.key)) depthOf(a.key);

  const layers: string[][] = [];
  for (const a of assets) {
    const d = depth.get(a.key) ?? 0;
    (layers[d] ??= []).push(a.key);
  }
  const pos = new Map<string, { depth: number; index: number }>();
  layers.forEach((layer, d) => {
    if (d === 0) {
      layer.sort((a, b) => {
        const ka = byKey.get(a)?.kind ?? '';
        const kb = byKey.get(b)?.kind ?? '';
        return ka === kb ? a.localeCompare(b) : ka.localeCompare(kb);
      });
    } else {
      // barycentre: the mean position of a node's deps, so edges cross less
      const bary = new Map<string, number>();
      for (const k of layer) {
        const ys = (byKey.get(k)?.deps ?? [])
          .map((dep) => pos.get(dep))
          .filter((p): p is { depth: number; index: number } => p !== undefined)
          .map((p) => p.index / Math.max(1, (layers[p.depth]?.length ?? 1) - 1));
        bary.set(k, ys.length ? ys.reduce((s, y) => s + y, 0) / ys.length : 0);
      }
      layer.sort((a, b) => bary.get(a)! - bary.get(b)! || a.localeCompare(b));
    }
    layer.forEach((k, i) => pos.set(k, { depth: d, index: i }));
  });
  return { pos, layers };
}

/** Stable colours per asset kind (Okabe–Ito); other kinds take the remaining palette colours. */
const KIND_COLORS: Record<string, string> = {
  raw: '#56B4E9',
  source: '#56B4E9',
  processed: '#E69F00',
  lake: '#E69F00',
  seed: '#F0E442',
  model: '#0072B2',
  snapshot: '#CC79A7',
  test: '#999999',
  report: '#D55E00',
  dashboard: '#000000',
  sync: '#009E73',
  forecast: '#7F3C8D',
};

/** Colours for kinds without one of their own: the palette's unused ones, then CARTO Bold's. */
export const SPARE_KIND_COLORS = [...PALETTE, '#11A579', '#E73F74', '#3969AC', '#F2B701'];

export function kindColors(kinds: string[]): Map<string, string> {
  const used = new Set(Object.values(KIND_COLORS));
  const spare = SPARE_KIND_COLORS.filter((c) => !used.has(c));
  let i = 0;
  return new Map(kinds.map((k) => [k, KIND_COLORS[k] ?? spare[i++ % spare.length] ?? '#666']));
}

/** A layer taller than this wraps into several columns (so hundreds of tests stay legible). */
export const MAX_ROWS = 36;
/** Vertical distance between assets, in pixels. */
export const ROW = 20;
/** A sub-column of a wrapped layer is this fraction of the gap between layers. */
const SUB_COLUMN = 0.45;
/** Room the series leaves around the nodes (labels sit to the right). */
export const PAD = { top: 40, bottom: 20, left: 20, right: 130 };

/**
 * Pixel coordinates from a layout for a drawing `width` wide: layers left to right by depth, each
 * centred vertically; a layer with more than MAX_ROWS assets wraps into sub-columns (in its
 * barycentre order). Pixels, so the chart can keep the aspect and circles stay round.
 */
export function placeNodes(
  layout: Layout,
  width: number,
): { pos: Map<string, { x: number; y: number }>; columnPx: number } {
  const units = new Map<string, { x: number; y: number }>();
  let x0 = 0;
  let span = 0;
  for (const layer of layout.layers) {
    if (!layer) continue;
    const cols = Math.max(1, Math.ceil(layer.length / MAX_ROWS));
    const rows = Math.ceil(layer.length / cols);
    layer.forEach((key, i) => {
      const col = Math.floor(i / rows);
      const row = i % rows;
      const inCol = Math.min(rows, layer.length - col * rows);
      units.set(key, { x: x0 + col * SUB_COLUMN, y: (row - (inCol - 1) / 2) * ROW });
    });
    span = x0 + (cols - 1) * SUB_COLUMN;
    x0 = span + 1;
  }
  const scale = span > 0 ? width / span : width;
  const pos = new Map<string, { x: number; y: number }>();
  for (const [k, p] of units) pos.set(k, { x: p.x * scale, y: p.y });
  // the room a label has before the next (sub-)column starts
  const wrapped = layout.layers.some((l) => l && l.length > MAX_ROWS);
  return { pos, columnPx: scale * (wrapped ? SUB_COLUMN : 1) };
}

/** Every asset reachable by following `next` from `start` (not including start). */
export function reach(start: string, next: Map<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...(next.get(start) ?? [])];
  while (stack.length) {
    const k = stack.pop()!;
    if (seen.has(k) || k === start) continue;
    seen.add(k);
    for (const n of next.get(k) ?? []) if (!seen.has(n)) stack.push(n);
  }
  return seen;
}

/** Text for the tooltip's HTML: &, <, >, quotes as character references. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Each asset's deps (up) and dependents (down), keeping only deps that are assets of the graph:
 * a dep on something the graph does not list draws no edge.
 */
export function dependencyMaps(assets: readonly GraphNode[]): {
  up: Map<string, string[]>;
  down: Map<string, string[]>;
} {
  const keys = new Set(assets.map((a) => a.key));
  const up = new Map<string, string[]>();
  const down = new Map<string, string[]>();
  for (const a of assets) {
    const deps = a.deps.filter((d) => keys.has(d));
    up.set(a.key, deps);
    for (const d of deps) (down.get(d) ?? down.set(d, []).get(d)!).push(a.key);
  }
  return { up, down };
}

/** Assets whose key or name contains the search text (trimmed, any case); none for an empty one. */
export function matchAssets<A extends { key: string; name?: string }>(
  assets: readonly A[],
  search: string,
): A[] {
  const q = search.trim().toLowerCase();
  if (!q) return [];
  return assets.filter(
    (a) => a.key.toLowerCase().includes(q) || (a.name ?? '').toLowerCase().includes(q),
  );
}
