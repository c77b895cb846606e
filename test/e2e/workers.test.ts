/**
 * Several workers (issue 18): the e-commerce template with its state and warehouse on PostgreSQL
 * (a database of the test's own, dropped after), three `tributary worker` processes and one
 * `tributary serve` that queues the run (its API, with the admin token it leaves), every one a
 * separate process of the built CLI. The run finishes with the figures of a single-process
 * DuckDB run of the same generated data in every zone, and serve's dashboards answer every tile
 * with the rows DuckDB's tile has: the landing
 * folder; every lake table's landed batches (by content hash), processed and quarantined files
 * (with their rows, each on disk as listed) and loaded batches; the processed tables in the
 * warehouse; every relation models, snapshots and forecasts build (rows and numeric sums); and
 * the reports' lines. State's history has each step once, finished as its task.
 *
 * Then the fault test: during such runs a worker busy with a step is SIGKILLed and a replacement
 * started. Trial n aims at a part of the run (PHASES[n % 5]: landing, model builds, tests,
 * processing and loading, reports and forecasts): a random step of it (seeded), and the worker
 * caught holding it, frozen a random 0–300 ms later. The victim is frozen (SIGSTOP) first and
 * its claims read from the work queue once none of its sessions is mid-statement, so the claims
 * it dies with are known exactly. Every run still finishes with the same figures in every zone,
 * and exactly the victim's claims were claimed again (their leases expired) and completed once
 * each by another worker: each task's queue state says done, each step's history has one
 * outcome per claim at most, says it was claimed again and ends with the recorded outcome, and no
 * two workers' logs claim the same completion. CI runs WORKER_FAULT_TRIALS (default 3: landing,
 * model builds, tests) trials; `WORKER_FAULT_TRIALS=20` runs the twenty, four per part.
 *
 * The workers here are on one machine, so they share the project's lake folder; workers on
 * several machines need the lake on storage they all reach (and the same project files).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client as PgClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWithOwnCollector } from '../../src/cli/commands/generate.js';
import { initProject } from '../../src/cli/commands/init.js';
import { seededRandom, silentProgress } from '../../src/core/index.js';
import { openWorkspace, runPipeline, type Workspace } from '../../src/orchestrator/index.js';
import { tempDir, withWorkspace } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase } from '../sync/support.js';
import { JetStreamLog } from '../../src/stream/jetstream/index.js';
import { natsTestUrl } from '../stream/log-adapters.js';
import {
  allFigures,
  builtRelationsOf,
  dashboardTiles,
  martsOf,
  type Figures,
} from '../warehouse-figures.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');
const available =
  (await serviceAvailable('postgres', postgresTestUrl)) &&
  (await serviceAvailable('nats', natsTestUrl));
const URL_ENV = 'TRIBUTARY_TEST_WORKERS_URL';
const TRIALS = Number(process.env.WORKER_FAULT_TRIALS ?? 3);
/** A short lease, so a killed worker's step is taken over in seconds (heartbeats every 500 ms). */
const LEASE_MS = 3000;

/** A part of the run, by the kinds of its steps: trial n aims its kill at PHASES[n % 5]. */
interface Phase {
  name: string;
  kinds: string[];
}
const PHASES: Phase[] = [
  { name: 'landing', kinds: ['raw'] },
  { name: 'model builds', kinds: ['model', 'snapshot', 'seed'] },
  { name: 'tests', kinds: ['test'] },
  { name: 'processing and loading', kinds: ['processed'] },
  { name: 'reports and forecasts', kinds: ['report', 'forecast'] },
];

/** A task of the queue as the test polls it. */
interface QueueRow {
  task: string;
  state: string;
  pid: number;
}

interface LakeManifest {
  /** A raw table's landed batches (content-addressed), or a processed table's loaded ones. */
  batches?: { id: string; key: string; bytes: number; originalName?: string }[] | LoadedBatches;
  files?: { key: string; rows?: number; bytes?: number }[];
  quarantine?: { key: string; rows?: number; bytes?: number }[];
  rejected?: Record<string, unknown>;
}
type LoadedBatches = Record<string, { rowsIn?: number; rowsOut?: number; rowsRejected?: number }>;

