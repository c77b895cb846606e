/**
 * A worker's loop over a shared task queue (state/work-queue.ts, behind the small interface
 * below so this folder stays free of storage): claim as many ready tasks as there are free slots,
 * run each, complete it, heartbeat the leases of the running ones, and claim again as soon as a
 * slot frees. Idle, it polls every `idleMs`. Like dispatch(), nothing here knows what a task does.
 *
 * A lease lost while its task runs (the heartbeat says so: this worker was presumed dead) aborts
 * the task's signal; its completion is refused by the queue, so the result is dropped and whoever
 * took the task over completes it. `stop` ends claiming and lets running tasks finish; `abort`
 * also aborts them and gives their claims back. Completions are group-committed when the queue
 * can complete several at once: a task finishing while another completion is being written waits
 * for it and goes with the next batch, so nothing waits when the worker is not busy.
 */

/** A task leased to this worker; the queue's own claim type carries more. */
export interface QueueClaim {
  runId: string;
  task: string;
  attempt: number;
}

export type QueueTaskStatus = 'succeeded' | 'up_to_date' | 'failed';

/** What the loop needs of a queue (state/work-queue.ts's WorkQueue is one). */
export interface TaskQueue<C extends QueueClaim> {
  claim(worker: string, limit: number): Promise<C[]>;
  /** Extends the leases; returns the claims the worker no longer holds. */
  heartbeat(worker: string, claims: readonly C[]): Promise<C[]>;
  /** False when the claim was no longer held: the result is not recorded. */
  complete(
    worker: string,
    claim: C,
    status: QueueTaskStatus,
    message?: string,
    output?: string,
  ): Promise<boolean>;
  release(worker: string, claims: readonly C[]): Promise<void>;
  /**
   * Optional: several completions in one go, one result each, in order (false: not held). When
   * the queue has it, tasks that finish while a completion is being written are completed
   * together next (a group commit), so the database is paid per batch, not per task.
   */
  completeMany?(worker: string, completions: readonly QueueCompletion<C>[]): Promise<boolean[]>;
}

export interface QueueCompletion<C extends QueueClaim> {
  claim: C;
  status: QueueTaskStatus;
  message?: string;
  output?: string;
}

export interface QueueTaskOutcome {
  status: QueueTaskStatus;
  message?: string;
  /** What the task hands back for whoever finishes its run (opaque here: JSON, say). */
  output?: string;
}

export interface QueueWorkerOptions<C extends QueueClaim> {
  /** This worker's name in the queue (unique across the fleet: host, pid and a random part). */
  worker: string;
  /** Tasks run at once. */
  slots: number;
  /** Runs one task; a throw is a failure with the error's message. */
  execute(claim: C, signal: AbortSignal): Promise<QueueTaskOutcome>;
  /** Stop claiming; running tasks finish. */
  stop: AbortSignal;
  /** Also abort running tasks and give their claims back. */
  abort?: AbortSignal;
  /** Wait between claims that found nothing (default 200 ms). */
  idleMs?: number;
  /** Between heartbeats of the running tasks' leases (default 5 s; keep it under the lease). */
  heartbeatMs?: number;
  /** Called when the queue found nothing to claim, with nothing running; true stops the loop. */
  onIdle?(): Promise<boolean> | boolean;
  onFinish?(claim: C, outcome: QueueTaskOutcome, recorded: boolean): void;
}

export interface QueueWorkerStats {
  /** Tasks this worker ran whose outcome the queue recorded. */
  completed: number;
  /** Tasks whose lease this worker lost while running them (their result was dropped). */
  lost: number;
  /** Claims given back unrun or aborted. */
  released: number;
}

