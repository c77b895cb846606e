/**
 * `npm run bench:workers` (issue 18): the seeded 10,000-asset DAG of no-op tasks (the one
 * bench:orchestrate dispatches) run from the shared work queue in PostgreSQL by one, two and four
 * worker processes (each with `--slots` tasks at once), beside today's single process with
 * DuckDB state (bench:orchestrate's `tributary` side: plan + runPlan writing run history) in the
 * same run. It prints tasks per second, the ready → started latency (database clock: from the
 * moment the task's last upstream completed to the moment a worker claimed it) and the CPU
 * seconds each side spent: the workers', and PostgreSQL's own (its backends, from /proc), since
 * on two cores the database is a large part of the cost.
 *   npm run bench:workers -- --tasks 10000 --workers 1,2,4 --slots 8 [--repeat 1] [--seed 42]
 * What it does not measure yet: real steps (no-ops only), and the coordinator of a real run
 * (enqueue is timed on its own).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openPostgres } from '../src/engines/index.js';
import { WorkQueue } from '../src/state/index.js';
import { generateDag } from './generated-dag.js';
import type { WorkerResult } from './orchestrate-worker.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '10000' },
    workers: { type: 'string', default: '1,2,4' },
    slots: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '1' },
    seed: { type: 'string', default: '42' },
    url: {
      type: 'string',
      default: process.env.TRIBUTARY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
  },
});
const N = Number(values.tasks);
const SLOTS = Number(values.slots);
const counts = values.workers.split(',').map(Number);
const repeat = Number(values.repeat);
const here = import.meta.dirname;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** CPU seconds PostgreSQL has spent: live backends plus what the postmaster reaped of the dead. */
function postgresCpuSeconds(): number {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (comm !== 'postgres') continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14–17 (utime, stime, cutime, cstime) are at 11–14 after the command.
    total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return total / tick;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
};

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

async function runWorkers(k: number): Promise<QueueResult> {
  const schema = `bench_workers_${Date.now().toString(36)}_${k}`;
  const admin = await openPostgres({ url: values.url });
  await admin.exec(`CREATE SCHEMA "${schema}"`);
  const engine = await openPostgres({ url: values.url, schema });
  try {
    const queue = await WorkQueue.open(engine);
    const dag = generateDag(N, Number(values.seed));
    const e0 = performance.now();
    // Roots become ready at enqueue; workers are started first so none waits on a process start.
    const pg0 = postgresCpuSeconds();
    const children = Array.from({ length: k }, (_, i) =>
      spawn(
        process.execPath,
        [join(here, 'workers-worker.js'), values.url, schema, `w${i}`, String(SLOTS)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      ),
    );
    await queue.enqueue(
      'bench',
      dag.map((a) => ({ task: a.name, deps: a.deps })),
    );
    const enqueueMs = performance.now() - e0;
    const outputs = await Promise.all(
      children.map(
        (c) =>
          new Promise<{ completed: number; cpuMs: number }>((done, fail) => {
            let out = '';
            c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
            c.on('close', (code) =>
              code === 0
                ? done(
                    JSON.parse(out.trim().split('\n').pop()!) as {
                      completed: number;
                      cpuMs: number;
                    },
                  )
                : fail(new Error(`worker exited ${code}`)),
            );
          }),
      ),
    );
    const pgCpu = postgresCpuSeconds() - pg0;
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
    await admin.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.close();
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

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const dWall = median(duck.map((d) => d.wallMs));
console.log(
  `\nbench:workers — ${N.toLocaleString('en-US')} no-op assets (seeded DAG, seed ${values.seed}), ${SLOTS} slots per worker, ${repeat} run(s), medians; load average ${loadAtStart} at the start, ${load()} at the end\n`,
);
console.log(
  '| side | wall | tasks/s | ready → started p50 / p99 / max | CPU (workers) | CPU (PostgreSQL) | ratio tasks/s vs single process |',
);
console.log('|---|---|---|---|---|---|---|');
console.log(
  `| single process, DuckDB state (runPlan) | ${s(dWall)} | ${Math.round(N / (dWall / 1000)).toLocaleString('en-US')} | ${median(duck.map((d) => d.latency.p50)).toFixed(1)} / ${median(duck.map((d) => d.latency.p99)).toFixed(1)} / ${median(duck.map((d) => d.latency.max)).toFixed(1)} ms | ${s(median(duck.map((d) => d.cpuMs)))} | — | 1.00 |`,
);
for (const k of counts) {
  const rs = queueRuns.filter((r) => r.workers === k);
  const wall = median(rs.map((r) => r.wallMs));
  console.log(
    `| ${k} worker${k > 1 ? 's' : ''}, PostgreSQL queue | ${s(wall)} | ${Math.round(N / (wall / 1000)).toLocaleString('en-US')} | ${median(rs.map((r) => r.p50))} / ${median(rs.map((r) => r.p99))} / ${median(rs.map((r) => r.max))} ms | ${median(rs.map((r) => r.workerCpuS)).toFixed(2)} s | ${median(rs.map((r) => r.postgresCpuS)).toFixed(2)} s | ${(dWall / wall).toFixed(2)} |`,
  );
}
console.log(
  `\nenqueue of the ${N.toLocaleString('en-US')} tasks and their edges: ${s(median(queueRuns.map((r) => r.enqueueMs)))} (not in the queue's wall time, which runs from the first task ready to the last finished, by the database's clock).`,
);
