// The bench scripts' option parsing: `--help` prints the script's doc comment and options and
// exits 0; a bad option exits 2 with a hint, never a stack trace. The last case runs a real
// script in a child process against the built module (`npm test` builds dist/ first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchUsage, leadingDocComment, optionLines } from '../../bench/args.js';

describe('bench options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-args-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the first doc comment of the script, without its gutter', () => {
    const source =
      "#!/usr/bin/env node\n/**\n * `npm run bench:x`: what it measures.\n *   npm run bench:x -- --n 3\n */\nimport x from 'y';\n/** later */\n";
    expect(leadingDocComment(source)).toBe(
      '`npm run bench:x`: what it measures.\n  npm run bench:x -- --n 3',
    );
    expect(leadingDocComment('const a = 1;')).toBe('');
  });

  it('lists every option with its default', () => {
    expect(
      optionLines({
        seconds: { type: 'string', default: '10' },
        json: { type: 'boolean', default: false },
        only: { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
      }),
    ).toEqual([
      '  --seconds <value>  (default: 10)',
      '  --json  (default: false)',
      '  --only <value>',
      '  -v, --verbose',
    ]);
  });

  it('prints usage from the script file, and still lists options when the file cannot be read', () => {
    const script = join(dir, 'measure.js');
    writeFileSync(script, '/** Measures a thing against a reference. */\n');
    const usage = benchUsage(script, { rows: { type: 'string', default: '5' } });
    expect(usage).toContain('usage: node measure.js [options]');
    expect(usage).toContain('Measures a thing against a reference.');
    expect(usage).toContain('  --rows <value>  (default: 5)');
    expect(benchUsage(join(dir, 'gone.js'), {})).toContain('  (none)');
  });

  it('exits 0 on --help and 2 on an unknown option, in a real process', async () => {
    const { pathToFileURL } = await import('node:url');
    const argsModule = join(import.meta.dirname, '../../dist/bench/args.js');
    const script = join(dir, 'cli.mjs');
    writeFileSync(
      script,
      `/** A bench that sums. */\nimport { benchArgs } from ${JSON.stringify(pathToFileURL(argsModule).href)};\n` +
        `const { values } = benchArgs({ options: { n: { type: 'string', default: '2' } } }, import.meta.url);\n` +
        `console.log('n=' + values.n);\n`,
    );
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('A bench that sums.');
    expect(help.stdout).toContain('--n <value>  (default: 2)');
    const bad = run('--bogus');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--bogus'");
    expect(bad.stderr).toContain('--help lists the options');
    expect(bad.stderr).not.toContain('    at ');
    expect(run('--n', '7').stdout.trim()).toBe('n=7');
  });
});
