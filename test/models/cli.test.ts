/**
 * The dbt verbs end to end through the built CLI (`node bin/tributary.js`, after `npm run
 * build`): exit codes, --json, --target, and where profiles.yml is found (--profiles-dir,
 * DBT_PROFILES_DIR, the current folder).
 */
import { execFile } from 'node:child_process';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DbtFixture, describeEachEngine } from './dbt.js';

const BIN = fileURLToPath(new URL('../../bin/tributary.js', import.meta.url));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in `cwd` with extra environment; resolves with its exit code and output. */
function tributary(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, '--no-color', ...args],
      { cwd, env: { ...process.env, CI: '', ...env } },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

describeEachEngine('the dbt verbs on the command line', (engine) => {
  let f: DbtFixture;
  let home: string;
  beforeEach(() => {
    f = new DbtFixture('shop', engine);
    home = join(f.dir, '..');
  });
  afterEach(() => f.cleanup());

  /** Moves profiles.yml out of the project, into the folder that holds it. */
  const moveProfiles = () => renameSync(join(f.dir, 'profiles.yml'), join(home, 'profiles.yml'));

  it('`build` exits 0 and prints the dbt-style totals', async () => {
    const out = await tributary(['build', '--project-dir', f.dir], f.dir);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    // One line per node as it finishes (the two ephemeral models never run, as in dbt).
    expect(out.stdout).toMatch(
      /^\d\d:\d\d:\d\d {2}1 of 16 OK loaded seed file \S+\.customers\.+ \[INSERT 4 in \d+\.\d\ds\]$/m,
    );
    expect(out.stdout).toMatch(/Done\. PASS=15 WARN=1 ERROR=0 SKIP=0 NO-OP=0 TOTAL=16\n$/);
  });

  it('--warn-error-options fails the warn-severity test and exits 1; DBT_WARN_ERROR stops at a deprecation', async () => {
    const out = await tributary(
      ['build', '--warn-error-options', '{"error": ["LogTestResult"]}', '--project-dir', f.dir],
      f.dir,
    );
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/Done\. PASS=\d+ WARN=0 ERROR=1 /);
    // `target-path: 'target'` is dbt's default, which fires no deprecation; another value does.
    f.write(
      'dbt_project.yml',
      f.read('dbt_project.yml').replace("target-path: 'target'", "target-path: 'build_output'"),
    );
    const env = await tributary(['build', '--project-dir', f.dir], f.dir, {
      DBT_WARN_ERROR: 'true',
    });
    expect(env.code).toBe(1);
    expect(env.stderr).toMatch(/The `target-path` config in `dbt_project.yml` has been deprecated/);
    const both = await tributary(['build', '--warn-error', '--project-dir', f.dir], f.dir, {
      DBT_WARN_ERROR_OPTIONS: '{"error": "all"}',
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/warn_error_options: not allowed with argument warn_error/);
  });

  it('-q prints only the errors, as dbt --quiet does', async () => {
    const g = new DbtFixture('failing', engine);
    try {
      const out = await tributary(['-q', 'build', '--project-dir', g.dir], g.dir);
      expect(out.code).toBe(1);
      expect(
        out.stdout
          .trimEnd()
          .split('\n')
          .map((l) => l.slice(10)),
      ).toEqual([
        expect.stringMatching(/^2 of 5 FAIL 1 not_null_people_name\.+ \[FAIL 1 in \d+\.\d\ds\]$/),
        'Failure in test not_null_people_name (models/schema.yml)',
        '  Got 1 result, configured to fail if != 0',
      ]);
    } finally {
      await g.cleanup();
    }
  });

  it('--log-format json prints one dbt structured-log object per line', async () => {
    const out = await tributary(['build', '--log-format', 'json', '--project-dir', f.dir], f.dir);
    expect(out.code).toBe(0);
    const events = out.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { info: { name: string; code: string }; data: unknown });
    expect(events.filter((e) => e.info.name === 'LogSeedResult')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({
      info: {
        name: 'StatsLine',
        code: 'Z023',
        msg: 'Done. PASS=15 WARN=1 ERROR=0 SKIP=0 NO-OP=0 TOTAL=16',
      },
    });
  });

  it('`build --json` on a failing project exits 1 and lists every node with its status', async () => {
    const g = new DbtFixture('failing', engine);
    try {
      const out = await tributary(['build', '--json', '--project-dir', g.dir], g.dir);
      expect(out.code).toBe(1);
      const summary = JSON.parse(out.stdout) as {
        success: boolean;
        counts: Record<string, number>;
      };
      expect(summary.success).toBe(false);
      expect(summary.counts).toEqual({ success: 2, fail: 1, skipped: 2 });
    } finally {
      await g.cleanup();
    }
  });

  it('--target picks the output of the profile, over its default target', async () => {
    const out = await tributary(
      [
        'ls',
        '--project-dir',
        f.dir,
        '--target',
        engine,
        '-s',
        'tag:finance',
        '--resource-type',
        'model',
      ],
      f.dir,
      { TRIB_DBT_TARGET: 'no_such_output' },
    );
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('shop.marts.finance.customer_revenue');
  });

  it('finds profiles.yml through --profiles-dir', async () => {
    moveProfiles();
    const out = await tributary(
      [
        'ls',
        '--project-dir',
        f.dir,
        '--profiles-dir',
        home,
        '-s',
        'stg_orders',
        '--output',
        'name',
        '--resource-type',
        'model',
      ],
      f.dir,
    );
    expect(out.stdout.trim()).toBe('stg_orders');
  });

  it('finds profiles.yml through DBT_PROFILES_DIR', async () => {
    moveProfiles();
    const out = await tributary(
      [
        'ls',
        '--project-dir',
        f.dir,
        '-s',
        'stg_orders',
        '--output',
        'path',
        '--resource-type',
        'model',
      ],
      f.dir,
      { DBT_PROFILES_DIR: home },
    );
    expect(out.stdout.trim()).toBe('models/staging/stg_orders.sql');
  });

  it('finds profiles.yml in the current folder', async () => {
    moveProfiles();
    const out = await tributary(
      ['ls', '--project-dir', f.dir, '-s', 'stg_orders', '--resource-type', 'model'],
      home,
    );
    expect(out.stdout.trim()).toBe('shop.staging.stg_orders');
  });

  it('says where it looked when no profiles.yml is found, and exits 1', async () => {
    moveProfiles();
    const out = await tributary(['ls', '--project-dir', f.dir], f.dir, { HOME: f.dir });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('profiles.yml not found (looked in');
    expect(out.stderr).toContain('--profiles-dir');
  });

  it('exits 2 on a selector it cannot read', async () => {
    const out = await tributary(['ls', '--project-dir', f.dir, '-s', 'nonsense:x'], f.dir);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('unknown selector method nonsense:');
  });
});
