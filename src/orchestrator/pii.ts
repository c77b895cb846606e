/**
 * Which warehouse columns hold personal data, for the masked serving snapshot: a column is PII
 * when its source contract says `pii: true`, or its dbt properties say `meta: {pii: true}` (on a
 * model, snapshot, seed or source column: dbt users keep such flags in meta). A column of the
 * same name in a relation built from one with PII (downstream in the asset graph) counts too, so
 * `lower(email) as email` in a staging model stays masked; a column renamed on the way is not
 * recognised and needs its own flag.
 */
import type { ColumnDoc } from '../models/index.js';
import { assetKey } from './graph.js';
import type { Workspace } from './workspace.js';

const flagged = (columns: Record<string, ColumnDoc>) =>
  Object.values(columns)
    .filter((c) => c.meta?.pii === true)
    .map((c) => c.name);

/** `schema.name` of each warehouse relation with PII → the names of its PII columns. */
export function piiColumns(ws: Workspace): Record<string, string[]> {
  const { graph } = ws;
  const { manifest } = ws.models;
  const direct = new Map<string, Set<string>>();
  const add = (key: string, names: string[]) => {
    if (!names.length) return;
    const set = direct.get(key) ?? new Set<string>();
    for (const n of names) set.add(n.toLowerCase());
    direct.set(key, set);
  };
  for (const t of ws.project.tables)
    add(
      assetKey('processed', t.table),
      t.contract.columns.filter((c) => c.pii).map((c) => c.name),
    );
  for (const src of manifest.sources.values())
    if (graph.assets.has(assetKey('processed', src.identifier)))
      add(assetKey('processed', src.identifier), flagged(src.columns));
  const relationOf = new Map<string, string>();
  for (const asset of graph.assets.values()) {
    if (asset.kind === 'processed') relationOf.set(asset.key, `processed.${asset.name}`);
    const node = asset.uniqueId ? manifest.nodes.get(asset.uniqueId) : undefined;
    if (!node || node.resource_type === 'test' || node.resource_type === 'analysis') continue;
    relationOf.set(asset.key, `${node.schema}.${node.alias}`);
    add(asset.key, flagged(node.columns));
  }
  // Upstream first: each asset inherits the PII names of what it reads.
  const names = new Map<string, Set<string>>();
  const out: Record<string, string[]> = {};
  for (const key of graph.order) {
    const asset = graph.assets.get(key)!;
    const set = new Set(direct.get(key) ?? []);
    for (const dep of asset.deps) for (const n of names.get(dep) ?? []) set.add(n);
    names.set(key, set);
    const relation = relationOf.get(key);
    if (relation && set.size) out[relation] = [...set].sort();
  }
  return out;
}
