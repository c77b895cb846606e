/**
 * Running dbt verbs over a parsed project: select nodes, order them by the graph, run up to
 * `threads` at once (each thread on its own engine session), run each node's tests right after it
 * in `build`, skip everything downstream of a failure, and write dbt's artifacts. The nodes go
 * through the DAG executor (dag/), one task per node and one slot per thread.
 */
import { join } from 'node:path';
import type { ProgressReporter } from '../core/index.js';
import { dispatch, type TaskResult } from '../dag/index.js';
import type { Engine } from '../engines/index.js';
import {
  compiledPath,
  writeManifest,
  writeRunResults,
  writeSources,
  type FreshnessResult,
} from './artifacts.js';
import { CompiledWriter } from './compiled-writer.js';
import { DbtSession, type NodeResult } from './execute.js';
import type { ParsedProject } from './parse.js';
import { selectNodes, selectSources, type Selection } from './select.js';
import type { FreshnessRule, Manifest, Node, SourceNode } from './types.js';

export type DbtVerb = 'run' | 'build' | 'test' | 'seed' | 'snapshot' | 'compile';

const RESOURCE_TYPES: Record<DbtVerb, string[] | undefined> = {
  run: ['model'],
  build: ['model', 'seed', 'snapshot', 'test'],
  test: ['test'],
  seed: ['seed'],
  snapshot: ['snapshot'],
  compile: ['model', 'test', 'analysis', 'snapshot'],
};

export interface RunOptions extends Selection {
  verb: DbtVerb;
  threads?: number;
  fullRefresh?: boolean;
  /** `--store-failures`: every test without a store_failures config keeps its failing rows. */
  storeFailures?: boolean;
  progress?: ProgressReporter;
  log?: (message: string) => void;
  /** Called once the nodes to run are known, in plan order, before the first starts. */
  onPlan?: (plan: { nodes: Node[]; invocationId: string; threads: number }) => void;
  /** Called as each node finishes (for per-node output). */
  onResult?: (result: NodeResult, node: Node, index: number, total: number) => void;
  now?: Date;
}

export interface RunSummary {
  verb: DbtVerb;
  /** The run's invocation_id, as in its artifacts. */
  invocationId: string;
  results: NodeResult[];
  elapsed: number;
  /** Counts by status. */
  counts: Record<string, number>;
  success: boolean;
  runResultsPath: string;
}

/**
 * The order dependencies: a node waits for its selected parents; in `build`, a node also waits for
 * the single-parent tests of its parents, so a failing test stops what is built on top of it.
 */
function dependencies(
  manifest: Manifest,
  selected: Set<string>,
  verb: DbtVerb,
): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  const testsOf = new Map<string, string[]>();
  if (verb === 'build') {
    for (const id of selected) {
      const node = manifest.nodes.get(id)!;
      const parents = manifest.parentMap.get(id) ?? [];
      if (node.resource_type === 'test' && parents.length === 1)
        testsOf.set(parents[0]!, [...(testsOf.get(parents[0]!) ?? []), id]);
    }
  }
  for (const id of selected) {
    const node = manifest.nodes.get(id)!;
    const parents = (manifest.parentMap.get(id) ?? []).filter((p) => selected.has(p));
    const own = [...parents];
    if (node.resource_type !== 'test') for (const p of parents) own.push(...(testsOf.get(p) ?? []));
    deps.set(id, own);
  }
  return deps;
}

/** A stable topological order of the selected nodes (upstream first, then by unique id). */
function planOrder(manifest: Manifest, selected: Set<string>, verb: DbtVerb): string[] {
  const deps = dependencies(manifest, selected, verb);
  const order: string[] = [];
  const done = new Set<string>();
  const visit = (id: string) => {
    if (done.has(id)) return;
    done.add(id);
    for (const d of [...(deps.get(id) ?? [])].sort()) visit(d);
    order.push(id);
  };
  for (const id of [...selected].sort()) visit(id);
  return order;
}

const BAD_STATUSES = new Set(['error', 'fail', 'skipped']);

/**
 * Runs the ordered nodes through the DAG executor, one slot per thread (each thread with its own
 * engine session), and returns each node's result. A node whose upstream failed, failed a test or
 * was skipped is skipped; an error thrown outside a node's own execution (writing its compiled
 * SQL) starts nothing more and is rethrown once the running nodes are done.
 */
