/**
 * Planning a 1,000-model project: the asset graph is built from files alone, its order puts every
 * asset after its upstream, selections match a brute-force walk of the generated dependencies,
 * and the dispatcher runs all of it respecting dependencies (and skipping exactly what is
 * downstream of a failure). Cycles are errors naming their members.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import { dispatch, type DispatchTask } from '../../src/dag/index.js';
import { loadAssetGraph, selectAssets, type AssetGraph } from '../../src/orchestrator/index.js';
import { tempDir, writeFiles } from '../helpers.js';

const N = 1000;
const SOURCE_MODELS = 10;
const name = (i: number) => `m_${String(i).padStart(4, '0')}`;
const key = (i: number) => `model:${name(i)}`;

/** A small seeded generator, so the graph is the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Generated {
  dir: string;
  /** Direct upstream asset keys of each model key (the truth to check the graph against). */
  deps: Map<string, string[]>;
  tagged: Set<string>;
}

const BASE = {
  'tributary.yml': `name: big
sources:
  app:
    type: files
    path: landing
    tables:
      items: { files: "items*.csv" }
`,
  'contracts/items.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
`,
  'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: items }]
`,
};

/**
 * 1,000 models generated in a hidden order: the first ten read the processed table, each later
 * one refs one or two models generated before it. Names are shuffled (m_0000 is generated first
 * and m_0999 last), so neither file names nor file order give the topological order away.
 */
