/**
 * An in-memory DuckDB target is opened only when a statement needs it: `compile` of a project
 * whose macros never query the warehouse does not load DuckDB at all, and one whose macro does
 * (run_query while compiling) opens it then and compiles as before. Real processes on the built
 * code, reading which CommonJS packages they loaded.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir, writeFiles } from '../helpers.js';

const MODELS = resolve(import.meta.dirname, '../../dist/src/models/index.js');

/** Compiles `dir` in a fresh process; returns whether @duckdb/node-api was loaded, and stderr. */
function compileLoadsDuckDB(dir: string): boolean {
  const script = `
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const { openDbtProject, runVerb } = await import(${JSON.stringify(pathToFileURL(MODELS).href)});
    const opened = await openDbtProject(process.argv[1], { profilesDir: process.argv[1] });
    try {
      const summary = await runVerb(opened.parsed, opened.engine, { verb: 'compile', threads: 1 });
      const failed = summary.results.filter((r) => r.status === 'error');
      if (failed.length) throw new Error(failed[0].message);
    } finally {
      await opened.close();
    }
    const loaded = Object.keys(require.cache).some((f) => f.includes('@duckdb/node-api'));
    process.stdout.write('DUCKDB ' + loaded + '\\n');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, dir], {
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.includes('DUCKDB true');
}

function project(model: string): string {
  const dir = tempDir('trib-lazy-engine-');
  writeFiles(dir, {
    'dbt_project.yml': 'name: lazy\nprofile: lazy\n',
    'profiles.yml':
      "lazy:\n  target: dev\n  outputs:\n    dev: { type: duckdb, path: ':memory:' }\n",
    'models/one.sql': model,
  });
  return dir;
}

const compiled = (dir: string) =>
  readFileSync(join(dir, 'target', 'compiled', 'lazy', 'models', 'one.sql'), 'utf8');

describe('an in-memory DuckDB target opened on first use', () => {
  it('compiles without loading DuckDB when nothing queries the warehouse', () => {
    expect(existsSync(MODELS), 'run `npm run build` first (npm test does)').toBe(true);
    const dir = project("select 1 as id, '{{ target.database }}' as db\n");
    expect(compileLoadsDuckDB(dir)).toBe(false);
    // The catalog is the one the opened database would report.
    expect(compiled(dir)).toBe("select 1 as id, 'memory' as db\n");
  });

  it('opens it when a macro queries the warehouse while compiling', () => {
    const dir = project(
      "{% if execute %}{% set r = run_query('select current_database() as db, 40 + 2 as n') %}" +
        "select '{{ r.columns[0].values()[0] }}' as db, {{ r.columns[1].values()[0] }} as n" +
        '{% endif %}\n',
    );
    expect(compileLoadsDuckDB(dir)).toBe(true);
    expect(compiled(dir)).toBe("select 'memory' as db, 42 as n\n");
  });
});
