/**
 * One measured side of `bench:extract`, in a child process of its own so its time and peak
 * memory are its alone. `tributary <workDir> <parallel>` lands bench_extract_5m with the postgres
 * connector and processes it into typed Parquet with the table's contract; `reference <file>`
 * runs psql's `\copy … to <file> csv header` (under /usr/bin/time, for psql's peak memory).
 * Prints one JSON line with the measurements.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentProgress } from '../src/core/index.js';
import { openDuckDB } from '../src/engines/index.js';
import { LocalObjectStore } from '../src/lake/index.js';
import type { DatabaseSourceTable } from '../src/project/index.js';
import { processTable } from '../src/quality/index.js';
import { PostgresSource, type DatabaseBatch } from '../src/sources/index.js';

const url = process.env.TRIBUTARY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TABLE = 'bench_extract_5m';
const COLUMNS = ['id', 'customer_id', 'amount', 'status', 'created_at', 'note'];

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
    const ms = performance.now() - t0;
    return {
      ms,
      landMs,
      processMs: ms - landMs,
      rowsLanded: (landed.landed as DatabaseBatch[]).reduce((n, b) => n + b.rows, 0),
      rows: result.rowsOut,
      rejected: result.rowsRejected,
      bytes: landed.landed.reduce((n, b) => n + b.bytes, 0),
    };
  } finally {
    await engine.close();
  }
}

function reference(file: string) {
  const t0 = performance.now();
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'maxrss=%M',
      'psql',
      url,
      '-X',
      '-q',
      '-c',
      `\\copy (select ${COLUMNS.join(', ')} from ${TABLE}) to '${file}' csv header`,
    ],
    { encoding: 'utf8' },
  );
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  const kb = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1] ?? 0);
  return { ms, psqlMaxRssMB: Math.round(kb / 1024) };
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

const [mode, a, b] = process.argv.slice(2);
const busyBefore = machineBusySeconds();
const result = mode === 'tributary' ? await tributary(a!, Number(b ?? 1)) : reference(a!);
const busyAfter = machineBusySeconds();
process.stdout.write(
  `${JSON.stringify({
    ...result,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(busyBefore !== undefined && busyAfter !== undefined
      ? { machineCpuS: busyAfter - busyBefore }
      : {}),
  })}\n`,
);
