/**
 * dbt's artifacts: target/manifest.json, target/run_results.json, target/catalog.json,
 * target/sources.json and compiled SQL under target/compiled/. Shapes follow dbt's (v12 manifest,
 * v6 run results) for the fields tools read; docs/artifacts.md lists exactly what is written.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import type { NodeResult } from './execute.js';
import type { ParsedProject } from './parse.js';
import type { Manifest, Node } from './types.js';

const TRIBUTARY_DBT_VERSION = '1.9.0-tributary';

function metadata(
  kind: 'manifest' | 'run-results' | 'catalog' | 'sources',
  invocationId: string,
  adapterType: string,
) {
  const version = { manifest: 'v12', 'run-results': 'v6', catalog: 'v1', sources: 'v3' }[kind];
  return {
    dbt_schema_version: `https://schemas.getdbt.com/dbt/${kind}/${version}.json`,
    dbt_version: TRIBUTARY_DBT_VERSION,
    generated_at: new Date().toISOString(),
    invocation_id: invocationId,
    env: {},
    adapter_type: adapterType,
  };
}

function serialNode(node: Node): Record<string, unknown> {
  const { seed_file: _seedFile, line: _line, ...rest } = node;
  void _seedFile;
  void _line;
  return rest;
}

/** The manifest as JSON (nodes, sources, macros, docs, parent and child maps). */
function manifestJson(manifest: Manifest, invocationId: string, adapterType: string): unknown {
  const obj = <T>(m: Map<string, T>, f: (v: T) => unknown = (v) => v) =>
    Object.fromEntries([...m].map(([k, v]) => [k, f(v)]));
  return {
    metadata: {
      ...metadata('manifest', invocationId, adapterType),
      project_name: manifest.projectName,
    },
    nodes: obj(manifest.nodes, serialNode),
    sources: obj(manifest.sources),
    macros: obj(manifest.macros),
    docs: obj(manifest.docs),
    exposures: {},
    metrics: {},
    groups: {},
    selectors: {},
    disabled: obj(manifest.disabled, (n) => [serialNode(n)]),
    parent_map: obj(manifest.parentMap),
    child_map: obj(manifest.childMap),
    group_map: {},
    semantic_models: {},
    unit_tests: {},
    saved_queries: {},
  };
}

export async function writeManifest(pp: ParsedProject, invocationId: string): Promise<string> {
  const path = join(pp.project.dir, pp.project.targetPath, 'manifest.json');
  await writeFileAtomic(
    path,
    JSON.stringify(manifestJson(pp.manifest, invocationId, pp.target.type)),
  );
  return path;
}

export async function writeRunResults(
  pp: ParsedProject,
  invocationId: string,
  results: NodeResult[],
  elapsed: number,
  args: Record<string, unknown>,
): Promise<string> {
  const path = join(pp.project.dir, pp.project.targetPath, 'run_results.json');
  const body = {
    metadata: metadata('run-results', invocationId, pp.target.type),
    results: results.map((r) => ({
      status: r.status,
      timing: r.timing,
      thread_id: r.thread_id,
      execution_time: r.execution_time,
      adapter_response: r.rows === null ? {} : { _message: r.message, rows_affected: r.rows },
      message: r.message,
      failures: r.failures,
      unique_id: r.unique_id,
      compiled: r.compiled_code !== null,
      compiled_code: r.compiled_code,
      relation_name: r.relation_name,
    })),
    elapsed_time: elapsed,
    args,
  };
  await writeFileAtomic(path, JSON.stringify(body, null, 2));
  return path;
}

/** Where a node's compiled SQL goes: target/compiled/<its package>/<file>, as dbt lays it out. */
function compiledPath(pp: ParsedProject, node: Node): string {
  const base = join(pp.project.dir, pp.project.targetPath, 'compiled', node.package_name);
  if (node.resource_type === 'test' && node.test_metadata)
    return join(base, node.original_file_path, `${node.name}.sql`);
  return join(base, node.original_file_path);
}

const createdDirs = new WeakMap<ParsedProject, Set<string>>();

/**
 * Writes a node's compiled SQL: aside, then renamed (never half a file), without fsync (it is
 * rebuilt by any compile), and only when it changed. Synchronous on purpose: thousands of small
 * files cost far less this way than as async operations.
 */
export function writeCompiled(pp: ParsedProject, node: Node, sql: string): void {
  const path = compiledPath(pp, node);
  let dirs = createdDirs.get(pp);
  if (!dirs) createdDirs.set(pp, (dirs = new Set()));
  const dir = dirname(path);
  if (!dirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    dirs.add(dir);
  }
  const text = `${sql}\n`;
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) return;
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** target/catalog.json: the columns and types of every built relation, read from the warehouse. */
export async function writeCatalog(
  pp: ParsedProject,
  engine: Engine,
  invocationId: string,
): Promise<string> {
  const entry = async (id: string, schema: string, name: string, comment: string) => {
    const cols = await engine.describe(schema, name);
    if (!cols) return undefined;
    const type = (await engine.listTables(schema)).find((t) => t.name === name)?.type ?? 'table';
    return [
      id,
      {
        metadata: {
          type: type.toUpperCase(),
          schema,
          name,
          database: null,
          comment: comment || null,
          owner: null,
        },
        columns: Object.fromEntries(
          cols.map((c, i) => [c.name, { type: c.type, index: i + 1, name: c.name, comment: null }]),
        ),
        stats: {},
        unique_id: id,
      },
    ] as const;
  };
  const nodes: Record<string, unknown> = {};
  for (const n of pp.manifest.nodes.values()) {
    if (n.resource_type === 'test' || n.resource_type === 'analysis' || !n.relation_name) continue;
    const e = await entry(n.unique_id, n.schema, n.alias, n.description);
    if (e) nodes[e[0]] = e[1];
  }
  const sources: Record<string, unknown> = {};
  for (const s of pp.manifest.sources.values()) {
    const e = await entry(s.unique_id, s.schema, s.identifier, s.description);
    if (e) sources[e[0]] = e[1];
  }
  const path = join(pp.project.dir, pp.project.targetPath, 'catalog.json');
  await writeFileAtomic(
    path,
    JSON.stringify({
      metadata: metadata('catalog', invocationId, pp.target.type),
      nodes,
      sources,
      errors: null,
    }),
  );
  return path;
}

export interface FreshnessResult {
  unique_id: string;
  max_loaded_at: string | null;
  snapshotted_at: string;
  max_loaded_at_time_ago_in_s: number | null;
  status: 'pass' | 'warn' | 'error' | 'runtime error';
  criteria: unknown;
  error?: string;
}

export async function writeSources(
  pp: ParsedProject,
  invocationId: string,
  results: FreshnessResult[],
  elapsed: number,
): Promise<string> {
  const path = join(pp.project.dir, pp.project.targetPath, 'sources.json');
  await writeFileAtomic(
    path,
    JSON.stringify(
      {
        metadata: metadata('sources', invocationId, pp.target.type),
        results,
        elapsed_time: elapsed,
      },
      null,
      2,
    ),
  );
  return path;
}