function generate(): Generated {
  const rand = rng(20240110);
  const perm = Array.from({ length: N }, (_, i) => i);
  for (let i = N - 2; i > 1; i--) {
    const j = 1 + Math.floor(rand() * i); // shuffles positions 1..N-2 only
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const files: Record<string, string> = { ...BASE };
  const deps = new Map<string, string[]>();
  const tagged = new Set<string>();
  for (let g = 0; g < N; g++) {
    const i = perm[g]!;
    const tag = i % 10 === 0 ? "{{ config(tags=['tens']) }}\n" : '';
    if (tag) tagged.add(key(i));
    if (g < SOURCE_MODELS) {
      files[`models/${name(i)}.sql`] = `${tag}select * from {{ source('lake', 'items') }}`;
      deps.set(key(i), ['processed:items']);
      continue;
    }
    const near = perm[g - 1 - Math.floor(rand() * Math.min(g, 20))]!;
    const far = perm[Math.floor(rand() * g)]!;
    const two = rand() < 0.5 && far !== near;
    files[`models/${name(i)}.sql`] = two
      ? `${tag}select a.* from {{ ref('${name(near)}') }} a join {{ ref('${name(far)}') }} b using (id)`
      : `${tag}select * from {{ ref('${name(near)}') }}`;
    deps.set(key(i), two ? [key(near), key(far)] : [key(near)]);
  }
  const dir = tempDir('trib-plan-');
  writeFiles(dir, files);
  return { dir, deps, tagged };
}

/** Everything reachable from `roots` through `next`, roots included (the brute-force walk). */
function reach(roots: string[], next: (k: string) => string[]): Set<string> {
  const out = new Set<string>();
  const visit = (k: string) => {
    if (out.has(k)) return;
    out.add(k);
    for (const n of next(k)) visit(n);
  };
  roots.forEach(visit);
  return out;
}

const sorted = (s: Iterable<string>) => [...s].sort();

describe('a 1,000-model project', () => {
  let gen: Generated;
  let graph: AssetGraph;
  /** Upstream and downstream of every asset, from the generated truth (not from the graph). */
  const up = (k: string): string[] =>
    k === 'processed:items' ? ['raw:app.items'] : k === 'raw:app.items' ? [] : gen.deps.get(k)!;
  const down = (k: string): string[] => {
    const all = [...gen.deps.keys(), 'processed:items'];
    return all.filter((c) => up(c).includes(k));
  };

  beforeAll(async () => {
    gen = generate();
    graph = (await loadAssetGraph(gen.dir)).graph;
  });

  it('has every model with exactly the dependencies it was written with', () => {
    expect(graph.assets.size).toBe(N + 2);
    expect(graph.order).toHaveLength(N + 2);
    expect(new Set(graph.order).size).toBe(N + 2);
    for (const [k, deps] of gen.deps)
      expect(sorted(graph.assets.get(k)!.deps), k).toEqual(sorted(deps));
    expect(graph.assets.get('processed:items')!.deps).toEqual(['raw:app.items']);
    expect(graph.assets.get(key(10))!.tags).toEqual(['tens']);
  });

  it('orders every asset after all of its upstream assets', () => {
    const pos = new Map(graph.order.map((k, i) => [k, i]));
    const late: string[] = [];
    for (const a of graph.assets.values())
      for (const d of a.deps) if (pos.get(d)! >= pos.get(a.key)!) late.push(`${a.key} before ${d}`);
    expect(late).toEqual([]);
    expect(graph.order[0]).toBe('raw:app.items');
  });

  it('orders the same way every time the project is loaded', async () => {
    const again = (await loadAssetGraph(gen.dir)).graph;
    expect(again.order).toEqual(graph.order);
  });

  it('selects +m_0999 as m_0999 and everything upstream of it', () => {
    const got = selectAssets(graph, ['+m_0999']);
    const want = reach([key(999)], up);
    expect(want.size).toBeGreaterThan(50); // a deep selection, not a trivial one
    expect(want.has('raw:app.items')).toBe(true);
    expect(sorted(got)).toEqual(sorted(want));
  });

  it('selects m_0000+ as m_0000 and everything downstream of it', () => {
    const got = selectAssets(graph, ['m_0000+']);
    const want = reach([key(0)], down);
    expect(want.size).toBeGreaterThan(10);
    expect(sorted(got)).toEqual(sorted(want));
  });

  it('selects +m_0500+ as m_0500 with everything upstream and downstream of it', () => {
    const want = new Set([...reach([key(500)], up), ...reach([key(500)], down)]);
    expect(sorted(selectAssets(graph, ['+m_0500+']))).toEqual(sorted(want));
    expect(sorted(selectAssets(graph, ['model:m_0500+']))).toEqual(sorted(reach([key(500)], down)));
  });

  it('selects by tag, with upstream, and with exclusions', () => {
    expect(sorted(selectAssets(graph, ['tag:tens']))).toEqual(sorted(gen.tagged));
    expect(gen.tagged.size).toBe(N / 10);
    expect(sorted(selectAssets(graph, ['+tag:tens']))).toEqual(sorted(reach([...gen.tagged], up)));
    const exclude = reach([key(0)], down);
    expect(sorted(selectAssets(graph, ['+m_0999'], ['m_0000+']))).toEqual(
      sorted([...reach([key(999)], up)].filter((k) => !exclude.has(k))),
    );
    expect(sorted(selectAssets(graph, ['kind:model']))).toEqual(sorted(gen.deps.keys()));
    expect(selectAssets(graph, []).size).toBe(N + 2);
  });

  /** Dispatches the whole graph with a no-op task, recording starts and checking upstream. */
  async function runAll(concurrency: number, failing?: string) {
    const tasks: DispatchTask[] = graph.order.map((k) => ({
      key: k,
      deps: graph.assets.get(k)!.deps,
    }));
    const done = new Set<string>();
    const started: string[] = [];
    const early: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const results = await dispatch<{ status?: string }>(
      tasks,
      {
        execute: async (k) => {
          started.push(k);
          for (const d of graph.assets.get(k)!.deps)
            if (!done.has(d)) early.push(`${k} before ${d}`);
          running++;
          maxRunning = Math.max(maxRunning, running);
          if (started.length % 3 === 0) await new Promise<void>((r) => setImmediate(r));
          running--;
          if (k === failing) throw new Error(`${k} broke`);
          done.add(k);
          return {};
        },
      },
      { concurrency },
    );
    return { results, started, early, maxRunning };
  }

  it('dispatches every asset once, each after its upstream, with 8 at a time', async () => {
    const { results, started, early, maxRunning } = await runAll(8);
    expect(early).toEqual([]);
    expect(started).toHaveLength(N + 2);
    expect(new Set(started).size).toBe(N + 2);
    expect(results.map((r) => r.key)).toEqual(graph.order);
    expect(results.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(maxRunning).toBeLessThanOrEqual(8);
    expect(maxRunning).toBeGreaterThan(1);
  });

  it('starts assets in exactly the planned order with one at a time', async () => {
    const { started } = await runAll(1);
    expect(started).toEqual(graph.order);
  });

  it('skips exactly what is downstream of a failure and runs everything else', async () => {
    const { results } = await runAll(4, key(500));
    const downstream = reach([key(500)], down);
    downstream.delete(key(500));
    expect(downstream.size).toBeGreaterThan(100); // a failure in the middle of the graph
    expect(downstream.size).toBeLessThan(N - 100);
    const byStatus = (s: string) => sorted(results.filter((r) => r.status === s).map((r) => r.key));
    expect(byStatus('failed')).toEqual([key(500)]);
    expect(byStatus('skipped')).toEqual(sorted(downstream));
    expect(byStatus('succeeded')).toHaveLength(N + 2 - 1 - downstream.size);
  });
});

describe('cycles', () => {
  it('refuses two models that ref each other, naming both', async () => {
    const dir = tempDir('trib-plan-cycle-');
    writeFiles(dir, {
      ...BASE,
      'models/ok.sql': "select * from {{ source('lake', 'items') }}",
      'models/m_left.sql': "select * from {{ ref('ok') }} join {{ ref('m_right') }} using (id)",
      'models/m_right.sql': "select * from {{ ref('m_left') }}",
    });
    const err = await loadAssetGraph(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TributaryError);
    expect(['CONFIG', 'GRAPH']).toContain((err as TributaryError).code);
    expect((err as Error).message).toMatch(
      /cycle: (m_left → m_right → m_left|m_right → m_left → m_right)/,
    );
    expect((err as TributaryError).location?.file).toMatch(/m_(left|right)\.sql$/);
  });

  it('refuses processed tables whose contracts reference each other, naming both', async () => {
    const dir = tempDir('trib-plan-cycle-');
    writeFiles(dir, {
      'tributary.yml': `name: c
sources:
  app:
    type: files
    path: landing
    tables:
      left: { files: "left*.csv" }
      right: { files: "right*.csv" }
`,
      'contracts/left.yml': `columns:
  - { name: id, type: bigint }
  - { name: right_id, type: bigint, references: right.id }
`,
      'contracts/right.yml': `columns:
  - { name: id, type: bigint }
  - { name: left_id, type: bigint, references: left.id }
`,
    });
    const err = await loadAssetGraph(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).code).toBe('GRAPH');
    expect((err as Error).message).toMatch(/cycle through .*processed:left/);
    expect((err as Error).message).toMatch(/processed:right/);
  });
});
