/**
 * One Tributary measurement for bench/compile.ts, in its own process: `tributary <dir>` parses
 * and compiles every model and test (writing target/manifest.json, target/compiled and
 * target/run_results.json, like `dbt compile`). The reference is bench/compile-reference.py.
 * `tributary <dir> --allow-errors` lists the nodes that failed to compile instead of aborting
 * (dbt-utils' integration project on DuckDB, whose known exceptions fail at compile time).
 * `setup <dir>` (untimed) runs `seed` and `build` first, so a project whose macros introspect the
 * warehouse (dbt-utils' star, get_column_values…) compiles against built relations.
 * The timed run tunes V8 as `tributary compile` does (tuneForShortRun, src/models/short-run.ts);
 * BENCH_COMPILE_V8_DEFAULTS=1 keeps V8's defaults, to measure what the tuning saves.
 * Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { resourceUsage } from 'node:process';
import { openDbtProject, runVerb, tuneForShortRun } from '../src/models/index.js';

const [mode, dir, flag] = process.argv.slice(2) as [string, string, string | undefined];
if (mode !== 'tributary' && mode !== 'setup')
  throw new Error(`usage: compile-worker.js tributary|setup <dir> [--allow-errors] (got ${mode})`);
const allowErrors = flag === '--allow-errors';

interface Timed {
  parseMs: number;
  compileMs: number;
  nodes: number;
  errors: string[];
}

async function tributary(): Promise<Timed> {
  // As `tributary compile` does (src/cli/commands/dbt.ts).
  if (process.env.BENCH_COMPILE_V8_DEFAULTS !== '1') tuneForShortRun();
  const t0 = performance.now();
  const opened = await openDbtProject(dir, { profilesDir: dir });
  const t1 = performance.now();
  try {
    const summary = await runVerb(opened.parsed, opened.engine, { verb: 'compile', threads: 1 });
    const errors = summary.results.filter((r) => r.status === 'error');
    if (errors.length && !allowErrors) throw new Error(errors[0]!.message);
    return {
      parseMs: t1 - t0,
      compileMs: performance.now() - t1,
      nodes: summary.results.length,
      errors: errors.map((r) => r.unique_id),
    };
  } finally {
    await opened.close();
  }
}

async function setup(): Promise<Record<string, Record<string, number>>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const verb of ['seed', 'build'] as const) {
    const opened = await openDbtProject(dir, { profilesDir: dir });
    try {
      counts[verb] = (
        await runVerb(opened.parsed, opened.engine, { verb, fullRefresh: true })
      ).counts;
    } finally {
      await opened.close();
    }
  }
  return counts;
}

/**
 * CPU time of the main thread alone (Linux: /proc/self/task/<pid>/stat, utime + stime in clock
 * ticks of 10 ms), or null elsewhere. On a loaded machine this is what the wall time would be on
 * an idle one, less the waits; the process CPU adds the writer threads and V8's GC helpers.
 */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** Main-thread CPU of node's start-up and the imports (module code runs once they are loaded). */
const startupCpuMs = mainThreadCpuMs();
const result = mode === 'setup' ? await setup() : await tributary();
const usage = resourceUsage();
console.log(
  JSON.stringify({
    ...result,
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
    mainThreadCpuMs: mainThreadCpuMs(),
    startupCpuMs,
    maxRssMB: Math.round(usage.maxRSS / 1024),
  }),
);
