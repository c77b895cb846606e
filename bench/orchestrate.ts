/**
 * `npm run bench:orchestrate`: plan and dispatch a 10,000-asset DAG of no-op assets through the
 * real runner (runPlan: run, step, attempt and log rows in a DuckDB state store), and print the
 * overhead per task, the throughput and the scheduler latency (due → started: from the moment a
 * task's last upstream task returned to the moment it started; p50/p99/max). Targets from the
 * issue: < 2 ms per task and < 100 ms p99 (Airflow's scheduler loop handles roughly 500–1,000
 * tasks a second, apache/airflow#31185).
 *
 * In the same run, each in a fresh child process (bench/orchestrate-worker.ts) so peak memory is
 * its own, rotating which side goes first:
 *   - tributary: plan (buildAssetGraph with its topological order, selectAssets) + runPlan;
 *   - dispatch: dispatch() alone with the same no-op tasks, no state store;
 *   - reference: the bare minimum — indegree counters and an array queue, same concurrency.
 * Every side's no-op does the same work (it logs `--logs` lines per step, kept in memory with
 * their time); only Tributary writes them, and the step records, to its state store.
 * Ratio = reference time / Tributary time: the share of Tributary's time the bare work is, printed
 * per run (each run's sides measured back to back) and as the median.
 *   npm run bench:orchestrate -- --tasks 10000 --concurrency 8 --repeat 3 [--logs 1] [--seed 42]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs } from './args.js';
import type { Percentiles, WorkerResult } from './orchestrate-worker.js';

const { values } = benchArgs(
  {
    options: {
      tasks: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '8' },
      repeat: { type: 'string', default: '3' },
      seed: { type: 'string', default: '42' },
      /** Log lines each no-op step writes (they go to the step_logs table). */
      logs: { type: 'string', default: '1' },
    },
  },
  import.meta.url,
);
const tasks = Number(values.tasks);
const concurrency = Number(values.concurrency);
const repeat = Number(values.repeat);
const worker = resolve(import.meta.dirname, 'orchestrate-worker.js');
const TARGET_MS_PER_TASK = 2;
const TARGET_P99_MS = 100;

