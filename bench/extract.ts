/**
 * `npm run bench:extract`: a 5M-row PostgreSQL table → raw zone → typed Parquet, against the same
 * work by hand in the same run: psql's `\copy … csv header`, then DuckDB reading that CSV with the
 * contract's types into zstd Parquet. Each side runs in a fresh child process
 * (bench/extract-worker.ts), alternating which goes first; both Parquet outputs must hold the same
 * rows and values. Prints per-run ratios, rows/s, peak memory, CPU, the ratio reference time /
 * Tributary time (target ≥ 0.8: Tributary at most 25% slower) and, beside it, the extract alone
 * (psql's \copy against Tributary's landing).
 *   npm run bench:extract -- --repeat 3 --parallel 1
 * The table (bench_extract_5m in the test database) is created once with generate_series and
 * kept between runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs } from './args.js';
import pg from 'pg';

const { values } = benchArgs(
  {
    options: {
      repeat: { type: 'string', default: '3' },
      parallel: { type: 'string', default: '1' },
    },
  },
  import.meta.url,
);
const repeat = Number(values.repeat);
const parallel = Number(values.parallel);
const url = process.env.TRIBUTARY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = 5_000_000;
const root = resolve(import.meta.dirname, '../../bench/.work/extract');
const worker = resolve(import.meta.dirname, 'extract-worker.js');

/** Creates bench_extract_5m unless it is already there with its 5M rows. */
async function ensureTable(): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Two queries: PostgreSQL resolves every relation a statement names, even in a CASE branch
    // that never runs, so counting in the same statement fails when the table is not there.
    const { rows: exists } = await client.query<{ t: string | null }>(
      `SELECT to_regclass('bench_extract_5m')::text AS t`,
    );
    const { rows } = exists[0]?.t
      ? await client.query<{ n: string }>('SELECT count(*)::text AS n FROM bench_extract_5m')
      : { rows: [] as { n: string }[] };
    if (rows[0]?.n === String(ROWS)) return;
    process.stderr.write('creating bench_extract_5m (5M rows)…\n');
    await client.query('DROP TABLE IF EXISTS bench_extract_5m');
    await client.query(`CREATE TABLE bench_extract_5m AS
      SELECT g AS id, g % 50000 AS customer_id,
             ((g * 7919) % 100000 / 100.0)::numeric(12,2) AS amount,
             (ARRAY['paid','shipped','refunded','pending'])[1 + g % 4] AS status,
             timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' AS created_at,
             'note ' || md5(g::text) AS note
        FROM generate_series(1::bigint, ${ROWS}::bigint) g`);
    await client.query('ALTER TABLE bench_extract_5m ADD PRIMARY KEY (id)');
    await client.query('VACUUM ANALYZE bench_extract_5m');
  } finally {
    await client.end();
  }
}

interface Measurement {
  ms: number;
  maxRssMB: number;
  /** CPU-seconds of the side's own processes (Node and DuckDB; psql's too on the reference). */
  cpuS: number;
  /** Tributary: landing, then processing. Reference: psql's \copy, then DuckDB's CSV → Parquet. */
  landMs?: number;
  copyMs?: number;
  processMs: number;
  rows?: number;
  rejected?: number;
  psqlMaxRssMB?: number;
  psqlCpuS?: number;
  totals: Record<string, string>;
  /** CPU-seconds the whole machine spent while the side ran (PostgreSQL's server included). */
  machineCpuS?: number;
}

