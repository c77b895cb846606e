/**
 * The shared work queue: a run's steps as rows in the state database, which any number of worker
 * processes (on any machines that reach it) claim, run and complete. It is the seam issue 18's
 * workers stand on, in portable SQL over the Engine like the rest of state.
 *
 * The contract:
 * - `enqueue` writes a run's tasks and their dependencies in one transaction. A task is `ready`
 *   when none of its upstream tasks is left to finish (dependencies outside the list count as
 *   done), else `waiting`.
 * - `claim` takes up to n ready tasks, oldest ready first, and leases them to one worker for
 *   `leaseMs`. On an engine with `skipLocked` (PostgreSQL) concurrent claims never block on, or
 *   take, the same rows (`FOR UPDATE SKIP LOCKED`). Without it (DuckDB: one writer process per
 *   file) one process owns the queue and its claims are serialized by the engine's session.
 *   Two runs never run the same task (a step: an asset or a partition) at once: while one run's
 *   task of a name is claimed, other runs' tasks of that name wait, oldest ready first, as one
 *   process's runs waited for each other before there were several workers.
 * - A lease ends when its worker completes or releases the task, or when it expires (the worker
 *   died or lost the database): an expired task is claimed again by anyone, up to `maxClaims`
 *   claims in all, after which it fails ("lost its worker n times") so a task that kills its
 *   worker cannot take the fleet down one worker at a time.
 * - Every claim increments the task's `attempt`, which is the fencing token: `complete`,
 *   `heartbeat` and `release` only act on the claim they name (worker and attempt). A worker
 *   whose lease expired and was taken over cannot complete the task: it is told so and discards
 *   its result, so **a task is completed exactly once**.
 * - Completing a task as succeeded or up to date readies each downstream task whose last upstream
 *   task this was, in the same transaction; a failed task skips everything downstream of it
 *   (transitively) that has not started. `completeMany` completes a worker's finished tasks in one
 *   transaction of a few statements (readiness counted set-wise), fenced per task as `complete`
 *   is; claims, heartbeats and releases are one statement each for any number of tasks.
 * - Time is the database's clock (`now()`), never a worker's, so leases hold across machines
 *   whose clocks differ.
 */
import { isTransientError } from '../core/index.js';
import type { Engine, Row } from '../engines/index.js';
import { migrate, type Migration } from './migrations.js';

type JsonValue = Row[string];

export type WorkState =
  'waiting' | 'ready' | 'claimed' | 'succeeded' | 'up_to_date' | 'failed' | 'skipped' | 'cancelled';

/** States a task leaves no more. */
export const FINISHED_STATES: readonly WorkState[] = [
  'succeeded',
  'up_to_date',
  'failed',
  'skipped',
  'cancelled',
];

export interface QueuedTask {
  task: string;
  /** Upstream tasks; ones not in the enqueued list count as done. */
  deps: readonly string[];
}

/** A task leased to one worker: the fencing token is (worker, attempt). */
export interface Claim {
  runId: string;
  task: string;
  /** Claims of this task so far, this one included. */
  attempt: number;
  /** Database time (epoch ms) the task became ready, and this claim was made. */
  readyAt: number;
  startedAt: number;
}

export type CompletedStatus = 'succeeded' | 'up_to_date' | 'failed';

/** One claimed task's outcome, for completeMany. */
export interface Completion {
  claim: Claim;
  status: CompletedStatus;
  message?: string;
  /** What the task hands back for whoever finishes its run (opaque JSON). */
  output?: string;
}

export interface WorkTask {
  runId: string;
  task: string;
  state: WorkState;
  attempt: number;
  worker: string | null;
  readyAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  message: string | null;
  /** What the task's worker handed back on completing it (opaque JSON). */
  output: string | null;
}

export interface WorkQueueOptions {
  /** How long a claim lasts without a heartbeat (default 30 s). */
  leaseMs?: number;
  /** Claims a task may have in all before an expired one fails instead (default 3). */
  maxClaims?: number;
}

