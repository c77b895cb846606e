/**
 * Column-level lineage of a project: from the landing file's fields (contracts' `from`) to the
 * processed columns, through every SQL model and snapshot (compiled, then parsed, never run, by
 * DuckDB's `json_serialize_sql` and read by column-resolver.ts), to dashboard tiles and sync
 * destination fields. Where a model's or tile's columns cannot be followed the reason is kept,
 * and the relations it reads are recorded as table-level lineage: nothing is guessed.
 *
 * Models are compiled and parsed by an in-process DuckDB whatever the warehouse: SQL in another
 * engine's dialect that DuckDB cannot parse is "unresolved: could not parse".
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { quoteIdentifier, serializeSql, type Engine } from '../engines/index.js';
import { LOADED_AT } from '../lake/index.js';
import { DbtSession, type Node, type ParsedProject } from '../models/index.js';
import type {
  Dashboard,
  Project,
  SyncDefinition,
  SyncFieldMapping,
  Tile,
} from '../project/index.js';
import { relationAssets, type AssetGraph } from './graph.js';
import {
  resolveQueryColumns,
  type ColumnDerivation,
  type ColumnTransform,
  type QueryColumns,
} from './column-resolver.js';

/** How a column is made from the one before it; `table` marks a table-level (unresolved) hop. */
export type LineageTransform = ColumnTransform;

export interface LineageEdge {
  /** Column ids (`<asset>.<column>`). */
  from: string;
  to: string;
  transform: LineageTransform;
}

/** An asset (or one dashboard tile) whose columns could not be resolved, and what it reads. */
export interface TableLevelRead {
  /** The asset key (`dashboard:<name>` for a tile, with `tile` set). */
  asset: string;
  tile?: string;
  /** Asset keys it reads, as far as they are known. */
  reads: string[];
  reason: string;
}

export interface ColumnLineage {
  /** Each asset's columns in order (a tile's columns are `<tile>.<column>` of its dashboard). */
  columns: Map<string, string[]>;
  edges: LineageEdge[];
  /** Why a column (by id) or a whole asset (by key) cannot be followed. */
  unresolved: Map<string, string>;
  tableLevel: TableLevelRead[];
  /** The asset holding each warehouse relation (`schema.name`, lower-cased). */
  relations: Map<string, string>;
}

export interface ColumnLineageInput {
  project: Project;
  models: ParsedProject;
  graph: AssetGraph;
  dashboards: readonly Dashboard[];
  /** The syncs of syncs/*.yml: each mapped field is a column of `sync:<name>` fed by its source. */
  syncs?: readonly SyncDefinition[];
  /** A DuckDB engine to compile models against and parse SQL with (an in-memory one will do). */
  parser: Engine;
}

export const columnId = (asset: string, column: string) => `${asset}.${column}`;

/** Builds the column lineage of a project (compiles models; runs nothing in the warehouse). */
export async function buildColumnLineage(input: ColumnLineageInput): Promise<ColumnLineage> {
  const { lineage, resolver } = await modelLineage(input);
  for (const d of input.dashboards)
    for (const tile of d.tiles) await addTile(resolver, d, tile, input.project);
  for (const sync of input.syncs ?? []) await addSync(resolver, sync, input);
  return lineage;
}

/**
 * The lineage of the sources' and models' columns, in graph order; with `only`, of those assets
 * alone (they must include everything upstream of what the caller asks about).
 */
