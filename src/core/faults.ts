/**
 * Fault injection for tests: `TRIBUTARY_FAULT=<point>` makes the named point throw, and
 * `TRIBUTARY_FAULT=crash:<point>` kills the process there, so tests can prove that a failure
 * between writing data and committing it leaves nothing visible and that the next run recovers.
 * Points are named `<stage>:<table>`, e.g. `before-commit:orders`.
 */

/** Throws or exits when the environment asks for a fault at this point; otherwise does nothing. */
export function faultPoint(point: string): void {
  const wanted = process.env.TRIBUTARY_FAULT;
  if (!wanted) return;
  if (wanted === `crash:${point}`) {
    process.stderr.write(`fault injection: crashing at ${point}\n`);
    process.exit(137);
  }
  if (wanted === point) throw new Error(`fault injected at ${point}`);
}
