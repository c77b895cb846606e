/**
 * Dashboards and forecast queries in the asset graph: each dashboard is an asset whose upstream
 * assets are the relations its tiles read, and a forecast whose source is a query reads the
 * relations it names, so lineage runs from a raw file through the forecast to the tile that
 * shows it. SQL is parsed (never run) by DuckDB's `json_serialize_sql`.
 */
import { quoteIdentifier, relationsRead, type Engine } from '../engines/index.js';
import type { ParsedProject } from '../models/index.js';
import { SQL_REF, type Dashboard, type Forecast } from '../project/index.js';
import { refNode, relationAssets, withDeps, type Asset, type AssetGraph } from './graph.js';

/**
 * The graph with each query-sourced forecast also downstream of the relations its SQL reads
 * (beyond its `{{ ref() }}`s, which the graph already has), e.g. a dimension joined by name.
 */
export async function withForecastLineage(
  engine: Engine,
  forecasts: readonly Forecast[],
  graph: AssetGraph,
  models: ParsedProject,
  defaultSchema: string,
): Promise<AssetGraph> {
  const byRelation = relationAssets(graph, models);
  const extra = new Map<string, string[]>();
  for (const f of forecasts) {
    if (f.source.kind !== 'sql') continue;
    const sql = f.source.sql.replace(SQL_REF, (all, _q, name: string) => {
      const node = refNode(models, name);
      return node ? `${quoteIdentifier(node.schema)}.${quoteIdentifier(node.alias)}` : all;
    });
    const deps = new Set<string>();
    for (const rel of await relationsRead(engine, sql, defaultSchema)) {
      const key = byRelation.get(rel);
      if (key && key !== `forecast:${f.name}`) deps.add(key);
    }
    extra.set(`forecast:${f.name}`, [...deps].sort());
  }
  return withDeps(graph, extra);
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