async function modelLineage(
  input: Omit<ColumnLineageInput, 'dashboards' | 'syncs'>,
  only?: ReadonlySet<string>,
): Promise<{ lineage: ColumnLineage; resolver: QueryResolver }> {
  const assetOf = new Map(
    [...relationAssets(input.graph, input.models)].map(([rel, key]) => [rel.toLowerCase(), key]),
  );
  const lineage: ColumnLineage = {
    columns: new Map(),
    edges: [],
    unresolved: new Map(),
    tableLevel: [],
    relations: assetOf,
  };
  /** Known columns of each warehouse relation (`schema.name`, lower-cased). */
  const known = new Map<string, string[]>();
  addSourceTables(input.project, lineage, known);
  const resolver = new QueryResolver(input.parser, known, assetOf, lineage);
  const session = new DbtSession(input.models);
  for (const key of input.graph.order) {
    if (only && !only.has(key)) continue;
    const asset = input.graph.assets.get(key)!;
    const node = asset.uniqueId ? input.models.manifest.nodes.get(asset.uniqueId) : undefined;
    if (node && asset.kind === 'seed') {
      await addSeed(key, node, lineage, known);
      continue;
    }
    if (!node || !['model', 'snapshot', 'report'].includes(asset.kind)) continue;
    let sql: string;
    try {
      sql = await session.compile(input.parser, node);
    } catch (err) {
      const reason = `could not compile: ${err instanceof Error ? err.message : String(err)}`;
      lineage.unresolved.set(key, reason);
      lineage.tableLevel.push({ asset: key, reads: asset.deps, reason });
      continue;
    }
    const resolved = await resolver.resolve(sql, input.project.config.models.schema);
    const columns =
      resolved.columns && asset.kind === 'snapshot'
        ? [...resolved.columns, ...snapshotColumns(node, resolved.columns)]
        : resolved.columns;
    resolver.record(key, { ...resolved, columns }, asset.deps);
    if (columns && asset.kind !== 'report')
      known.set(
        `${node.schema}.${node.alias}`.toLowerCase(),
        columns.map((c) => c.name),
      );
  }
  return { lineage, resolver };
}

/** A sync's source columns as parsing says they are, or why parsing cannot say. */
export type StaticSourceColumns =
  { columns: string[]; reason?: undefined } | { columns: undefined; reason: string };

/**
 * The output columns of each sync's source, derived without running anything: the models its
 * source reads (and theirs, up to the landing tables and seeds) are compiled and parsed, and the
 * source (`ref` model, or the sync's own SQL) resolved against them. `upstream` is every asset
 * the syncs' sources depend on. A source whose columns cannot be listed (a `select *` from a
 * relation outside the project, SQL too dynamic to follow) has the reason instead.
 */
export async function staticSyncSourceColumns(
  input: Omit<ColumnLineageInput, 'dashboards'> & { syncs: readonly SyncDefinition[] },
  upstream: ReadonlySet<string>,
): Promise<Map<string, StaticSourceColumns>> {
  const { lineage, resolver } = await modelLineage(input, upstream);
  const out = new Map<string, StaticSourceColumns>();
  for (const sync of input.syncs) {
    if (sync.source.sql !== undefined) {
      const resolved = await resolver.resolve(sync.source.sql, input.project.config.models.schema);
      out.set(
        sync.name,
        resolved.columns
          ? { columns: resolved.columns.map((c) => c.name) }
          : { columns: undefined, reason: resolved.unresolved ?? 'not resolved' },
      );
      continue;
    }
    const key = [...input.graph.assets.values()].find(
      (a) => a.name === sync.source.ref && ['model', 'seed', 'snapshot'].includes(a.kind),
    )?.key;
    const reason = key ? lineage.unresolved.get(key) : 'its model is not in the graph';
    const columns = key ? lineage.columns.get(key) : undefined;
    out.set(
      sync.name,
      !reason && columns ? { columns } : { columns: undefined, reason: reason ?? 'not resolved' },
    );
  }
  return out;
}

