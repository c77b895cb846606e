/**
 * `npm run bench:compile`: parse + compile of generated dbt projects with 1,000 and 10,000 models
 * (refs, a macro call and a for loop in every model, yml tests on every model), against dbt's core
 * loop in Python measured in the same run: bench/compile-reference.py reads the same files, parses
 * the YAML with PyYAML, renders every model and test with Jinja2 (stub ref/source/config/var, the
 * project's macros) and writes target/compiled. Each measurement is a fresh child process
 * (Tributary: bench/compile-worker.ts), the first side alternating; both start from an empty
 * target folder. The compiled files of both sides must match (whitespace and quoting aside) or the
 * bench aborts. Targets: 1,000 models < 2 s, 10,000 < 15 s.
 *
 * With a package installed (when ../shared/dbt-utils is there; `--packages false` leaves it out),
 * Tributary alone (the reference has no packages or adapter.dispatch): the same generated project
 * at each size with dbt_utils installed by `deps` and its macros called from every model and
 * yml, and dbt-utils' own integration_tests project (seeded and built untimed first, as its
 * macros introspect the warehouse when they compile).
 *   npm run bench:compile -- --sizes 1000,10000 --repeat 3 [--packages false]
 * `--package <folder>` installs a package of macros (e.g. ../shared/dbt-utils) in each generated
 * project's dbt_packages/ for Tributary to load too, without calling it; the reference ignores it,
 * and the compiled models are the same, so the comparison still holds and the difference is the
 * package's loading cost.
 *   npm run bench:compile -- --sizes 1000 --package ../shared/dbt-utils
 *
 * Earlier runs' folders are moved aside, never deleted right before a measured run: on an ext4
 * without a journal (this machine's), every file created within a minute or more of deleting
 * thousands pays a scan past the recently deleted inodes (`recently_deleted` under ext4_create
 * in `perf record`), which made the second and later runs 0.3–0.6 s slower on both sides. What
 * was set aside is deleted when the invocation ends, after the table is printed (deleting it at
 * the start of the next one put the cost back on that one's runs); on such a disk, leave a few
 * minutes between invocations.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { benchArgs } from './args.js';
import { installDeps } from '../src/models/index.js';

const { values } = benchArgs(
  {
    options: {
      sizes: { type: 'string', default: '1000,10000' },
      repeat: { type: 'string', default: '3' },
      packages: { type: 'string', default: 'true' },
      package: { type: 'string' },
    },
  },
  import.meta.url,
);
const packageDir = values.package ? resolve(values.package) : undefined;
/** dbt-utils (Apache-2.0), read from the shared folder beside the repository, never copied into it. */
const DBT_UTILS = resolve(import.meta.dirname, '../../../shared/dbt-utils');
const withPackages = values.packages !== 'false' && existsSync(join(DBT_UTILS, 'dbt_project.yml'));
if (values.packages !== 'false' && !withPackages)
  console.log(`${DBT_UTILS} is not there: the runs with a package installed did not run`);
const sizes = values.sizes.split(',').map(Number);
const repeat = Number(values.repeat);
const root = resolve(import.meta.dirname, '../../bench/.work/compile');
const worker = resolve(import.meta.dirname, 'compile-worker.js');
const referenceScript = resolve(import.meta.dirname, '../../bench/compile-reference.py');
const TARGET_S: Record<number, number> = { 1000: 2, 10000: 15 };
const trash = join(root, '.trash');
let setAsides = 0;

/** Moves `path` (if there) into the trash folder, under a name no other run of any invocation has. */
function setAside(path: string): void {
  if (!existsSync(path)) return;
  mkdirSync(trash, { recursive: true });
  renameSync(path, join(trash, `${process.pid}-${++setAsides}-${basename(path)}`));
}

/**
 * Writes a project of `n` models in 20 folders; model i refs up to three earlier models. With
 * `dbtUtils` (a folder holding dbt-utils), packages.yml installs it as a local package and every
 * model also calls dbt_utils.generate_surrogate_key and dbt_utils.safe_add (dispatched to dbt's
 * cross-database macros), every tenth has a dbt_utils.expression_is_true test.
 */
