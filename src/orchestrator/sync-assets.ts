/**
 * Syncs in the asset graph, and their compile-time checks: each `syncs/<name>.yml` is the asset
 * `sync:<name>`, downstream of the model it reads; its mapping is checked against the model's
 * columns and the destination's fields and operations, every problem at the sync file's line.
 * Pure (no destination is opened here), so graph building and tests need no network.
 */
import { TributaryError, describeError } from '../core/index.js';
import { quoteIdentifier, relationsRead, type Engine } from '../engines/index.js';
import type { Node, ParsedProject } from '../models/index.js';
import { ProblemsError, type Problem, type SyncDefinition } from '../project/index.js';
import type { DestinationCapabilities, DestinationField } from '../sync/index.js';
import { relationAssets, type Asset, type AssetGraph } from './graph.js';
import type { StaticSourceColumns } from './column-lineage.js';

/** Node kinds a sync's `ref` may name: what builds a relation. */
const REF_KINDS = new Set(['model', 'seed', 'snapshot']);

function refNode(models: ParsedProject, ref: string): Node | undefined {
  for (const node of models.manifest.nodes.values())
    if (node.name === ref && REF_KINDS.has(node.resource_type)) return node;
  return undefined;
}

/**
 * One asset per sync, reading the asset of its `ref` (or the relations its SQL reads). A ref
 * naming no model is a problem at the sync file's `source:` line.
 */
export async function syncAssets(
  engine: Engine,
  syncs: readonly SyncDefinition[],
  graph: AssetGraph,
  models: ParsedProject,
  defaultSchema: string,
): Promise<Asset[]> {
  const byRelation = relationAssets(graph, models);
  const problems: Problem[] = [];
  const out: Asset[] = [];
  for (const s of syncs) {
    const deps = new Set<string>();
    if (s.source.ref !== undefined) {
      const node = refNode(models, s.source.ref);
      if (!node) {
        problems.push({
          message: `source ref('${s.source.ref}') names no model, seed or snapshot of the project`,
          location: { file: s.file, line: s.lines?.source, path: 'source' },
        });
        continue;
      }
      deps.add(`${node.resource_type}:${node.name}`);
    } else {
      for (const rel of await relationsRead(engine, s.source.sql!, defaultSchema)) {
        const key = byRelation.get(rel);
        if (key) deps.add(key);
      }
    }
    out.push({
      key: `sync:${s.name}`,
      kind: 'sync',
      name: s.name,
      deps: [...deps].sort(),
      tags: ['sync', `destination:${s.destination}`],
      file: s.file,
    });
  }
  if (problems.length) throw new ProblemsError(problems);
  return out;
}

/** What a sync reads: the SELECT runSync diffs, and its columns. */
export interface SyncSource {
  sql: string;
  columns: string[];
  /** For messages: `model dim_customers` or `the sync's SQL`. */
  label: string;
}

/** The sync's source in the warehouse; an error naming the sync file when it cannot be read. */
export async function resolveSyncSource(
  engine: Engine,
  models: ParsedProject,
  sync: SyncDefinition,
): Promise<SyncSource> {
  const where = { file: sync.file, line: sync.lines?.source, path: 'source' };
  if (sync.source.ref !== undefined) {
    const node = refNode(models, sync.source.ref);
    if (!node)
      throw new TributaryError(`source ref('${sync.source.ref}') names no model of the project`, {
        code: 'CONFIG',
        location: where,
      });
    const columns = await engine.describe(node.schema, node.alias);
    if (!columns)
      throw new TributaryError(
        `model ${node.name} is not built yet, so sync ${sync.name} has nothing to read`,
        {
          code: 'CONFIG',
          location: where,
          hint: `build it first: tributary run +sync:${sync.name}`,
        },
      );
    return {
      sql: `SELECT * FROM ${quoteIdentifier(node.schema)}.${quoteIdentifier(node.alias)}`,
      columns: columns.map((c) => c.name),
      label: `model ${node.name}`,
    };
  }
  const sql = sync.source.sql!.trim().replace(/;\s*$/, '');
  try {
    const { columns } = await engine.query(`SELECT * FROM (${sql}) AS sync_source LIMIT 0`);
    return { sql, columns: columns.map((c) => c.name), label: "the sync's SQL" };
  } catch (err) {
    throw new TributaryError(
      `the source SQL of sync ${sync.name} does not run: ${describeError(err).split('\n')[0]}`,
      {
        code: 'CONFIG',
        location: where,
        cause: err,
      },
    );
  }
}