/** Landing-file fields -> processed columns, from each table's contract. */
function addSourceTables(project: Project, lineage: ColumnLineage, known: Map<string, string[]>) {
  for (const t of project.tables) {
    const raw = `raw:${t.id}`;
    const processed = `processed:${t.table}`;
    // _loaded_at is stamped at load: a column with no upstream, like a constant.
    const names = t.contract.columns.map((c) => c.name);
    if (!names.includes(LOADED_AT)) names.push(LOADED_AT);
    lineage.columns.set(
      raw,
      t.contract.columns.map((c) => c.from ?? c.name),
    );
    lineage.columns.set(processed, names);
    known.set(`processed.${t.table}`.toLowerCase(), names);
    for (const c of t.contract.columns) {
      const field = c.from ?? c.name;
      lineage.edges.push({
        from: columnId(raw, field),
        to: columnId(processed, c.name),
        transform: field === c.name ? 'identity' : 'rename',
      });
    }
  }
}

/** A seed's columns: its CSV header (a seed is where its values start: no upstream). */
async function addSeed(
  key: string,
  node: Node,
  lineage: ColumnLineage,
  known: Map<string, string[]>,
): Promise<void> {
  try {
    const text = (await readFile(node.seed_file!, 'utf8')).replace(/^\uFEFF/, '');
    const [header] = parse(text, {
      delimiter: String(node.config.delimiter ?? ','),
      to_line: 1,
    }) as string[][];
    const columns = (header ?? []).map((c) => c.trim());
    lineage.columns.set(key, columns);
    known.set(`${node.schema}.${node.alias}`.toLowerCase(), columns);
  } catch (err) {
    const reason = `could not read the seed's header: ${err instanceof Error ? err.message : String(err)}`;
    lineage.unresolved.set(key, reason);
    lineage.tableLevel.push({ asset: key, reads: [], reason });
  }
}

/**
 * A snapshot's own columns (dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to): from
 * the unique key and updated_at (timestamp strategy); the check strategy stamps the snapshot time.
 */
function snapshotColumns(node: Node, selected: ColumnDerivation[]): ColumnDerivation[] {
  const c = node.config as unknown as Record<string, unknown>;
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : v ? [String(v)] : []);
  const pick = (names: string[]) =>
    names.flatMap(
      (n) => selected.find((s) => s.name.toLowerCase() === n.toLowerCase())?.from ?? [],
    );
  const updated = c.strategy === 'timestamp' ? pick(list(c.updated_at)) : [];
  const keyed = pick(list(c.unique_key));
  const made = (name: string, from: ColumnDerivation['from']): ColumnDerivation => ({
    name,
    from,
    transform: from.length ? 'derived' : 'constant',
  });
  return [
    made('dbt_scd_id', [...keyed, ...updated]),
    made('dbt_updated_at', updated),
    made('dbt_valid_from', updated),
    made('dbt_valid_to', updated),
  ];
}

/** A tile's SQL: its own, or the query a model + measure tile runs (serve builds the same). */
function tileSql(tile: Tile): string | undefined {
  if (tile.sql) return tile.sql;
  if (!tile.model || !tile.measure) return undefined;
  const groups = [tile.by, tile.series].filter((c): c is string => c !== undefined);
  const model = tile.model.split('.').map(quoteIdentifier).join('.');
  return `select ${[...groups.map(quoteIdentifier), `${tile.measure} as value`].join(', ')} from ${model}`;
}

async function addTile(resolver: QueryResolver, d: Dashboard, tile: Tile, project: Project) {
  const sql = tileSql(tile);
  if (!sql) return;
  const key = `dashboard:${d.name}`;
  const resolved = await resolver.resolve(sql, project.config.models.schema);
  resolver.record(key, resolved, [], tile.id);
}

