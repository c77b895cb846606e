/**
 * One measurement for bench/orchestrate.ts, in its own process so its peak memory is its own.
 * Every side runs the same seeded DAG of no-op assets with the same concurrency and the same
 * no-op executor, and prints one JSON line:
 *   tributary <tasks> <concurrency> <seed> <logs> <dir>  plan (graph + selection) and the real
 *                                                        runner, run history in DuckDB under <dir>
 *   dispatch <tasks> <concurrency> <seed> <logs>         dispatch() alone: no state store
 *   reference <tasks> <concurrency> <seed> <logs>        an indegree counter and an array queue
 *
 * What is real on the tributary side: buildAssetGraph (with its topological order), selectAssets,
 * runPlan, dispatch, the StateStore and DeadLetterStore on a DuckDB file, an in-memory DuckDB
 * warehouse (runPlan forks one session per concurrent step from it), the project config parsed by
 * the real schema (`{ name: 'bench', concurrency }`, zod defaults for the rest), a LocalObjectStore.
 * What is synthetic: the dbt manifest (nodes made with newNode, a parentMap; no files, no Jinja:
 * buildAssetGraph reads only the manifest, and DbtSession's constructor only stores it), the
 * executor (records the time and logs one line per step, which the runner writes to step_logs),
 * and no alert channels.
 *
 * Like for like: every side's no-op does the same work, `logs` lines per step, each kept in
 * memory with its time the way the runner's step log keeps it before writing it to history. What
 * Tributary adds on top (the lines and step records written to the state store) is its overhead.
 */
import { join } from 'node:path';
import { dispatch } from '../src/dag/index.js';
import { generateDag, type GeneratedAsset } from './generated-dag.js';
import { openDuckDB } from '../src/engines/index.js';
import { LocalObjectStore } from '../src/lake/index.js';
import { defaultConfig, newNode, type Node, type ParsedProject } from '../src/models/index.js';
import { DeadLetterStore } from '../src/notify/index.js';
import {
  buildAssetGraph,
  runPlan,
  selectAssets,
  type Asset,
  type AssetGraph,
  type ExecContext,
  type PlannedStep,
  type StepOutcome,
  type Workspace,
} from '../src/orchestrator/index.js';
import { projectConfigSchema, type Project } from '../src/project/index.js';
import { StateStore } from '../src/state/index.js';

const [mode, tasksArg, concurrencyArg, seedArg, logsArg, dirArg] = process.argv.slice(2);
const N = Number(tasksArg);
const CONCURRENCY = Number(concurrencyArg);
const SEED = Number(seedArg);

const uid = (name: string) => `model.bench.${name}`;

/** A parsed dbt project holding only a manifest: what buildAssetGraph reads. */
function syntheticModels(dag: GeneratedAsset[]): ParsedProject {
  const nodes = new Map<string, Node>();
  const parentMap = new Map<string, string[]>();
  const childMap = new Map<string, string[]>();
  for (const a of dag) {
    const id = uid(a.name);
    nodes.set(
      id,
      newNode({
        unique_id: id,
        resource_type: 'model',
        package_name: 'bench',
        name: a.name,
        path: `layer_${a.layer}/${a.name}.sql`,
        original_file_path: `models/layer_${a.layer}/${a.name}.sql`,
        fqn: ['bench', `layer_${a.layer}`, a.name],
        raw_code: 'select 1 as id',
        checksum: { name: 'sha256', checksum: '' },
        config: { ...defaultConfig('model'), tags: a.tags },
        schema: 'main',
        tags: a.tags,
      }),
    );
    parentMap.set(id, a.deps.map(uid));
    for (const d of a.deps)
      (childMap.get(uid(d)) ?? childMap.set(uid(d), []).get(uid(d))!).push(id);
  }
  const manifest = {
    projectName: 'bench',
    nodes,
    sources: new Map(),
    macros: new Map(),
    docs: new Map(),
    parentMap,
    childMap,
    disabled: new Map(),
  };
  // Only `manifest` is read (buildAssetGraph); DbtSession stores the object and, with a no-op
  // executor, never compiles anything.
  return { manifest } as unknown as ParsedProject;
}

