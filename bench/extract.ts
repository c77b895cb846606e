/**
 * `npm run bench:extract`: a 5M-row PostgreSQL table → raw zone → typed Parquet, against psql's
 * `\copy … csv header` of the same table in the same run. Each side runs in a fresh child process
 * (bench/extract-worker.ts), alternating which goes first; prints rows/s, peak memory and the
 * ratio reference time / Tributary time (target ≥ 0.8: Tributary at most 25% slower).
 *   npm run bench:extract -- --repeat 3 --parallel 1
 * The table (bench_extract_5m in the test database) is created once with generate_series and
 * kept between runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    parallel: { type: 'string', default: '1' },
  },
});
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
  landMs?: number;
  processMs?: number;
  rows?: number;
  rejected?: number;
  psqlMaxRssMB?: number;
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

await ensureTable();
const runs: { trib: Measurement; ref: Measurement }[] = [];
for (let i = 0; i < repeat; i++) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const got: Partial<{ trib: Measurement; ref: Measurement }> = {};
  for (const side of i % 2 === 0 ? ['ref', 'trib'] : ['trib', 'ref']) {
    if (side === 'trib') got.trib = measure(['tributary', join(root, 'trib'), String(parallel)]);
    else got.ref = measure(['reference', join(root, 'reference.csv')]);
  }
  const { trib, ref } = got as { trib: Measurement; ref: Measurement };
  if (trib.rows !== ROWS || trib.rejected !== 0) {
    throw new Error(
      `tributary processed ${trib.rows} rows (${trib.rejected} rejected), not ${ROWS}`,
    );
  }
  runs.push({ trib, ref });
  process.stderr.write(
    `run ${i + 1}/${repeat}: tributary ${(trib.ms / 1000).toFixed(2)}s (land ${(trib.landMs! / 1000).toFixed(2)}s + process ${(trib.processMs! / 1000).toFixed(2)}s), psql ${(ref.ms / 1000).toFixed(2)}s, ratio ${(ref.ms / trib.ms).toFixed(3)}\n`,
  );
}
rmSync(root, { recursive: true, force: true });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const t = median(runs.map((r) => r.trib.ms));
const l = median(runs.map((r) => r.trib.landMs!));
const p = median(runs.map((r) => r.trib.processMs!));
const r = median(runs.map((x) => x.ref.ms));
const ratios = runs.map((x) => x.ref.ms / x.trib.ms);
const rate = (ms: number) => `${Math.round(ROWS / (ms / 1000)).toLocaleString('en-US')} rows/s`;
console.log(
  `\nbench:extract — ${ROWS.toLocaleString('en-US')} rows, ${repeat} run(s), medians, parallel ${parallel}; ratio = psql / tributary (target ≥ 0.8)\n`,
);
const cpu = (side: 'trib' | 'ref') => {
  const xs = runs.map((x) => x[side].machineCpuS).filter((x): x is number => x !== undefined);
  return xs.length ? `${median(xs).toFixed(1)} s` : 'n/a';
};
console.log(
  `| side | time | rows/s | peak RSS | machine CPU (${availableParallelism()} cores) |\n|---|---|---|---|---|\n` +
    `| tributary: land (COPY ×${parallel}) + process to Parquet | ${(t / 1000).toFixed(2)} s (land ${(l / 1000).toFixed(2)} s, process ${(p / 1000).toFixed(2)} s) | ${rate(t)} | ${Math.max(...runs.map((x) => x.trib.maxRssMB))} MB | ${cpu('trib')} |\n` +
    `| reference: psql \\copy to CSV | ${(r / 1000).toFixed(2)} s | ${rate(r)} | ${Math.max(...runs.map((x) => x.ref.psqlMaxRssMB ?? 0))} MB | ${cpu('ref')} |\n`,
);
console.log(
  `ratio psql / tributary: **${median(ratios).toFixed(3)}** (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`,
);
