/**
 * `npm run bench:workers` (issue 18), two halves in one run:
 *
 * queue: the seeded 10,000-asset DAG of no-op tasks (the one bench:orchestrate dispatches) run
 * from the shared work queue in PostgreSQL by one, two and four worker processes (each with
 * `--slots` tasks at once), beside today's single process with DuckDB state (bench:orchestrate's
 * `tributary` side: plan + runPlan writing run history). It prints tasks per second, the ready →
 * started latency (database clock: from the moment the task's last upstream completed to the
 * moment a worker claimed it) and the CPU seconds each side spent: the workers', and
 * PostgreSQL's own (the backends of the bench's own database, see postgres-cpu.ts), with
 * PostgreSQL's CPU per task. `--completions single` makes the workers complete each task on its
 * own (no completeMany), for comparing with batched completions.
 *
 * template: the e-commerce template at `--scale` (default 1) generated once, then run whole
 * (syncs excluded) on the DuckDB warehouse and on a PostgreSQL warehouse (a fresh database),
 * each in its own process: wall time, the ratio PostgreSQL / DuckDB, and CPU (the pipeline
 * process's, plus PostgreSQL's backends'). Both must build fct_sales with the same rows and sum.
 *
 *   npm run bench:workers -- [--only queue|template] [--tasks 10000] [--workers 1,2,4]
 *     [--slots 8] [--completions batched|single] [--scale 1] [--repeat 1] [--seed 42]
 * What it does not measure yet: real steps on the queue (no-ops only), and the coordinator of a
 * real run (enqueue is timed on its own).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './args.js';
import pg from 'pg';
import { generateForProject } from '../src/cli/commands/generate.js';
import { initProject } from '../src/cli/commands/init.js';
import { silentProgress } from '../src/core/index.js';
import { openPostgres } from '../src/engines/index.js';
import { WorkQueue } from '../src/state/index.js';
import { generateDag } from './generated-dag.js';
import type { WorkerResult } from './orchestrate-worker.js';
import { PostgresCpuSampler } from './postgres-cpu.js';

const { values } = benchArgs(
  {
    options: {
      tasks: { type: 'string', default: '10000' },
      workers: { type: 'string', default: '1,2,4' },
      slots: { type: 'string', default: '8' },
      repeat: { type: 'string', default: '1' },
      seed: { type: 'string', default: '42' },
      scale: { type: 'string', default: '1' },
      only: { type: 'string' },
      completions: { type: 'string', default: 'batched' },
      url: {
        type: 'string',
        default:
          process.env.TRIBUTARY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      },
    },
  },
  import.meta.url,
);
const N = Number(values.tasks);
const SLOTS = Number(values.slots);
const counts = values.workers.split(',').map(Number);
const repeat = Number(values.repeat);
const here = import.meta.dirname;
const log = (line: string) => process.stderr.write(`${line}\n`);

const only = values.only;
if (only !== undefined && only !== 'queue' && only !== 'template')
  throw new Error(`--only takes queue or template, not ${only}`);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
};

/**
 * A database of the bench's own on the server at --url (dropped after), so the CPU of its
 * backends is told apart from what other users of the server spend.
 */