function measure(args: string[]): Measurement {
  // Flush the previous side's written files first, so their writeback does not slow this side.
  spawnSync('sync');
  const r = spawnSync(process.execPath, [worker, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, TRIBUTARY_TEST_POSTGRES_URL: url },
  });
  if (r.status !== 0) throw new Error(`${args[0]} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measurement;
}

const loadAtStart = loadavg();
await ensureTable();
const runs: { trib: Measurement; ref: Measurement }[] = [];
const secs = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
for (let i = 0; i < repeat; i++) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const got: Partial<{ trib: Measurement; ref: Measurement }> = {};
  const order = i % 2 === 0 ? ['ref', 'trib'] : ['trib', 'ref'];
  for (const side of order) {
    if (side === 'trib') got.trib = measure(['tributary', join(root, 'trib'), String(parallel)]);
    else got.ref = measure(['reference', join(root, 'reference')]);
  }
  const { trib, ref } = got as { trib: Measurement; ref: Measurement };
  if (trib.rows !== ROWS || trib.rejected !== 0) {
    throw new Error(
      `tributary processed ${trib.rows} rows (${trib.rejected} rejected), not ${ROWS}`,
    );
  }
  if (JSON.stringify(trib.totals) !== JSON.stringify(ref.totals)) {
    throw new Error(
      `the two sides' Parquet differ:\ntributary ${JSON.stringify(trib.totals)}\nreference ${JSON.stringify(ref.totals)}`,
    );
  }
  runs.push({ trib, ref });
  process.stderr.write(
    `run ${i + 1}/${repeat} (${order[0] === 'ref' ? 'reference' : 'tributary'} first): tributary ${secs(trib.ms)} (land ${secs(trib.landMs!)} + process ${secs(trib.processMs)}, CPU ${trib.cpuS.toFixed(1)}s), reference ${secs(ref.ms)} (psql ${secs(ref.copyMs!)} + duckdb ${secs(ref.processMs)}, CPU ${ref.cpuS.toFixed(1)}s); ratio ${(ref.ms / trib.ms).toFixed(3)}, CPU ratio ${(ref.cpuS / trib.cpuS).toFixed(3)}, extract only ${(ref.copyMs! / trib.landMs!).toFixed(3)}\n`,
  );
}
rmSync(root, { recursive: true, force: true });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const med = (side: 'trib' | 'ref', f: (m: Measurement) => number) =>
  median(runs.map((x) => f(x[side])));
const rate = (ms: number) => `${Math.round(ROWS / (ms / 1000)).toLocaleString('en-US')} rows/s`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const machine = (side: 'trib' | 'ref') => {
  const xs = runs.map((x) => x[side].machineCpuS).filter((x): x is number => x !== undefined);
  return xs.length ? `${median(xs).toFixed(1)} s` : 'n/a';
};
const spread = (xs: number[]) =>
  `**${median(xs).toFixed(3)}** (${xs.map((x) => x.toFixed(3)).join(', ')})`;
console.log(
  `\nbench:extract — ${ROWS.toLocaleString('en-US')} rows, ${repeat} run(s), medians, parallel ${parallel}; load average ${loadAtStart.map((x) => x.toFixed(2)).join(' ')} at the start, ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} at the end\n`,
);
console.log(
  `| side | total | extract | process to Parquet | rows/s | CPU (own processes) | machine CPU (${availableParallelism()} cores) | peak RSS |\n|---|---|---|---|---|---|---|---|\n` +
    `| tributary: land (COPY ×${parallel}, hash, commit) + processTable | ${s(med('trib', (m) => m.ms))} | ${s(med('trib', (m) => m.landMs!))} | ${s(med('trib', (m) => m.processMs))} | ${rate(med('trib', (m) => m.ms))} | ${med('trib', (m) => m.cpuS).toFixed(1)} s | ${machine('trib')} | ${Math.max(...runs.map((x) => x.trib.maxRssMB))} MB |\n` +
    `| reference: psql \\copy to CSV + DuckDB CSV → typed Parquet | ${s(med('ref', (m) => m.ms))} | ${s(med('ref', (m) => m.copyMs!))} | ${s(med('ref', (m) => m.processMs))} | ${rate(med('ref', (m) => m.ms))} | ${med('ref', (m) => m.cpuS).toFixed(1)} s (psql ${med('ref', (m) => m.psqlCpuS ?? 0).toFixed(1)} s) | ${machine('ref')} | ${Math.max(...runs.map((x) => x.ref.maxRssMB))} MB (psql ${Math.max(...runs.map((x) => x.ref.psqlMaxRssMB ?? 0))} MB) |\n`,
);
console.log(
  `ratio reference / tributary, per run: ${spread(runs.map((x) => x.ref.ms / x.trib.ms))} (target ≥ 0.8)`,
);
console.log(
  `CPU ratio reference / tributary (own processes; the PostgreSQL server's work counts on neither side), per run: ${spread(runs.map((x) => x.ref.cpuS / x.trib.cpuS))}`,
);
console.log(
  `extract only, psql \\copy / tributary land, per run: ${spread(runs.map((x) => x.ref.copyMs! / x.trib.landMs!))}`,
);
