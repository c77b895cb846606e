/**
 * One Tributary measurement for bench/compile.ts, in its own process: `tributary <dir>` parses
 * and compiles every model and test (writing target/manifest.json, target/compiled and
 * target/run_results.json, like `dbt compile`). The reference is bench/compile-reference.py.
 * Prints one JSON line.
 */
import { resourceUsage } from 'node:process';
import { openDbtProject, runVerb } from '../src/models/index.js';

const [mode, dir] = process.argv.slice(2) as [string, string];
if (mode !== 'tributary') throw new Error(`usage: compile-worker.js tributary <dir> (got ${mode})`);

async function tributary(): Promise<{ parseMs: number; compileMs: number; nodes: number }> {
  const t0 = performance.now();
  const opened = await openDbtProject(dir, { profilesDir: dir });
  const t1 = performance.now();
  try {
    const summary = await runVerb(opened.parsed, opened.engine, { verb: 'compile', threads: 1 });
    if (!summary.success)
      throw new Error(summary.results.find((r) => r.status === 'error')?.message);
    return { parseMs: t1 - t0, compileMs: performance.now() - t1, nodes: summary.results.length };
  } finally {
    await opened.close();
  }
}

const result = await tributary();
const usage = resourceUsage();
console.log(
  JSON.stringify({
    ...result,
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
    maxRssMB: Math.round(usage.maxRSS / 1024),
  }),
);
