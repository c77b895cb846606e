/**
 * The scheduler (the seeds' EventBridge rules and Airflow's scheduler loop): cron schedules with
 * time zones (croner computes the ticks), upstream-updated triggers, and freshness checks. Runs
 * go through one queue and execute one after another, so two runs never process the same table
 * at once; parallelism lives inside a run (its concurrency). A schedule never overlaps itself: a
 * tick that comes while the schedule's previous run is queued or running is skipped and logged.
 *
 * After downtime each schedule follows its catch-up policy: `none` skips the ticks it missed,
 * `latest` runs once for the latest of them, `all` runs each (oldest first). The last tick handled
 * is kept in state, claimed in the transaction that records its run, so a restart never runs a
 * tick twice, and a tick whose run was queued but never recorded (the process died) is missed,
 * not lost: the next start catches it up by the policy.
 * Time comes from a Clock, so tests drive schedules and freshness with a fake one.
 *
 * Several `serve` processes may share one PostgreSQL state: only the leader among them (state's
 * Leadership, a session lock) arms ticks and checks freshness. One that becomes leader catches up
 * from the shared last tick by the policy, so ticks missed while a leader died and another took
 * over run as after downtime. Each tick is claimed with a conditional write in state in the
 * transaction that records its run (StateStore.claimTick, RunOptions.tick), so when two processes
 * briefly both think they lead, a tick still runs once, and a leader that dies between queuing a
 * tick's run and starting it leaves the tick to the next leader's catch-up. Upstream-updated
 * triggers fire in the process whose run finished: each run finishes in one process, so each fires
 * once.
 */
import { Cron } from 'croner';
import { TributaryError, describeError } from '../core/index.js';
import { lakeKeys, readManifest, type RawManifest, type TableManifest } from '../lake/index.js';
import type { ScheduleConfig } from '../project/index.js';
import { Leadership, type LeaderRecord } from '../state/index.js';
import { downstreamMap, matchAssets } from './graph.js';
import { resolvePolicies } from './policy.js';
import {
  TickHandled,
  runPipeline,
  type FreshnessAlert,
  type RunOptions,
  type RunResult,
} from './runner.js';
import type { Workspace } from './workspace.js';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SchedulerEvent {
  kind:
    | 'tick'
    | 'skipped'
    | 'caught_up'
    | 'run_started'
    | 'run_finished'
    | 'trigger'
    | 'freshness'
    | 'leadership'
    | 'error';
  message: string;
  schedule?: string;
  runId?: string;
  /** For run_started: ms between the tick being due and its run starting. */
  latencyMs?: number;
}

/** One queued run: what to run and who asked. */
export interface RunRequest extends RunOptions {
  /** `schedule:<name>`, `trigger:<name>`, `recovery`, `replay`. */
  trigger: string;
  /** When it was due (schedule ticks), for latency. */
  dueAt?: number;
}

/**
 * Runs one at a time, in order. `owner` names who asked (a schedule), so a schedule can see that
 * its previous run has not finished.
 */
