/**
 * One measurement for bench/compile.ts, in its own process: `tributary <dir>` parses and compiles
 * every model (writing target/compiled like `dbt compile`); `reference <dir>` reads every file and
 * substitutes ref() with a regular expression. Prints one JSON line.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { resourceUsage } from 'node:process';
import { openDbtProject, runVerb } from '../src/models/index.js';

const [mode, dir] = process.argv.slice(2) as [string, string];

async function reference(): Promise<{ parseMs: number; compileMs: number; nodes: number }> {
  const t0 = performance.now();
  const files = (await readdir(join(dir, 'models'), { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.sql'))
    .map((e) => join(e.parentPath, e.name));
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  const t1 = performance.now();
  let bytes = 0;
  for (const t of texts)
    bytes += t.replace(/\{\{\s*ref\('([^']+)'\)\s*\}\}/g, '"main"."$1"').length;
  if (bytes < 0) throw new Error('unreachable');
  return { parseMs: t1 - t0, compileMs: performance.now() - t1, nodes: files.length };
}

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

const result = mode === 'reference' ? await reference() : await tributary();
const usage = resourceUsage();
console.log(
  JSON.stringify({
    ...result,
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
    maxRssMB: Math.round(usage.maxRSS / 1024),
  }),
);