async function runNodes(
  pp: ParsedProject,
  engine: Engine,
  session: DbtSession,
  plan: {
    order: string[];
    deps: Map<string, string[]>;
    threads: number;
    verb: DbtVerb;
    progress?: ProgressReporter;
    onResult?: RunOptions['onResult'];
    compiled: CompiledWriter;
  },
): Promise<Map<string, NodeResult>> {
  const { manifest } = pp;
  const { order, threads, verb } = plan;
  const results = new Map<string, NodeResult>();
  const sessions: Engine[] = [];
  const stop = new AbortController();
  let thrown: { error: unknown } | undefined;
  let finished = 0;
  /** A skipped node's result, naming the first upstream node that did not succeed. */
  const skipped = (id: string, r: TaskResult<NodeResult>): NodeResult => {
    const why = manifest.nodes.get(r.blockedBy![0]!)!;
    const now = new Date().toISOString();
    return {
      unique_id: id,
      status: 'skipped',
      message: `skipped: upstream ${why.resource_type} ${why.name} ${results.get(why.unique_id)?.status === 'skipped' ? 'was skipped' : 'failed'}`,
      failures: null,
      rows: null,
      compiled_code: null,
      relation_name: manifest.nodes.get(id)!.relation_name,
      timing: [{ name: 'execute', started_at: now, completed_at: now }],
      execution_time: 0,
      thread_id: 'Thread-1',
    };
  };
  try {
    for (let i = 0; i < Math.min(threads, Math.max(order.length, 1)); i++)
      sessions.push(i === 0 && threads === 1 ? engine : await engine.fork());
    await dispatch<NodeResult>(
      order.map((id) => ({ key: id, deps: plan.deps.get(id) ?? [] })),
      {
        execute: async (id, ctx) => {
          const node = manifest.nodes.get(id)!;
          const r = await session.execute(sessions[ctx.slot]!, node, `Thread-${ctx.slot + 1}`, {
            compileOnly: verb === 'compile',
          });
          if (r.compiled_code !== null)
            plan.compiled.write(compiledPath(pp, node), `${r.compiled_code}\n`);
          return r;
        },
        outcome: (r) => (BAD_STATUSES.has(r.status) ? 'failed' : 'succeeded'),
        onFinish: (r) => {
          // Cancelled: only once a thrown error stopped the run (below).
          if (r.status === 'cancelled') return;
          if (r.status === 'failed' && !r.output) {
            thrown ??= { error: r.error };
            stop.abort();
            return;
          }
          const result = r.output ?? skipped(r.key, r);
          const node = manifest.nodes.get(r.key)!;
          results.set(r.key, result);
          finished++;
          plan.progress?.update({
            label: `${verb} ${node.name}`,
            done: finished,
            total: order.length,
            unit: 'nodes',
          });
          plan.onResult?.(result, node, finished, order.length);
        },
      },
      { concurrency: sessions.length, stop: stop.signal },
    );
  } finally {
    for (const s of sessions) if (s !== engine) await s.close();
  }
  if (thrown) throw thrown.error;
  return results;
}

