/**
 * Fault injection for tests: `TRIBUTARY_FAULT=<point>` makes the named point throw, and
 * `TRIBUTARY_FAULT=crash:<point>` kills the process there, so tests can prove that a failure
 * between writing data and committing it leaves nothing visible and that the next run recovers.
 * `TRIBUTARY_FAULT=flaky:<n>:<point>` makes the point fail with a transient error its first n
 * times in the process (for retry policies). Several faults are separated by commas.
 * Points are named `<stage>:<table>`, e.g. `before-commit:orders`, or `step:<asset key>`.
 */
import { TributaryError } from './errors.js';

const hits = new Map<string, number>();

/** Throws or exits when the environment asks for a fault at this point; otherwise does nothing. */
export function faultPoint(point: string): void {
  const env = process.env.TRIBUTARY_FAULT;
  if (!env) return;
  for (const wanted of env.split(',')) {
    if (wanted === `crash:${point}`) {
      process.stderr.write(`fault injection: crashing at ${point}\n`);
      process.exit(137);
    }
    if (wanted === point) throw new Error(`fault injected at ${point}`);
    const flaky = /^flaky:(\d+):(.*)$/.exec(wanted);
    if (flaky && flaky[2] === point) {
      const n = (hits.get(point) ?? 0) + 1;
      hits.set(point, n);
      if (n <= Number(flaky[1]))
        throw new TributaryError(`transient fault injected at ${point} (${n} of ${flaky[1]})`, {
          transient: true,
        });
    }
  }
}
