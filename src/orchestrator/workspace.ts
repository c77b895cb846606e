/**
 * A workspace is an open project: its lake store, warehouse engine and state store. By default
 * (a DuckDB warehouse or DuckDB state) one process holds it at a time (DESIGN.md run model): the
 * lock file in `.tributary/` names the owner, so a second process gets a clear message instead
 * of a corrupted database. In shared mode (state and warehouse both on PostgreSQL) any number of
 * processes open it at once: there is no lock file, the work queue's leases say who runs what,
 * and each process keeps to its own scratch folder.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TributaryError, isErrno, newId, removeTempFiles } from '../core/index.js';
import { openDuckDB, openPostgres, type Engine } from '../engines/index.js';
import { LocalObjectStore, type ObjectStore } from '../lake/index.js';
import { parsePipelineModels, type ParsedProject } from '../models/index.js';
import {
  loadDashboards,
  loadProject,
  loadSyncs,
  ProblemsError,
  readSecret,
  type Dashboard,
  type Project,
  type SyncDefinition,
} from '../project/index.js';
import { StateStore, WorkQueue, openStateEngine, type StateLocation } from '../state/index.js';
import type { FlushService } from '../stream/index.js';
import { DeadLetterStore, Notifier, checkAlertsConfig } from '../notify/index.js';
import { buildAssetGraph, withAssets, type Asset, type AssetGraph } from './graph.js';
import { dashboardAssets, withForecastLineage } from './lineage.js';
import {
  buildColumnLineage,
  staticSyncSourceColumns,
  type ColumnLineage,
} from './column-lineage.js';
import { staticColumnProblems, syncAssets, upstreamAssets } from './sync-assets.js';

export interface Workspace {
  project: Project;
  /** The project's dbt models, parsed against the warehouse; reports are its analyses. */
  models: ParsedProject;
  /** The pipeline's assets, and the dashboards (lineage only: runs leave them out). */
  graph: AssetGraph;
  /** dashboards/*.yml, validated. */
  dashboards: Dashboard[];
  /** syncs/*.yml, validated (each is the asset `sync:<name>`). */
  syncs: SyncDefinition[];
  store: ObjectStore;
  warehouse: Engine;
  /**
   * An engine that reads and writes lake files (DuckDB): the warehouse itself when it can, an
   * in-memory DuckDB beside a PostgreSQL warehouse (processing, and loading processed files).
   */
  lakeEngine: Engine;
  state: StateStore;
  /** Runs a process that died left running, found (and marked failed) when this one opened. */
  abandonedRuns: string[];
  /** Failed events, records and notifications, kept for replay (in the state database). */
  dlq: DeadLetterStore;
  /** Alert channels of tributary.yml `alerts:`, when there are any. */
  alerts: Notifier | undefined;
  /**
   * The flusher of the stream log this process owns (`serve`, `collect`): landing a stream
   * table goes through it, so it never races the flusher loop. Unset elsewhere: a landing opens
   * the log itself.
   */
  streams?: FlushService;
  /**
   * State and warehouse are both on PostgreSQL, so several processes (workers, runs, serve
   * replicas) work on the project at once: no lock file, and runs go through the work queue.
   */
  shared: boolean;
  /** The shared work queue runs go through in shared mode (in the state database). */
  queue?: WorkQueue;
  close(): Promise<void>;
}

/**
 * Whether a project can be worked on by several processes at once: only when both its state and
 * its warehouse are servers they all reach (a DuckDB file has one writer process).
 */
export function isSharedProject(project: Project): boolean {
  return (
    project.config.state.store === 'postgres' && project.config.warehouse.engine === 'postgres'
  );
}

/**
 * The work queue's lease (TRIBUTARY_LEASE_MS, default 30 s): how long a dead worker's step waits
 * before another takes it over. Shorter reclaims sooner; it must stay well above the heartbeat
 * (a sixth of it) plus the database's worst pause.
 */