/** Runs tasks from `queue` until `stop` (or `onIdle` says the work is done). */
export async function runQueueWorker<C extends QueueClaim>(
  queue: TaskQueue<C>,
  options: QueueWorkerOptions<C>,
): Promise<QueueWorkerStats> {
  const { worker, slots } = options;
  const idleMs = options.idleMs ?? 200;
  const stats: QueueWorkerStats = { completed: 0, lost: 0, released: 0 };
  const running = new Map<C, AbortController>();
  let wake: (() => void) | undefined;
  const nudge = () => wake?.();
  options.stop.addEventListener('abort', nudge);
  options.abort?.addEventListener('abort', nudge);

  const heartbeat = setInterval(() => {
    const claims = [...running.keys()];
    if (!claims.length) return;
    queue.heartbeat(worker, claims).then(
      (lost) => {
        for (const c of lost) running.get(c)?.abort(new Error('lease lost'));
      },
      () => undefined, // the database is away: the next beat tries again, the lease may expire
    );
  }, options.heartbeatMs ?? 5_000);
  heartbeat.unref();

  const record = completionRecorder(queue, worker, (claim, outcome, recorded) => {
    if (recorded) stats.completed++;
    else stats.lost++;
    running.delete(claim);
    options.onFinish?.(claim, outcome, recorded);
    nudge();
  });

  const start = (claim: C) => {
    const controller = new AbortController();
    running.set(claim, controller);
    void (async () => {
      let outcome: QueueTaskOutcome;
      try {
        outcome = await options.execute(claim, controller.signal);
      } catch (err) {
        outcome = { status: 'failed', message: err instanceof Error ? err.message : String(err) };
      }
      if (options.abort?.aborted) {
        await queue.release(worker, [claim]).catch(() => undefined);
        stats.released++;
        running.delete(claim);
        options.onFinish?.(claim, outcome, false);
        nudge();
      } else record(claim, outcome);
    })();
  };

  try {
    while (!options.stop.aborted && !options.abort?.aborted) {
      const free = slots - running.size;
      const claims = free > 0 ? await queue.claim(worker, free) : [];
      for (const c of claims) start(c);
      if (claims.length && running.size < slots) continue; // more may be ready now
      if (!claims.length && !running.size && options.onIdle && (await options.onIdle())) break;
      // Wait for a slot to free, or poll again after idleMs when nothing was there to claim.
      await new Promise<void>((resolve) => {
        const timer = running.size < slots ? setTimeout(resolve, idleMs) : undefined;
        wake = () => {
          if (timer) clearTimeout(timer);
          wake = undefined;
          resolve();
        };
      });
    }
    if (options.abort?.aborted) for (const c of running.values()) c.abort(new Error('aborted'));
    while (running.size) await new Promise<void>((resolve) => (wake = resolve));
  } finally {
    clearInterval(heartbeat);
    options.stop.removeEventListener('abort', nudge);
    options.abort?.removeEventListener('abort', nudge);
  }
  return stats;
}

/**
 * Writes finished tasks' outcomes to the queue, calling `done` for each once written. With
 * `completeMany`, outcomes arriving while a write is under way are written together by the next
 * one; without it, each is completed on its own at once. A write that fails counts as not
 * recorded (the lease will expire and another worker runs the task again).
 */
function completionRecorder<C extends QueueClaim>(
  queue: TaskQueue<C>,
  worker: string,
  done: (claim: C, outcome: QueueTaskOutcome, recorded: boolean) => void,
): (claim: C, outcome: QueueTaskOutcome) => void {
  if (!queue.completeMany)
    return (claim, outcome) => {
      void queue
        .complete(worker, claim, outcome.status, outcome.message, outcome.output)
        .catch(() => false)
        .then((recorded) => done(claim, outcome, recorded));
    };
  const completeMany = queue.completeMany.bind(queue);
  let waiting: { claim: C; outcome: QueueTaskOutcome }[] = [];
  let writing = false;
  const flush = async () => {
    writing = true;
    while (waiting.length) {
      const batch = waiting;
      waiting = [];
      const recorded = await completeMany(
        worker,
        batch.map(({ claim, outcome }) => ({
          claim,
          status: outcome.status,
          ...(outcome.message !== undefined && { message: outcome.message }),
          ...(outcome.output !== undefined && { output: outcome.output }),
        })),
      ).catch(() => batch.map(() => false));
      batch.forEach(({ claim, outcome }, i) => done(claim, outcome, recorded[i] === true));
    }
    writing = false;
  };
  return (claim, outcome) => {
    waiting.push({ claim, outcome });
    if (!writing) void flush();
  };
}