export class RunQueue {
  private readonly queue: {
    req: RunRequest;
    /** Work other than a run that must not overlap one (a dead-letter replay). */
    job?: () => Promise<unknown>;
    resolve: (r: RunResult | undefined) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private readonly busyOwners = new Map<string, number>();
  private active: Promise<void> | undefined;
  private closed = false;
  /** Stop and abort signals of the run in progress, for a shutdown. */
  private current: { stop: AbortController; abort: AbortController } | undefined;

  constructor(
    private readonly execute: (req: RunRequest) => Promise<RunResult>,
    private readonly onFinished?: (
      req: RunRequest,
      result: RunResult | undefined,
      error?: unknown,
    ) => void,
  ) {}

  isBusy(owner: string): boolean {
    return (this.busyOwners.get(owner) ?? 0) > 0;
  }

  get size(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** Queues a run; resolves with its result (undefined when the queue closed before it ran). */
  submit(req: RunRequest): Promise<RunResult | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    this.busyOwners.set(req.trigger, (this.busyOwners.get(req.trigger) ?? 0) + 1);
    const done = new Promise<RunResult | undefined>((resolve, reject) =>
      this.queue.push({ req, resolve, reject }),
    );
    this.active ??= this.drain();
    return done;
  }

  /**
   * Queues other work that must not overlap a run (it may run the pipeline itself, e.g. a
   * dead-letter replay); resolves with its value, or undefined when the queue closed first.
   */
  submitJob<T>(owner: string, job: () => Promise<T>): Promise<T | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    this.busyOwners.set(owner, (this.busyOwners.get(owner) ?? 0) + 1);
    const done = new Promise<T | undefined>((resolve, reject) =>
      this.queue.push({
        req: { trigger: owner },
        job,
        resolve: resolve as (r: unknown) => void,
        reject,
      }),
    );
    this.active ??= this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length && !this.closed) {
        const { req, job, resolve, reject } = this.queue.shift()!;
        const stop = new AbortController();
        const abort = new AbortController();
        this.current = { stop, abort };
        if (job) {
          try {
            resolve((await job()) as RunResult | undefined);
          } catch (err) {
            reject(err);
          } finally {
            this.current = undefined;
            this.busyOwners.set(req.trigger, this.busyOwners.get(req.trigger)! - 1);
          }
          continue;
        }
        try {
          const result = await this.execute({ ...req, stop: stop.signal, abort: abort.signal });
          this.report(req, result);
          resolve(result);
        } catch (err) {
          this.report(req, undefined, err);
          reject(err);
        } finally {
          this.current = undefined;
          this.busyOwners.set(req.trigger, this.busyOwners.get(req.trigger)! - 1);
        }
      }
    } finally {
      this.active = undefined;
    }
  }

  /** Tells onFinished; a listener that throws must not stall the queue or a submit. */
  private report(req: RunRequest, result: RunResult | undefined, error?: unknown): void {
    try {
      this.onFinished?.(req, result, error);
    } catch {
      // Nowhere better to send it: the run's own outcome still reaches its submitter.
    }
  }

  /**
   * Stops taking runs and drops queued ones. The running one is asked to stop (running steps
   * finish, the rest are cancelled); `abort` also cancels running steps. Resolves when it ended.
   */
  async close(mode: 'drain' | 'abort' = 'drain'): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) {
      this.busyOwners.set(q.req.trigger, this.busyOwners.get(q.req.trigger)! - 1);
      q.resolve(undefined);
    }
    this.current?.stop.abort();
    if (mode === 'abort') this.current?.abort.abort();
    await this.active;
  }

  /** Cancels the running steps of the run in progress (a second SIGTERM). */
  abortCurrent(): void {
    this.current?.stop.abort();
    this.current?.abort.abort();
  }
}

/** A parsed cron schedule; a bad cron or time zone is a config error naming the field. */
export function compileSchedule(name: string, cfg: ScheduleConfig): Cron {
  // croner only looks at the time zone when it computes a run, so check it here.
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: cfg.timezone });
  } catch {
    throw new TributaryError(`schedule ${name}: unknown time zone ${cfg.timezone}`, {
      code: 'CONFIG',
      location: { file: 'tributary.yml', path: `schedules.${name}.timezone` },
      hint: 'an IANA time zone such as Europe/Berlin, America/New_York or UTC',
    });
  }
  try {
    const cron = new Cron(cfg.cron, { timezone: cfg.timezone, paused: true });
    cron.nextRun(); // anything else croner checks lazily fails here, not in a timer at 2 a.m.
    return cron;
  } catch (err) {
    throw new TributaryError(`schedule ${name}: ${describeError(err)}`, {
      code: 'CONFIG',
      location: { file: 'tributary.yml', path: `schedules.${name}.cron` },
      hint: 'five fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *", and an IANA time zone such as Europe/Berlin',
    });
  }
}

/** Ticks of a schedule after `after` up to and including `until` (at most `limit`). */
export function ticksBetween(cron: Cron, after: number, until: number, limit = 10_000): number[] {
  const out: number[] = [];
  let t = new Date(after);
  while (out.length < limit) {
    const next = cron.nextRun(t);
    if (!next || next.getTime() > until) break;
    out.push(next.getTime());
    t = next;
  }
  return out;
}