/** What each lake table holds, by its manifest, and the listed files that are not as listed. */
interface LakeFigures {
  /** `raw/web/events` → its batches, files and quarantined rows, one line each, sorted. */
  tables: Record<string, { entries: string[]; rows: number }>;
  /** Files a manifest lists that are missing or of another size than it says. */
  broken: string[];
}

/**
 * The lake's zones table by table: raw batches by content hash (a batch landed twice shows twice),
 * processed files and quarantined files with their rows, and each processed table's loaded
 * batches with their rows in, out and rejected; every file listed is checked on disk.
 */
function lakeFigures(dir: string): LakeFigures {
  const lake = join(dir, '.tributary', 'lake');
  const out: LakeFigures = { tables: {}, broken: [] };
  const check = (key: string, bytes: number | undefined) => {
    const path = join(lake, key);
    if (!existsSync(path) || (bytes !== undefined && statSync(path).size !== bytes))
      out.broken.push(key);
  };
  for (const entry of readdirSync(lake, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name !== '_manifest.json') continue;
    const m = JSON.parse(readFileSync(join(entry.parentPath, entry.name), 'utf8')) as LakeManifest;
    const entries: string[] = [];
    let rows = 0;
    if (Array.isArray(m.batches))
      for (const b of m.batches) {
        entries.push(`landed ${b.id} ${b.bytes} ${b.originalName ?? ''}`);
        check(b.key, b.bytes);
      }
    else
      for (const [id, b] of Object.entries(m.batches ?? {}))
        entries.push(`loaded ${id} ${b.rowsIn}/${b.rowsOut}/${b.rowsRejected}`);
    for (const f of m.files ?? []) {
      entries.push(`file ${f.key} ${f.rows}`);
      rows += f.rows ?? 0;
      check(f.key, f.bytes);
    }
    for (const q of m.quarantine ?? []) {
      entries.push(`quarantine ${q.key} ${q.rows}`);
      check(q.key, q.bytes);
    }
    for (const key of Object.keys(m.rejected ?? {})) entries.push(`rejected ${key}`);
    out.tables[entry.parentPath.slice(lake.length + 1)] = { entries: entries.sort(), rows };
  }
  return out;
}

/**
 * The lake's tables with each stream batch's id left out. A landed stream batch holds its records'
 * sequence numbers, which each log numbers its own way (the local log per shard, JetStream across
 * the stream), so its content hash, size and ranges differ between logs; the files processed
 * from it, their rows and its quarantined rows are compared all the same.
 */
function withoutStreamBatchIds(tables: LakeFigures['tables']): LakeFigures['tables'] {
  const ids = Object.values(tables)
    .flatMap((t) => t.entries)
    .map((e) => /^landed ([0-9a-f]{64}) \d+ stream (\S+)/.exec(e))
    .filter((m) => m !== null);
  const out: LakeFigures['tables'] = {};
  for (const [name, table] of Object.entries(tables)) {
    const entries = table.entries.map((entry) => {
      for (const [, id, stream] of ids) {
        if (entry.startsWith(`landed ${id!} `)) return `landed from stream ${stream!}`;
        entry = entry.replaceAll(id!, 'STREAM-BATCH').replaceAll(id!.slice(0, 16), 'STREAM-BATCH');
      }
      return entry;
    });
    out[name] = { entries: entries.sort(), rows: table.rows };
  }
  return out;
}

/** The landing folder's files and sizes, and each report's lines (what a run publishes). */
function filesOf(dir: string): { landing: string[]; reports: Record<string, number> } {
  const landing = join(dir, 'landing');
  const reportsDir = join(dir, '.tributary', 'reports');
  const reports: Record<string, number> = {};
  for (const name of existsSync(reportsDir) ? readdirSync(reportsDir) : [])
    if (name.endsWith('.csv'))
      reports[name] = readFileSync(join(reportsDir, name), 'utf8').trimEnd().split('\n').length;
  return {
    landing: readdirSync(landing, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => {
        const path = join(e.parentPath, e.name);
        return `${path.slice(landing.length + 1)} ${statSync(path).size}`;
      })
      .sort(),
    reports,
  };
}

