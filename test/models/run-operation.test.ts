/**
 * dbt's `run-operation` and the column types dbt gives a seed, on each engine. Both surfaced when
 * dbt-codegen's own suite ran: its CI creates its source tables with `dbt run-operation
 * create_source_table`, and its tests compare `data_type:` lines read back through
 * adapter.get_columns_in_relation, so a seed column must be typed as dbt types it (`integer` for
 * whole numbers and for a column with no value, as dbt's agate tester and SQLAdapter do; the
 * adapters keep those names).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findOperationMacro, runOperation } from '../../src/models/index.js';
import { DbtFixture, describeEachEngine } from './dbt.js';

const BIN = fileURLToPath(new URL('../../bin/tributary.js', import.meta.url));

/** `tributary <args>` through the built CLI: exit code and stdout. */
function tributary(args: string[], cwd: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, '--no-color', ...args],
      { cwd, env: { ...process.env, CI: '' } },
      (err, stdout) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout });
      },
    );
  });
}

describeEachEngine('run-operation and seed column types', (engine) => {
  let f: DbtFixture;
  beforeAll(async () => {
    f = new DbtFixture('failing', engine);
    f.write(
      'seeds/typed.csv',
      ['whole,fraction,empty,word,flag', '1,1.5,,a,true', '-2,2.0,,b,false', ''].join('\n'),
    );
    f.write(
      'macros/ops.sql',
      [
        '{% macro make_table(table_name, n=1) %}',
        "  {% do run_query('create table ' ~ target.schema ~ '.' ~ table_name ~ ' as select ' ~ n ~ ' as n') %}",
        "  {% do log('made ' ~ table_name ~ ' with ' ~ n, info=True) %}",
        "  {{ return('ignored') }}",
        '{% endmacro %}',
        '{% macro describe_seed() %}',
        "  {% set cols = adapter.get_columns_in_relation(ref('typed')) %}",
        "  {% do log(cols | map(attribute='dtype') | map('lower') | join(','), info=True) %}",
        '{% endmacro %}',
        '{% macro calls_helper() %}{% do helper() %}{% endmacro %}',
        "{% macro helper() %}{% do log('root helper', info=True) %}{% endmacro %}",
        '',
      ].join('\n'),
    );
    const s = await f.run('seed');
    expect(s.results.filter((r) => r.status !== 'success').map((r) => r.message)).toEqual([]);
  });
  afterAll(() => f.cleanup());

  it('calls the macro with --args as keyword arguments, against the warehouse', async () => {
    const logs: string[] = [];
    await f.with((p) =>
      runOperation(p.parsed, p.engine, 'make_table', {
        args: { table_name: 'op_made', n: 7 },
        log: (m) => logs.push(m),
      }),
    );
    expect(logs).toEqual(['made op_made with 7']);
    expect(await f.rows(`select n from ${f.rel('op_made')}`)).toEqual([{ n: 7 }]);
  });

  it('finds <package>.<macro>, and the root project first for a bare name', async () => {
    await f.with(async (p) => {
      expect(findOperationMacro(p.parsed, 'make_table').pkg).toBe(p.parsed.project.name);
      expect(findOperationMacro(p.parsed, `${p.parsed.project.name}.helper`).macro.name).toBe(
        'helper',
      );
      // dbt's own macros are the last candidates.
      expect(findOperationMacro(p.parsed, 'generate_schema_name').pkg).toBe('dbt');
      expect(() => findOperationMacro(p.parsed, 'no_such_macro')).toThrow(
        "dbt could not find a macro with the name 'no_such_macro'",
      );
    });
    const logs: string[] = [];
    await f.with((p) =>
      runOperation(p.parsed, p.engine, 'calls_helper', { log: (m) => logs.push(m) }),
    );
    expect(logs).toEqual(['root helper']);
  });

  it('types seed columns as dbt does: integer, float8, integer for an empty column', async () => {
    const logs: string[] = [];
    await f.with((p) =>
      runOperation(p.parsed, p.engine, 'describe_seed', { log: (m) => logs.push(m) }),
    );
    expect(logs).toEqual([
      engine === 'duckdb'
        ? 'integer,double,integer,varchar,boolean'
        : 'integer,double precision,integer,text,boolean',
    ]);
  });

  it('`tributary run-operation` prints what the macro logs, and exits 1 on an error', async () => {
    const ok = await tributary(
      ['run-operation', 'make_table', '--args', '{table_name: cli_made, n: 3}', '--target', engine],
      f.dir,
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^\d\d:\d\d:\d\d {2}made cli_made with 3$/m);
    expect(await f.rows(`select n from ${f.rel('cli_made')}`)).toEqual([{ n: 3 }]);
    const bad = await tributary(['run-operation', 'no_such_macro', '--target', engine], f.dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(
      /Encountered an error while running operation: dbt could not find a macro with the name 'no_such_macro'/,
    );
  });
});
