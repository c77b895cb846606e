/**
 * The long-running side of `tributary serve`: the scheduler, file-arrival triggers and crash
 * recovery for one open workspace. On start, runs a dead process left `running` (already marked
 * failed when the workspace opened) are resumed: their failed and never-run steps run again, and
 * since every step commits atomically and is idempotent, nothing is lost or doubled. Shutdown
 * lets the running steps finish (`drain`) or interrupts them (`abort`), then stops.
 */
import { TributaryError, describeError } from '../core/index.js';
import type { StreamSourceTable } from '../project/index.js';
import { publishServingSnapshot, type ServingSnapshot } from './serving.js';
import { LandingWatcher } from './watch.js';
import { deadLetterRun } from './dead-letters.js';
import { Scheduler, type Clock, type RunRequest, type SchedulerEvent } from './scheduler.js';
import {
  runPipeline,
  type AlertSink,
  type FreshnessAlert,
  type RunOptions,
  type RunResult,
} from './runner.js';
import type { Workspace } from './workspace.js';

export interface ServerOptions {
  clock?: Clock;
  /** Options every run gets (progress…). */
  runDefaults?: RunOptions;
  /** Failure, retry and success alerts of runs, and freshness breaches. */
  alerts?: AlertSink;
  /** Resume runs a crashed process left behind (default true); false only marks them failed. */
  resumeAbandoned?: boolean;
  onEvent?: (event: SchedulerEvent) => void;
  freshnessEveryMs?: number;
  /**
   * Publish a serving snapshot of the warehouse after each run (default true): what the API's
   * queries and dashboards read. Told to `onPublished`.
   */
  publish?: boolean;
  onPublished?: (snapshot: ServingSnapshot) => void | Promise<void>;
  /** How often a replica tries to lead and the leader checks it still does (default 2 s). */
  leaderCheckMs?: number;
}

export class PipelineServer {
  readonly scheduler: Scheduler;
  private readonly watchers: LandingWatcher[] = [];
  private readonly recovered: Promise<unknown>[] = [];

  constructor(
    readonly ws: Workspace,
    private readonly opts: ServerOptions = {},
  ) {
    const alerts = opts.alerts;
    const runDefaults = { ...opts.runDefaults, ...(alerts ? { alerts } : {}) };
    // A triggered run (an event, like the seeds' S3 → Lambda) that fails or cannot start is kept
    // in the dead-letter store, so the event is not lost: `tributary dlq replay` runs it again.
    const execute = async (req: RunRequest): Promise<RunResult> => {
      const dead = req.trigger.startsWith('trigger:');
      let result: RunResult;
      try {
        result = await runPipeline(ws, { ...runDefaults, ...req });
      } catch (error) {
        if (dead) await deadLetterRun(ws, req, { error });
        throw error;
      }
      if (dead && result.status === 'failed') await deadLetterRun(ws, req, { result });
      if ((await this.publish()) && result.runId) await this.markPublished(result.runId);
      return result;
    };
    this.scheduler = new Scheduler(ws, {
      ...(opts.clock ? { clock: opts.clock } : {}),
      execute,
      runDefaults,
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      ...(alerts ? { onFreshness: (a: FreshnessAlert) => alerts.notify(a) } : {}),
      ...(opts.freshnessEveryMs ? { freshnessEveryMs: opts.freshnessEveryMs } : {}),
      ...(opts.leaderCheckMs ? { leaderCheckMs: opts.leaderCheckMs } : {}),
      onLeading: (leading) => {
        if (!ws.shared) return;
        // Stopping must not hold up the leadership check (a triggered run may be in progress).
        if (!leading) void this.watchLanding(false);
        else return this.watchLanding(true);
      },
    });
  }

  private emit(event: SchedulerEvent): void {
    this.opts.onEvent?.(event);
  }

  /**
   * Publishes the warehouse for queries when it changed (inside the queue: nothing writes).
   * False when it did not publish (turned off, or failed: the error event says why).
   */
  private async publish(): Promise<boolean> {
    if (this.opts.publish === false) return false;
    try {
      const snapshot = await publishServingSnapshot(this.ws);
      await this.opts.onPublished?.(snapshot);
      return true;
    } catch (err) {
      this.emit({
        kind: 'error',
        message: `publishing the serving snapshot failed: ${describeError(err)}`,
      });
      return false;
    }
  }

  /** Records in run history that queries now read what `runId` built (the API's publishedAt). */
  private async markPublished(runId: string): Promise<void> {
    try {
      await this.ws.state.markPublished(runId, new Date().toISOString());
    } catch (err) {
      this.emit({
        kind: 'error',
        runId,
        message: `recording that run ${runId} was published failed: ${describeError(err)}`,
      });
    }
  }