/** The processed tables' row counts as the warehouse has them (loaded from the lake). */
async function processedCounts(ws: Workspace): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ws.project.tables) {
    const relation = ws.warehouse.dialect.relation('processed', table.table);
    const { rows } = await ws.warehouse.query(`select count(*) as n from ${relation}`);
    out[table.table] = Number(rows[0]!.n);
  }
  return out;
}

type Api = (path: string, body?: unknown) => Promise<unknown>;

/** Waits for `serve` to say where it listens; calls its API with the admin token it leaves. */
async function serveApi(dir: string, serve: Started): Promise<Api> {
  let url: string | undefined;
  for (const end = Date.now() + 120_000; !url && Date.now() < end;) {
    url = /serving \S+ at (https?:\/\/\S+)/.exec(serve.stderr())?.[1];
    if (!url) await new Promise((r) => setTimeout(r, 100));
  }
  expect(url, serve.stderr()).toBeTruthy();
  const serverJson = join(dir, '.tributary', 'server.json');
  const { token } = JSON.parse(readFileSync(serverJson, 'utf8')) as { token: string };
  return async (path, body) => {
    const res = await fetch(url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    expect(res.ok, `${path}: ${res.status} ${text}`).toBe(true);
    return JSON.parse(text) as unknown;
  };
}

/** Every dashboard tile's row count, or its error, as serve's API answers it. */
async function servedTiles(api: Api): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  for (const d of (await api('/api/dashboards')) as { name: string }[]) {
    const result = (await api(`/api/dashboards/${d.name}/data`)) as {
      tiles: Record<string, { rows?: unknown[]; error?: string }>;
    };
    for (const [id, tile] of Object.entries(result.tiles))
      out[`${d.name}.${id}`] = tile.error ?? tile.rows!.length;
  }
  return out;
}

/** A claim the killed worker held when it died. */
interface KilledClaim {
  runId: string;
  task: string;
  attempt: number;
}

/** The pid in a worker's name (host-pid-id). */
function workerPid(worker: string | null): number {
  return Number(/-(\d+)-[0-9a-z]+$/.exec(worker ?? '')?.[1]);
}

/** The project's environment with its database sessions named `name` (application_name). */
function sessionsNamed(env: Record<string, string>, name: string): Record<string, string> {
  const url = new URL(env[URL_ENV]!);
  url.searchParams.set('application_name', name);
  return { ...env, [URL_ENV]: url.toString() };
}

/** Runs `fn` on a client of the project's database of its own. */
async function withClient<T>(
  env: Record<string, string>,
  fn: (client: PgClient) => Promise<T>,
): Promise<T> {
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: env[URL_ENV] });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

interface Started {
  child: ChildProcess;
  exit: Promise<number | null>;
  stderr: () => string;
}