/** The destination operations a mode needs. */
const MODE_OPERATIONS: Record<SyncDefinition['mode'], readonly string[]> = {
  upsert: ['upsert'],
  update: ['update'],
  insert: ['insert'],
  mirror: ['upsert', 'delete'],
};

const listed = (names: readonly string[], max = 12) =>
  names.length > max
    ? `${names.slice(0, max).join(', ')}, … (${names.length} in all)`
    : names.join(', ');

/**
 * A sync's mapping checked against its source's columns and the destination's fields and
 * operations: every problem, each at the line of the sync file that causes it.
 */
export function checkSyncMapping(
  sync: SyncDefinition,
  source: { columns: readonly string[]; label: string },
  fields: readonly DestinationField[],
  capabilities: DestinationCapabilities,
): Problem[] {
  const problems: Problem[] = [];
  const at = (line: number | undefined, path: string) => ({ file: sync.file, line, path });
  const columns = new Set(source.columns);
  const byName = new Map(fields.map((f) => [f.name, f]));
  const fieldNames = fields.map((f) => f.name);
  if (!columns.has(sync.match.source))
    problems.push({
      message: `match column ${sync.match.source} is not a column of ${source.label} (columns: ${listed(source.columns)})`,
      location: at(sync.lines?.match, 'match.source'),
    });
  // A destination without a schema API (a webhook with no declared fields) takes any field.
  const checkFields = !capabilities.openSchema;
  if (checkFields && !byName.has(sync.match.destination))
    problems.push({
      message: `${sync.object} has no field ${sync.match.destination} at destination ${sync.destination} (fields: ${listed(fieldNames)})`,
      location: at(sync.lines?.match, 'match.destination'),
    });
  sync.fields.forEach((f, i) => {
    if (f.source !== undefined && !columns.has(f.source))
      problems.push({
        message: `column ${f.source} is not a column of ${source.label} (columns: ${listed(source.columns)})`,
        location: at(f.line, `fields.${i}.source`),
      });
    const field = byName.get(f.destination);
    if (!checkFields) return;
    if (!field)
      problems.push({
        message: `${sync.object} has no field ${f.destination} at destination ${sync.destination} (fields: ${listed(fieldNames)})`,
        location: at(f.line, `fields.${i}.destination`),
      });
    else if (field.readOnly)
      problems.push({
        message: `field ${f.destination} of ${sync.object} is read-only at destination ${sync.destination}`,
        location: at(f.line, `fields.${i}.destination`),
      });
  });
  const missing = MODE_OPERATIONS[sync.mode].filter(
    (op) => !(capabilities.operations as readonly string[]).includes(op),
  );
  if (missing.length)
    problems.push({
      message: `mode ${sync.mode} needs ${missing.join(' and ')}, which destination ${sync.destination} cannot do (it can: ${capabilities.operations.join(', ')})`,
      location: at(sync.lines?.mode, 'mode'),
    });
  return problems;
}

/** Every asset the given assets read, directly or not (themselves excluded). */
export function upstreamAssets(graph: AssetGraph, assets: readonly Asset[]): Set<string> {
  const seen = new Set<string>();
  const stack = assets.flatMap((a) => a.deps);
  while (stack.length) {
    const key = stack.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    stack.push(...(graph.assets.get(key)?.deps ?? []));
  }
  return seen;
}

/** How a sync's source is named in messages: the model, or the sync's own SQL. */
export function sourceLabel(sync: SyncDefinition): string {
  return sync.source.ref ?? "the sync's SQL";
}

/**
 * The compile-time half of the column check: the sync's match column and mapped columns against
 * its source's columns as parsing derives them (column-lineage.ts), each problem at its line.
 * A source whose columns cannot be derived gives no problem here: the run-time check
 * (checkSyncMapping, against the built relation) covers it.
 */
export function staticColumnProblems(sync: SyncDefinition, source: StaticSourceColumns): Problem[] {
  if (!source.columns) return [];
  const have = new Set(source.columns.map((c) => c.toLowerCase()));
  const label = sourceLabel(sync);
  const its = `its columns: ${listed(source.columns)}`;
  const problems: Problem[] = [];
  if (!have.has(sync.match.source.toLowerCase()))
    problems.push({
      message: `match column "${sync.match.source}" is not in ${label} (${its})`,
      location: { file: sync.file, line: sync.lines?.match, path: 'match.source' },
    });
  sync.fields.forEach((f, i) => {
    if (f.source !== undefined && !have.has(f.source.toLowerCase()))
      problems.push({
        message: `column "${f.source}" is not in ${label} (${its})`,
        location: { file: sync.file, line: f.line, path: `fields.${i}.source` },
      });
  });
  return problems;
}