/** The leadership role of a project's scheduler (one leader per project and state schema). */
export function schedulerRole(projectName: string): string {
  return `scheduler/${projectName}`;
}

/** Most missed ticks `catch_up: all` runs after downtime (oldest first). */
const CATCH_UP_LIMIT = 10_000;

export interface SchedulerOptions {
  clock?: Clock;
  /** Runs a request (default: the pipeline runner on this workspace). */
  execute?: (req: RunRequest) => Promise<RunResult>;
  /** Options every run gets (progress, alerts…). */
  runDefaults?: RunOptions;
  onEvent?: (event: SchedulerEvent) => void;
  /** Where freshness breaches go. */
  onFreshness?: (alert: FreshnessAlert) => Promise<unknown>;
  /** How often freshness is checked (default 60 s). */
  freshnessEveryMs?: number;
  /**
   * How often a replica that does not lead tries to take over, and the leader checks it still
   * leads (default 2 s; only with a state shared by several processes).
   */
  leaderCheckMs?: number;
  /**
   * Told when this process starts leading (after ticks are armed) and when it stops: what only
   * the leader may do beside the ticks (the server's file-arrival watchers) follows it.
   */
  onLeading?: (leading: boolean) => Promise<void> | void;
}

/** Schedules, upstream-updated triggers and freshness for one open workspace. */
export class Scheduler {
  readonly queue: RunQueue;
  private readonly clock: Clock;
  private readonly timers = new Map<string, unknown>();
  private freshnessTimer: unknown;
  private stopped = false;
  private readonly crons = new Map<string, Cron>();
  /** Ticks handled, claimed in order (a tick's claim never overtakes an earlier one). */
  private tickWrites: Promise<void> = Promise.resolve();
  /** Per schedule, its runs queued here whose record (and tick claim) has not happened yet. */
  private readonly unrecordedRuns = new Map<string, number>();
  private leadership: Leadership | undefined;

  constructor(
    private readonly ws: Workspace,
    private readonly opts: SchedulerOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    for (const [name, cfg] of Object.entries(ws.project.config.schedules)) {
      if (!cfg.enabled) continue;
      this.crons.set(name, compileSchedule(name, cfg));
      // Validate selectors now, not at 2 a.m.
      for (const s of [...cfg.select, ...cfg.exclude])
        matchOrThrow(ws, s.replace(/^\+|\+$/g, ''), `schedules.${name}`);
    }
    for (const [name, t] of Object.entries(ws.project.config.triggers)) {
      if (t.on !== 'asset_updated') continue;
      for (const s of [...t.assets, ...(t.run ?? [])])
        matchOrThrow(ws, s.replace(/^\+|\+$/g, ''), `triggers.${name}`);
    }
    const execute = opts.execute ?? ((req) => runPipeline(ws, { ...opts.runDefaults, ...req }));
    this.queue = new RunQueue(
      (req) =>
        execute({
          ...req,
          onStart: (runId) => {
            req.onStart?.(runId);
            this.emit({
              kind: 'run_started',
              runId,
              message: `${req.trigger}: run ${runId} started`,
              ...(req.dueAt !== undefined ? { latencyMs: this.clock.now() - req.dueAt } : {}),
            });
          },
        }),
      (req, result, error) => this.finished(req, result, error),
    );
  }

  private emit(event: SchedulerEvent): void {
    this.opts.onEvent?.(event);
  }

  /**
   * Competes for leadership of this project's scheduling (at once: on a state one process owns,
   * this process leads before start resolves), and while leading catches up on missed ticks, arms
   * each schedule's next tick and the freshness check.
   */
  async start(): Promise<void> {
    this.stopped = false;
    this.leadership = await Leadership.open(this.ws.state.engine, this.role, {
      ...(this.opts.leaderCheckMs ? { checkEveryMs: this.opts.leaderCheckMs } : {}),
      onChange: (leading) => (leading ? this.lead() : this.stepDown()),
      onError: (message) => this.emit({ kind: 'error', message }),
    });
    await this.leadership.start();
  }

