/**
 * Dashboards in the asset graph: each dashboard is an asset whose upstream assets are the
 * relations its tiles read, so lineage runs from a raw file to the tile that shows it. Tile SQL
 * is parsed (never run) by DuckDB's `json_serialize_sql` on an in-memory instance.
 */
import { relationsRead, type Engine } from '../engines/index.js';
import type { ParsedProject } from '../models/index.js';
import type { Dashboard } from '../project/index.js';
import { relationAssets, type Asset, type AssetGraph } from './graph.js';

/** One asset per dashboard, reading the assets behind its tiles' relations. */
export async function dashboardAssets(
  engine: Engine,
  dashboards: readonly Dashboard[],
  graph: AssetGraph,
  models: ParsedProject,
  defaultSchema: string,
): Promise<Asset[]> {
  const byRelation = relationAssets(graph, models);
  const out: Asset[] = [];
  for (const d of dashboards) {
    const deps = new Set<string>();
    for (const tile of d.tiles) {
      const sql = tile.sql ?? (tile.model ? `select * from ${tile.model}` : undefined);
      if (!sql) continue;
      // Not a SELECT DuckDB can parse: no lineage for this tile.
      for (const rel of await relationsRead(engine, sql, defaultSchema)) {
        const key = byRelation.get(rel);
        if (key) deps.add(key);
      }
    }
    out.push({
      key: `dashboard:${d.name}`,
      kind: 'dashboard',
      name: d.name,
      deps: [...deps].sort(),
      tags: ['dashboard'],
      file: d.file,
    });
  }
  return out;
}
