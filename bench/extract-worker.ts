/**
 * One measured side of `bench:extract`, in a child process of its own so its time and peak
 * memory are its alone. `tributary <workDir> <parallel>` lands bench_extract_5m with the postgres
 * connector and processes it into typed Parquet with the table's contract; `reference <workDir>`
 * runs psql's `\copy … to <file> csv header` (under /usr/bin/time, for psql's CPU and peak
 * memory), then DuckDB reads that CSV with the contract's types, checks the required columns and
 * writes zstd Parquet stamped with `_loaded_at`, as processing does. Both then read their Parquet
 * back (untimed) for the totals the parent compares. Prints one JSON line with the measurements.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { silentProgress } from '../src/core/index.js';
import { openDuckDB } from '../src/engines/index.js';
import { LocalObjectStore } from '../src/lake/index.js';
import type { DatabaseSourceTable } from '../src/project/index.js';
import { processTable } from '../src/quality/index.js';
import { PostgresSource, type DatabaseBatch } from '../src/sources/index.js';

const url = process.env.TRIBUTARY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TABLE = 'bench_extract_5m';
const COLUMNS = ['id', 'customer_id', 'amount', 'status', 'created_at', 'note'];
/** The contract of both sides: DuckDB type and whether a value is required. */
const TYPES: [string, string, boolean][] = [
  ['id', 'BIGINT', true],
  ['customer_id', 'BIGINT', true],
  ['amount', 'DECIMAL(12,2)', true],
  ['status', 'VARCHAR', true],
  ['created_at', 'TIMESTAMP', true],
  ['note', 'VARCHAR', false],
];

