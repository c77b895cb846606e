/**
 * Row counts and sums of a project's marts and snapshots, read through its warehouse, and each
 * dashboard tile's rows: what tests compare across engines (template-postgres) and across
 * process layouts (e2e/workers).
 */
import type { Engine } from '../src/engines/index.js';
import { publishServingSnapshot, type Workspace } from '../src/orchestrator/index.js';
import { isTileFailure, queryRunnerFor, runDashboard } from '../src/serve/index.js';
import type { Role } from '../src/serve/index.js';

export interface Figures {
  rows: number;
  sums: Record<string, number | null>;
}

/** Row count and the sum of each numeric column of a relation (columns typed by `columns`). */
export async function figures(
  engine: Engine,
  relation: string,
  numeric: readonly string[],
): Promise<Figures> {
  const q = engine.dialect.quoteIdentifier;
  const sums = numeric.map((c, i) => `sum(cast(${q(c)} as double precision)) as s${i}`);
  const { rows } = await engine.query(
    `select count(*) as n${sums.length ? `, ${sums.join(', ')}` : ''} from ${relation}`,
  );
  const row = rows[0]!;
  return {
    rows: Number(row.n),
    sums: Object.fromEntries(
      numeric.map((c, i) => [c, row[`s${i}`] === null ? null : Number(row[`s${i}`])]),
    ),
  };
}

/** The marts and snapshots of a workspace: `schema.name` → its numeric columns. */
export async function martsOf(ws: Workspace): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const node of ws.models.manifest.nodes.values()) {
    const mart = node.resource_type === 'model' && node.fqn.includes('marts');
    if (!mart && node.resource_type !== 'snapshot') continue;
    const columns = await ws.warehouse.describe(node.schema, node.alias);
    if (!columns) throw new Error(`${node.schema}.${node.alias} was not built`);
    out.set(`${node.schema}.${node.alias}`, numericColumns(columns));
  }
  return out;
}

/** Each relation's figures, read through `ws`'s warehouse. */
export async function allFigures(
  ws: Workspace,
  marts: Map<string, string[]>,
): Promise<Record<string, Figures>> {
  const out: Record<string, Figures> = {};
  for (const [relation, numeric] of marts) {
    const [schema, name] = relation.split('.') as [string, string];
    out[relation] = await figures(
      ws.warehouse,
      ws.warehouse.dialect.relation(schema, name),
      numeric,
    );
  }
  return out;
}

/**
 * Every relation the pipeline builds in the warehouse, marts or not: models (ephemeral ones
 * excepted), snapshots, seeds and forecasts' tables: `schema.name` → its numeric columns.
 */
export async function builtRelationsOf(ws: Workspace): Promise<Map<string, string[]>> {
  const names: [string, string][] = [];
  for (const node of ws.models.manifest.nodes.values()) {
    const built = ['model', 'snapshot', 'seed'].includes(node.resource_type);
    if (built && node.config.materialized !== 'ephemeral') names.push([node.schema, node.alias]);
  }
  for (const asset of ws.graph.assets.values())
    for (const relation of asset.relations ?? [])
      names.push(relation.split('.') as [string, string]);
  const out = new Map<string, string[]>();
  for (const [schema, name] of names) {
    const columns = await ws.warehouse.describe(schema, name);
    if (!columns) throw new Error(`${schema}.${name} was not built`);
    out.set(`${schema}.${name}`, numericColumns(columns));
  }
  return out;
}

function numericColumns(columns: readonly { name: string; type: string }[]): string[] {
  return columns
    .filter((c) => /INT|DECIMAL|NUMERIC|DOUBLE|FLOAT|REAL/i.test(c.type))
    .map((c) => c.name);
}

/** Each dashboard tile's row count, or its error, as `role` reads it after a publish. */
export async function dashboardTiles(
  ws: Workspace,
  role: Role,
): Promise<Record<string, number | string>> {
  await publishServingSnapshot(ws);
  const runner = queryRunnerFor(ws, { role });
  const out: Record<string, number | string> = {};
  try {
    for (const d of ws.dashboards) {
      const result = await runDashboard(runner, d);
      for (const [id, tile] of Object.entries(result.tiles))
        out[`${d.name}.${id}`] = isTileFailure(tile) ? tile.error : tile.rows.length;
    }
  } finally {
    await runner.close();
  }
  return out;
}
