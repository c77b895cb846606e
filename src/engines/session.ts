/** Session plumbing shared by engine adapters: one statement at a time per session, and profiling. */

/** Serialises async work: a database session takes one statement at a time. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  /** Runs `fn` after everything queued before it, whether that succeeded or failed. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** With TRIBUTARY_PROFILE=1 every statement's time goes to stderr: where a run spends its time. */
const PROFILE = process.env.TRIBUTARY_PROFILE === '1';

/** Passes `result` through, writing the statement's time to stderr when profiling. */
export function profiled<T>(sql: string, started: number, result: T): T {
  if (PROFILE) {
    const ms = (performance.now() - started).toFixed(1);
    process.stderr.write(
      `[profile] ${ms.padStart(8)} ms  ${sql.replace(/\s+/g, ' ').slice(0, 140)}\n`,
    );
  }
  return result;
}