/** What both sides' Parquet must hold: the same rows, values and column types. */
async function parquetTotals(glob: string): Promise<Record<string, string>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const totals = await connection.runAndReadAll(
      `SELECT count(*) AS rows, sum(id) AS ids, sum(customer_id) AS customers, sum(amount) AS amount,
              count(DISTINCT status) AS statuses, min(created_at) AS first, max(created_at) AS last,
              count(note) AS notes, count(_loaded_at) AS stamped
         FROM read_parquet('${glob}')`,
    );
    const schema = await connection.runAndReadAll(
      `SELECT string_agg(column_name || ' ' || column_type, ', ')
         FROM (DESCRIBE SELECT * EXCLUDE (_loaded_at) FROM read_parquet('${glob}'))`,
    );
    const row = totals.getRowsJson()[0]!;
    const names = totals.columnNames();
    return {
      ...Object.fromEntries(names.map((n, i) => [n, String(row[i])])),
      schema: String(schema.getRowsJson()[0]![0]),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function tributary(dir: string, parallel: number) {
  process.env.TRIBUTARY_BENCH_POSTGRES_URL = url;
  const table: DatabaseSourceTable = {
    id: `app.${TABLE}`,
    source: 'app',
    table: TABLE,
    kind: 'postgres',
    sourceConfig: { type: 'postgres', url: { env: 'TRIBUTARY_BENCH_POSTGRES_URL' }, tables: {} },
    tableConfig: {
      table: TABLE,
      columns: COLUMNS,
      mode: 'full',
      parallel,
      split_by: 'id',
      disposition: 'append',
      schema_evolution: 'freeze',
    },
    format: 'csv',
    csv: { delimiter: ',', quote: '"', escape: '"', header: true },
    records: undefined,
    contract: {
      columns: [
        { name: 'id', type: 'bigint', required: true },
        { name: 'customer_id', type: 'bigint', required: true },
        { name: 'amount', type: 'decimal(12,2)', required: true },
        { name: 'status', type: 'string', required: true },
        { name: 'created_at', type: 'timestamp', required: true },
        { name: 'note', type: 'string', required: false },
      ],
    },
    contractFile: 'bench',
    disposition: 'append',
    schemaEvolution: 'freeze',
  };
  const store = new LocalObjectStore(join(dir, 'lake'));
  const tmpDir = join(dir, 'tmp');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const landed = await new PostgresSource(table).land({
    store,
    progress: silentProgress,
    now: new Date(),
    tmpDir,
  });
  const landMs = performance.now() - t0;
  const engine = await openDuckDB({ path: ':memory:' });
  try {
    const result = await processTable(
      { engine, store, tmpDir, progress: silentProgress },
      table,
      new Map(),
    );
    const cost = timedCost(t0, cpu0);
    return {
      ...cost,
      totals: await parquetTotals(join(dir, 'lake', 'processed', '**', '*.parquet')),
      landMs,
      processMs: cost.ms - landMs,
      rowsLanded: (landed.landed as DatabaseBatch[]).reduce((n, b) => n + b.rows, 0),
      rows: result.rowsOut,
      rejected: result.rowsRejected,
      bytes: landed.landed.reduce((n, b) => n + b.bytes, 0),
    };
  } finally {
    await engine.close();
  }
}

async function reference(dir: string) {
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, 'reference.csv');
  const parquet = join(dir, 'reference.parquet');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'maxrss=%M cpu=%U+%S',
      'psql',
      url,
      '-X',
      '-q',
      '-c',
      `\\copy (select ${COLUMNS.join(', ')} from ${TABLE}) to '${csv}' csv header`,
    ],
    { encoding: 'utf8' },
  );
  const copyMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  const kb = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1] ?? 0);
  const [user, system] = (/cpu=([\d.]+)\+([\d.]+)/.exec(r.stderr) ?? []).slice(1).map(Number);
  // Processing, as Tributary's processing does it: the CSV read strictly with the contract's
  // types (a bad value fails the statement), a required value missing fails it too, each row
  // stamped with when it was loaded, zstd Parquet. Plain DuckDB, default settings.
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const columns = TYPES.map(([n, t]) => `'${n}': '${t}'`).join(', ');
    const missing = TYPES.filter(([, , req]) => req)
      .map(([n]) => `${n} IS NULL`)
      .join(' OR ');
    await connection.run(
      `COPY (
         SELECT ${COLUMNS.join(', ')}, CAST('${new Date().toISOString()}' AS TIMESTAMP) AS _loaded_at
           FROM read_csv('${csv}', header = true, delim = ',', quote = '"', escape = '"',
                         columns = {${columns}})
          WHERE CASE WHEN ${missing} THEN error('a required value is missing') ELSE true END
       ) TO '${parquet}' (FORMAT parquet, COMPRESSION zstd)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  const cost = timedCost(t0, cpu0);
  return {
    ...cost,
    copyMs,
    processMs: cost.ms - copyMs,
    psqlMaxRssMB: Math.round(kb / 1024),
    psqlCpuS: (user ?? 0) + (system ?? 0),
    cpuS: cost.cpuS + (user ?? 0) + (system ?? 0),
    totals: await parquetTotals(parquet),
  };
}

/**
 * CPU time the whole machine has spent busy so far, in seconds (Linux /proc/stat: every process,
 * the PostgreSQL server's included; idle and iowait left out), or undefined elsewhere.
 */
function machineBusySeconds(): number | undefined {
  if (!existsSync('/proc/stat')) return undefined;
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq] = ticks.map(Number) as number[];
  return (user! + nice! + system! + irq! + softirq!) / 100;
}

/** Machine CPU-seconds since `before`, taken when a side's timing ends (totals not included). */
function machineCpuSince(before: number | undefined): number | undefined {
  const now = machineBusySeconds();
  return before === undefined || now === undefined ? undefined : now - before;
}

/**
 * What a side's timed work cost, taken when it ends: wall ms since `t0`, this process's CPU
 * seconds since `cpu0`, the machine's busy CPU seconds since the worker started, peak RSS.
 */
function timedCost(t0: number, cpu0: NodeJS.CpuUsage) {
  const cpu = process.cpuUsage(cpu0);
  return {
    ms: performance.now() - t0,
    machineCpuS: machineCpuSince(busyBefore),
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}

const [mode, a, b] = process.argv.slice(2);
const busyBefore = machineBusySeconds();
const result = mode === 'tributary' ? await tributary(a!, Number(b ?? 1)) : await reference(a!);
// Peak memory as of the end of the timed work (the totals read afterwards not included).
process.stdout.write(`${JSON.stringify(result)}\n`);
