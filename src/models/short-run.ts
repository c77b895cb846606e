/**
 * V8 tuning for a process that parses and compiles a project and exits (`tributary compile`,
 * `ls`): such a run lasts a second or two, and TurboFan's inlining makes its concurrent compiles
 * several times longer (one compile of a parser or evaluator function took 100–800 ms with
 * inlining) on the same two cores the main thread needs, for code that stops running soon after.
 * Measured on bench:compile's 1,000-model project with dbt_utils (bench/RESULTS.md, 2026-12-04
 * compile-speed5): process CPU −0.5 s (−10–12%), main-thread CPU unchanged. Output is unchanged:
 * inlining only changes how fast the same JavaScript runs. Long-running commands (serve, run,
 * collect) keep V8's defaults: their hot code runs long enough to repay the compiles.
 */
import { setFlagsFromString } from 'node:v8';

let tuned = false;

/** Turns TurboFan's inlining off for the rest of the process (once; before the work starts). */
export function tuneForShortRun(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString('--no-turbo-inlining');
}
