/**
 * A worker's loop over a shared task queue (state/work-queue.ts, behind the small interface
 * below so this folder stays free of storage): claim as many ready tasks as there are free slots,
 * run each, complete it, heartbeat the leases of the running ones, and claim again as soon as a
 * slot frees. Idle, it polls every `idleMs`. Like dispatch(), nothing here knows what a task does.
 *
 * A lease lost while its task runs (the heartbeat says so: this worker was presumed dead) aborts
 * the task's signal; its completion is refused by the queue, so the result is dropped and whoever
 * took the task over completes it. `stop` ends claiming and lets running tasks finish; `abort`
 * also aborts them and gives their claims back.
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
      let recorded = false;
      if (options.abort?.aborted) {
        await queue.release(worker, [claim]).catch(() => undefined);
        stats.released++;
      } else {
        recorded = await queue
          .complete(worker, claim, outcome.status, outcome.message, outcome.output)
          .catch(() => false);
        if (recorded) stats.completed++;
        else stats.lost++;
      }
      running.delete(claim);
      options.onFinish?.(claim, outcome, recorded);
      nudge();
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