/** A sync's destination fields, each from the source column it maps (or a constant). */
async function addSync(resolver: QueryResolver, sync: SyncDefinition, input: ColumnLineageInput) {
  const key = `sync:${sync.name}`;
  const schema = input.project.config.models.schema;
  const sql = sync.source.sql ?? `select * from ${quoteIdentifier(sync.source.ref ?? '')}`;
  const source = await resolver.resolve(sql, schema);
  // The match key is a destination field too, unless a mapping (with its transforms) names it.
  const mapsKey = sync.fields.some((f) => f.destination === sync.match.destination);
  const fields: SyncFieldMapping[] = mapsKey
    ? sync.fields
    : [{ source: sync.match.source, destination: sync.match.destination, line: 0 }, ...sync.fields];
  if (!source.columns) {
    resolver.record(key, source, []);
    return;
  }
  const columns = fields.map((f): ColumnDerivation => {
    if (f.source === undefined) return { name: f.destination, from: [], transform: 'constant' };
    const col = source.columns!.find((c) => c.name.toLowerCase() === f.source!.toLowerCase());
    if (!col)
      return {
        name: f.destination,
        from: [],
        transform: 'derived',
        unresolved: `${sync.file}: the source has no column ${f.source}`,
      };
    const transformed = f.cast !== undefined || f.transform !== undefined;
    const named = f.destination.toLowerCase() === col.name.toLowerCase();
    const transform: ColumnTransform =
      transformed || col.transform === 'derived' || col.transform === 'constant'
        ? col.from.length
          ? 'derived'
          : col.transform
        : named && col.transform === 'identity'
          ? 'identity'
          : 'rename';
    return { ...col, name: f.destination, transform };
  });
  resolver.record(key, { ...source, columns }, []);
}

/** Parses and resolves SQL against the columns known so far, and records what it finds. */
class QueryResolver {
  constructor(
    private readonly parser: Engine,
    private readonly known: Map<string, string[]>,
    private readonly assetOf: Map<string, string>,
    private readonly lineage: ColumnLineage,
  ) {}

  async resolve(sql: string, defaultSchema: string): Promise<QueryColumns> {
    let tree: unknown;
    try {
      tree = await serializeSql(this.parser, sql);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { columns: undefined, unresolved: `could not parse: ${message}`, relations: [] };
    }
    return resolveQueryColumns(tree, {
      defaultSchema: defaultSchema || 'main',
      columnsOf: (relation) => this.known.get(relation),
    });
  }

  /** The asset holding a relation; one outside the pipeline is named `relation:<schema.name>`. */
  private asset(relation: string): string {
    return this.assetOf.get(relation) ?? `relation:${relation}`;
  }

  /**
   * Records an asset's resolved columns as lineage edges (a tile's under `<tile>.`), or, when its
   * columns are not known, the reason and the table-level reads.
   */
  record(key: string, resolved: QueryColumns, deps: string[], tile?: string): void {
    const prefix = tile ? `${tile}.` : '';
    const reads = [...new Set([...resolved.relations.map((r) => this.asset(r)), ...deps])];
    if (!resolved.columns) {
      const reason = resolved.unresolved ?? 'not resolved';
      this.lineage.unresolved.set(tile ? columnId(key, `${tile}.*`) : key, reason);
      this.lineage.tableLevel.push({ asset: key, ...(tile ? { tile } : {}), reads, reason });
      if (tile) this.addColumns(key, [`${tile}.*`]);
      return;
    }
    this.addColumns(
      key,
      resolved.columns.map((c) => prefix + c.name),
    );
    for (const c of resolved.columns) {
      const to = columnId(key, prefix + c.name);
      if (c.unresolved) this.lineage.unresolved.set(to, c.unresolved);
      for (const f of c.from) {
        const fromAsset = this.asset(f.relation);
        const name = this.columnName(fromAsset, f.column);
        this.lineage.edges.push({ from: columnId(fromAsset, name), to, transform: c.transform });
      }
    }
  }

  private addColumns(key: string, names: string[]) {
    const list = this.lineage.columns.get(key) ?? [];
    for (const n of names) if (!list.includes(n)) list.push(n);
    this.lineage.columns.set(key, list);
  }

  /** The column's name as its asset spells it (references are matched without case). */
  private columnName(asset: string, column: string): string {
    const list = this.lineage.columns.get(asset);
    const found = list?.find((c) => c.toLowerCase() === column.toLowerCase());
    if (found) return found;
    this.addColumns(asset, [column]);
    return column;
  }
}