  /** What this project's scheduler leads as (one leader per project and state schema). */
  private get role(): string {
    return schedulerRole(this.ws.project.config.name);
  }

  /** Whether this process fires the ticks (it leads among the processes sharing the state). */
  get leading(): boolean {
    return this.leadership?.leading ?? false;
  }

  /** Which process leads this project's scheduling, as it last recorded itself. */
  leader(): Promise<LeaderRecord | undefined> {
    return Leadership.current(this.ws.state.engine, this.role);
  }

  /** Became leader: catches up from the shared last ticks, then arms ticks and freshness. */
  private async lead(): Promise<void> {
    this.emit({ kind: 'leadership', message: `leading the schedules (pid ${process.pid})` });
    const now = this.clock.now();
    for (const [name, cron] of this.crons) {
      // A new schedule starts from now: it does not run for the time before it existed.
      const last = await this.ws.state.beginTicks(name, new Date(now).toISOString());
      this.catchUp(name, cron, Date.parse(last), now);
      this.arm(name);
    }
    if (this.freshnessPolicies().size) {
      await this.checkFreshness();
      this.armFreshness();
    }
    await this.opts.onLeading?.(true);
  }

  /** Runs the ticks missed since `last` by the schedule's catch-up policy. */
  private catchUp(name: string, cron: Cron, last: number, now: number): void {
    const cfg = this.ws.project.config.schedules[name]!;
    const missed = ticksBetween(cron, last, now, CATCH_UP_LIMIT);
    if (!missed.length) return;
    // ticksBetween stops at its limit, oldest first: the latest missed tick (the last one at or
    // before now) is asked for directly, so `latest` and `none` never land on an old tick that a
    // restart would count as missed again.
    const latest = Math.max(
      missed[missed.length - 1]!,
      cron.previousRuns(1, new Date(now + 1))[0]?.getTime() ?? 0,
    );
    const chosen = cfg.catch_up === 'all' ? missed : cfg.catch_up === 'latest' ? [latest] : [];
    const count = missed.length === CATCH_UP_LIMIT ? `${CATCH_UP_LIMIT}+` : String(missed.length);
    this.emit({
      kind: 'caught_up',
      schedule: name,
      message: `${name}: ${count} tick(s) missed while stopped; catch_up ${cfg.catch_up} runs ${chosen.length}`,
    });
    for (const tick of chosen) this.fire(name, tick, true);
    if (!chosen.length) this.recordTick(name, latest);
  }

  /**
   * Lost leadership: arms nothing more. Runs already queued go on, each claiming its tick as it
   * starts: one that a new leader ran meanwhile does not start.
   */
  private stepDown(): void {
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
    if (this.freshnessTimer !== undefined) this.clock.clearTimeout(this.freshnessTimer);
    this.freshnessTimer = undefined;
    void this.opts.onLeading?.(false);
    if (!this.stopped)
      this.emit({
        kind: 'leadership',
        message: `no longer leading the schedules (pid ${process.pid})`,
      });
  }

  /** Stops arming ticks, gives up leadership and closes the queue (see RunQueue.close). */
  async stop(mode: 'drain' | 'abort' = 'drain'): Promise<void> {
    this.stopped = true;
    this.stepDown();
    await this.leadership?.stop();
    await this.queue.close(mode);
    await this.tickWrites;
  }

  /** Resolves once the ticks fired so far are queued as runs, or skipped and claimed. */
  async idle(): Promise<void> {
    for (;;) {
      const pending = this.tickWrites;
      await pending;
      if (pending === this.tickWrites) return;
    }
  }

  /** The next tick of every schedule (for `tributary schedules` and the API). */
  nextTicks(): { schedule: string; next: string | null }[] {
    return [...this.crons].map(([name, cron]) => ({
      schedule: name,
      next: cron.nextRun(new Date(this.clock.now()))?.toISOString() ?? null,
    }));
  }

