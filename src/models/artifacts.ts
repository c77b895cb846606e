/**
 * dbt's artifacts: target/manifest.json, target/run_results.json, target/catalog.json,
 * target/sources.json and compiled SQL under target/compiled/. Shapes follow dbt's (v12 manifest,
 * v6 run results) for the fields tools read; docs/artifacts.md lists exactly what is written.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import { adapterResponse } from './adapter-response.js';
import type { NodeResult } from './execute.js';
import type { ParsedProject } from './parse.js';
import { docJson, macroJson, nodeJson, sourceJson, type ManifestContext } from './manifest-json.js';
import type { Manifest, Node } from './types.js';

/** The dbt version Tributary's artifacts claim: the dbt-core whose artifacts they follow. */
const TRIBUTARY_DBT_VERSION = '1.9.0-tributary';

export type ArtifactKind = 'manifest' | 'run-results' | 'catalog' | 'sources';

/**
 * The `metadata` every artifact opens with, as dbt writes it. Only the manifest carries
 * `adapter_type` (dbt's ManifestMetadata); the others' schemas forbid it.
 */
export function artifactMetadata(
  kind: ArtifactKind,
  invocationId: string,
): Record<string, unknown> {
  const version = { manifest: 'v12', 'run-results': 'v6', catalog: 'v1', sources: 'v3' }[kind];
  return {
    dbt_schema_version: `https://schemas.getdbt.com/dbt/${kind}/${version}.json`,
    dbt_version: TRIBUTARY_DBT_VERSION,
    generated_at: new Date().toISOString(),
    invocation_id: invocationId,
    env: dbtEnv(),
  };
}

/** dbt's `env`: the DBT_ENV_CUSTOM_ENV_* variables, prefix removed. */
function dbtEnv(): Record<string, string> {
  const prefix = 'DBT_ENV_CUSTOM_ENV_';
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (k.startsWith(prefix) && v !== undefined) env[k.slice(prefix.length)] = v;
  return env;
}

/**
 * The macros a node's own Jinja calls (dbt's depends_on.macros): names followed by `(` inside
 * `{{ }}` and `{% %}`, bare (the node's own package's macro, else the root project's, else dbt's
 * or the adapter's) or namespaced (`pkg.name(`); a generic test also depends on its test macro
 * and on get_where_subquery, as in dbt.
 */
