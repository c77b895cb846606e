/**
 * The asset graph's layout and lineage (web/src/graph-layout.ts), in Node: layers by dependency
 * depth, cycles cut instead of looping, deep chains without recursion, barycentre ordering,
 * wrapped tall layers, colours per kind, lineage through cycles, and search.
 */
import { describe, expect, it } from 'vitest';
import {
  dependencyMaps,
  esc,
  kindColors,
  layoutGraph,
  matchAssets,
  MAX_ROWS,
  placeNodes,
  reach,
  ROW,
  SPARE_KIND_COLORS,
  type GraphNode,
} from '../../web/src/graph-layout';

const node = (key: string, deps: string[] = [], kind = 'model'): GraphNode => ({ key, kind, deps });
const depths = (assets: GraphNode[]) =>
  Object.fromEntries([...layoutGraph(assets).pos].map(([k, p]) => [k, p.depth]));

describe('layoutGraph', () => {
  it('lays out an empty graph as no layers', () => {
    const layout = layoutGraph([]);
    expect(layout.layers).toEqual([]);
    expect(layout.pos.size).toBe(0);
  });

  it('puts each asset one layer right of its deepest dep', () => {
    // a → b → d, a → c → d, and e straight from a: d sits after its deepest path
    const assets = [
      node('d', ['b', 'c']),
      node('b', ['a']),
      node('c', ['a']),
      node('a', [], 'source'),
      node('e', ['a', 'd']),
    ];
    expect(depths(assets)).toEqual({ a: 0, b: 1, c: 1, d: 2, e: 3 });
    const layout = layoutGraph(assets);
    expect(layout.layers.map((l) => [...l].sort())).toEqual([['a'], ['b', 'c'], ['d'], ['e']]);
  });

  it('ignores deps that are not assets of the graph', () => {
    expect(depths([node('x', ['missing', 'also:missing'])])).toEqual({ x: 0 });
  });

  it('cuts cycles instead of looping, and places every asset exactly once', () => {
    const assets = [node('a', ['c']), node('b', ['a']), node('c', ['b']), node('self', ['self'])];
    const layout = layoutGraph(assets);
    expect(layout.pos.size).toBe(4);
    expect(layout.layers.flat().sort()).toEqual(['a', 'b', 'c', 'self']);
    expect(layout.pos.get('self')!.depth).toBe(0);
    // the cycle is cut at one edge, so its three assets take three consecutive layers
    expect(['a', 'b', 'c'].map((k) => layout.pos.get(k)!.depth).sort()).toEqual([0, 1, 2]);
  });

  it('lays out a chain of 20,000 assets without overflowing the stack', () => {
    const chain = Array.from({ length: 20_000 }, (_, i) => node(`m${i}`, i ? [`m${i - 1}`] : []));
    const layout = layoutGraph(chain.reverse());
    expect(layout.layers).toHaveLength(20_000);
    expect(layout.pos.get('m19999')).toEqual({ depth: 19_999, index: 0 });
  });

  it('orders the first layer by kind, then key', () => {
    const layout = layoutGraph([
      node('z_src', [], 'source'),
      node('b_model', [], 'model'),
      node('a_src', [], 'source'),
      node('a_model', [], 'model'),
    ]);
    expect(layout.layers[0]).toEqual(['a_model', 'b_model', 'a_src', 'z_src']);
  });

  it('orders later layers by the mean position of their deps, so edges cross less', () => {
    // roots r1 (top), r2 (bottom); "a_child" hangs off r2 and "z_child" off r1, so the barycentre
    // puts z_child above a_child although the keys sort the other way
    const layout = layoutGraph([
      node('r1', [], 'k'),
      node('r2', [], 'k'),
      node('a_child', ['r2']),
      node('z_child', ['r1']),
    ]);
    expect(layout.layers[1]).toEqual(['z_child', 'a_child']);
  });

  it('keeps names of any length and characters as keys', () => {
    const long = 'model:' + 'very_long_name_'.repeat(40) + 'ü→ 名前';
    const layout = layoutGraph([node('src'), node(long, ['src'])]);
    expect(layout.pos.get(long)).toEqual({ depth: 1, index: 0 });
  });
});