  /**
   * Runs work that may write the warehouse (a dead-letter replay) in the run queue, so it never
   * overlaps a run, and publishes afterwards.
   */
  async exclusive<T>(owner: string, job: () => Promise<T>): Promise<T> {
    const out = await this.scheduler.queue.submitJob(owner, async () => {
      try {
        return await job();
      } finally {
        await this.publish();
      }
    });
    if (out === undefined && this.stopping) {
      throw new TributaryError('the server is stopping', { code: 'USAGE' });
    }
    return out as T;
  }

  private stopping = false;

  /** Resumes abandoned runs, starts file watchers and the scheduler. */
  async start(): Promise<void> {
    await this.publish();
    if (this.opts.resumeAbandoned ?? true) {
      for (const runId of this.ws.abandonedRuns) {
        this.emit({
          kind: 'tick',
          runId,
          message: `run ${runId} was left running by a process that stopped; resuming it`,
        });
        this.recovered.push(
          this.scheduler.queue
            .submit({ trigger: 'recovery', resume: runId, command: `resume ${runId}` })
            .catch((err: unknown) =>
              this.emit({
                kind: 'error',
                runId,
                message: `resuming ${runId} failed: ${describeError(err)}`,
              }),
            ),
        );
      }
    } else {
      for (const runId of this.ws.abandonedRuns)
        this.emit({ kind: 'tick', runId, message: `run ${runId} was left running; marked failed` });
    }
    // Shared, every replica sees the same landing folder: only the scheduler's leader watches
    // it (onLeading), or one new file would start a run in each. Alone, this process leads.
    if (!this.ws.shared) await this.watchLanding(true);
    await this.scheduler.start();
  }

  /** The watchers' last start or stop, so a change of leadership waits for the previous one. */
  private watching: Promise<void> = Promise.resolve();

  /**
   * Starts the file-arrival triggers' watchers (none when already watching), or stops them: a
   * stop does not wait for a triggered run in progress (the queue drains or aborts it).
   */
  private watchLanding(on: boolean): Promise<void> {
    const change = async () => {
      if (!on) {
        const stopping = this.watchers.splice(0).map((w) => w.stop());
        this.stoppingWatchers.push(...stopping);
        return;
      }
      if (this.watchers.length || this.stopping) return;
      for (const [name, t] of Object.entries(this.ws.project.config.triggers)) {
        if (t.on !== 'file_arrival') continue;
        const watcher = new LandingWatcher(this.ws, {
          ...(t.tables ? { tables: t.tables } : {}),
          ...(t.settle !== undefined ? { settleMs: t.settle } : {}),
          onError: (err) => this.emit({ kind: 'error', message: `${name}: ${describeError(err)}` }),
          run: (tables) => {
            this.emit({ kind: 'trigger', message: `${name}: new files for ${tables.join(', ')}` });
            return this.scheduler.queue.submit({
              trigger: `trigger:${name}`,
              select: t.run ?? tables.map((id) => `raw:${id}+`),
              command: `trigger ${name} (${tables.join(', ')})`,
            });
          },
        });
        this.watchers.push(watcher);
        await watcher.start();
      }
    };
    this.watching = this.watching.then(change, change);
    return this.watching;
  }

  /** Watchers stopped on losing leadership, whose triggered run may still be finishing. */
  private readonly stoppingWatchers: Promise<void>[] = [];

  /** Stream tables with a batch landed while their last triggered run was queued or running. */
  private readonly streamsLandedAgain = new Set<string>();

  /**
   * A stream table's batch was committed to the raw zone (the flusher loop): runs its processing
   * and everything downstream, as a file arrival does. Batches landing while such a run waits or
   * runs are taken by one more run after it, so runs never pile up behind a busy stream.
   */
  streamLanded(table: StreamSourceTable): void {
    const trigger = `trigger:stream:${table.id}`;
    if (this.stopping) return;
    if (this.scheduler.queue.isBusy(trigger)) {
      this.streamsLandedAgain.add(table.id);
      return;
    }
    this.emit({ kind: 'trigger', message: `stream ${table.stream}: new batch for ${table.id}` });
    this.scheduler.queue
      .submit({
        trigger,
        select: [`processed:${table.table}+`],
        command: `trigger stream ${table.stream} (${table.id})`,
      })
      .catch((err: unknown) =>
        this.emit({ kind: 'error', message: `${trigger}: ${describeError(err)}` }),
      )
      .finally(() => {
        if (this.streamsLandedAgain.delete(table.id)) this.streamLanded(table);
      });
  }

  /** Waits for the runs that resume abandoned ones (tests and `serve --once`). */
  async recovery(): Promise<void> {
    await Promise.all(this.recovered);
  }

  /** Stops watching and scheduling; the run in progress drains or is aborted. */
  async stop(mode: 'drain' | 'abort' = 'drain'): Promise<void> {
    this.stopping = true;
    // The queue first: watchers wait for their run, which the queue stops or drains.
    const watchersStopped = this.watchLanding(false).then(() => Promise.all(this.stoppingWatchers));
    await Promise.all([this.scheduler.stop(mode), watchersStopped]);
  }
}

export type { RunResult };