function queueOptions(): { leaseMs?: number } {
  const raw = process.env.TRIBUTARY_LEASE_MS;
  if (raw === undefined || raw === '') return {};
  const leaseMs = Number(raw);
  if (!Number.isInteger(leaseMs) || leaseMs < 1000)
    throw new TributaryError(
      `TRIBUTARY_LEASE_MS must be a whole number of ms, 1000 or more (got "${raw}")`,
      {
        code: 'CONFIG',
        hint: 'unset it for the default lease of 30 s',
      },
    );
  return { leaseMs };
}

/** `*.tmp` files older than this are a dead writer's in shared mode (atomic writes take seconds). */
const STALE_TEMP_MS = 15 * 60_000;

interface LockInfo {
  pid: number;
  command: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

/** Takes the project's lock, or explains who holds it. A lock left by a dead process is taken over. */
export async function acquireProjectLock(
  workDir: string,
  command: string,
): Promise<() => Promise<void>> {
  await mkdir(workDir, { recursive: true });
  const path = join(workDir, 'lock');
  const info: LockInfo = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, JSON.stringify(info), { flag: 'wx' });
      return async () => {
        await rm(path, { force: true });
      };
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      let holder: LockInfo | undefined;
      try {
        holder = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
      } catch {
        holder = undefined;
      }
      if (holder && holder.pid !== process.pid && alive(holder.pid)) {
        throw new TributaryError(
          `the project is in use by process ${holder.pid} (${holder.command}, since ${holder.startedAt})`,
          {
            code: 'LOCKED',
            location: { file: path },
            hint: 'wait for it to finish, or stop it; the lock is released when it exits',
          },
        );
      }
      await rm(path, { force: true }); // stale: its process is gone
    }
  }
  throw new TributaryError('could not take the project lock', {
    code: 'LOCKED',
    location: { file: path },
  });
}

/** Where the project's state lives, its secret read (tributary.yml `state:`). */
export function stateLocation(project: Project): StateLocation {
  const config = project.config.state;
  if (config.store === 'duckdb') return { store: 'duckdb', path: project.paths.state! };
  return {
    store: 'postgres',
    url: readSecret(config.url, 'state.url', project.dir),
    schema: config.schema,
  };
}

/** Opens a project for work; close it in a `finally`. */
export async function openWorkspace(dir: string, command: string): Promise<Workspace> {
  const loaded = await loadProject(dir);
  const shared = isSharedProject(loaded);
  const release = shared
    ? async () => undefined
    : await acquireProjectLock(loaded.paths.work, command);
  const opened: { close(): Promise<void> }[] = [];
  try {
    const project = shared ? await withOwnScratch(loaded) : loaded;
    if (!shared) await sweepOwnedFiles(project);
    const { warehouse, lakeEngine } = await openWarehouse(project, opened);
    const { models, graph, dashboards, syncs } = await readGraph(project, warehouse);
    const stateEngine = await openStateEngine(stateLocation(project));
    opened.push(stateEngine);
    const state = await StateStore.open(stateEngine);
    // Shared, a running run may be another live process's: the work queue's leases and its
    // reaper (orchestrator/queued-runs.ts) finish what a dead one left.
    const abandonedRuns = shared ? [] : await state.markAbandonedRuns();
    const queue = shared ? await WorkQueue.open(stateEngine, queueOptions()) : undefined;
    const dlq = await DeadLetterStore.open(stateEngine);
    // Replays a process died in the middle of go back to pending, to be replayed again.
    if (!shared) await dlq.recoverStuck();
    const alertProblems = project.config.alerts ? checkAlertsConfig(project.config.alerts) : [];
    if (alertProblems.length) throw alertProblems[0]!;
    const alerts = project.config.alerts
      ? new Notifier({
          config: project.config.alerts,
          project: project.config.name,
          dlq,
          dir: project.dir,
        })
      : undefined;
    const store = new LocalObjectStore(project.paths.lake);
    return {
      project,
      models,
      graph,
      dashboards,
      syncs,
      store,
      warehouse,
      lakeEngine,
      state,
      abandonedRuns,
      dlq,
      alerts,
      shared,
      ...(queue ? { queue } : {}),
      close: async () => {
        for (const h of opened.reverse()) await h.close();
        if (shared) await rm(project.paths.tmp, { recursive: true, force: true });
        await release();
      },
    };
  } catch (err) {
    for (const h of opened.reverse()) await h.close().catch(() => undefined);
    await release();
    throw err;
  }
}