describe('placeNodes', () => {
  it('places nothing for an empty layout', () => {
    const placed = placeNodes(layoutGraph([]), 600);
    expect(placed.pos.size).toBe(0);
  });

  it('spreads layers over the width and centres each one vertically', () => {
    const placed = placeNodes(layoutGraph([node('a'), node('b'), node('c', ['a', 'b'])]), 600);
    expect(placed.pos.get('a')).toEqual({ x: 0, y: -ROW / 2 });
    expect(placed.pos.get('b')).toEqual({ x: 0, y: ROW / 2 });
    expect(placed.pos.get('c')).toEqual({ x: 600, y: 0 });
    expect(placed.columnPx).toBe(600);
  });

  it('puts a single layer at x 0 and gives its labels the whole width', () => {
    const placed = placeNodes(layoutGraph([node('only')]), 500);
    expect(placed.pos.get('only')).toEqual({ x: 0, y: 0 });
    expect(placed.columnPx).toBe(500);
  });

  it(`wraps a layer of more than ${MAX_ROWS} assets into sub-columns of at most ${MAX_ROWS}`, () => {
    const tests = Array.from({ length: 100 }, (_, i) =>
      node(`test_${String(i).padStart(3, '0')}`, ['m']),
    );
    const placed = placeNodes(layoutGraph([node('m'), ...tests]), 1000);
    const xs = new Map<number, number[]>();
    for (const t of tests) {
      const p = placed.pos.get(t.key)!;
      xs.set(p.x, [...(xs.get(p.x) ?? []), p.y]);
    }
    expect(xs.size).toBe(Math.ceil(100 / MAX_ROWS));
    for (const ys of xs.values()) {
      expect(ys.length).toBeLessThanOrEqual(MAX_ROWS);
      // each sub-column is centred on y = 0
      expect(Math.min(...ys) + Math.max(...ys)).toBeCloseTo(0);
    }
    // every position is distinct: no two assets on top of each other
    const seen = new Set([...placed.pos.values()].map((p) => `${p.x},${p.y}`));
    expect(seen.size).toBe(101);
    // a label has room up to the next sub-column, not the next layer
    expect(placed.columnPx).toBeLessThan(1000);
    expect(placed.columnPx).toBeGreaterThan(0);
  });
});

describe('lineage', () => {
  it('keeps only deps that are assets, and lists dependents', () => {
    const { up, down } = dependencyMaps([
      node('a'),
      node('b', ['a', 'gone']),
      node('c', ['a', 'b']),
    ]);
    expect(up.get('b')).toEqual(['a']);
    expect(down.get('a')).toEqual(['b', 'c']);
    expect(down.get('b')).toEqual(['c']);
    expect(down.has('gone')).toBe(false);
  });

  it('reaches everything upstream and downstream, each once, without the start', () => {
    const { up, down } = dependencyMaps([
      node('a'),
      node('b', ['a']),
      node('c', ['a']),
      node('d', ['b', 'c']),
    ]);
    expect([...reach('d', up)].sort()).toEqual(['a', 'b', 'c']);
    expect([...reach('a', down)].sort()).toEqual(['b', 'c', 'd']);
    expect(reach('a', up).size).toBe(0);
    expect(reach('not-an-asset', up).size).toBe(0);
  });

  it('stops at cycles, and leaves the start out even when a cycle leads back to it', () => {
    const { up } = dependencyMaps([node('a', ['c']), node('b', ['a']), node('c', ['b'])]);
    expect([...reach('a', up)].sort()).toEqual(['b', 'c']);
  });
});

describe('kindColors', () => {
  it('gives the known kinds their fixed colours', () => {
    const colors = kindColors(['model', 'source', 'test']);
    expect(colors.get('model')).toBe('#0072B2');
    expect(colors.get('source')).toBe('#56B4E9');
    expect(colors.get('test')).toBe('#999999');
  });

  it('gives other kinds spare colours no known kind uses, wrapping when they run out', () => {
    const known = kindColors([
      'raw',
      'processed',
      'seed',
      'model',
      'snapshot',
      'test',
      'report',
      'dashboard',
      'sync',
      'forecast',
    ]);
    const knownColors = new Set(known.values());
    const others = Array.from({ length: 12 }, (_, i) => `kind${i}`);
    const colors = kindColors(others);
    const spare = [...new Set(colors.values())];
    expect(spare.length).toBeGreaterThan(1);
    expect(spare.length).toBeLessThan(others.length); // wrapped around
    for (const c of spare) expect(knownColors.has(c), c).toBe(false);
    expect(colors.get('kind0')).toBe(colors.get(`kind${spare.length}`));
    expect(SPARE_KIND_COLORS).toContain(colors.get('kind0'));
  });
});

describe('search and tooltips', () => {
  const assets = [
    { key: 'model:fct_sales', kind: 'model', name: 'fct_sales', deps: [] },
    { key: 'source:shop.orders', kind: 'source', name: 'Orders', deps: [] },
  ];

  it('matches key or name, ignoring case and surrounding spaces; nothing for empty text', () => {
    expect(matchAssets(assets, '  ORDERS ').map((a) => a.key)).toEqual(['source:shop.orders']);
    expect(matchAssets(assets, 'model:').map((a) => a.key)).toEqual(['model:fct_sales']);
    expect(matchAssets(assets, 'zzz')).toEqual([]);
    expect(matchAssets(assets, '   ')).toEqual([]);
  });

  it('escapes HTML in tooltip text', () => {
    expect(esc(`<b onclick="x">'&'</b>`)).toBe(
      '&#60;b onclick=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/b&#62;',
    );
  });
});