function measure(side: string): WorkerResult {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-orchestrate-'));
  try {
    const r = spawnSync(
      process.execPath,
      [worker, side, String(tasks), String(concurrency), values.seed, values.logs, dir],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    if (r.status !== 0) throw new Error(`${side} failed:\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as WorkerResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SIDES = ['tributary', 'dispatch', 'reference'] as const;
type Side = (typeof SIDES)[number];
const runs: Record<Side, WorkerResult[]> = { tributary: [], dispatch: [], reference: [] };
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const loadAtStart = load();
for (let i = 0; i < repeat; i++) {
  // Rotate which side goes first, so none always runs on a cold (or warm) machine.
  const order = SIDES.map((_, k) => SIDES[(k + i) % SIDES.length]!);
  for (const side of order) runs[side].push(measure(side));
  const t = runs.tributary[i]!;
  const d = runs.dispatch[i]!;
  const r = runs.reference[i]!;
  process.stderr.write(
    `run ${i + 1}/${repeat} (${order.join(' → ')}): tributary ${t.wallMs.toFixed(0)} ms (last task at ${t.lastTaskMs!.toFixed(0)} ms, p99 ${t.latency.p99.toFixed(1)} ms), dispatch() ${d.wallMs.toFixed(0)} ms, reference ${r.wallMs.toFixed(1)} ms; ratio reference / tributary ${(r.wallMs / t.wallMs).toFixed(4)}, reference / dispatch() ${(r.wallMs / d.wallMs).toFixed(3)}; load ${load()}\n`,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const med = (side: Side, f: (r: WorkerResult) => number) => median(runs[side].map(f));
const ms = (x: number) =>
  x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 2 : 0)} ms`;
const lat = (side: Side, f: (r: WorkerResult) => Percentiles) =>
  `${ms(med(side, (r) => f(r).p50))} / ${ms(med(side, (r) => f(r).p99))} / ${ms(med(side, (r) => f(r).max))}`;

const first = runs.tributary[0]!;
const plan = (f: (p: NonNullable<WorkerResult['plan']>) => number) =>
  med('tributary', (r) => f(r.plan!));
const planMs = plan((p) => p.graphMs + p.selectAllMs + p.selectUpMs + p.stepsMs);
console.log(
  `\nbench:orchestrate — ${first.tasks.toLocaleString('en-US')} no-op assets, ${first.edges.toLocaleString('en-US')} edges, concurrency ${concurrency}, ${values.logs} log line(s) per step on every side, seed ${values.seed}; ${repeat} run(s), medians; load average (1/5/15 min) ${loadAtStart} at the start, ${load()} at the end\n`,
);
console.log(
  `plan: ${ms(planMs)} — graph + topological order ${ms(plan((p) => p.graphMs))}, select all ${ms(plan((p) => p.selectAllMs))}, select +${'<last>'} ${ms(plan((p) => p.selectUpMs))} (${first.plan!.upSelected} assets), planned steps ${ms(plan((p) => p.stepsMs))}\n`,
);
console.log(
  '| side | wall | per task | tasks/s | CPU | latency due → started p50 / p99 / max | peak RSS |',
);
console.log('|---|---|---|---|---|---|---|');
const row = (label: string, side: Side, extraMs = 0) => {
  const wall = med(side, (r) => r.wallMs) + extraMs;
  console.log(
    `| ${label} | ${ms(wall)} | ${(wall / tasks).toFixed(4)} ms | ${Math.round(tasks / (wall / 1000)).toLocaleString('en-US')} | ${ms(med(side, (r) => r.cpuMs))} | ${lat(side, (r) => r.latency)} | ${Math.max(...runs[side].map((r) => r.maxRssMB))} MB |`,
  );
};
row(`tributary: plan + runPlan (history in DuckDB)`, 'tributary', planMs);
row(`tributary: runPlan only`, 'tributary');
row(`dispatch() only (no state store)`, 'dispatch');
row(`reference: indegree + array queue`, 'reference');

const tribWall = med('tributary', (r) => r.wallMs);
const lastTask = med('tributary', (r) => r.lastTaskMs!);
const ratios = runs.tributary.map((t, i) => runs.reference[i]!.wallMs / t.wallMs);
const dispRatios = runs.dispatch.map((d, i) => runs.reference[i]!.wallMs / d.wallMs);
console.log(
  `\nrunPlan: run recorded at ${ms(med('tributary', (r) => r.runRecordedMs!))}, first no-op started at ${ms(med('tributary', (r) => r.firstTaskMs!))}, last no-op returned at ${ms(lastTask)}; the remaining ${ms(tribWall - lastTask)} is closing sessions, flushing the write-behind run history and finishing the run`,
);
console.log(
  `dispatch() latency from its own TaskResult (startedAt − readyAt) p50 / p99 / max: ${lat('dispatch', (r) => r.dispatchLatency!)}`,
);
console.log(
  `ratio reference / tributary runPlan: **${median(ratios).toFixed(4)}** (per run: ${ratios.map((x) => x.toFixed(4)).join(', ')}); reference / dispatch(): ${median(dispRatios).toFixed(3)} (per run: ${dispRatios.map((x) => x.toFixed(3)).join(', ')})`,
);
for (const side of SIDES)
  console.log(
    `${side} latency p50 / p99 / max — roots (due when the run was called): ${lat(side, (r) => r.rootLatency)}; other tasks (due when their last upstream task returned): ${lat(side, (r) => r.restLatency)}`,
  );
const perTask = (tribWall + planMs) / tasks;
const p99 = med('tributary', (r) => r.latency.p99);
const p99s = runs.tributary.map((r) => r.latency.p99);
console.log(
  `targets: overhead per task ${perTask.toFixed(3)} ms < ${TARGET_MS_PER_TASK} ms ${perTask < TARGET_MS_PER_TASK ? 'met' : 'NOT MET'}; scheduler latency p99 ${p99.toFixed(1)} ms (runs: ${p99s.map((x) => x.toFixed(1)).join(', ')}) < ${TARGET_P99_MS} ms ${p99 < TARGET_P99_MS ? 'met' : 'NOT MET'}`,
);