/** The lock holder's sweep: whatever temporary files are left were left by a process that died. */
async function sweepOwnedFiles(project: Project): Promise<void> {
  // Scratch files are only ever this process's: what is there was left by one that died.
  await rm(project.paths.tmp, { recursive: true, force: true });
  // So are half-written reports and serving snapshots (`*.tmp` beside their targets, in the
  // reports folder and serving.ts's servingDir); the lake's are removed table by table,
  // before a step writes the table (executors.ts).
  for (const dir of [project.paths.reports, join(project.paths.work, 'serving')])
    await removeTempFiles(dir);
  // And files written atomically at the top of `.tributary` (server.json of a serve killed
  // while starting); the lake and the databases below it are not this sweep's.
  await removeTempFiles(project.paths.work, { recursive: false });
}

/**
 * Shared mode: this process's own scratch folder (`.tmp/<host>-<pid>-<random>`), after removing
 * the ones of processes on this host that are gone (another host's are that host's to remove: a
 * pid says nothing across machines). Reports' and serving snapshots' `*.tmp` files may be another
 * live process's writes in flight: only old ones (a dead writer's) are removed. The lake's are
 * removed by the step that rewrites their table, which holds the table's lease in its run.
 */
async function withOwnScratch(project: Project): Promise<Project> {
  const host = hostname().replace(/[^A-Za-z0-9.]/g, '_');
  let siblings: string[] = [];
  try {
    siblings = await readdir(project.paths.tmp);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  for (const name of siblings) {
    const owner = /^(.+)-(\d+)-[0-9a-z]+$/.exec(name);
    if (owner && owner[1] === host && !alive(Number(owner[2])))
      await rm(join(project.paths.tmp, name), { recursive: true, force: true });
  }
  for (const dir of [project.paths.reports, join(project.paths.work, 'serving')])
    await removeTempFiles(dir, { olderThanMs: STALE_TEMP_MS });
  await removeTempFiles(project.paths.work, { recursive: false, olderThanMs: STALE_TEMP_MS });
  const scratch = join(project.paths.tmp, `${host}-${process.pid}-${newId()}`);
  await mkdir(scratch, { recursive: true });
  return { ...project, paths: { ...project.paths, tmp: scratch } };
}

/**
 * Opens the project's warehouse (DuckDB file, or PostgreSQL at warehouse.url) and the engine
 * that reads lake files beside it; both are pushed on `opened` to be closed with the workspace.
 */
async function openWarehouse(
  project: Project,
  opened: { close(): Promise<void> }[],
): Promise<{ warehouse: Engine; lakeEngine: Engine }> {
  const config = project.config.warehouse;
  const settings: Record<string, string> = {};
  if (config.threads) settings.threads = String(config.threads);
  if (config.memory_limit) settings.memory_limit = config.memory_limit;
  if (config.engine === 'duckdb') {
    const warehouse = await openDuckDB({ path: project.paths.warehouse, settings });
    opened.push(warehouse);
    return { warehouse, lakeEngine: warehouse };
  }
  const warehouse = await openPostgres({
    url: readSecret(config.url!, 'tributary.yml: warehouse.url', project.dir),
    ...(config.schema ? { schema: config.schema } : {}),
    poolSize: Math.max(10, 2 * project.config.concurrency + 4),
  });
  opened.push(warehouse);
  // Processing reads raw files and writes Parquet; loading reads Parquet: DuckDB in memory does
  // both (its temporary files go to the project's scratch folder).
  const lakeEngine = await openDuckDB({
    path: ':memory:',
    settings: { ...settings, temp_directory: project.paths.tmp },
  });
  opened.push(lakeEngine);
  return { warehouse, lakeEngine };
}

/**
 * The asset graph of a project without opening it: no lock, no warehouse file (models are parsed
 * against an in-memory DuckDB for their dialect), so it works while a server holds the project.
 */
export async function loadAssetGraph(dir: string): Promise<{
  project: Project;
  models: ParsedProject;
  graph: AssetGraph;
  dashboards: Dashboard[];
  syncs: SyncDefinition[];
}> {
  const project = await loadProject(dir);
  const engine = await openDuckDB({ path: ':memory:' });
  try {
    return { project, ...(await readGraph(project, engine)) };
  } finally {
    await engine.close();
  }
}

/**
 * The asset graph and the column lineage of a project without opening it (as loadAssetGraph):
 * models are compiled and their SQL parsed by an in-memory DuckDB, nothing is run.
 */
export async function loadColumnLineage(dir: string): Promise<{
  project: Project;
  graph: AssetGraph;
  lineage: ColumnLineage;
}> {
  const project = await loadProject(dir);
  const engine = await openDuckDB({ path: ':memory:' });
  try {
    const { models, graph, dashboards, syncs } = await readGraph(project, engine);
    const lineage = await buildColumnLineage({
      project,
      models,
      graph,
      dashboards,
      syncs,
      parser: engine,
    });
    return { project, graph, lineage };
  } finally {
    await engine.close();
  }
}

const workspaceLineage = new WeakMap<AssetGraph, Promise<ColumnLineage>>();

/**
 * The column lineage of an open workspace, built once per asset graph (the server's API asks
 * for it often); SQL is parsed by an in-memory DuckDB, never by the warehouse.
 */
export function columnLineageOf(ws: Workspace): Promise<ColumnLineage> {
  let built = workspaceLineage.get(ws.graph);
  if (!built) {
    built = (async () => {
      const engine = await openDuckDB({ path: ':memory:' });
      try {
        return await buildColumnLineage({
          project: ws.project,
          models: ws.models,
          graph: ws.graph,
          dashboards: ws.dashboards,
          syncs: ws.syncs,
          parser: engine,
        });
      } finally {
        await engine.close();
      }
    })();
    // A failure is not kept: the next request tries again.
    built.catch(() => workspaceLineage.delete(ws.graph));
    workspaceLineage.set(ws.graph, built);
  }
  return built;
}

/**
 * The project's models (parsed against `engine`, for its dialect), dashboards, syncs and asset
 * graph, with one asset per dashboard reading what its tiles query (SQL parsed, not run) and one
 * per sync reading its model.
 */
async function readGraph(
  project: Project,
  engine: Engine,
): Promise<{
  models: ParsedProject;
  graph: AssetGraph;
  dashboards: Dashboard[];
  syncs: SyncDefinition[];
}> {
  const models = await parsePipelineModels({
    dir: project.paths.models,
    fallbackName: project.config.name,
    engine,
    schema: project.config.models.schema,
    threads: project.config.models.threads ?? project.config.concurrency,
    reportDirs: project.paths.reportQueries,
  });
  const dashboards = await loadDashboards(project.dir);
  const schema = project.config.models.schema;
  const graph = await withForecastLineage(
    engine,
    project.forecasts,
    buildAssetGraph(project, models),
    models,
    schema,
  );
  const dashboardGraph = withAssets(
    graph,
    await dashboardAssets(engine, dashboards, graph, models, schema),
  );
  const syncs = await loadSyncs(project.dir, Object.keys(project.config.destinations));
  const assets = await syncAssets(engine, syncs, graph, models, project.config.models.schema);
  await checkSyncColumns({ project, models, graph, syncs }, assets);
  const syncGraph = withAssets(dashboardGraph, assets);
  return { models, graph: syncGraph, dashboards, syncs };
}

/**
 * Each sync's mapped columns against its source's columns derived by parsing (its model and what
 * that model reads are compiled, not run): a column the source does not have is a compile error
 * at the sync file's line. Sources parsing cannot list are left to the run-time check.
 */
async function checkSyncColumns(
  input: { project: Project; models: ParsedProject; graph: AssetGraph; syncs: SyncDefinition[] },
  assets: readonly Asset[],
): Promise<void> {
  if (!input.syncs.length) return;
  const parser = await openDuckDB({ path: ':memory:' });
  try {
    const sources = await staticSyncSourceColumns(
      { ...input, parser },
      upstreamAssets(input.graph, assets),
    );
    const problems = input.syncs.flatMap((s) => staticColumnProblems(s, sources.get(s.name)!));
    if (problems.length) throw new ProblemsError(problems);
  } finally {
    await parser.close();
  }
}