function macroCallFinder(manifest: Manifest, adapterType: string): (node: Node) => string[] {
  const byPackage = new Map<string, string>();
  for (const m of manifest.macros.values())
    byPackage.set(`${m.package_name}.${m.name}`, m.unique_id);
  // Asked for every call of every node (~3 per node): remembered per package and name.
  const bareFound = new Map<string, string | undefined>();
  const bare = (node: Node, name: string) => {
    const key = `${node.package_name}\0${name}`;
    if (bareFound.has(key)) return bareFound.get(key);
    const id = [node.package_name, manifest.projectName, 'dbt', `dbt_${adapterType}`]
      .map((pkg) => byPackage.get(`${pkg}.${name}`))
      .find(Boolean);
    bareFound.set(key, id);
    return id;
  };
  const region = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;
  const call = /\b([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?\s*\(/g;
  return (node) => {
    const ids = new Set<string>();
    const meta = node.test_metadata;
    if (meta) {
      const id = meta.namespace
        ? byPackage.get(`${meta.namespace}.test_${meta.name}`)
        : bare(node, `test_${meta.name}`);
      if (id) ids.add(id);
      const where = bare(node, 'get_where_subquery');
      if (where) ids.add(where);
    }
    for (const r of node.raw_code.match(region) ?? []) {
      for (const m of r.matchAll(call)) {
        const id = m[2] ? byPackage.get(`${m[1]}.${m[2]}`) : bare(node, m[1]!);
        if (id) ids.add(id);
      }
    }
    return [...ids];
  };
}

/** The manifest as JSON, in dbt's v12 shape (manifest-json.ts has each entry's). */
function manifestJson(pp: ParsedProject, invocationId: string): unknown {
  const { manifest } = pp;
  const ctx: ManifestContext = {
    pp,
    createdAt: Date.now() / 1000,
    macroCalls: macroCallFinder(manifest, pp.target.type),
  };
  const obj = <T>(m: Map<string, T>, f: (v: T) => unknown) =>
    Object.fromEntries([...m].map(([k, v]) => [k, f(v)]));
  return {
    metadata: {
      ...artifactMetadata('manifest', invocationId),
      project_name: manifest.projectName,
      project_id: createHash('md5').update(manifest.projectName).digest('hex'),
      user_id: null,
      send_anonymous_usage_stats: false,
      adapter_type: pp.target.type,
    },
    nodes: obj(manifest.nodes, (n) => nodeJson(n, ctx)),
    sources: obj(manifest.sources, (s) => sourceJson(s, ctx)),
    macros: obj(manifest.macros, (m) => macroJson(m, ctx)),
    docs: obj(manifest.docs, docJson),
    exposures: {},
    metrics: {},
    groups: {},
    selectors: {},
    disabled: obj(manifest.disabled, (n) => [nodeJson(n, ctx)]),
    parent_map: obj(manifest.parentMap, (v) => v),
    child_map: obj(manifest.childMap, (v) => v),
    group_map: {},
    saved_queries: {},
    semantic_models: {},
    unit_tests: {},
  };
}

export async function writeManifest(pp: ParsedProject, invocationId: string): Promise<string> {
  const path = join(pp.project.dir, pp.project.targetPath, 'manifest.json');
  await writeFileAtomic(path, JSON.stringify(manifestJson(pp, invocationId)));
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
    metadata: artifactMetadata('run-results', invocationId),
    // dbt never runs an ephemeral model, so it has no result; one that failed to compile keeps
    // its error here (dbt would report it on the node that reads it).
    results: results
      .filter((r) => !isEphemeralSuccess(pp, r))
      .map((r) => ({
        status: r.status,
        timing: r.timing,
        thread_id: r.thread_id,
        execution_time: r.execution_time,
        adapter_response:
          adapterResponse(
            pp.target.type,
            pp.manifest.nodes.get(r.unique_id)!,
            r,
            Boolean(args.full_refresh),
          ) ?? {},
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

function isEphemeralSuccess(pp: ParsedProject, r: NodeResult): boolean {
  const node = pp.manifest.nodes.get(r.unique_id);
  return node?.config.materialized === 'ephemeral' && r.status === 'success';
}

/** Where a node's compiled SQL goes: target/compiled/<its package>/<file>, as dbt lays it out. */
export function compiledPath(pp: ParsedProject, node: Node): string {
  return join(pp.project.dir, compiledFile(pp, node));
}

/** A node's compiled SQL file relative to the project folder (dbt's compiled_path). */
export function compiledFile(pp: ParsedProject, node: Node): string {
  const base = [pp.project.targetPath, 'compiled', node.package_name].join('/');
  if (node.resource_type === 'test' && node.test_metadata)
    return `${base}/${node.original_file_path}/${node.name}.sql`;
  return `${base}/${node.original_file_path}`;
}

const createdDirs = new WeakMap<ParsedProject, Set<string>>();
/** Numbers this process's temp files (unique per process with the pid; cheaper than random bytes). */
let tempFiles = 0;

/**
 * Writes a node's compiled SQL: aside, then renamed (never half a file), without fsync (it is
 * rebuilt by any compile), and only when it changed; for one node at a time (the orchestrator's
 * steps). The dbt verbs write a whole run's files on a thread of their own (compiled-writer.ts).
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
  const tmp = `${path}.${process.pid}-${++tempFiles}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** target/catalog.json: the columns and types of every built relation, read from the warehouse. */
export async function writeCatalog(
  pp: ParsedProject,
  engine: Engine,
  invocationId: string,
): Promise<string> {
  const entry = async (
    id: string,
    database: string | null,
    schema: string,
    name: string,
    comment: string,
  ) => {
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
          database,
          comment: comment || null,
          owner: null,
        },
        columns: Object.fromEntries(
          cols.map((c, i) => [c.name, { type: c.type, index: i + 1, name: c.name, comment: null }]),
        ),
        stats: {
          has_stats: {
            id: 'has_stats',
            label: 'Has Stats?',
            value: false,
            include: false,
            description: 'Indicates whether there are statistics for this table',
          },
        },
        unique_id: id,
      },
    ] as const;
  };
  const nodes: Record<string, unknown> = {};
  for (const n of pp.manifest.nodes.values()) {
    if (n.resource_type === 'test' || n.resource_type === 'analysis' || !n.relation_name) continue;
    const e = await entry(n.unique_id, n.database, n.schema, n.alias, n.description);
    if (e) nodes[e[0]] = e[1];
  }
  const sources: Record<string, unknown> = {};
  for (const s of pp.manifest.sources.values()) {
    const e = await entry(s.unique_id, s.database, s.schema, s.identifier, s.description);
    if (e) sources[e[0]] = e[1];
  }
  const path = join(pp.project.dir, pp.project.targetPath, 'catalog.json');
  await writeFileAtomic(
    path,
    JSON.stringify({
      metadata: artifactMetadata('catalog', invocationId),
      nodes,
      sources,
      errors: null,
    }),
  );
  return path;
}

export interface FreshnessResult {
  unique_id: string;
  /** ISO time of the newest row; an empty table counts as 0001-01-01, as in dbt. */
  max_loaded_at: string | null;
  snapshotted_at: string;
  max_loaded_at_time_ago_in_s: number | null;
  status: 'pass' | 'warn' | 'error' | 'runtime error';
  criteria: unknown;
  error?: string;
  timing: { name: 'compile' | 'execute'; started_at: string; completed_at: string }[];
  execution_time: number;
}

/** One freshness result as sources.json v3 holds it: a runtime error keeps only its message. */
function freshnessJson(r: FreshnessResult): Record<string, unknown> {
  if (r.status === 'runtime error')
    return { unique_id: r.unique_id, error: r.error ?? null, status: r.status };
  return {
    unique_id: r.unique_id,
    max_loaded_at: r.max_loaded_at,
    snapshotted_at: r.snapshotted_at,
    max_loaded_at_time_ago_in_s: r.max_loaded_at_time_ago_in_s,
    status: r.status,
    criteria: r.criteria,
    adapter_response: {},
    timing: r.timing,
    thread_id: 'Thread-1',
    execution_time: r.execution_time,
  };
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
        metadata: artifactMetadata('sources', invocationId),
        results: results.map(freshnessJson),
        elapsed_time: elapsed,
      },
      null,
      2,
    ),
  );
  return path;
}