  private arm(name: string): void {
    if (this.stopped || !this.leading) return;
    const cron = this.crons.get(name)!;
    const now = this.clock.now();
    const next = cron.nextRun(new Date(now));
    if (!next) return;
    const due = next.getTime();
    // Timers are capped so a far-off tick (and a clock change) is re-checked daily.
    const wait = Math.min(due - now, 86_400_000);
    this.timers.set(
      name,
      this.clock.setTimeout(
        () => {
          this.timers.delete(name);
          const now = this.clock.now();
          if (now >= due && this.leading) {
            // A timer that fired late (the machine slept, the process stalled) may have passed
            // more ticks than its own: they follow the schedule's catch-up policy.
            const passed = [due, ...ticksBetween(cron, due, now)];
            const policy = this.ws.project.config.schedules[name]!.catch_up;
            const chosen = policy === 'all' ? passed : passed.slice(-1);
            for (const tick of chosen) this.fire(name, tick, chosen.length > 1);
          }
          this.arm(name);
        },
        Math.max(0, wait),
      ),
    );
  }

  /** Claims a tick without running it (skipped by the catch-up policy). */
  private recordTick(name: string, tick: number): void {
    this.inOrder(name, async () => {
      await this.ws.state.claimTick(name, new Date(tick).toISOString());
    });
  }

  /** Runs claims one after another, so a tick's claim never overtakes an earlier one. */
  private inOrder(name: string, work: () => Promise<void>): void {
    this.tickWrites = this.tickWrites
      .then(work)
      .catch((err: unknown) =>
        this.emit({ kind: 'error', message: describeError(err), schedule: name }),
      );
  }

  /**
   * Queues the tick's run, which claims the tick in state in the transaction that records it
   * (runner.ts, RunOptions.tick): a tick is claimed exactly when its run is recorded, so a leader
   * that dies with the run still queued leaves the tick unclaimed, for the next leader's
   * catch-up. When another scheduler claimed it first, the run does not start (TickHandled).
   */
  private fire(name: string, tick: number, catchUp: boolean): void {
    this.inOrder(name, async () => {
      const at = new Date(tick).toISOString();
      const trigger = `schedule:${name}`;
      if (this.queue.isBusy(trigger) && !catchUp) {
        this.emit({
          kind: 'skipped',
          schedule: name,
          message: `${name}: tick ${at} skipped, its previous run has not finished`,
        });
        // A skipped tick counts as handled, but only once the previous run has claimed its own
        // tick: claiming a later one first would make that earlier claim fail.
        if (!this.unrecordedRuns.get(name)) await this.ws.state.claimTick(name, at);
        return;
      }
      const cfg = this.ws.project.config.schedules[name]!;
      this.emit({ kind: 'tick', schedule: name, message: `${name}: tick ${at}` });
      this.unrecordedRuns.set(name, (this.unrecordedRuns.get(name) ?? 0) + 1);
      let recorded = false;
      const onRecorded = () => {
        if (recorded) return;
        recorded = true;
        this.unrecordedRuns.set(name, this.unrecordedRuns.get(name)! - 1);
      };
      this.queue
        .submit({
          trigger,
          dueAt: catchUp ? this.clock.now() : tick,
          select: cfg.select,
          exclude: cfg.exclude,
          command: `schedule ${name} (${at})`,
          tick: { schedule: name, at },
          onStart: onRecorded,
        })
        .catch(() => undefined) // reported through finished()
        .finally(onRecorded);
    });
  }

  private finished(req: RunRequest, result: RunResult | undefined, error?: unknown): void {
    if (error instanceof TickHandled) {
      this.emit({ kind: 'skipped', schedule: error.tick.schedule, message: error.message });
      return;
    }
    if (error !== undefined || !result) {
      if (error !== undefined)
        this.emit({
          kind: 'error',
          message: `run for ${req.trigger} failed to start: ${describeError(error)}`,
        });
      return;
    }
    this.emit({
      kind: 'run_finished',
      runId: result.runId,
      message: `${req.trigger}: run ${result.runId} ${result.status}`,
    });
    if (!this.stopped) this.fireUpdateTriggers(req, result);
  }