async function freshDatabase(
  prefix: string,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
  const admin = new pg.Client({ connectionString: values.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(values.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: values.url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

interface QueueResult {
  workers: number;
  enqueueMs: number;
  wallMs: number;
  tasksPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  workerCpuS: number;
  postgresCpuS: number;
  perWorker: number[];
}

/** Waits for a child's exit and parses the JSON line it printed last. */
function lastJsonLine<T>(child: ReturnType<typeof spawn>, what: string): Promise<T> {
  return new Promise<T>((done, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) =>
      code === 0
        ? done(JSON.parse(out.trim().split('\n').pop()!) as T)
        : fail(new Error(`${what} exited ${code}`)),
    );
  });
}

async function runWorkers(k: number): Promise<QueueResult> {
  const db = await freshDatabase('bench_workers');
  const engine = await openPostgres({ url: db.url });
  try {
    const queue = await WorkQueue.open(engine);
    const dag = generateDag(N, Number(values.seed));
    const sampler = new PostgresCpuSampler(values.url, db.name);
    await sampler.start();
    const e0 = performance.now();
    // Roots become ready at enqueue; workers are started first so none waits on a process start.
    const children = Array.from({ length: k }, (_, i) =>
      spawn(
        process.execPath,
        [
          join(here, 'workers-worker.js'),
          db.url,
          'public',
          `w${i}`,
          String(SLOTS),
          values.completions,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    );
    await queue.enqueue(
      'bench',
      dag.map((a) => ({ task: a.name, deps: a.deps })),
    );
    const enqueueMs = performance.now() - e0;
    const outputs = await Promise.all(
      children.map((c, i) => lastJsonLine<{ completed: number; cpuMs: number }>(c, `worker w${i}`)),
    );
    const pgCpu = await sampler.stop();
    const rows = (
      await engine.query(`SELECT state, attempt, ready_at, started_at, finished_at FROM work_tasks`)
    ).rows;
    const bad = rows.filter((r) => r.state !== 'succeeded' || Number(r.attempt) !== 1);
    if (rows.length !== N || bad.length)
      throw new Error(`${bad.length} of ${rows.length} tasks not succeeded once`);
    const lat = rows.map((r) => Number(r.started_at) - Number(r.ready_at));
    const first = Math.min(...rows.map((r) => Number(r.ready_at)));
    const last = Math.max(...rows.map((r) => Number(r.finished_at)));
    const wallMs = last - first;
    return {
      workers: k,
      enqueueMs,
      wallMs,
      tasksPerSecond: N / (wallMs / 1000),
      p50: pct(lat, 0.5),
      p99: pct(lat, 0.99),
      max: Math.max(...lat),
      workerCpuS: outputs.reduce((s, o) => s + o.cpuMs, 0) / 1000,
      postgresCpuS: pgCpu,
      perWorker: outputs.map((o) => o.completed),
    };
  } finally {
    await engine.close();
    await db.drop();
  }
}

function runDuckDbSingleProcess(): WorkerResult {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-workers-'));
  try {
    const r = spawnSync(
      process.execPath,
      [
        join(here, 'orchestrate-worker.js'),
        'tributary',
        String(N),
        String(SLOTS),
        values.seed,
        '1',
        dir,
      ],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    if (r.status !== 0) throw new Error(`single process failed:\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as WorkerResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface TemplateResult {
  warehouse: string;
  wallMs: number;
  /** The pipeline process's CPU, and (PostgreSQL warehouse) its database's backends'. */
  cpuMs: number;
  postgresCpuS: number;
  steps: number;
  factRows: number;
  revenue: number;
}

/** The template at --scale generated once (the same files for both sides), in a temp folder. */
async function generatedTemplate(): Promise<{ root: string; duckDir: string; pgDir: string }> {
  const root = mkdtempSync(join(tmpdir(), 'tributary-bench-template-'));
  const duckDir = await initProject(join(root, 'duck'), 'ecommerce');
  const t0 = performance.now();
  await generateForProject(duckDir, {
    scale: Number(values.scale),
    seed: Number(values.seed),
    progress: silentProgress,
  });
  log(
    `template: generated scale ${values.scale} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const pgDir = join(root, 'pg');
  cpSync(duckDir, pgDir, { recursive: true });
  const yml = join(pgDir, 'tributary.yml');
  writeFileSync(
    yml,
    readFileSync(yml, 'utf8').replace(
      /^models:/m,
      `warehouse: { engine: postgres, url: { env: ${WAREHOUSE_URL_ENV} } }\n\nmodels:`,
    ),
  );
  return { root, duckDir, pgDir };
}

const WAREHOUSE_URL_ENV = 'TRIBUTARY_BENCH_WAREHOUSE_URL';

/** Runs the pipeline of `dir` in a child process; with `db`, samples its backends' CPU too. */
async function runTemplate(
  dir: string,
  db?: { url: string; name: string },
): Promise<TemplateResult> {
  const sampler = db ? new PostgresCpuSampler(values.url, db.name) : undefined;
  await sampler?.start();
  const child = spawn(process.execPath, [join(here, 'workers-template.js'), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...(db && { [WAREHOUSE_URL_ENV]: db.url }) },
  });
  const r = await lastJsonLine<Omit<TemplateResult, 'postgresCpuS'>>(child, `template (${dir})`);
  return { ...r, postgresCpuS: sampler ? await sampler.stop() : 0 };
}

/** Each run: the DuckDB side, then PostgreSQL into a fresh database (first run = first load). */
async function templateRuns(): Promise<{ duck: TemplateResult[]; pg: TemplateResult[] }> {
  const { root, duckDir, pgDir } = await generatedTemplate();
  const duck: TemplateResult[] = [];
  const pgs: TemplateResult[] = [];
  try {
    for (let i = 0; i < repeat; i++) {
      const runDir = (from: string) => {
        const to = `${from}-run${i}`;
        cpSync(from, to, { recursive: true });
        return to;
      };
      const d = await runTemplate(runDir(duckDir));
      duck.push(d);
      log(`run ${i + 1}: template on DuckDB: ${(d.wallMs / 1000).toFixed(1)} s; load ${load()}`);
      const db = await freshDatabase('bench_template');
      try {
        const p = await runTemplate(runDir(pgDir), db);
        pgs.push(p);
        log(
          `run ${i + 1}: template on PostgreSQL: ${(p.wallMs / 1000).toFixed(1)} s; load ${load()}`,
        );
        if (
          p.factRows !== d.factRows ||
          Math.abs(p.revenue - d.revenue) > 1e-6 * Math.abs(d.revenue)
        )
          throw new Error(
            `the warehouses disagree: fct_sales ${d.factRows} rows, revenue ${d.revenue} on DuckDB; ${p.factRows}, ${p.revenue} on PostgreSQL`,
          );
      } finally {
        await db.drop();
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return { duck, pg: pgs };
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function queueSection(): Promise<void> {
  const loadAtStart = load();
  const queueRuns: QueueResult[] = [];
  const duck: WorkerResult[] = [];
  for (let i = 0; i < repeat; i++) {
    const d = runDuckDbSingleProcess();
    duck.push(d);
    log(
      `run ${i + 1}: single process, DuckDB state: ${d.wallMs.toFixed(0)} ms, p99 ${d.latency.p99.toFixed(1)} ms`,
    );
    for (const k of counts) {
      const q = await runWorkers(k);
      queueRuns.push(q);
      log(
        `run ${i + 1}: ${k} worker(s) on PostgreSQL: ${q.wallMs.toFixed(0)} ms, ${q.tasksPerSecond.toFixed(0)} tasks/s, p99 ${q.p99} ms, tasks per worker ${q.perWorker.join('/')}; load ${load()}`,
      );
    }
  }
  const dWall = median(duck.map((d) => d.wallMs));
  console.log(
    `\nbench:workers, queue — ${N.toLocaleString('en-US')} no-op assets (seeded DAG, seed ${values.seed}), ${SLOTS} slots per worker, ${repeat} run(s), medians; load average ${loadAtStart} at the start, ${load()} at the end\n`,
  );
  console.log(
    '| side | wall | tasks/s | ready → started p50 / p99 / max | CPU (workers) | CPU (PostgreSQL) | PostgreSQL CPU per task | ratio tasks/s vs single process |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(
    `| single process, DuckDB state (runPlan) | ${s(dWall)} | ${Math.round(N / (dWall / 1000)).toLocaleString('en-US')} | ${median(duck.map((d) => d.latency.p50)).toFixed(1)} / ${median(duck.map((d) => d.latency.p99)).toFixed(1)} / ${median(duck.map((d) => d.latency.max)).toFixed(1)} ms | ${s(median(duck.map((d) => d.cpuMs)))} | — | — | 1.00 |`,
  );
  for (const k of counts) {
    const rs = queueRuns.filter((r) => r.workers === k);
    const wall = median(rs.map((r) => r.wallMs));
    const pgCpu = median(rs.map((r) => r.postgresCpuS));
    console.log(
      `| ${k} worker${k > 1 ? 's' : ''}, PostgreSQL queue | ${s(wall)} | ${Math.round(N / (wall / 1000)).toLocaleString('en-US')} | ${median(rs.map((r) => r.p50))} / ${median(rs.map((r) => r.p99))} / ${median(rs.map((r) => r.max))} ms | ${median(rs.map((r) => r.workerCpuS)).toFixed(2)} s | ${pgCpu.toFixed(2)} s | ${((pgCpu * 1000) / N).toFixed(3)} ms | ${(dWall / wall).toFixed(2)} |`,
    );
  }
  console.log(
    `\nenqueue of the ${N.toLocaleString('en-US')} tasks and their edges: ${s(median(queueRuns.map((r) => r.enqueueMs)))} (not in the queue's wall time, which runs from the first task ready to the last finished, by the database's clock). PostgreSQL CPU: the bench database's backends (pg_stat_activity + /proc), enqueue included.`,
  );
}

async function templateSection(): Promise<void> {
  const loadAtStart = load();
  const { duck, pg: pgs } = await templateRuns();
  const dWall = median(duck.map((d) => d.wallMs));
  const pWall = median(pgs.map((p) => p.wallMs));
  const dCpu = median(duck.map((d) => d.cpuMs)) / 1000;
  const pCpu = median(pgs.map((p) => p.cpuMs)) / 1000;
  const pPg = median(pgs.map((p) => p.postgresCpuS));
  console.log(
    `\nbench:workers, template — the e-commerce template at scale ${values.scale} (seed ${values.seed}, ${duck[0]!.steps} steps, syncs excluded, fct_sales ${duck[0]!.factRows.toLocaleString('en-US')} rows on both), the same generated files, ${repeat} run(s), medians; load average ${loadAtStart} at the start, ${load()} at the end\n`,
  );
  console.log(
    '| warehouse | wall | CPU (pipeline process) | CPU (PostgreSQL) | CPU total | ratio wall vs DuckDB | ratio CPU vs DuckDB |',
  );
  console.log('|---|---|---|---|---|---|---|');
  console.log(
    `| DuckDB | ${s(dWall)} | ${dCpu.toFixed(2)} s | — | ${dCpu.toFixed(2)} s | 1.00 | 1.00 |`,
  );
  console.log(
    `| PostgreSQL | ${s(pWall)} | ${pCpu.toFixed(2)} s | ${pPg.toFixed(2)} s | ${(pCpu + pPg).toFixed(2)} s | ${(pWall / dWall).toFixed(2)} | ${((pCpu + pPg) / dCpu).toFixed(2)} |`,
  );
  console.log(
    `\nPostgreSQL's warehouse takes ${(pWall / dWall).toFixed(2)}× DuckDB's wall time (${pWall > dWall ? `${((pWall / dWall - 1) * 100).toFixed(0)}% slower` : `${((1 - pWall / dWall) * 100).toFixed(0)}% faster`}); the pipeline process still runs processing on an in-memory DuckDB beside it and streams each Parquet batch into PostgreSQL (COPY).`,
  );
}

if (only !== 'template') await queueSection();
if (only !== 'queue') await templateSection();
