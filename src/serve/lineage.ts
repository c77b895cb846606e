/**
 * Dashboards in the asset graph: each dashboard is an asset whose upstream assets are the
 * relations its tiles read, so lineage runs from a raw file to the tile that shows it. Tile SQL
 * is parsed (never run) by DuckDB's `json_serialize_sql` on an in-memory instance.
 */
import type { Engine } from '../engines/index.js';
import { relationAssets, type Asset, type AssetGraph } from '../orchestrator/index.js';
import type { ParsedProject } from '../models/index.js';
import type { Dashboard } from './dashboards/index.js';

/** `schema.table` of every table a SELECT reads (unqualified names are in `defaultSchema`). */
export async function relationsRead(
  engine: Engine,
  sql: string,
  defaultSchema: string,
): Promise<string[]> {
  let json: unknown;
  try {
    const { rows } = await engine.query('SELECT json_serialize_sql(CAST($1 AS VARCHAR)) AS j', [
      sql,
    ]);
    json = JSON.parse(String(rows[0]!.j));
  } catch {
    return [];
  }
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.type === 'BASE_TABLE' && typeof o.table_name === 'string')
      out.add(
        `${typeof o.schema_name === 'string' && o.schema_name ? o.schema_name : defaultSchema}.${o.table_name}`,
      );
    for (const x of Object.values(o)) walk(x);
  };
  walk(json);
  return [...out];
}

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
