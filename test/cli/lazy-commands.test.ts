/**
 * The CLI loads only the command it runs: every command is found by its own name, and
 * `tributary compile` on a dbt project does not load the server's, the collector's or the query
 * results' dependencies (fastify, NATS, the AWS SDK, apache-arrow), nor DuckDB on an in-memory
 * target that no statement needs; `--version` and `--help` load no command.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMAND_HELP } from '../../src/cli/help-table.js';
import { buildProgram, commandWord } from '../../src/cli/main.js';
import { tempDir } from '../helpers.js';

const MAIN = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

/**
 * Runs the built CLI's `main(argv)` in a fresh process and returns its result with the CommonJS
 * packages it loaded, read when it exits (flatbuffers is what apache-arrow's ES module imports;
 * the ES module itself is not in require's cache).
 */
function runMainListingPackages(argv: readonly string[]) {
  expect(existsSync(MAIN), 'run `npm run build` first (npm test does)').toBe(true);
  const script = `
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    process.on('exit', () => {
      const names = new Set();
      for (const file of Object.keys(require.cache)) {
        const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file);
        if (m) names.add(m[1]);
      }
      process.stderr.write('LOADED ' + JSON.stringify([...names]) + '\\n');
    });
    const { main } = await import(${JSON.stringify(pathToFileURL(MAIN).href)});
    await main(${JSON.stringify(['node', 'tributary', ...argv])});
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  expect(r.status, r.stderr).toBe(0);
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '))!;
  return { stdout: r.stdout, loaded: JSON.parse(line.slice('LOADED '.length)) as string[] };
}

describe('lazily loaded commands', () => {
  it('finds the command word after the global options', () => {
    expect(commandWord(['node', 't', '-p', 'dir', '--no-color', 'compile', '-s', 'x'])).toBe(
      'compile',
    );
    expect(commandWord(['node', 't', '--project-dir', 'run', 'test'])).toBe('test');
    expect(commandWord(['node', 't', '--help'])).toBeUndefined();
  });

  it('registers every command when asked for it by name, and only its own module', async () => {
    const all = await buildProgram();
    const names = all.commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['compile', 'run', 'serve', 'deps', 'syncs']));
    for (const name of names) {
      const one = await buildProgram(['node', 'tributary', name]);
      const loaded = one.commands.map((c) => c.name());
      expect(loaded, name).toContain(name);
      // A name missing from main.ts's table would load every command instead.
      expect(loaded.length, name).toBeLessThan(names.length);
    }
    // A word that is not a command: all of them, for the error's suggestion.
    expect((await buildProgram(['node', 'tributary', 'compil'])).commands.length).toBe(
      names.length,
    );
    // The version alone needs no command.
    for (const flag of ['--version', '-V'])
      expect((await buildProgram(['node', 'tributary', flag])).commands).toHaveLength(0);
  });

  it('lists the commands in --help exactly as the loaded commands describe themselves', async () => {
    const all = (await buildProgram()).helpInformation();
    // When this fails, a command changed: help-table.ts's rows are what the real ones print.
    const rows = (await buildProgram()).commands.map((c) => {
      const help = c.createHelp();
      return [help.subcommandTerm(c), help.subcommandDescription(c)];
    });
    expect(COMMAND_HELP, JSON.stringify(rows, null, 2)).toEqual(rows);
    for (const argv of [['--help'], ['-h'], ['-V', '--help'], [], ['-p', 'x', '--help']]) {
      const listed = await buildProgram(['node', 'tributary', ...argv]);
      expect(listed.helpInformation(), argv.join(' ')).toBe(all);
    }
  });

  it('prints --help without loading any command module', () => {
    const { stdout, loaded } = runMainListingPackages(['--help']);
    expect(stdout).toContain('compile [options]');
    expect(stdout).toContain('help [command]');
    expect(loaded).toContain('commander');
    // What the command modules bring: the YAML reader, the server, DuckDB.
    for (const heavy of ['yaml', 'zod', 'fastify', '@duckdb/node-api', 'pg'])
      expect(loaded, heavy).not.toContain(heavy);
  });

  it('compiles a dbt project without loading fastify, NATS, the AWS SDK, apache-arrow or DuckDB', () => {
    const dir = tempDir('trib-lazy-');
    mkdirSync(join(dir, 'models'));
    writeFileSync(join(dir, 'dbt_project.yml'), 'name: lazy\nprofile: lazy\n');
    writeFileSync(
      join(dir, 'profiles.yml'),
      "lazy:\n  target: dev\n  outputs:\n    dev: { type: duckdb, path: ':memory:' }\n",
    );
    writeFileSync(join(dir, 'models', 'one.sql'), 'select 1 as id\n');
    const { loaded } = runMainListingPackages([
      '-q',
      '--project-dir',
      dir,
      'compile',
      '--profiles-dir',
      dir,
    ]);
    expect(existsSync(join(dir, 'target', 'compiled', 'lazy', 'models', 'one.sql'))).toBe(true);
    expect(loaded).toContain('yaml');
    // The in-memory target is opened only if a statement needs it: this compile needs none.
    for (const heavy of [
      'fastify',
      '@nats-io/nats-core',
      '@aws-sdk/client-kinesis',
      'flatbuffers',
      '@duckdb/node-api',
    ])
      expect(loaded, heavy).not.toContain(heavy);
  });

  it('answers --version without loading a command, and still names an unknown command', () => {
    const bin = resolve(import.meta.dirname, '../../bin/tributary.js');
    const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const typo = spawnSync(process.execPath, [bin, 'compil'], { encoding: 'utf8' });
    expect(typo.status).not.toBe(0);
    expect(typo.stderr).toContain("unknown command 'compil'");
    expect(typo.stderr).toContain('Did you mean compile?');
  });
});