/** Runs a dbt verb. Compile-only verbs never execute DDL; their SQL still lands in target/compiled. */
export async function runVerb(
  pp: ParsedProject,
  engine: Engine,
  opts: RunOptions,
): Promise<RunSummary> {
  const started = Date.now();
  const session = new DbtSession(pp, {
    fullRefresh: Boolean(opts.fullRefresh),
    storeFailures: Boolean(opts.storeFailures),
    which: opts.verb,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const { manifest } = pp;
  const selected = selectNodes(manifest, { ...opts, resourceTypes: RESOURCE_TYPES[opts.verb] });
  const deps = dependencies(manifest, selected, opts.verb);
  const order = planOrder(manifest, selected, opts.verb);
  const executes = opts.verb !== 'compile';
  // The manifest is built here, on this thread; its file is written (and synced) while nodes
  // compile when nothing runs, awaited before the run ends. A verb that executes SQL waits for
  // it first, so a manifest that cannot be written stops the run before anything changes.
  const manifestWritten = writeManifest(pp, session.invocationId);
  manifestWritten.catch(() => undefined);
  if (executes) await manifestWritten;
  const threads = Math.max(1, opts.threads ?? Number(pp.target.threads ?? 1));
  opts.onPlan?.({
    nodes: order.map((id) => manifest.nodes.get(id)!),
    invocationId: session.invocationId,
    threads,
  });
  opts.progress?.update({ label: opts.verb, done: 0, total: order.length, unit: 'nodes' });
  if (executes) await session.runProjectHooks(engine, 'on-run-start');
  // Compiling only: files are written on threads while the main thread renders (into a staging
  // folder renamed into place at the end when target/compiled is not there yet). Executing
  // verbs write each node's file before the next node starts, so a failed write stops the run.
  const compiled = executes
    ? new CompiledWriter(0)
    : new CompiledWriter(undefined, join(pp.project.dir, pp.project.targetPath, 'compiled'));
  let results: Map<string, NodeResult>;
  try {
    results = await runNodes(pp, engine, session, {
      order,
      deps,
      threads,
      verb: opts.verb,
      compiled,
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(opts.onResult ? { onResult: opts.onResult } : {}),
    });
  } catch (err) {
    await compiled.close().catch(() => undefined);
    throw err;
  }
  await compiled.close();
  await manifestWritten;
  // A node in a dependency cycle never runs and has no result.
  const ordered = order.map((id) => results.get(id)).filter((r): r is NodeResult => !!r);
  if (executes) await session.runProjectHooks(engine, 'on-run-end', ordered);
  const counts: Record<string, number> = {};
  for (const r of ordered) counts[r.status] = (counts[r.status] ?? 0) + 1;
  const elapsed = (Date.now() - started) / 1000;
  const runResultsPath = await writeRunResults(pp, session.invocationId, ordered, elapsed, {
    which: opts.verb,
    select: opts.select ?? [],
    exclude: opts.exclude ?? [],
    full_refresh: Boolean(opts.fullRefresh),
    threads,
  });
  return {
    verb: opts.verb,
    invocationId: session.invocationId,
    results: ordered,
    elapsed,
    counts,
    success: !ordered.some(
      (r) => r.status === 'error' || r.status === 'fail' || r.status === 'skipped',
    ),
    runResultsPath,
  };
}

/** What `ls` prints for a node. */
export function listNodes(
  pp: ParsedProject,
  selection: Selection & { resourceType?: string[] },
): Node[] {
  const ids = selectNodes(pp.manifest, {
    ...selection,
    ...(selection.resourceType?.length ? { resourceTypes: selection.resourceType } : {}),
  });
  return [...ids]
    .map((id) => pp.manifest.nodes.get(id)!)
    .sort((a, b) => a.unique_id.localeCompare(b.unique_id));
}

const PERIOD_SECONDS = { minute: 60, hour: 3600, day: 86400 } as const;
const ruleSeconds = (r: FreshnessRule | null) =>
  r ? r.count * PERIOD_SECONDS[r.period] : undefined;

/** An empty table's newest row, as dbt counts it: 0001-01-01 UTC, "infinitely long ago". */
const EMPTY_TABLE_LOADED_AT = Date.parse('0001-01-01T00:00:00Z');

/** One source table's freshness: the age of its newest row against warn_after / error_after. */
async function checkFreshness(
  engine: Engine,
  src: SourceNode,
  ts: string,
  now: Date,
): Promise<FreshnessResult> {
  const criteria = src.freshness!;
  const started = new Date();
  const timed = () => {
    const done = new Date();
    return {
      timing: [
        {
          name: 'compile' as const,
          started_at: started.toISOString(),
          completed_at: started.toISOString(),
        },
        {
          name: 'execute' as const,
          started_at: started.toISOString(),
          completed_at: done.toISOString(),
        },
      ],
      execution_time: (done.getTime() - started.getTime()) / 1000,
    };
  };
  try {
    const where = criteria.filter ? ` WHERE ${criteria.filter}` : '';
    const { rows } = await engine.query(
      `SELECT CAST(max(${src.loaded_at_field}) AS ${ts}) AS max_loaded_at FROM ${src.relation_name}${where}`,
    );
    const max = rows[0]?.max_loaded_at as string | null;
    const loadedAt = max === null ? EMPTY_TABLE_LOADED_AT : Date.parse(`${max.replace(' ', 'T')}Z`);
    const age = (now.getTime() - loadedAt) / 1000;
    const err = ruleSeconds(criteria.error_after);
    const warn = ruleSeconds(criteria.warn_after);
    const status =
      err !== undefined && age > err ? 'error' : warn !== undefined && age > warn ? 'warn' : 'pass';
    return {
      unique_id: src.unique_id,
      max_loaded_at: new Date(loadedAt).toISOString().replace('Z', '+00:00'),
      snapshotted_at: now.toISOString().replace('Z', '+00:00'),
      max_loaded_at_time_ago_in_s: age,
      status,
      criteria,
      ...timed(),
    };
  } catch (e) {
    return {
      unique_id: src.unique_id,
      max_loaded_at: null,
      snapshotted_at: now.toISOString(),
      max_loaded_at_time_ago_in_s: null,
      status: 'runtime error',
      criteria,
      error: e instanceof Error ? e.message : String(e),
      ...timed(),
    };
  }
}

/** `source freshness`: the age of each source's newest row against warn_after / error_after. */
export async function sourceFreshness(
  pp: ParsedProject,
  engine: Engine,
  selection: Selection,
  now: Date = new Date(),
): Promise<{ results: FreshnessResult[]; path: string; success: boolean }> {
  const started = Date.now();
  const results: FreshnessResult[] = [];
  const ts = pp.dialect.typeName('timestamp');
  for (const src of selectSources(pp.manifest, selection)) {
    if (!src.freshness || !src.loaded_at_field) continue;
    results.push(await checkFreshness(engine, src, ts, now));
  }
  const path = await writeSources(
    pp,
    new DbtSession(pp).invocationId,
    results,
    (Date.now() - started) / 1000,
  );
  return {
    results,
    path,
    success: results.every((r) => r.status === 'pass' || r.status === 'warn'),
  };
}