/**
 * The no-op work every side runs: note when it was entered and when it returned, by task index.
 * Entry time minus the latest return of its upstream tasks is the scheduler latency (due →
 * started) measured the same way on every side.
 */
class NoopRecorder {
  readonly entered: Float64Array;
  readonly returned: Float64Array;
  readonly index: Map<string, number>;
  private readonly lines: { at: string; line: string }[][] = [];
  constructor(readonly keys: readonly string[]) {
    this.entered = new Float64Array(keys.length);
    this.returned = new Float64Array(keys.length);
    this.index = new Map(keys.map((k, i) => [k, i]));
  }
  enter(key: string): number {
    const i = this.index.get(key)!;
    this.entered[i] = performance.now();
    return i;
  }
  leave(i: number): void {
    this.returned[i] = performance.now();
  }
  /** Keeps a step's log line with its time, as the runner does before writing it to history. */
  log(i: number, line: string): void {
    (this.lines[i] ??= []).push({ at: new Date().toISOString(), line });
  }
  /** Log lines kept, over all steps (checked: the work must have been done). */
  lineCount(): number {
    return this.lines.reduce((n, l) => n + (l?.length ?? 0), 0);
  }
  /** Per task: entered − latest upstream return (roots: − t0). Throws if any dep ran later. */
  latencies(deps: readonly (readonly string[])[], t0: number): Float64Array {
    const out = new Float64Array(this.keys.length);
    for (let i = 0; i < this.keys.length; i++) {
      if (this.entered[i] === 0) throw new Error(`task ${this.keys[i]} never ran`);
      let due = t0;
      for (const d of deps[i]!) {
        const j = this.index.get(d)!;
        if (this.returned[j]! > this.entered[i]!)
          throw new Error(`task ${this.keys[i]} started before its upstream ${d} finished`);
        due = Math.max(due, this.returned[j]!);
      }
      out[i] = this.entered[i]! - due;
    }
    return out;
  }
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

function percentiles(xs: Float64Array): Percentiles {
  const s = Float64Array.from(xs).sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}

export interface WorkerResult {
  side: string;
  tasks: number;
  edges: number;
  /** Time of the measured dispatch, ms (tributary: runPlan from call to return). */
  wallMs: number;
  cpuMs: number;
  latency: Percentiles;
  /** The same, for roots only (due when the run was called) and for the other tasks. */
  rootLatency: Percentiles;
  restLatency: Percentiles;
  maxRssMB: number;
  /** tributary: planning split, and when the last no-op returned (the rest is history flush). */
  plan?: {
    graphMs: number;
    selectAllMs: number;
    selectUpMs: number;
    upSelected: number;
    stepsMs: number;
  };
  lastTaskMs?: number;
  /** tributary: when runPlan had recorded the run (onStart), and when the first no-op ran. */
  runRecordedMs?: number;
  firstTaskMs?: number;
  /** dispatch: the latency from its own TaskResult readyAt/startedAt. */
  dispatchLatency?: Percentiles;
}

/** Latency percentiles over all tasks, over roots and over the rest. */
function latencyFigures(
  lat: Float64Array,
  deps: readonly (readonly string[])[],
): Pick<WorkerResult, 'latency' | 'rootLatency' | 'restLatency'> {
  const roots = lat.filter((_, i) => deps[i]!.length === 0);
  const rest = lat.filter((_, i) => deps[i]!.length > 0);
  return {
    latency: percentiles(lat),
    rootLatency: percentiles(roots),
    restLatency: percentiles(rest),
  };
}

function finish(r: Omit<WorkerResult, 'maxRssMB' | 'tasks' | 'edges'>, dag: GeneratedAsset[]) {
  const out: WorkerResult = {
    ...r,
    tasks: dag.length,
    edges: dag.reduce((s, a) => s + a.deps.length, 0),
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  console.log(JSON.stringify(out));
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

async function tributary(dag: GeneratedAsset[], logs: number, dir: string): Promise<void> {
  const models = syntheticModels(dag);
  const config = projectConfigSchema.parse({ name: 'bench', concurrency: CONCURRENCY });
  const work = join(dir, '.tributary');
  const project: Project = {
    dir,
    config,
    tables: [],
    forecasts: [],
    paths: {
      work,
      lake: join(work, 'lake'),
      warehouse: ':memory:',
      state: join(work, 'state.duckdb'),
      reports: join(work, 'reports'),
      tmp: join(work, 'tmp'),
      models: dir,
      reportQueries: [],
    },
  };
  const warehouse = await openDuckDB({ path: ':memory:' });
  const stateEngine = await openDuckDB({ path: join(work, 'state.duckdb') });
  const state = await StateStore.open(stateEngine);
  const dlq = await DeadLetterStore.open(stateEngine);

  // Plan: what `tributary run` does before dispatching (graph, selection, planned steps).
  const p0 = performance.now();
  const graph: AssetGraph = buildAssetGraph(project, models);
  const p1 = performance.now();
  const selected = selectAssets(graph, []);
  const p2 = performance.now();
  const last = graph.order[graph.order.length - 1]!;
  const upstream = selectAssets(graph, [`+${last}`]);
  const p3 = performance.now();
  const planned: PlannedStep[] = graph.order
    .filter((k) => selected.has(k))
    .map((k) => ({ key: k, asset: k, deps: graph.assets.get(k)!.deps }));
  const p4 = performance.now();
  if (planned.length !== dag.length) throw new Error(`planned ${planned.length} of ${dag.length}`);

  const ws: Workspace = {
    project,
    models,
    graph,
    dashboards: [],
    syncs: [],
    store: new LocalObjectStore(project.paths.lake),
    warehouse,
    lakeEngine: warehouse,
    state,
    abandonedRuns: [],
    dlq,
    alerts: undefined,
    shared: false,
    close: async () => {
      await state.close();
      await warehouse.close();
    },
  };
  const rec = new NoopRecorder(planned.map((p) => p.key));
  const executor = async (ctx: ExecContext, asset: Asset): Promise<StepOutcome> => {
    const i = rec.enter(asset.key);
    for (let l = 0; l < logs; l++) ctx.progress.log(`no-op ${asset.name}`);
    rec.leave(i);
    return { status: 'succeeded' };
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let recordedAt = 0;
  const result = await runPlan(ws, planned, {
    executor,
    concurrency: CONCURRENCY,
    command: 'bench',
    onStart: () => (recordedAt = performance.now()),
  });
  const t1 = performance.now();
  const cpu = cpuMs(cpu0);
  // The work must be the same as the other sides': every step succeeded and is in history.
  if (result.status !== 'succeeded' || result.steps.length !== dag.length)
    throw new Error(`run ${result.status} with ${result.steps.length} steps`);
  const count = async (sql: string) =>
    Number((await state.engine.query(sql, [result.runId])).rows[0]!.n);
  const steps = await count(
    `SELECT count(*) AS n FROM steps WHERE run_id = $1 AND status = 'succeeded' AND attempts = 1`,
  );
  const lines = await count(`SELECT count(*) AS n FROM step_logs WHERE run_id = $1`);
  const runs = await count(
    `SELECT count(*) AS n FROM runs WHERE run_id = $1 AND status = 'succeeded'`,
  );
  // Each step logs `logs` lines of its own, and the runner adds its outcome line.
  if (steps !== dag.length || lines !== dag.length * (logs + 1) || runs !== 1)
    throw new Error(`state holds ${runs} run, ${steps} succeeded steps, ${lines} log lines`);
  await ws.close();
  const lastReturn = rec.returned.reduce((m, x) => Math.max(m, x), 0);
  finish(
    {
      side: 'tributary',
      wallMs: t1 - t0,
      cpuMs: cpu,
      ...latencyFigures(
        rec.latencies(
          planned.map((p) => p.deps),
          t0,
        ),
        planned.map((p) => p.deps),
      ),
      plan: {
        graphMs: p1 - p0,
        selectAllMs: p2 - p1,
        selectUpMs: p3 - p2,
        upSelected: upstream.size,
        stepsMs: p4 - p3,
      },
      lastTaskMs: lastReturn - t0,
      runRecordedMs: recordedAt - t0,
      firstTaskMs: rec.entered.reduce((m, x) => Math.min(m, x), Infinity) - t0,
    },
    dag,
  );
}

async function dispatchOnly(dag: GeneratedAsset[], logs: number): Promise<void> {
  // The same graph and order as the tributary side (buildAssetGraph, untimed here).
  const graph = buildAssetGraph(
    { tables: [], forecasts: [] } as unknown as Project,
    syntheticModels(dag),
  );
  const tasks = graph.order.map((k) => ({ key: k, deps: graph.assets.get(k)!.deps }));
  const names = graph.order.map((k) => graph.assets.get(k)!.name);
  const rec = new NoopRecorder(graph.order);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const results = await dispatch<StepOutcome>(
    tasks,
    {
      execute: async (key) => {
        const i = rec.enter(key);
        for (let l = 0; l < logs; l++) rec.log(i, `no-op ${names[i]!}`);
        rec.leave(i);
        return { status: 'succeeded' };
      },
    },
    { concurrency: CONCURRENCY },
  );
  const t1 = performance.now();
  const cpu = cpuMs(cpu0);
  if (results.some((r) => r.status !== 'succeeded')) throw new Error('a task did not succeed');
  if (rec.lineCount() !== dag.length * logs) throw new Error(`${rec.lineCount()} log lines`);
  const own = new Float64Array(results.length);
  results.forEach((r, i) => (own[i] = r.startedAt! - r.readyAt));
  finish(
    {
      side: 'dispatch',
      wallMs: t1 - t0,
      cpuMs: cpu,
      ...latencyFigures(
        rec.latencies(
          tasks.map((t) => t.deps),
          t0,
        ),
        tasks.map((t) => t.deps),
      ),
      dispatchLatency: percentiles(own),
    },
    dag,
  );
}

/**
 * The least a dispatcher can do: indegree counters, downstream lists and a FIFO array queue,
 * up to `limit` no-op tasks in flight, no retries, timeouts, hooks or history.
 */
function bareDispatch(
  keys: readonly string[],
  deps: readonly (readonly string[])[],
  limit: number,
  run: (key: string) => Promise<unknown>,
): Promise<void> {
  const n = keys.length;
  const pos = new Map<string, number>();
  for (let i = 0; i < n; i++) pos.set(keys[i]!, i);
  const indegree = new Int32Array(n);
  const down: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++)
    for (const d of deps[i]!) {
      indegree[i]++;
      down[pos.get(d)!]!.push(i);
    }
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) queue.push(i);
  let head = 0;
  let running = 0;
  let finished = 0;
  return new Promise((resolve) => {
    const pump = () => {
      while (head < queue.length && running < limit) {
        const i = queue[head++]!;
        running++;
        void run(keys[i]!).then(() => {
          running--;
          finished++;
          for (const k of down[i]!) if (--indegree[k] === 0) queue.push(k);
          if (finished === n) resolve();
          else pump();
        });
      }
    };
    if (n === 0) resolve();
    else pump();
  });
}

async function reference(dag: GeneratedAsset[], logs: number): Promise<void> {
  const graph = buildAssetGraph(
    { tables: [], forecasts: [] } as unknown as Project,
    syntheticModels(dag),
  );
  const deps = graph.order.map((k) => graph.assets.get(k)!.deps);
  const names = graph.order.map((k) => graph.assets.get(k)!.name);
  const rec = new NoopRecorder(graph.order);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await bareDispatch(graph.order, deps, CONCURRENCY, async (key) => {
    const i = rec.enter(key);
    for (let l = 0; l < logs; l++) rec.log(i, `no-op ${names[i]!}`);
    rec.leave(i);
    return { status: 'succeeded' };
  });
  const t1 = performance.now();
  const cpu = cpuMs(cpu0);
  if (rec.lineCount() !== dag.length * logs) throw new Error(`${rec.lineCount()} log lines`);
  finish(
    {
      side: 'reference',
      wallMs: t1 - t0,
      cpuMs: cpu,
      ...latencyFigures(rec.latencies(deps, t0), deps),
    },
    dag,
  );
}

const dag = generateDag(N, SEED);
if (mode === 'tributary') await tributary(dag, Number(logsArg), dirArg!);
else if (mode === 'dispatch') await dispatchOnly(dag, Number(logsArg));
else if (mode === 'reference') await reference(dag, Number(logsArg));
else throw new Error(`unknown mode ${mode}`);
