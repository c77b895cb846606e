/**
 * `tributary worker`: one more pair of hands for a shared project (state and warehouse on
 * PostgreSQL). It claims ready steps of any run from the shared work queue, runs each under a
 * lease it keeps alive with heartbeats, and finishes a run when it completes the run's last
 * step; start as many as you like, on any machines that reach the state database, the warehouse
 * and the lake (one machine shares its lake folder; several need the lake on shared storage).
 * SIGTERM or Ctrl-C stops claiming and lets running steps finish; a second one aborts them and
 * gives them back to the queue. Quiet by default: errors only, or a line per step with -v.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { TributaryError } from '../../core/index.js';
import { runQueueWorker } from '../../dag/index.js';
import {
  QueueStepExecutor,
  heartbeatEvery,
  isSharedProject,
  openWorkspace,
  queuedRunOpener,
  reapFinishedRuns,
  workerName,
} from '../../orchestrator/index.js';
import { loadProject } from '../../project/index.js';
import { integer, print, type CliContext } from '../context.js';

interface WorkerOptions {
  slots?: number;
  untilIdle?: boolean;
  once?: boolean;
  json?: boolean;
}

export function registerWorker(program: Command, cli: CliContext): void {
  program
    .command('worker')
    .description(
      'run steps from the shared work queue, for runs started anywhere (needs PostgreSQL state and warehouse)',
    )
    .option('--slots <n>', 'steps run at once (default tributary.yml concurrency)', integer)
    .option('--until-idle', 'stop once there is nothing ready to claim and nothing running here')
    .option('--once', 'the same as --until-idle')
    .option('--json', 'when it stops, print what it did as one JSON line')
    .action(async (opts: WorkerOptions) => work(cli, opts));
}

async function work(cli: CliContext, opts: WorkerOptions): Promise<void> {
  const project = await loadProject(cli.project());
  if (!isSharedProject(project)) {
    throw new TributaryError(
      'tributary worker needs a shared project: state and warehouse both on PostgreSQL',
      {
        code: 'USAGE',
        location: { file: join(project.dir, 'tributary.yml'), path: 'state, warehouse' },
        hint: 'set `state: {store: postgres, url: …}` and `warehouse: {engine: postgres, url: …}` in tributary.yml (docs/state.md); with a DuckDB warehouse or DuckDB state, `tributary run` runs everything in one process',
      },
    );
  }
  // Quiet by default; with -v/--verbose, a line per step started and finished (as `run -v`).
  const progress = cli.progress();
  const log = (line: string) => {
    if (line.startsWith('error')) process.stderr.write(`${line}\n`);
    else progress.log(line);
  };
  const ws = await openWorkspace(project.dir, 'worker');
  const queue = ws.queue!;
  const name = workerName();
  const executor = new QueueStepExecutor(ws, queue, queuedRunOpener(ws, { progress }), ws.alerts);
  const stop = new AbortController();
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stop.signal.aborted) {
      log(`${signal}: no more claims; running steps finish (again to abort them)`);
      stop.abort();
    } else {
      log(`${signal}: aborting running steps and giving them back to the queue`);
      abort.abort();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let reapedAt = 0;
  log(`worker ${name}: ${opts.slots ?? project.config.concurrency} slot(s)`);
  try {
    const stats = await runQueueWorker(executor.taskQueue(), {
      worker: name,
      slots: Math.max(1, opts.slots ?? project.config.concurrency),
      execute: executor.execute,
      stop: stop.signal,
      abort: abort.signal,
      heartbeatMs: heartbeatEvery(queue),
      onIdle: async () => {
        // Now and then, finish runs whose finisher died after completing their last step.
        if (Date.now() - reapedAt > queue.leaseMs / 2) {
          reapedAt = Date.now();
          await reapFinishedRuns(ws, queue, ws.alerts).catch((err: unknown) =>
            log(`error finishing runs: ${err instanceof Error ? err.message : String(err)}`),
          );
        }
        return opts.untilIdle === true || opts.once === true;
      },
      onFinish: (claim, outcome, recorded) =>
        log(
          `${recorded ? outcome.status : 'dropped'} ${claim.runId} ${claim.task}${recorded ? '' : ' (its lease was lost: another worker has it)'}`,
        ),
    });
    if (opts.json) print(JSON.stringify({ worker: name, ...stats }));
    else log(`worker ${name} stopped: ${stats.completed} step(s) completed`);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await executor.close();
    await ws.close();
  }
}
