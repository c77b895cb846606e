/**
 * Asset policies from tributary.yml `assets:`: each key is a selector (`*`, a name, `kind:name`,
 * `tag:x`, `kind:model`) and entries apply in file order, a later entry's settings replacing an
 * earlier one's, so `"*"` sets defaults and named entries refine them.
 */
import { TributaryError } from '../core/index.js';
import type { AssetPolicyConfig } from '../project/index.js';
import { matchAssets, type AssetGraph } from './graph.js';

export type AssetPolicies = Map<string, AssetPolicyConfig>;

/** The merged policy of every asset that any entry names; unknown selectors are errors. */
export function resolvePolicies(
  graph: AssetGraph,
  entries: Record<string, AssetPolicyConfig>,
): AssetPolicies {
  const out: AssetPolicies = new Map();
  for (const [selector, policy] of Object.entries(entries)) {
    const keys = matchAssets(graph, selector);
    if (!keys.length) {
      throw new TributaryError(`assets: ${selector} matches no asset`, {
        code: 'CONFIG',
        location: { file: 'tributary.yml', path: `assets.${selector}` },
        hint: 'use an asset name, kind:name, tag:x, kind:model or *; `tributary graph` lists them',
      });
    }
    for (const key of keys) {
      const merged = { ...(out.get(key) ?? {}) };
      for (const [k, v] of Object.entries(policy))
        if (v !== undefined) Object.assign(merged, { [k]: v });
      out.set(key, merged);
    }
  }
  for (const [key, policy] of out) {
    if (policy.partitions && graph.assets.get(key)!.kind !== 'model') {
      throw new TributaryError(`${key} cannot have partitions: only models are partitioned`, {
        code: 'CONFIG',
        location: { file: 'tributary.yml', path: 'assets' },
        hint: 'a partition run passes partition_start / partition_end vars to a dbt model',
      });
    }
  }
  return out;
}
