/**
 * `npm run bench:compile`: parse + compile of generated dbt projects with 1,000 and 10,000 models
 * (refs, a macro call and a for loop in every model, yml tests on every model). Each size runs in a
 * fresh child process (bench/compile-worker.ts) so peak memory is its own. The reference, measured
 * in the same run, is the least any compiler must do: read every file and substitute every
 * ref() with a regular expression. Targets: 1,000 models < 2 s, 10,000 < 15 s.
 *   npm run bench:compile -- --sizes 1000,10000 --repeat 3
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    repeat: { type: 'string', default: '3' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const repeat = Number(values.repeat);
const root = resolve(import.meta.dirname, '../../bench/.work/compile');
const worker = resolve(import.meta.dirname, 'compile-worker.js');
const TARGET_S: Record<number, number> = { 1000: 2, 10000: 15 };

/** Writes a project of `n` models in 20 folders; model i refs up to three earlier models. */
function generate(dir: string, n: number): void {
  rmSync(dir, { recursive: true, force: true });
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
    const sql = `{{ config(tags=['${folder}']) }}
{% set measures = ['amount', 'label'] %}
select
    p0.id,
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
    yml[i % folders]!.push(
      `  - name: m${i}`,
      `    description: Model ${i}.`,
      `    columns:`,
      `      - name: id`,
      `        tests:`,
      ...tests,
    );
  }
  for (let f = 0; f < folders; f++)
    writeFileSync(join(dir, 'models', `f${f}`, '_models.yml'), `${yml[f]!.join('\n')}\n`);
}

interface Measurement {
  parseMs: number;
  compileMs: number;
  nodes: number;
  cpuMs: number;
  maxRssMB: number;
}

function run(args: string[]): Measurement {
  const r = spawnSync(process.execPath, [worker, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`worker failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measurement;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(
  '| models | nodes | parse | compile | total (wall) | CPU | target | reference (read + regex) | ratio | peak RSS |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const n of sizes) {
  const dir = join(root, `p${n}`);
  generate(dir, n);
  const trib: Measurement[] = [];
  const ref: Measurement[] = [];
  for (let i = 0; i < repeat; i++) {
    trib.push(run(['tributary', dir]));
    ref.push(run(['reference', dir]));
  }
  const total = median(trib.map((m) => m.parseMs + m.compileMs));
  const refMs = median(ref.map((m) => m.parseMs + m.compileMs));
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `| ${n} | ${trib[0]!.nodes} | ${s(median(trib.map((m) => m.parseMs)))} | ${s(median(trib.map((m) => m.compileMs)))} | ${s(total)} | ${s(median(trib.map((m) => m.cpuMs)))} | < ${TARGET_S[n] ?? '?'} s ${total / 1000 < (TARGET_S[n] ?? Infinity) ? 'met' : 'MISSED'} | ${s(refMs)} | ${(total / refMs).toFixed(1)}× | ${median(trib.map((m) => m.maxRssMB))} MB |`,
  );
}