function generate(dir: string, n: number, dbtUtils?: string): void {
  setAside(dir);
  mkdirSync(join(dir, 'macros'), { recursive: true });
  writeFileSync(
    join(dir, 'dbt_project.yml'),
    `name: bench\nprofile: bench\nvars:\n  lookback: 3\nmodels:\n  bench:\n    +materialized: view\n    f0:\n      +materialized: table\n`,
  );
  writeFileSync(
    join(dir, 'profiles.yml'),
    `bench:\n  target: dev\n  outputs:\n    dev: { type: duckdb, path: ':memory:' }\n`,
  );
  writeFileSync(
    join(dir, 'macros', 'helpers.sql'),
    `{% macro cents(col, scale=100) -%}\n  cast({{ col }} * {{ scale }} as bigint)\n{%- endmacro %}\n\n{% macro cols(names) -%}\n  {%- for n in names %}{{ n }}{{ ', ' if not loop.last }}{% endfor -%}\n{%- endmacro %}\n`,
  );
  const folders = 20;
  const yml = Array.from({ length: folders }, () => ['version: 2', 'models:']);
  for (let i = 0; i < n; i++) {
    const folder = `f${i % folders}`;
    mkdirSync(join(dir, 'models', folder), { recursive: true });
    const parents = [i - 1, i - 7, i - 31].filter((p) => p >= 0);
    const from = parents.length
      ? parents
          .map((p, k) =>
            k === 0
              ? `from {{ ref('m${p}') }} as p${k}`
              : `left join {{ ref('m${p}') }} as p${k} on p${k}.id = p0.id`,
          )
          .join('\n')
      : `from (select 1 as id, 2.5 as amount, 'x' as label) as p0`;
    const pkgCols = dbtUtils
      ? `\n    {{ dbt_utils.generate_surrogate_key(['p0.id', 'p0.label']) }} as sk,\n    {{ dbt_utils.safe_add(['p0.id', '1']) }} as id_next,`
      : '';
    const sql = `{{ config(tags=['${folder}']) }}
{% set measures = ['amount', 'label'] %}
select
    p0.id,${pkgCols}
    {{ cents('p0.amount') }} as amount_cents,
    {%- for m in measures %}
    p0.{{ m }}{{ ',' if not loop.last }}
    {%- endfor %}
${from}
{% if var('lookback') > 5 %}where p0.id > 0{% endif %}
`;
    writeFileSync(join(dir, 'models', folder, `m${i}.sql`), sql);
    const tests = [`          - unique`, `          - not_null`];
    if (i % 10 === 0 && parents.length)
      tests.push(`          - relationships: { to: ref('m${parents[0]}'), field: id }`);
    const pkgTests =
      dbtUtils && i % 10 === 0
        ? [`    data_tests:`, `      - dbt_utils.expression_is_true: { expression: "id >= 0" }`]
        : [];
    yml[i % folders]!.push(
      `  - name: m${i}`,
      `    description: Model ${i}.`,
      ...pkgTests,
      `    columns:`,
      `      - name: id`,
      `        tests:`,
      ...tests,
    );
  }
  for (let f = 0; f < folders; f++)
    writeFileSync(join(dir, 'models', `f${f}`, '_models.yml'), `${yml[f]!.join('\n')}\n`);
  if (dbtUtils)
    writeFileSync(join(dir, 'packages.yml'), `packages:\n  - local: ${JSON.stringify(dbtUtils)}\n`);
}

/**
 * dbt-utils' integration_tests project in the work folder (the repository copied beside it, as
 * its packages.yml says `local: ../`), on a DuckDB file, packages installed. Returns its folder.
 */
function dbtUtilsProject(): string {
  const repo = join(root, 'dbt-utils');
  setAside(repo);
  cpSync(DBT_UTILS, repo, { recursive: true });
  const dir = join(repo, 'integration_tests');
  writeFileSync(
    join(dir, 'profiles.yml'),
    `integration_tests:\n  target: duckdb\n  outputs:\n    duckdb: { type: duckdb, path: ${JSON.stringify(join(repo, 'warehouse.duckdb'))} }\n`,
  );
  return dir;
}

interface Measurement {
  parseMs: number;
  compileMs: number;
  nodes: number;
  /** CPU time of the whole child process (start-up and imports included). */
  cpuMs: number;
  /** CPU time of the child's main thread (Linux; null elsewhere), and of its start-up part. */
  mainThreadCpuMs?: number | null;
  startupCpuMs?: number | null;
  maxRssMB: number;
  /** Wall time of the child process as the parent saw it (start-up and imports included). */
  processMs: number;
  /** Nodes that failed to compile (only with --allow-errors). */
  errors?: string[];
}

