/**
 * One side of bench/workers.ts's template comparison, in its own process so its CPU is its own:
 * runs the whole pipeline of an initialised, generated e-commerce project (its warehouse is
 * whatever its tributary.yml says: DuckDB or PostgreSQL) and prints one JSON line: the pipeline's
 * wall time, this process's CPU (DuckDB's threads included), and the row count and revenue of
 * main.fct_sales so the parent can check both warehouses built the same thing. The CRM sync is
 * excluded: its token is the user's (as in test/orchestrator/template-postgres.test.ts).
 *   node dist/bench/workers-template.js <project dir>
 */
import { silentProgress } from '../src/core/index.js';
import { openWorkspace, runPipeline } from '../src/orchestrator/index.js';

const [dir] = process.argv.slice(2);
const ws = await openWorkspace(dir!, 'bench:workers');
try {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const run = await runPipeline(ws, {
    progress: silentProgress,
    command: 'bench:workers',
    exclude: ['kind:sync'],
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (run.status !== 'succeeded') {
    const failed = run.steps.filter((s) => s.status === 'failed');
    throw new Error(
      `the pipeline ended ${run.status}: ${failed.map((s) => `${s.asset}: ${s.message}`).join('; ')}`,
    );
  }
  const facts = await ws.warehouse.query(
    'select count(*) as n, sum(cast(net_amount as double precision)) as revenue from main.fct_sales',
  );
  console.log(
    JSON.stringify({
      warehouse: ws.warehouse.kind,
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      steps: run.steps.length,
      factRows: Number(facts.rows[0]!.n),
      revenue: Number(facts.rows[0]!.revenue),
    }),
  );
} finally {
  await ws.close();
}