  /** Starts the upstream-updated triggers whose assets this run changed. */
  private fireUpdateTriggers(req: RunRequest, result: RunResult): void {
    const changed = new Set(
      result.steps.filter((s) => s.status === 'succeeded').map((s) => s.asset),
    );
    if (!changed.size) return;
    for (const [name, t] of Object.entries(this.ws.project.config.triggers)) {
      if (t.on !== 'asset_updated') continue;
      const trigger = `trigger:${name}`;
      if (req.trigger === trigger) continue; // a trigger's own run never fires it again
      const watched = t.assets.flatMap((s) => matchAssets(this.ws.graph, s));
      const hit = watched.filter((k) => changed.has(k));
      if (!hit.length || this.queue.isBusy(trigger)) continue;
      let select = t.run;
      let exclude: string[] = [];
      if (!select) {
        // Default: what is downstream of the updated assets, not the assets themselves.
        const down = downstreamMap(this.ws.graph);
        select = [...new Set(hit.flatMap((k) => down.get(k) ?? []))].map((k) => `${k}+`);
        exclude = hit;
        if (!select.length) continue;
      }
      this.emit({
        kind: 'trigger',
        message: `${name}: ${hit.join(', ')} updated by run ${result.runId}`,
      });
      this.queue
        .submit({
          trigger,
          select,
          exclude,
          command: `trigger ${name} (${hit.join(', ')} updated)`,
        })
        .catch(() => undefined);
    }
  }

  private freshnessPolicies(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, p] of resolvePolicies(this.ws.graph, this.ws.project.config.assets))
      if (p.freshness) out.set(key, p.freshness.max_age);
    return out;
  }

  private armFreshness(): void {
    if (this.stopped || !this.leading) return;
    this.freshnessTimer = this.clock.setTimeout(() => {
      this.freshnessTimer = undefined;
      void this.checkFreshness().finally(() => {
        if (this.freshnessTimer === undefined) this.armFreshness();
      });
    }, this.opts.freshnessEveryMs ?? 60_000);
  }

  /** Alerts once per breach: an asset older than its max_age (or never built). */
  async checkFreshness(): Promise<FreshnessAlert[]> {
    const alerts: FreshnessAlert[] = [];
    try {
      const now = this.clock.now();
      const updated = await this.ws.state.assetUpdatedAt();
      for (const [key, maxAge] of this.freshnessPolicies()) {
        const last = await lastUpdated(this.ws, key, updated);
        if (last !== null && now - Date.parse(last) <= maxAge) {
          await this.ws.state.clearBreach(key);
          continue;
        }
        if (!(await this.ws.state.recordBreach(key, last))) continue;
        const alert: FreshnessAlert = {
          type: 'freshness',
          asset: key,
          maxAgeMs: maxAge,
          lastUpdatedAt: last,
          at: new Date(now).toISOString(),
        };
        alerts.push(alert);
        this.emit({
          kind: 'freshness',
          message: `${key} is stale: last updated ${last ?? 'never'}, max age ${Math.round(maxAge / 1000)}s`,
        });
        await this.opts.onFreshness?.(alert);
      }
    } catch (err) {
      this.emit({ kind: 'error', message: `freshness check failed: ${describeError(err)}` });
    }
    return alerts;
  }
}

function matchOrThrow(ws: Workspace, selector: string, path: string): void {
  if (matchAssets(ws.graph, selector).length) return;
  throw new TributaryError(`${path}: ${selector} matches no asset`, {
    code: 'CONFIG',
    location: { file: 'tributary.yml', path },
    hint: 'run `tributary graph` to list assets',
  });
}

/** When an asset last changed: a lake table's manifest, a model's recorded version. */
async function lastUpdated(
  ws: Workspace,
  key: string,
  versions: Map<string, string>,
): Promise<string | null> {
  const asset = ws.graph.assets.get(key)!;
  if (asset.kind === 'processed') {
    const m = await readManifest<TableManifest>(ws.store, lakeKeys.processedManifest(asset.name));
    return m?.updatedAt || null;
  }
  if (asset.kind === 'raw') {
    const table = ws.project.tables.find((t) => t.id === asset.name)!;
    const m = await readManifest<RawManifest>(
      ws.store,
      lakeKeys.rawManifest(table.source, table.table),
    );
    return m?.updatedAt || null;
  }
  return versions.get(key) ?? null;
}
