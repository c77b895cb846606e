/**
 * One measured side of `bench:ingest`, run in a child process of its own so its time and peak
 * memory are its alone: `tributary <projectDir>` runs the pipeline, `reference <landing> <out>`
 * runs bench/reference.sql in DuckDB. Prints one JSON line with the measurements.
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDuckDB } from '../src/engines/index.js';
import { openWorkspace, runPipeline } from '../src/orchestrator/index.js';

const TOTALS = `SELECT count(*) AS lines, sum(quantity) AS quantity, sum(net_amount) AS net_amount FROM fct_sales`;

async function tributary(projectDir: string) {
  const t0 = performance.now();
  const ws = await openWorkspace(projectDir, 'bench');
  let status: string;
  let totals;
  try {
    const result = await runPipeline(ws, { command: 'bench' });
    status = result.status;
    const failed = result.steps
      .filter((s) => s.status === 'failed')
      .map((s) => `${s.asset}: ${s.message}`);
    if (failed.length) throw new Error(`tributary run failed:\n${failed.join('\n')}`);
    const ms = performance.now() - t0;
    totals = (await ws.warehouse.query(TOTALS)).rows[0];
    return { ms, status, totals };
  } finally {
    await ws.close();
  }
}

async function reference(landing: string, out: string) {
  const sql = readFileSync(resolve(import.meta.dirname, '../../bench/reference.sql'), 'utf8')
    .replaceAll('{{landing}}', landing)
    .replaceAll('{{out}}', out);
  mkdirSync(join(out, 'processed'), { recursive: true });
  mkdirSync(join(out, 'quarantine'), { recursive: true });
  const t0 = performance.now();
  const engine = await openDuckDB({ path: join(out, 'warehouse.duckdb') });
  try {
    await engine.exec(sql);
    const failures = await engine.query(`SELECT test FROM check_failures WHERE failures > 0`);
    if (failures.rows.length)
      throw new Error(`reference checks failed: ${failures.rows.map((r) => r.test).join(', ')}`);
    await engine.exec('CHECKPOINT');
    const ms = performance.now() - t0;
    const totals = (await engine.query(TOTALS)).rows[0];
    return { ms, status: 'succeeded', totals };
  } finally {
    await engine.close();
  }
}

const [mode, a, b] = process.argv.slice(2);
const result = mode === 'tributary' ? await tributary(a!) : await reference(a!, b!);
process.stdout.write(
  `${JSON.stringify({ ...result, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
);
