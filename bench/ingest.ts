/**
 * `npm run bench:ingest`: generated CSV/JSON → typed Parquet → star schema, at SF1 and SF10.
 * Each scale runs Tributary's pipeline and the hand-written DuckDB script (bench/reference.sql)
 * on the same files, each in a fresh child process, alternating which goes first, and prints
 * per-run ratios, wall and CPU time, peak memory and the median ratio Tributary / reference.
 * Both must produce the same processed tables, quarantine counts, staging views, snapshot and
 * marts (columns, row counts, sums of numeric columns), or the bench aborts: the ratio only
 * means something when the work is the same.
 *   npm run bench:ingest -- --scales 1,10 --repeat 3
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { benchArgs } from './args.js';
import { generateEcommerce } from '../templates/ecommerce/generator/index.js';
import { initProject } from '../src/cli/commands/init.js';

const { values } = benchArgs(
  {
    options: {
      scales: { type: 'string', default: '1,10' },
      repeat: { type: 'string', default: '5' },
      seed: { type: 'string', default: '42' },
      // Where the generated data and both sides' output go (a test runs a tiny scale elsewhere).
      work: { type: 'string', default: 'bench/.work' },
    },
  },
  import.meta.url,
);
const scales = values.scales.split(',').map(Number);
const repeat = Number(values.repeat);
const seed = Number(values.seed);
const root = resolve(import.meta.dirname, '../..', values.work);
const worker = resolve(import.meta.dirname, 'ingest-worker.js');

interface Measurement {
  ms: number;
  /** CPU-seconds of the side's process (DuckDB's threads included). */
  cpuS: number;
  maxRssMB: number;
  /** Per relation: its columns, row count and sums (see totals() in ingest-worker.ts). */
  totals: Record<string, Record<string, string>>;
}

/** Names every relation whose totals differ between the sides, with both values. */
function differences(trib: Measurement, ref: Measurement): string[] {
  const names = new Set([...Object.keys(trib.totals), ...Object.keys(ref.totals)]);
  return [...names]
    .filter((n) => JSON.stringify(trib.totals[n]) !== JSON.stringify(ref.totals[n]))
    .map(
      (n) =>
        `${n}:\n  tributary ${JSON.stringify(trib.totals[n])}\n  reference ${JSON.stringify(ref.totals[n])}`,
    );
}

function measure(args: string[]): Measurement {
  // Flush the previous side's written files first, so their writeback does not slow this side.
  spawnSync('sync');
  const r = spawnSync(process.execPath, [worker, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`${args[0]} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measurement;
}

async function landing(scale: number): Promise<string> {
  const dir = join(root, `sf${scale}`, 'landing');
  const marker = join(dir, '_generated.json');
  if (existsSync(marker) && JSON.parse(readFileSync(marker, 'utf8')).seed === seed) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`generating SF${scale}…\n`);
  const report = await generateEcommerce({ outDir: dir, scale, seed });
  writeFileSync(marker, JSON.stringify({ seed, scale, files: report.files }));
  return dir;
}

/**
 * The template's clickstream comes from the stream (`web` is `type: stream`); the bench measures
 * files into the lake, as the reference reads them, so the bench's project reads the generated
 * `clickstream.ndjson` instead, as the template did before it moved to the stream. (The stream's
 * own path is bench:stream's.) Throws when the template no longer has the lines replaced, so a
 * change there cannot quietly leave the clickstream empty on one side.
 */
function readClickstreamFromLanding(project: string): void {
  const yml = join(project, 'tributary.yml');
  const text = readFileSync(yml, 'utf8');
  const stream =
    /^( {2}web:.*\n) {4}type: stream\n {4}tables:\n(?: {6}#.*\n)* {6}clickstream: \{ stream: .*\}\n/m;
  if (!stream.test(text))
    throw new Error(
      `${yml}: the template's web.clickstream stream source was not found to replace`,
    );
  writeFileSync(
    yml,
    text.replace(
      stream,
      '$1    type: files\n    path: landing\n    tables:\n      clickstream: { files: "clickstream*.ndjson", format: ndjson }\n',
    ),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const loadAtStart = load();
const rows: string[] = [];
for (const scale of scales) {
  const input = await landing(scale);
  const runs: { trib: Measurement; ref: Measurement }[] = [];
  for (let i = 0; i < repeat; i++) {
    const project = join(root, `sf${scale}`, 'project');
    const out = join(root, `sf${scale}`, 'reference');
    rmSync(project, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
    await initProject(project, 'ecommerce');
    readClickstreamFromLanding(project);
    rmSync(join(project, 'landing'), { recursive: true, force: true });
    symlinkSync(input, join(project, 'landing'));
    const order = i % 2 === 0 ? ['ref', 'trib'] : ['trib', 'ref'];
    const got: Partial<{ trib: Measurement; ref: Measurement }> = {};
    for (const side of order) {
      got[side as 'trib' | 'ref'] =
        side === 'trib' ? measure(['tributary', project]) : measure(['reference', input, out]);
    }
    const { trib, ref } = got as { trib: Measurement; ref: Measurement };
    const differ = differences(trib, ref);
    if (differ.length) {
      throw new Error(
        `SF${scale} run ${i + 1}: the two sides built different data, so their times are not comparable:\n${differ.join('\n')}`,
      );
    }
    runs.push({ trib, ref });
    process.stderr.write(
      `SF${scale} run ${i + 1}/${repeat} (${order[0] === 'ref' ? 'reference' : 'tributary'} first): tributary ${(trib.ms / 1000).toFixed(2)}s (CPU ${trib.cpuS.toFixed(1)}s), reference ${(ref.ms / 1000).toFixed(2)}s (CPU ${ref.cpuS.toFixed(1)}s), ratio ${(trib.ms / ref.ms).toFixed(3)}, CPU ratio ${(trib.cpuS / ref.cpuS).toFixed(3)}; ${Object.keys(trib.totals).length} relations' totals identical\n`,
    );
  }
  const med = (side: 'trib' | 'ref', f: (m: Measurement) => number) =>
    median(runs.map((x) => f(x[side])));
  const ratios = runs.map((x) => x.trib.ms / x.ref.ms);
  const cpuRatios = runs.map((x) => x.trib.cpuS / x.ref.cpuS);
  rows.push(
    `| SF${scale} | ${runs[0]!.trib.totals['main.fct_sales']!.rows} | ${(med('trib', (m) => m.ms) / 1000).toFixed(2)} s | ${med('trib', (m) => m.cpuS).toFixed(1)} s | ${(med('ref', (m) => m.ms) / 1000).toFixed(2)} s | ${med('ref', (m) => m.cpuS).toFixed(1)} s | **${median(ratios).toFixed(3)}** (${ratios.map((x) => x.toFixed(3)).join(', ')}) | ${median(cpuRatios).toFixed(3)} | ${Math.max(...runs.map((x) => x.trib.maxRssMB))} MB | ${Math.max(...runs.map((x) => x.ref.maxRssMB))} MB |`,
  );
}
console.log(
  `\nbench:ingest — ${repeat} run(s) per scale, medians; ratio = tributary / reference (target ≤ 1.15 at SF10); load average ${loadAtStart} at the start, ${load()} at the end\n`,
);
console.log(
  '| scale | fact rows | tributary | its CPU | reference SQL | its CPU | ratio (per run) | CPU ratio | tributary peak RSS | reference peak RSS |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