function run(side: 'tributary' | 'reference', dir: string, workerArgs: string[] = []): Measurement {
  // Both sides compile into an empty target folder: every compiled file is written.
  setAside(join(dir, side === 'tributary' ? 'target' : 'target-jinja'));
  const [cmd, args] =
    side === 'tributary'
      ? [process.execPath, [worker, 'tributary', dir, ...workerArgs]]
      : ['python3', [referenceScript, dir, join(dir, 'target-jinja')]];
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const processMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${side} failed (exit ${r.status}):\n${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<Measurement, 'processMs'>;
  return { ...m, processMs };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** SQL compared modulo whitespace and identifier quoting. */
const normalized = (sql: string) => sql.replaceAll('"', '').replace(/\s+/g, ' ').trim();

/**
 * Both sides must have compiled the same nodes to the same SQL, or the ratio compares different
 * work: the same relative paths under target/compiled, each file equal modulo whitespace and
 * quoting. Returns the number of files compared.
 */
function compareOutputs(dir: string): number {
  const tribDir = join(dir, 'target', 'compiled');
  const refDir = join(dir, 'target-jinja', 'compiled');
  const trib = filesUnder(tribDir);
  const ref = filesUnder(refDir);
  const onlyTrib = trib.filter((f) => !ref.includes(f));
  if (trib.length !== ref.length || onlyTrib.length) {
    throw new Error(
      `compiled files differ: tributary ${trib.length}, reference ${ref.length}; only in tributary: ${onlyTrib.slice(0, 5).join(', ')}`,
    );
  }
  for (const f of trib) {
    const a = normalized(readFileSync(join(tribDir, f), 'utf8'));
    const b = normalized(readFileSync(join(refDir, f), 'utf8'));
    if (a !== b)
      throw new Error(`compiled SQL differs for ${f}:\ntributary: ${a}\nreference: ${b}`);
  }
  return trib.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

const total = (m: Measurement) => m.parseMs + m.compileMs;
/** The main thread's CPU after start-up (what parse + compile cost it) and start-up's own. */
const mainThread = (m: Measurement) =>
  typeof m.mainThreadCpuMs === 'number' && typeof m.startupCpuMs === 'number'
    ? `; main thread ${s(m.mainThreadCpuMs - m.startupCpuMs)} + start-up ${s(m.startupCpuMs)}`
    : '';
const sideCells = (ms: Measurement[]) =>
  `${s(median(ms.map((m) => m.parseMs)))} | ${s(median(ms.map((m) => m.compileMs)))} | ${s(median(ms.map(total)))} | ${s(median(ms.map((m) => m.cpuMs)))} | ${median(ms.map((m) => m.maxRssMB))} MB`;
const targetCell = (n: number | undefined, ms: Measurement[]) =>
  n && TARGET_S[n]
    ? `< ${TARGET_S[n]} s ${median(ms.map(total)) / 1000 < TARGET_S[n] ? 'met' : 'MISSED'}`
    : '';

/**
 * The nodes of dbt-utils' integration_tests that cannot compile on DuckDB, each a consequence of
 * an exception listed in docs/dbt-compatibility.md ("The dbt-utils suite"): the two
 * get_relations_by_* models run `<database>.information_schema.tables` while compiling (DuckDB
 * has no such view), and the equality test of test_date_spine compares the columns of a relation
 * that was never built (test_date_spine fails on DuckDB). By unique_id up to dbt's test hash.
 */
const LISTED_EXCEPTIONS = [
  'model.dbt_utils_integration_tests.test_get_relations_by_pattern',
  'model.dbt_utils_integration_tests.test_get_relations_by_prefix_and_union',
  'test.dbt_utils_integration_tests.dbt_utils_equality_test_date_spine_ref_data_date_spine_.',
];
const listed = (id: string) =>
  LISTED_EXCEPTIONS.some((e) => (e.endsWith('.') ? id.startsWith(e) : id === e));

/** What failed to compile: the listed exceptions counted, anything else named. */
function failures(errors: string[] | undefined): string {
  if (!errors?.length) return '';
  const known = errors.filter(listed);
  const other = errors.filter((id) => !listed(id));
  const parts: string[] = [];
  if (known.length)
    parts.push(`${known.length} listed DuckDB exceptions (docs/dbt-compatibility.md) not compiled`);
  if (other.length)
    parts.push(
      `${other.length} FAILED to compile: ${other.slice(0, 5).join(', ')}${other.length > 5 ? ', …' : ''}`,
    );
  return `; ${parts.join('; ')}`;
}

/** Tributary alone, `repeat` times: the rows of a project with a package installed. */
function tributaryOnly(label: string, dir: string, n?: number, workerArgs: string[] = []): string {
  const trib: Measurement[] = [];
  for (let i = 0; i < repeat; i++) {
    const t = run('tributary', dir, workerArgs);
    trib.push(t);
    const failed = failures(t.errors);
    console.log(
      `${label} run ${i + 1}/${repeat}: tributary ${s(total(t))} (CPU ${s(t.cpuMs)}${mainThread(t)}), process ${s(t.processMs)}${failed}`,
    );
  }
  return `| ${label} | ${trib[0]!.nodes} | tributary | ${sideCells(trib)} | (no reference: it has no packages) | | ${targetCell(n, trib)} |`;
}

console.log(`load average at start: ${load()}`);
const rows: string[] = [];
for (const n of sizes) {
  const dir = join(root, `p${n}`);
  generate(dir, n);
  if (packageDir) {
    // The package's own test project (integration_tests/) is not part of what deps installs.
    const ownTests = join(packageDir, 'integration_tests');
    cpSync(packageDir, join(dir, 'dbt_packages', basename(packageDir)), {
      recursive: true,
      filter: (p) => p !== ownTests && !p.startsWith(`${ownTests}/`),
    });
  }
  const label = packageDir ? `${n} + ${basename(packageDir)}` : `${n}`;
  const trib: Measurement[] = [];
  const ref: Measurement[] = [];
  for (let i = 0; i < repeat; i++) {
    const order =
      i % 2 === 0 ? (['tributary', 'reference'] as const) : (['reference', 'tributary'] as const);
    for (const side of order) (side === 'tributary' ? trib : ref).push(run(side, dir));
    const t = trib[i]!;
    const r = ref[i]!;
    if (i === 0)
      console.log(`${n} models: ${compareOutputs(dir)} compiled files identical on both sides`);
    console.log(
      `${n} models run ${i + 1}/${repeat} (${order[0]} first): tributary ${s(t.parseMs + t.compileMs)} (CPU ${s(t.cpuMs)}${mainThread(t)}), jinja2 ${s(r.parseMs + r.compileMs)} (CPU ${s(r.cpuMs)}), ratio ${((t.parseMs + t.compileMs) / (r.parseMs + r.compileMs)).toFixed(2)}; processes ${s(t.processMs)} / ${s(r.processMs)}, ratio ${(t.processMs / r.processMs).toFixed(2)}`,
    );
  }
  const ratios = trib.map((t, i) => total(t) / total(ref[i]!));
  const cpuRatios = trib.map((t, i) => t.cpuMs / ref[i]!.cpuMs);
  rows.push(
    `| ${label} | ${trib[0]!.nodes} | tributary | ${sideCells(trib)} | **${median(ratios).toFixed(2)}×** (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${median(cpuRatios).toFixed(2)}× | ${targetCell(n, trib)} |`,
    `| ${label} | ${ref[0]!.nodes} | reference (Jinja2 + PyYAML) | ${sideCells(ref)} | | | |`,
  );
}
if (withPackages) {
  const itDir = dbtUtilsProject();
  for (const n of sizes) {
    const dir = join(root, `p${n}-dbt_utils`);
    generate(dir, n, join(root, 'dbt-utils'));
    await installDeps(dir);
    rows.push(tributaryOnly(`${n} + dbt_utils`, dir, n));
  }
  await installDeps(itDir);
  const setup = spawnSync(process.execPath, [worker, 'setup', itDir], { encoding: 'utf8' });
  if (setup.status !== 0) throw new Error(`dbt-utils setup failed:\n${setup.stderr}`);
  console.log(`dbt-utils integration_tests seeded and built (untimed): ${setup.stdout.trim()}`);
  rows.push(tributaryOnly("dbt-utils' integration_tests", itDir, undefined, ['--allow-errors']));
}
console.log(`load average at end: ${load()}\n`);
console.log(
  '| models | nodes | side | parse | compile | total (wall) | CPU (process) | peak RSS | ratio tributary / reference (min–max) | CPU ratio | target |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
// Only now, with every run measured (see the top comment).
rmSync(trash, { recursive: true, force: true });