function startCli(dir: string, env: NodeJS.ProcessEnv, ...args: string[]): Started {
  const child = spawn(process.execPath, [CLI, '-p', dir, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout!.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exit, stderr: () => err };
}

/** A shared copy of the pristine project: its own database for state and warehouse. */
async function sharedProject(pristine: string, root: string, name: string) {
  const dir = join(root, name);
  cpSync(pristine, dir, { recursive: true });
  const db = await freshPostgresDatabase('workers');
  const yml = join(dir, 'tributary.yml');
  writeFileSync(
    yml,
    readFileSync(yml, 'utf8').replace(
      /^models:/m,
      `warehouse: { engine: postgres, url: { env: ${URL_ENV} } }\n\nmodels:`,
    ),
  );
  appendFileSync(yml, `\nstate:\n  store: postgres\n  url: { env: ${URL_ENV} }\n  schema: state\n`);
  const env = { [URL_ENV]: db.url, TRIBUTARY_LEASE_MS: String(LEASE_MS) };
  return { dir, db, env };
}

describe.skipIf(!available)('three workers and a run on PostgreSQL state and warehouse', () => {
  let root: string;
  let pristine: string;
  let marts: Map<string, string[]>;
  let built: Map<string, string[]>;
  let want: {
    marts: Record<string, Figures>;
    built: Record<string, Figures>;
    lake: LakeFigures;
    files: ReturnType<typeof filesOf>;
  };
  let wantProcessed: Record<string, number>;
  /** Each dashboard tile's row count (or its error), as DuckDB's admin reads it. */
  let wantTiles: Record<string, number | string>;
  /** Each step's kind (`model:orders` → model), from the graph. */
  let kinds: Map<string, string>;
  const dropLater: (() => Promise<void>)[] = [];
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    root = tempDir('trib-workers-');
    pristine = await initProject(join(root, 'pristine'), 'ecommerce');
    await generateWithOwnCollector(pristine, { scale: 0.01, seed: 11, progress: silentProgress });
    const duck = join(root, 'duck');
    cpSync(pristine, duck, { recursive: true });
    await withWorkspace(duck, async (ws) => {
      const run = await runPipeline(ws, { exclude: ['kind:sync'] });
      expect(run.status).toBe('succeeded');
      marts = await martsOf(ws);
      built = await builtRelationsOf(ws);
      want = {
        marts: await allFigures(ws, marts),
        built: await allFigures(ws, built),
        lake: lakeFigures(duck),
        files: filesOf(duck),
      };
      wantProcessed = await processedCounts(ws);
      wantTiles = await dashboardTiles(ws, 'admin');
      expect(Object.keys(wantTiles).length).toBeGreaterThan(10);
      expect(Object.values(wantTiles).filter((t) => typeof t === 'string')).toEqual([]);
      kinds = new Map([...ws.graph.assets.values()].map((a) => [a.key, a.kind]));
    });
  }, 600_000);

  afterAll(async () => {
    for (const c of running) c.kill('SIGKILL');
    for (const drop of dropLater) await drop().catch(() => undefined);
  });

  /**
   * The shared project's figures equal the single-process DuckDB run's, zone by zone: the landing
   * folder, every lake table's batches, files and quarantined rows (each file on disk as listed),
   * the processed tables in the warehouse, every relation the models, snapshots and forecasts
   * built (rows, and the sums of numeric columns), and the reports' lines.
   */
  async function expectSameData(
    dir: string,
    env: Record<string, string>,
    otherStreamLog = false,
  ): Promise<void> {
    const lake = lakeFigures(dir);
    expect(lake.broken, 'lake files missing or not as their manifest says').toEqual([]);
    if (otherStreamLog)
      expect(withoutStreamBatchIds(lake.tables)).toEqual(withoutStreamBatchIds(want.lake.tables));
    else expect(lake.tables).toEqual(want.lake.tables);
    expect(Object.keys(lake.tables).length).toBeGreaterThanOrEqual(14);
    expect(filesOf(dir)).toEqual(want.files);
    process.env[URL_ENV] = env[URL_ENV];
    const ws = await openWorkspace(dir, 'test');
    try {
      expect(await processedCounts(ws)).toEqual(wantProcessed);
      const got = await allFigures(ws, marts);
      for (const [relation, figures] of Object.entries(want.marts)) {
        expect(got[relation]!.rows, relation).toBe(figures.rows);
        for (const [column, sum] of Object.entries(figures.sums))
          if (sum === null) expect(got[relation]!.sums[column]).toBeNull();
          else expect(got[relation]!.sums[column], `${relation}.${column}`).toBeCloseTo(sum, 4);
      }
      // Every other relation: the same rows, and sums equal to a relative 1e-9 (float sums
      // differ in their last bits with the order rows are added in).
      const gotBuilt = await allFigures(ws, built);
      expect(Object.keys(gotBuilt).sort()).toEqual(Object.keys(want.built).sort());
      for (const [relation, figures] of Object.entries(want.built)) {
        expect(gotBuilt[relation]!.rows, relation).toBe(figures.rows);
        for (const [column, sum] of Object.entries(figures.sums)) {
          const g = gotBuilt[relation]!.sums[column];
          if (sum === null) expect(g, `${relation}.${column}`).toBeNull();
          else
            expect(
              Math.abs(g! - sum),
              `${relation}.${column}: ${g} against ${sum}`,
            ).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(sum)));
        }
      }
    } finally {
      await ws.close();
      delete process.env[URL_ENV];
    }
  }

  /**
   * Every task of the run completed once: done in the queue, one outcome line in its step's log
   * (a killed worker's attempt never wrote one). Returns the tasks claimed more than once.
   * Without `queuedRunId` the run must be the only one. With it, that run is checked, and any
   * other run must be one serve started for a stream batch its flusher landed on its own (when
   * the queued run had not yet reached the stream's step by then: a matter of timing), and must
   * have succeeded.
   */
  async function expectEachStepCompletedOnce(
    dir: string,
    env: Record<string, string>,
    queuedRunId?: string,
  ): Promise<string[]> {
    process.env[URL_ENV] = env[URL_ENV];
    const ws = await openWorkspace(dir, 'test');
    try {
      const all = (await ws.state.listRuns(10)).filter((r) => r.command !== 'test');
      const runs = queuedRunId ? all.filter((r) => r.runId === queuedRunId) : all;
      expect(runs.map((r) => r.status)).toEqual(['succeeded']);
      for (const other of all.filter((r) => r.runId !== runs[0]!.runId)) {
        expect(other.command).toMatch(/^trigger stream /);
        expect(other.status, other.command).toBe('succeeded');
      }
      const runId = runs[0]!.runId;
      const tasks = await ws.queue!.tasks(runId);
      expect(tasks.length).toBeGreaterThan(20);
      for (const t of tasks) expect(['succeeded', 'up_to_date'], t.task).toContain(t.state);
      const steps = await ws.state.listSteps(runId);
      expect(steps.map((s) => s.asset).sort()).toEqual(tasks.map((t) => t.task).sort());
      // History says of each step what the queue says: one record, finished as its task was.
      const byStep = new Map(steps.map((st) => [st.asset, st]));
      for (const t of tasks) {
        expect(byStep.get(t.task)?.status, t.task).toBe(t.state);
        expect(byStep.get(t.task)?.finishedAt, t.task).toBeTruthy();
      }
      const logs = new Map<string, string[]>();
      for (const line of await ws.state.stepLogs(runId))
        logs.set(line.asset, [...(logs.get(line.asset) ?? []), line.line]);
      // A step runs again only when its worker was lost after running it and before completing
      // it: one outcome line per claim at most, and exactly one for a step claimed once. A step
      // claimed again says so in its log, and its log ends with the outcome the queue recorded.
      const outcome = /^(succeeded|up_to_date|failed|skipped|cancelled)\s/;
      for (const t of tasks) {
        const lines = logs.get(t.task) ?? [];
        const outcomes = lines.filter((l) => outcome.test(l));
        expect(outcomes.length, t.task).toBeGreaterThanOrEqual(1);
        expect(outcomes.length, t.task).toBeLessThanOrEqual(t.attempt);
        expect(outcomes.at(-1)!.split(/\s/)[0], t.task).toBe(t.state);
        if (t.attempt === 1) expect(outcomes.length, t.task).toBe(1);
        else
          expect(lines, t.task).toContain(
            `claim ${t.attempt}: the worker that had this step before was lost`,
          );
      }
      return tasks.filter((t) => t.attempt > 1).map((t) => t.task);
    } finally {
      await ws.close();
      delete process.env[URL_ENV];
    }
  }

  /**
   * SIGTERMs the workers once each has started (a replacement may still be starting when a run
   * ends: before its handler is installed, SIGTERM would kill it like any process), and expects
   * each to exit on its own.
   */
  async function stopWorkers(workers: Started[]): Promise<void> {
    for (const w of workers) {
      const end = Date.now() + 60_000;
      let exited = false;
      void w.exit.then(() => (exited = true));
      while (!exited && !/worker \S+: \d+ slot/.test(w.stderr()) && Date.now() < end)
        await new Promise((r) => setTimeout(r, 50));
    }
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) expect(await w.exit, w.stderr()).not.toBeNull();
  }

  it('runs the template queued through one serve across three worker processes, with the results and dashboards of one DuckDB process', async () => {
    // Serve replicas collect into one log, so a shared project's is JetStream: the same generated
    // data, its clickstream sent to a JetStream stream of the test's own.
    const prefix = `workers${process.pid}x${Date.now().toString(36)}`;
    dropLater.push(async () => {
      const log = await JetStreamLog.connect({ url: natsTestUrl, prefix, timeoutMs: 5000 });
      try {
        for (const name of await log.listStreams()) await log.deleteStream(name);
      } finally {
        await log.close();
      }
    });
    const onJetStream = await initProject(join(root, 'pristine-jetstream'), 'ecommerce');
    const pristineYml = join(onJetStream, 'tributary.yml');
    writeFileSync(
      pristineYml,
      readFileSync(pristineYml, 'utf8').replace(
        'log: { type: local, path: .tributary/stream }',
        `log: { type: jetstream, url: "${natsTestUrl}", prefix: ${prefix} }`,
      ),
    );
    await generateWithOwnCollector(onJetStream, {
      scale: 0.01,
      seed: 11,
      progress: silentProgress,
    });
    const { dir, db, env } = await sharedProject(onJetStream, root, 'shared');
    dropLater.push(() => db.drop());
    // The one run is queued through serve's API: its cron schedule and file-arrival trigger
    // (which takes the landing folder's files at start) would queue runs of their own.
    const yml = join(dir, 'tributary.yml');
    writeFileSync(
      yml,
      readFileSync(yml, 'utf8').replace(/^(?:schedules|triggers):\n(?: .*\n|\n)*/gm, ''),
    );
    const workers = [1, 2, 3].map(() => startCli(dir, env, '--verbose', 'worker', '--slots', '2'));
    running.push(...workers.map((w) => w.child));
    const serve = startCli(dir, env, 'serve', '--port', '0');
    running.push(serve.child);
    const api = await serveApi(dir, serve);
    const queued = (await api('/api/runs', { exclude: ['kind:sync'] })) as { runId?: string };
    expect(queued.runId, serve.stderr()).toBeTruthy();
    // A worker records the run's end; serve then publishes what it built for queries and records
    // that too (publishedAt): until then a dashboard may not read it yet.
    let run = { status: 'running', publishedAt: null as string | null };
    for (
      const end = Date.now() + 540_000;
      (run.status === 'running' || (run.status === 'succeeded' && !run.publishedAt)) &&
      Date.now() < end;
    ) {
      await new Promise((r) => setTimeout(r, 500));
      ({ run } = (await api(`/api/runs/${queued.runId}`)) as { run: typeof run });
    }
    expect(run.status, serve.stderr()).toBe('succeeded');
    expect(run.publishedAt, serve.stderr()).toBeTruthy();
    // Every dashboard tile, as serve answers it over HTTP, has the rows DuckDB's tile has.
    expect(await servedTiles(api), serve.stderr()).toEqual(wantTiles);
    serve.child.kill('SIGTERM');
    expect(await serve.exit, serve.stderr()).toBe(0);
    await stopWorkers(workers);
    // The workers did their share: each logged steps it finished.
    const busy = workers.filter((w) => /\s(succeeded|up_to_date) run_/.test(w.stderr()));
    expect(busy.length, workers.map((w) => w.stderr()).join('\n---\n')).toBeGreaterThan(0);
    await expectSameData(dir, env, true);
    await expectEachStepCompletedOnce(dir, env, queued.runId);
  }, 600_000);

  it(
    `survives a worker SIGKILLed at a random point of the run (${TRIALS} seeded trials)`,
    async () => {
      const landed: string[] = [];
      for (let trial = 0; trial < TRIALS; trial++) {
        const started = Date.now();
        const random = seededRandom(1800 + trial);
        const phase = PHASES[trial % PHASES.length]!;
        const { dir, db, env } = await sharedProject(pristine, root, `fault-${trial}`);
        dropLater.push(() => db.drop());
        // Each worker's sessions carry its own application_name, so the test can tell when a
        // frozen or killed worker has nothing left in flight at the server.
        const worker = (name: string) => ({
          name,
          ...startCli(dir, sessionsNamed(env, name), '--verbose', 'worker', '--slots', '2'),
        });
        const workers = [1, 2, 3].map((i) => worker(`w${trial}-${i}`));
        running.push(...workers.map((w) => w.child));
        const run = startCli(dir, env, 'run', '--exclude', 'kind:sync', '--concurrency', '1');
        running.push(run.child);
        let done = false;
        void run.exit.then(() => (done = true));
        const killed = await killInPhase(env, workers, phase, random, () => done);
        expect(killed, `trial ${trial}: no worker was caught holding a claim`).toBeDefined();
        const { victim, claims } = killed!;
        const killedAt = Date.now() - started;
        const replacement = worker(`w${trial}-replacement`);
        running.push(replacement.child);
        const everyone = [...workers, replacement];
        workers[workers.indexOf(victim)] = replacement;
        expect(await run.exit, `trial ${trial}: ${run.stderr()}`).toBe(0);
        await stopWorkers(workers);
        await expectSameData(dir, env);
        const retaken = await expectEachStepCompletedOnce(dir, env);
        // Exactly the victim's claims at its death were claimed again, and each was completed
        // (once: the queue's fencing) by another worker, on a later claim than the victim's.
        expect(retaken.sort(), `trial ${trial}`).toEqual(claims.map((c) => c.task).sort());
        const final = await finalTasks(env, claims[0]!.runId);
        for (const c of claims) {
          const t = final.get(c.task)!;
          expect(['succeeded', 'up_to_date'], c.task).toContain(t.state);
          expect(t.attempt, c.task).toBeGreaterThan(c.attempt);
          expect(workerPid(t.worker), c.task).not.toBe(victim.child.pid);
        }
        // As the workers saw it (each logs a step when the queue recorded its completion): no
        // step was completed by two of them, and none the victim died holding by the victim.
        const completedBy = new Map<string, string[]>();
        for (const w of everyone)
          for (const m of w.stderr().matchAll(/(?:succeeded|up_to_date) run_\w+ (\S+)$/gm))
            completedBy.set(m[1]!, [...(completedBy.get(m[1]!) ?? []), w.name]);
        for (const [task, by] of completedBy) expect(by, task).toHaveLength(1);
        for (const c of claims)
          expect(completedBy.get(c.task) ?? [], c.task).not.toContain(victim.name);
        const held = claims.map((c) => `${c.task}#${c.attempt}`).join(', ');
        const phases = new Set(claims.map((c) => phaseOf(c.task)));
        landed.push(...phases);
        console.log(
          `worker fault trial ${trial}: aimed at ${phase.name}; killed ${victim.name} (pid ${victim.child.pid}) ${(killedAt / 1000).toFixed(1)} s into the run, holding ${held} (${[...phases].join(', ')}); passed in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
      }
      // The kills landed across the run, not only in its first steps. On a loaded machine a
      // trial's aimed part can be over before a worker is caught in it (the kill then takes what
      // a worker holds next), so a small sample may land twice in one part: the spread is
      // required of a campaign (WORKER_FAULT_TRIALS >= 10), and each trial prints where it landed.
      if (TRIALS >= 10) expect(new Set(landed).size, landed.join(', ')).toBeGreaterThanOrEqual(4);
    },
    300_000 * Math.max(1, TRIALS),
  );

  /** The phase a step belongs to (by its kind), or its kind when no phase has it. */
  function phaseOf(task: string): string {
    const kind = kinds.get(task.split('@')[0]!) ?? task.split(':')[0]!;
    return PHASES.find((p) => p.kinds.includes(kind))?.name ?? kind;
  }

  /**
   * Kills a worker in `phase` of the run: a random step of that phase is the target, and the
   * worker caught holding it (polled every 50 ms) is frozen after a random 0–300 ms and killed if
   * it still holds claims (killHoldingClaims). When the target slips by (it was too quick to
   * catch, or the run's own process took it), any worker holding a step of the phase is taken;
   * when the phase is over, any worker holding a claim. Undefined if the run ends first.
   */
  async function killInPhase(
    env: Record<string, string>,
    workers: (Started & { name: string })[],
    phase: Phase,
    random: () => number,
    done: () => boolean,
  ): Promise<{ victim: Started & { name: string }; claims: KilledClaim[] } | undefined> {
    const inPhase = (task: string) => phaseOf(task) === phase.name;
    let target: string | undefined;
    while (!done()) {
      const tasks = await queueNow(env);
      const live = new Set(workers.map((w) => w.child.pid));
      const open = (t: QueueRow) =>
        t.state === 'waiting' || t.state === 'ready' || (t.state === 'claimed' && live.has(t.pid));
      const ofPhase = tasks.filter((t) => inPhase(t.task));
      target ??= ofPhase[Math.floor(random() * ofPhase.length)]?.task;
      const held = tasks.filter((t) => t.state === 'claimed' && live.has(t.pid));
      const targetOpen = tasks.some((t) => t.task === target && open(t));
      const pick =
        held.find((t) => t.task === target) ??
        (targetOpen ? undefined : held.find((t) => inPhase(t.task))) ??
        (ofPhase.some(open) ? undefined : held[0]);
      if (pick) {
        await new Promise((r) => setTimeout(r, random() * 300));
        const victim = workers.find((w) => w.child.pid === pick.pid)!;
        const killed = await killHoldingClaims(env, victim, victim.name);
        if (killed) return { victim, claims: killed.claims };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  }

  /**
   * Freezes `victim` (SIGSTOP) and, once none of its sessions is running a statement, reads the
   * claims it holds: it can change none of them now, and what it had not committed dies with
   * it. With claims, it is SIGKILLed and they are returned; without, it is let go (undefined).
   */
  async function killHoldingClaims(
    env: Record<string, string>,
    victim: Started,
    sessions: string,
  ): Promise<{ victim: Started; claims: KilledClaim[] } | undefined> {
    const pid = victim.child.pid!;
    victim.child.kill('SIGSTOP');
    const claims = await withClient(env, async (client) => {
      // A frozen worker's statement can wait on a lock its own frozen transaction holds (one of
      // its sessions idle in transaction): it never ends while frozen. Let it go, try later.
      const busy = await activeStatements(client, sessions, 5_000);
      if (busy.length) {
        console.log(`froze ${sessions}, but it stayed mid-statement: ${busy.join(' | ')}`);
        return [];
      }
      const { rows } = await client.query<{ run_id: string; task: string; attempt: number }>(
        `select run_id, task, attempt from state.work_tasks where state = 'claimed' and worker like $1`,
        [`%-${pid}-%`],
      );
      return rows.map((r) => ({ runId: r.run_id, task: r.task, attempt: Number(r.attempt) }));
    });
    if (!claims.length) {
      victim.child.kill('SIGCONT');
      return undefined;
    }
    victim.child.kill('SIGKILL');
    await victim.exit;
    await withClient(env, (client) => untilNoSessions(client, sessions, ''));
    return { victim, claims };
  }

  /** Waits until the server has no session named `name` (matching `extra`); fails after 10 s. */
  async function untilNoSessions(client: PgClient, name: string, extra: string): Promise<void> {
    const end = Date.now() + 10_000;
    for (;;) {
      const { rows } = await client.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity where application_name = $1 ${extra}`,
        [name],
      );
      if (Number(rows[0]!.n) === 0) return;
      if (Date.now() > end) throw new Error(`sessions of ${name} still busy after 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The statements of sessions named `name` still running after `ms` (none: empty). */
  async function activeStatements(client: PgClient, name: string, ms: number): Promise<string[]> {
    const end = Date.now() + ms;
    for (;;) {
      const { rows } = await client.query<{ wait: string | null; query: string }>(
        `select wait_event_type || ':' || wait_event as wait, query from pg_stat_activity
         where application_name = $1 and state = 'active'`,
        [name],
      );
      if (!rows.length || Date.now() > end)
        return rows.map(
          (r) => `${r.wait ?? 'running'} ${r.query.replace(/\s+/g, ' ').slice(0, 120)}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** A run's tasks as the queue ends with them. */
  async function finalTasks(
    env: Record<string, string>,
    runId: string,
  ): Promise<Map<string, { state: string; attempt: number; worker: string | null }>> {
    return withClient(env, async (client) => {
      const { rows } = await client.query<{
        task: string;
        state: string;
        attempt: number;
        worker: string | null;
      }>(`select task, state, attempt, worker from state.work_tasks where run_id = $1`, [runId]);
      return new Map(rows.map((r) => [r.task, { ...r, attempt: Number(r.attempt) }]));
    });
  }

  /** The queue's tasks now, with the pid of the worker holding each claimed one. */
  async function queueNow(env: Record<string, string>): Promise<QueueRow[]> {
    return withClient(env, async (client) => {
      try {
        const { rows } = await client.query<{ task: string; state: string; worker: string | null }>(
          `select task, state, worker from state.work_tasks`,
        );
        return rows.map((r) => ({ task: r.task, state: r.state, pid: workerPid(r.worker) }));
      } catch {
        return []; // the queue's tables are not there yet
      }
    });
  }
});