export const WORK_QUEUE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'work tasks and their edges',
    statements: [
      `CREATE TABLE IF NOT EXISTS work_tasks (
     id TEXT PRIMARY KEY, run_id TEXT NOT NULL, task TEXT NOT NULL, position INTEGER NOT NULL,
     state TEXT NOT NULL, pending INTEGER NOT NULL, attempt INTEGER NOT NULL, worker TEXT,
     lease_until BIGINT, ready_at BIGINT, started_at BIGINT, finished_at BIGINT, message TEXT)`,
      `CREATE INDEX IF NOT EXISTS work_tasks_by_state ON work_tasks (state, ready_at, position)`,
      `CREATE INDEX IF NOT EXISTS work_tasks_by_run ON work_tasks (run_id)`,
      `CREATE TABLE IF NOT EXISTS work_edges (
     upstream TEXT NOT NULL, downstream TEXT NOT NULL, PRIMARY KEY (upstream, downstream))`,
    ],
  },
  {
    version: 2,
    name: "a run's payload, and each task's output",
    statements: [
      // What any worker needs to run a run's tasks (its options, its plan), opaque JSON here.
      `CREATE TABLE IF NOT EXISTS work_runs (run_id TEXT PRIMARY KEY, payload TEXT NOT NULL)`,
      // What a completed task handed back (opaque JSON), for whoever finishes the run.
      `ALTER TABLE work_tasks ADD COLUMN IF NOT EXISTS output TEXT`,
    ],
  },
  {
    version: 3,
    name: 'tasks by name, so two runs never run the same step at once',
    statements: [`CREATE INDEX IF NOT EXISTS work_tasks_by_task ON work_tasks (task, state)`],
  },
];

/** The database's clock in epoch milliseconds, in SQL both engines speak. */
const NOW_MS = `CAST(floor(extract(epoch from now()) * 1000) AS BIGINT)`;

/** A task's row id: its run and name (a run's task names are unique). */
function taskId(runId: string, task: string): string {
  return `${runId}/${task}`;
}

