/** The `tributary` command as a user runs it: a real process, its output and its exit code. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspace } from '../../src/orchestrator/index.js';
import { connectTemplateCrm, startTemplateCrm, type CrmStandIn } from '../crm-standin.js';
import { tempDir } from '../helpers.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');

function tributary(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd,
    // The demo's app database is tested in test/e2e/demo-appdb.test.ts with a schema of its own;
    // here it stays out of the machine's PostgreSQL.
    env: {
      ...process.env,
      NO_COLOR: '1',
      TRIBUTARY_DEMO_APP_DB_URL: 'postgres://postgres@127.0.0.1:1/none',
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the tributary command', () => {
  let project: string;
  // The template's last step syncs customers to the CRM: its stand-in listens meanwhile.
  let crm: CrmStandIn | undefined;
  afterAll(async () => {
    await crm?.close();
  });

  beforeAll(async () => {
    expect(
      existsSync(resolve(import.meta.dirname, '../../dist/src/cli/index.js')),
      'run `npm run build` first (npm test does)',
    ).toBe(true);
    project = join(tempDir('trib-cli-'), 'shop');
    expect(tributary(['init', project]).code).toBe(0);
    crm = await startTemplateCrm();
    connectTemplateCrm(project);
    expect(tributary(['-p', project, 'generate', '--scale', '0.01']).code).toBe(0);
    const run = tributary(['-p', project, 'run']);
    expect(run.code, run.stderr).toBe(0);
  });

  it('prints help listing the commands', () => {
    const { code, stdout } = tributary(['--help']);
    expect(code).toBe(0);
    for (const cmd of ['init', 'generate', 'run', 'query', 'catalog', 'runs', 'demo'])
      expect(stdout).toContain(cmd);
  });

  it('answers queries as a table, CSV or JSON', () => {
    const sql = 'select category, count(*) as n from dim_products group by 1 order by 1 limit 2';
    const table = tributary(['-p', project, 'query', sql]);
    expect(table.stdout).toMatch(/^category\s+n\n-+\s+-+\n/);
    expect(table.stdout).toMatch(/\(2 rows\)/);
    const csv = tributary(['-p', project, 'query', sql, '--format', 'csv']);
    expect(csv.stdout.split('\n')[0]).toBe('category,n');
    const json = JSON.parse(tributary(['-p', project, 'query', sql, '--json']).stdout) as {
      category: string;
      n: string;
    }[];
    expect(json).toHaveLength(2);
    expect(typeof json[0]!.n).toBe('string'); // count(*) is BIGINT: a string, never a rounded number
  });

  it('lists the catalog with zones, row counts and partitions, and one table with its schema history', () => {
    const list = JSON.parse(tributary(['-p', project, 'catalog', '--json']).stdout) as {
      tables: { zone: string; name: string }[];
    };
    expect(list.tables.map((t) => `${t.zone}.${t.name}`)).toEqual(
      expect.arrayContaining([
        'raw.shop.orders',
        'processed.orders',
        'quarantine.orders',
        'warehouse.main.fct_sales',
      ]),
    );
    const one = tributary(['-p', project, 'catalog', 'fct_sales']);
    expect(one.stdout).toMatch(/warehouse\.main\.fct_sales/);
    expect(one.stdout).toMatch(/schema versions:\n {2}v1 /);
  });

  it('shows run history and the steps of a run', () => {
    const runs = JSON.parse(tributary(['-p', project, 'runs', '--json']).stdout) as {
      runs: { runId: string; status: string }[];
    };
    expect(runs.runs[0]!.status).toBe('succeeded');
    const steps = tributary(['-p', project, 'runs', runs.runs[0]!.runId]);
    expect(steps.stdout).toMatch(/processed:orders\s+succeeded/);
  });

  it('writes the JSON Schemas of the project format for editors', () => {
    const out = tempDir('trib-cli-schema-');
    expect(tributary(['schema', '-o', out]).code).toBe(0);
    const schema = JSON.parse(readFileSync(join(out, 'tributary.schema.json'), 'utf8')) as {
      properties: Record<string, unknown>;
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['name', 'sources', 'warehouse']),
    );
    expect(existsSync(join(out, 'contract.schema.json'))).toBe(true);
    expect(existsSync(join(out, 'dashboard.schema.json'))).toBe(true);
  });

  it('fails a bad query with one clear message and exit code 1', () => {
    const { code, stderr, stdout } = tributary([
      '-p',
      project,
      'query',
      'select * from no_such_table',
    ]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: .*no_such_table/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('names the file, line and path of a malformed config', () => {
    const dir = tempDir('trib-cli-bad-');
    writeFileSync(
      join(dir, 'tributary.yml'),
      'name: shop\nsources:\n  s:\n    type: ftp\n    tables: {}\n',
    );
    const { code, stderr } = tributary(['-p', dir, 'run']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/tributary\.yml:4:11 \(sources\.s\.type\)/);
  });

  it('says where to start when the folder is not a project', () => {
    const { code, stderr } = tributary(['-p', tempDir('trib-cli-empty-'), 'catalog']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/no tributary\.yml .*\n\s+hint: run `tributary init/);
  });

  it('refuses to init over an existing project', () => {
    const { code, stderr } = tributary(['init', project]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/already holds a project/);
  });

  it('refuses to init into a folder that already has template files', () => {
    const dir = tempDir('trib-cli-clash-');
    writeFileSync(join(dir, 'models'), 'mine');
    const { code, stderr } = tributary(['init', dir]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/already has models; init would overwrite it/);
    expect(readFileSync(join(dir, 'models'), 'utf8')).toBe('mine');
  });

  it('starts the demo afresh when the scale changes, instead of mixing two data sets', () => {
    const dir = join(tempDir('trib-cli-demo-'), 'demo');
    expect(tributary(['demo', dir, '--scale', '0.01', '--no-serve']).code).toBe(0);
    const second = tributary(['demo', dir, '--scale', '0.02', '--json']);
    expect(second.code).toBe(0);
    const demo = JSON.parse(second.stdout) as {
      generated: {
        report: { expected: { orders: { valid: number }; clickstream?: { valid: number } } };
      };
    };
    const { stdout } = tributary([
      '-p',
      dir,
      'query',
      'select count(*) as n from processed.orders',
      '--json',
    ]);
    expect(Number((JSON.parse(stdout) as { n: string }[])[0]!.n)).toBe(
      demo.generated.report.expected.orders.valid,
    );
    // The clickstream came through the collector; the stream log started afresh with the rest.
    const clicks = tributary([
      '-p',
      dir,
      'query',
      'select count(*) as n, count(distinct _shard_id) as shards from processed.clickstream',
      '--json',
    ]);
    expect(JSON.parse(clicks.stdout)).toEqual([
      { n: String(demo.generated.report.expected.clickstream!.valid), shards: '2' },
    ]);
  });

  it('tells a second process who holds the project instead of corrupting it', async () => {
    const ws = await openWorkspace(project, 'holder');
    try {
      const { code, stderr } = tributary(['-p', project, 'catalog']);
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`in use by process ${process.pid} \\(holder, since `));
    } finally {
      await ws.close();
    }
    expect(tributary(['-p', project, 'catalog']).code).toBe(0);
  });

  it('exits non-zero and reports the failed asset when a run fails', () => {
    const dir = join(tempDir('trib-cli-fail-'), 'shop');
    tributary(['init', dir]);
    const { code, stdout } = tributary(['-p', dir, 'run']); // no data generated yet
    expect(code).toBe(1);
    expect(stdout).toMatch(/failed raw:shop\.orders: no files match orders\*\.csv/);
  });
});
