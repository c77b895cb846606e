/**
 * The seeded DAG of no-op assets bench:orchestrate and bench:workers dispatch: shaped like a
 * large dbt project (20 layers, fan-in of 1–3), the same for a given size and seed.
 */
import { seededRandom as rng } from '../src/core/index.js';

export interface GeneratedAsset {
  name: string;
  layer: number;
  deps: string[];
  tags: string[];
}

/**
 * A layered DAG shaped like a large dbt project: 10% of the assets are roots (staging models on
 * sources), the rest spread over 19 more layers; each non-root reads one asset of the layer just
 * before it (so the graph is 20 deep) and 0–2 more from any earlier layer (fan-in), so 1–3 deps.
 */
export function generateDag(n: number, seed: number): GeneratedAsset[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const layers = Math.max(1, Math.min(20, Math.floor(n / 10)));
  const roots = layers === 1 ? n : Math.max(1, Math.ceil(n * 0.1));
  const width = String(n - 1).length;
  const byLayer: string[][] = [];
  const out: GeneratedAsset[] = [];
  for (let i = 0; i < n; i++) {
    const layer =
      i < roots ? 0 : 1 + Math.floor(((i - roots) * (layers - 1)) / Math.max(1, n - roots));
    const name = `m${String(i).padStart(width, '0')}`;
    const deps = new Set<string>();
    if (layer > 0) {
      deps.add(pick(byLayer[layer - 1]!));
      const extra = Math.floor(random() * 3);
      for (let k = 0; k < extra; k++) deps.add(pick(byLayer[Math.floor(random() * layer)]!));
    }
    (byLayer[layer] ??= []).push(name);
    out.push({
      name,
      layer,
      deps: [...deps],
      tags: [`layer_${layer}`, `domain_${Math.floor(random() * 10)}`],
    });
  }
  return out;
}
