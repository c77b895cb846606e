/**
 * One measured side of `bench:ingest`, run in a child process of its own so its time, CPU and peak
 * memory are its alone: `tributary <projectDir>` runs the pipeline, `reference <landing> <out>`
 * runs bench/reference.sql in DuckDB. After the timed work each side reads the totals of every
 * relation both build (untimed), for the parent to compare. Prints one JSON line.
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Engine } from '../src/engines/index.js';
import { openDuckDB } from '../src/engines/index.js';
import { openWorkspace, runPipeline } from '../src/orchestrator/index.js';

const TABLES = [
  'customers',
  'products',
  'stores',
  'orders',
  'order_lines',
  'payments',
  'clickstream',
];
/** Relations whose columns and totals must be the same on both sides. */
const COMPARED = [
  ...TABLES.map((t) => `processed.${t}`),
  'main.stg_shop_customers',
  'main.stg_shop_products',
  'main.stg_shop_stores',
  'main.stg_shop_orders',
  'main.stg_shop_order_lines',
  'main.stg_payments_payments',
  'main.stg_web_clickstream',
  'snapshots.customers_snapshot',
  'main.dim_customers',
  'main.dim_date',
  'main.dim_locations',
  'main.dim_products',
  'main.fct_sales',
  'main.monthly_sales',
];
/** Relations compared by row count only (Tributary's quarantine also keeps line numbers, messages). */
const COUNTED = TABLES.map((t) => `quarantine.${t}`);

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|DECIMAL)/;
const FLOAT = /^(FLOAT|DOUBLE|REAL)/;

/**
 * Row count, the sum of every numeric column (doubles each rounded to 6 places and summed as
 * decimals: a sum of doubles depends on the order DuckDB's threads add them in), the number of true values of every boolean column and
 * the column list, of each relation; row counts only of the quarantine.
 */
async function totals(engine: Engine): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const relation of [...COMPARED, ...COUNTED]) {
    const [schema, name] = relation.split('.') as [string, string];
    const columns = await engine.describe(schema, name);
    if (!columns) throw new Error(`${relation} was not built`);
    const exprs = ['CAST(count(*) AS VARCHAR) AS "rows"'];
    if (COMPARED.includes(relation)) {
      for (const c of columns) {
        const col = `"${c.name}"`;
        const type = c.type.toUpperCase();
        if (NUMERIC.test(type)) exprs.push(`CAST(sum(${col}) AS VARCHAR) AS ${col}`);
        else if (FLOAT.test(type))
          exprs.push(`CAST(sum(CAST(${col} AS DECIMAL(38, 6))) AS VARCHAR) AS ${col}`);
        else if (type === 'BOOLEAN') exprs.push(`CAST(count_if(${col}) AS VARCHAR) AS ${col}`);
      }
    }
    const row = (await engine.query(`SELECT ${exprs.join(', ')} FROM ${schema}."${name}"`))
      .rows[0]!;
    out[relation] = {
      ...(COMPARED.includes(relation)
        ? { columns: columns.map((c) => `${c.name} ${c.type}`).join(', ') }
        : {}),
      ...Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)])),
    };
  }
  return out;
}

/**
 * What the template runs that the reference does not do, left out of the timed run: forecasts
 * (bench:forecast measures them), syncs to the CRM (bench:sync), and the marts added since the
 * reference was written with their tests: customer_lifecycle (the syncs' input) and the
 * clickstream's sessions and funnel.
 */
const NOT_IN_REFERENCE = [
  'kind:forecast',
  'kind:sync',
  'model:customer_lifecycle+',
  'model:web_session_events+',
];

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

async function tributary(projectDir: string) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ws = await openWorkspace(projectDir, 'bench');
  try {
    const result = await runPipeline(ws, { command: 'bench', exclude: NOT_IN_REFERENCE });
    const failed = result.steps
      .filter((s) => s.status === 'failed')
      .map((s) => `${s.asset}: ${s.message}`);
    if (failed.length) throw new Error(`tributary run failed:\n${failed.join('\n')}`);
    const ms = performance.now() - t0;
    const cpuS = cpuSeconds(cpu0);
    const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
    return { ms, cpuS, maxRssMB, status: result.status, totals: await totals(ws.warehouse) };
  } finally {
    await ws.close();
  }
}

async function reference(landing: string, out: string) {
  mkdirSync(join(out, 'processed'), { recursive: true });
  mkdirSync(join(out, 'quarantine'), { recursive: true });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sql = readFileSync(resolve(import.meta.dirname, '../../bench/reference.sql'), 'utf8')
    .replaceAll('{{landing}}', landing)
    .replaceAll('{{out}}', out)
    .replaceAll('{{loaded_at}}', new Date().toISOString());
  const engine = await openDuckDB({ path: join(out, 'warehouse.duckdb') });
  try {
    await engine.exec(sql);
    const failures = await engine.query(`SELECT test FROM check_failures WHERE failures > 0`);
    if (failures.rows.length)
      throw new Error(`reference checks failed: ${failures.rows.map((r) => r.test).join(', ')}`);
    await engine.exec('CHECKPOINT');
    const ms = performance.now() - t0;
    const cpuS = cpuSeconds(cpu0);
    const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
    return { ms, cpuS, maxRssMB, status: 'succeeded', totals: await totals(engine) };
  } finally {
    await engine.close();
  }
}

const [mode, a, b] = process.argv.slice(2);
const result = mode === 'tributary' ? await tributary(a!) : await reference(a!, b!);
process.stdout.write(`${JSON.stringify(result)}\n`);