const num = (v: JsonValue | undefined): number => Number(v);
const numOrNull = (v: JsonValue | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

export class WorkQueue {
  readonly leaseMs: number;
  readonly maxClaims: number;
  /** When this instance last put expired claims back (performance.now()). */
  private reclaimedAt = -Infinity;

  private constructor(
    private readonly engine: Engine,
    options: WorkQueueOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxClaims = options.maxClaims ?? 3;
  }

  static async open(engine: Engine, options: WorkQueueOptions = {}): Promise<WorkQueue> {
    await migrate(engine, 'work_queue', WORK_QUEUE_MIGRATIONS);
    return new WorkQueue(engine, options);
  }

  /** Writes a run's tasks (in the order given: earlier ones start first among the ready). */
  async enqueue(runId: string, tasks: readonly QueuedTask[], payload?: unknown): Promise<void> {
    await this.engine.transaction((tx) => this.enqueueIn(tx, runId, tasks, payload));
  }

  /** Whether the queue's tables are in `engine`'s database (the state's: see enqueueIn). */
  usesEngine(engine: Engine): boolean {
    return this.engine === engine;
  }

  /**
   * `enqueue` inside a transaction the caller holds on the queue's database (usesEngine), so the
   * tasks commit with the caller's other writes or not at all: the run starter records the run
   * in state and enqueues its tasks in one transaction, so no run is recorded without its tasks.
   */
  async enqueueIn(
    tx: Engine,
    runId: string,
    tasks: readonly QueuedTask[],
    payload?: unknown,
  ): Promise<void> {
    const names = new Set(tasks.map((t) => t.task));
    const rows: string[][] = [];
    const edges: string[][] = [];
    tasks.forEach((t, position) => {
      const deps = [...new Set(t.deps.filter((d) => names.has(d)))];
      const state = deps.length ? 'waiting' : 'ready';
      rows.push([
        taskId(runId, t.task),
        runId,
        t.task,
        String(position),
        state,
        String(deps.length),
        '0',
      ]);
      for (const d of deps) edges.push([taskId(runId, d), taskId(runId, t.task)]);
    });
    // Bulk loads (COPY on PostgreSQL): a 10,000-task run is one round trip, not thousands.
    await tx.insertRows(
      undefined,
      'work_tasks',
      ['id', 'run_id', 'task', 'position', 'state', 'pending', 'attempt'],
      rows,
    );
    await tx.insertRows(undefined, 'work_edges', ['upstream', 'downstream'], edges);
    // The run's payload: what any worker needs to run its tasks (see runPayload).
    if (payload !== undefined)
      await tx.query(`INSERT INTO work_runs (run_id, payload) VALUES ($1, $2)`, [
        runId,
        JSON.stringify(payload),
      ]);
    await tx.query(
      `UPDATE work_tasks SET ready_at = ${NOW_MS} WHERE run_id = $1 AND state = 'ready'`,
      [runId],
    );
  }

  /** The payload a run was enqueued with (undefined when it had none, or is purged). */
  async runPayload(runId: string): Promise<unknown> {
    const r = await this.engine.query(`SELECT payload FROM work_runs WHERE run_id = $1`, [runId]);
    return r.rows.length ? (JSON.parse(String(r.rows[0]!.payload)) as unknown) : undefined;
  }

  /**
   * Leases up to `limit` ready tasks to `worker`, oldest ready first (of one run, when `runId`
   * is given: the process that started a run works on it). Every quarter lease, it first puts
   * expired claims back (see reclaimExpired).
   */
  async claim(worker: string, limit: number, runId?: string): Promise<Claim[]> {
    // Two runs never run the same step (task name) at once: a task waits while another run's
    // task of its name is claimed, and of several ready ones only the oldest is claimable. Two
    // concurrent claims cannot both take one: each sees the oldest as ready (so not the others)
    // or as claimed, and SKIP LOCKED passes over the row the other is taking.
    if (limit <= 0) return [];
    if (performance.now() - this.reclaimedAt >= this.leaseMs / 4) await this.reclaimExpired();
    const lock = this.engine.capabilities.skipLocked ? 'FOR UPDATE SKIP LOCKED' : '';
    const ofRun = runId === undefined ? '' : 'AND run_id = $4';
    const result = await retryConflicts(() =>
      this.engine.query(
        `UPDATE work_tasks SET state = 'claimed', worker = $1, attempt = attempt + 1,
           lease_until = ${NOW_MS} + $2, started_at = ${NOW_MS}
         WHERE id IN (
           SELECT id FROM work_tasks t
           WHERE state = 'ready' ${ofRun}
             AND NOT EXISTS (
               SELECT 1 FROM work_tasks o WHERE o.task = t.task AND o.state = 'claimed')
             AND NOT EXISTS (
               SELECT 1 FROM work_tasks e WHERE e.task = t.task AND e.state = 'ready'
                 AND (e.ready_at < t.ready_at OR (e.ready_at = t.ready_at AND e.id < t.id)))
           ORDER BY ready_at, position LIMIT $3 ${lock})
         RETURNING run_id, task, attempt, ready_at, started_at, position`,
        runId === undefined ? [worker, this.leaseMs, limit] : [worker, this.leaseMs, limit, runId],
      ),
    );
    // RETURNING comes in no particular order: the claims start oldest ready first, then in
    // enqueue order.
    return result.rows
      .sort((a, b) => num(a.ready_at) - num(b.ready_at) || num(a.position) - num(b.position))
      .map((r) => ({
        runId: String(r.run_id),
        task: String(r.task),
        attempt: num(r.attempt),
        readyAt: num(r.ready_at),
        startedAt: num(r.started_at),
      }));
  }

  /** Extends `worker`'s leases on these claims; returns the ones it no longer holds. */
  async heartbeat(worker: string, claims: readonly Claim[]): Promise<Claim[]> {
    if (!claims.length) return [];
    const ids = claims.map((c) => taskId(c.runId, c.task));
    const held = await this.engine.query(
      `UPDATE work_tasks SET lease_until = ${NOW_MS} + $1
       WHERE worker = $2 AND state = 'claimed' AND id IN (${placeholders(ids.length, 3)})
       RETURNING id, attempt`,
      [this.leaseMs, worker, ...ids],
    );
    const kept = new Set(held.rows.map((r) => `${String(r.id)}#${num(r.attempt)}`));
    return claims.filter((c) => !kept.has(`${taskId(c.runId, c.task)}#${c.attempt}`));
  }

  /**
   * Records a claimed task's outcome and readies (or skips) what is downstream of it. Returns
   * false, changing nothing, when `worker` no longer holds this claim (its lease expired and the
   * task was claimed again): the caller's result is discarded.
   */
  async complete(
    worker: string,
    claim: Claim,
    status: CompletedStatus,
    message?: string,
    output?: string,
  ): Promise<boolean> {
    const [recorded] = await this.completeMany(worker, [
      {
        claim,
        status,
        ...(message !== undefined && { message }),
        ...(output !== undefined && { output }),
      },
    ]);
    return recorded!;
  }

  /**
   * `complete` for several claims in one transaction, a handful of statements whatever their
   * number (the outcomes, the downstream edges, the downstream counts), so a worker finishing
   * many short tasks pays the database per batch, not per task. Fencing stays per task: the
   * result says, in order, which completions were recorded; a claim `worker` no longer holds is
   * refused alone, and what is downstream of it is left to whoever holds it now.
   */
  async completeMany(worker: string, completions: readonly Completion[]): Promise<boolean[]> {
    if (!completions.length) return [];
    return retryConflicts(() =>
      this.engine.transaction(async (tx) => {
        const recorded = new Set<string>();
        // One UPDATE per distinct (status, message, attempt): in the common case, one in all.
        const groups = new Map<string, Completion[]>();
        for (const c of completions) {
          const key = JSON.stringify([
            c.status,
            c.message ?? null,
            c.claim.attempt,
            c.output ?? null,
          ]);
          (groups.get(key) ?? groups.set(key, []).get(key)!).push(c);
        }
        for (const group of groups.values()) {
          const { status, message, claim, output } = group[0]!;
          const ids = group.map((c) => taskId(c.claim.runId, c.claim.task));
          const done = await tx.query(
            `UPDATE work_tasks SET state = $1, message = $2, output = $5, finished_at = ${NOW_MS},
               lease_until = NULL
             WHERE state = 'claimed' AND worker = $3 AND attempt = $4
               AND id IN (${placeholders(ids.length, 6)}) RETURNING id`,
            [status, message ?? null, worker, claim.attempt, output ?? null, ...ids],
          );
          for (const r of done.rows) recorded.add(String(r.id));
        }
        const byId = (c: Completion) => taskId(c.claim.runId, c.claim.task);
        const succeeded = completions.filter((c) => c.status !== 'failed' && recorded.has(byId(c)));
        await readyDownstream(tx, succeeded.map(byId));
        for (const c of completions)
          if (c.status === 'failed' && recorded.has(byId(c)))
            await skipDownstream(tx, byId(c), c.claim.task);
        return completions.map((c) => recorded.has(byId(c)));
      }),
    );
  }

  /** Gives claims back unrun (a worker stopping): they are ready again for anyone. */
  async release(worker: string, claims: readonly Claim[]): Promise<void> {
    for (const [attempt, ids] of idsByAttempt(claims))
      await this.engine.query(
        `UPDATE work_tasks SET state = 'ready', worker = NULL, lease_until = NULL
         WHERE state = 'claimed' AND worker = $1 AND attempt = $2
           AND id IN (${placeholders(ids.length, 3)})`,
        [worker, attempt, ...ids],
      );
  }

  /** Cancels a run's tasks that have not started; returns how many. */
  async cancel(runId: string, message = 'the run was cancelled'): Promise<number> {
    const r = await this.engine.query(
      `UPDATE work_tasks SET state = 'cancelled', message = $2, finished_at = ${NOW_MS}
       WHERE run_id = $1 AND state IN ('waiting', 'ready') RETURNING id`,
      [runId, message],
    );
    return r.rows.length;
  }

  /** How many of a run's tasks are in each state. */
  async progress(runId: string): Promise<Record<WorkState, number>> {
    const counts = Object.fromEntries(
      [...FINISHED_STATES, 'waiting', 'ready', 'claimed'].map((s) => [s, 0]),
    ) as Record<WorkState, number>;
    const r = await this.engine.query(
      `SELECT state, count(*) AS n FROM work_tasks WHERE run_id = $1 GROUP BY state`,
      [runId],
    );
    for (const row of r.rows) counts[String(row.state) as WorkState] = num(row.n);
    return counts;
  }

  /** How many of a run's tasks are not finished (waiting, ready or claimed). */
  async unfinished(runId: string): Promise<number> {
    const r = await this.engine.query(
      `SELECT count(*) AS n FROM work_tasks
       WHERE state IN ('waiting', 'ready', 'claimed') AND run_id = $1`,
      [runId],
    );
    return num(r.rows[0]!.n);
  }

  /** A run's tasks in enqueue order (the first `limit` of them). */
  async tasks(runId: string, limit?: number): Promise<WorkTask[]> {
    const r = await this.engine.query(
      `SELECT run_id, task, state, attempt, worker, ready_at, started_at, finished_at, message,
         output
       FROM work_tasks WHERE run_id = $1 ORDER BY position${limit === undefined ? '' : ` LIMIT ${Math.floor(limit)}`}`,
      [runId],
    );
    return r.rows.map((row) => ({
      runId: String(row.run_id),
      task: String(row.task),
      state: String(row.state) as WorkState,
      attempt: num(row.attempt),
      worker: row.worker === null ? null : String(row.worker),
      readyAt: numOrNull(row.ready_at),
      startedAt: numOrNull(row.started_at),
      finishedAt: numOrNull(row.finished_at),
      message: row.message === null ? null : String(row.message),
      output: row.output === null || row.output === undefined ? null : String(row.output),
    }));
  }

  /** Forgets a finished run's tasks (run history keeps its steps). */
  async purge(runId: string): Promise<void> {
    await this.engine.transaction(async (tx) => {
      await tx.query(
        `DELETE FROM work_edges WHERE downstream IN (SELECT id FROM work_tasks WHERE run_id = $1)`,
        [runId],
      );
      await tx.query(`DELETE FROM work_tasks WHERE run_id = $1`, [runId]);
      await tx.query(`DELETE FROM work_runs WHERE run_id = $1`, [runId]);
    });
  }

  /**
   * Claims whose lease ran out (their worker died or lost the database) are ready again, keeping
   * their attempt count so the old holder stays fenced off; those that used every claim fail
   * instead, skipping what is downstream of them. Cheap when there is nothing to do (an index
   * lookup), and run by every claimer now and then, so no one process has to be alive for it.
   */
  async reclaimExpired(): Promise<void> {
    this.reclaimedAt = performance.now();
    const lock = this.engine.capabilities.skipLocked ? 'FOR UPDATE SKIP LOCKED' : '';
    await retryConflicts(() =>
      this.engine.transaction(async (tx) => {
        const lost = await tx.query(
          `UPDATE work_tasks SET
             state = CASE WHEN attempt >= $1 THEN 'failed' ELSE 'ready' END,
             finished_at = CASE WHEN attempt >= $1 THEN ${NOW_MS} END,
             message = CASE WHEN attempt >= $1 THEN 'lost its worker ' || CAST(attempt AS TEXT) || ' times (the worker died or lost the database while running it)' END,
             worker = NULL, lease_until = NULL
           WHERE id IN (SELECT id FROM work_tasks
                        WHERE state = 'claimed' AND lease_until < ${NOW_MS} ${lock})
           RETURNING id, task, state`,
          [this.maxClaims],
        );
        for (const r of lost.rows)
          if (r.state === 'failed') await skipDownstream(tx, String(r.id), String(r.task));
      }),
    );
  }
}

/**
 * Counts the finished upstream tasks `ids` off each task directly downstream of them, readying
 * those that have none left. The edges are read first and the downstream tasks updated by
 * primary key, one statement per distinct count (a task downstream of two of `ids` loses two):
 * one statement joining edges to tasks let PostgreSQL's planner, guessing from a table just
 * loaded, scan every waiting task per completion.
 */
async function readyDownstream(tx: Engine, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  const edges = await tx.query(
    `SELECT downstream FROM work_edges WHERE upstream IN (${placeholders(ids.length, 1)})`,
    [...ids],
  );
  const finishedUpstream = new Map<string, number>();
  for (const r of edges.rows) {
    const d = String(r.downstream);
    finishedUpstream.set(d, (finishedUpstream.get(d) ?? 0) + 1);
  }
  const byCount = new Map<number, string[]>();
  for (const [d, n] of finishedUpstream) (byCount.get(n) ?? byCount.set(n, []).get(n)!).push(d);
  for (const [n, down] of byCount) {
    // Sorted ids: concurrent completions touching the same rows lock them in one order.
    down.sort();
    await tx.query(
      `UPDATE work_tasks SET pending = pending - $1,
         state = CASE WHEN pending = $1 THEN 'ready' ELSE state END,
         ready_at = CASE WHEN pending = $1 THEN ${NOW_MS} ELSE ready_at END
       WHERE state = 'waiting' AND id IN (${placeholders(down.length, 2)})`,
      [n, ...down],
    );
  }
}

/** `$start, $start+1, …`: n positional parameters. */
function placeholders(n: number, start: number): string {
  return Array.from({ length: n }, (_, i) => `$${i + start}`).join(', ');
}

/** Claims' row ids grouped by attempt (fencing compares each row's attempt). */
function idsByAttempt(claims: readonly Claim[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const c of claims)
    (out.get(c.attempt) ?? out.set(c.attempt, []).get(c.attempt)!).push(taskId(c.runId, c.task));
  return out;
}

/** Skips every task downstream of `id` (transitively) that has not started. */
async function skipDownstream(tx: Engine, id: string, task: string): Promise<void> {
  await tx.query(
    `UPDATE work_tasks SET state = 'skipped', finished_at = ${NOW_MS},
       message = 'upstream ' || $2 || ' failed'
     WHERE state IN ('waiting', 'ready') AND id IN (
       WITH RECURSIVE down(id) AS (
         SELECT downstream FROM work_edges WHERE upstream = $1
         UNION
         SELECT e.downstream FROM work_edges e JOIN down d ON e.upstream = d.id)
       SELECT id FROM down)`,
    [id, task],
  );
}

/**
 * Runs a statement again when the engine says it conflicted (PostgreSQL's deadlock or
 * serialization failure between two workers completing neighbouring tasks): it is safe to, as
 * each statement here is one transaction that either happened whole or not at all.
 */
async function retryConflicts<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isTransientError(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * i * Math.random()));
    }
  }
}
