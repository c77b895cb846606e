/**
 * `tributary state copy`: a small project runs on its DuckDB state (two runs of an incremental
 * database table, a token), its state is copied into a fresh PostgreSQL schema, tributary.yml is
 * switched to that schema, and the history, the token and the incremental cursor all carry on
 * there. The copy refuses a target that holds state, a project that is running, and a target
 * whose schema is newer than this Tributary; and every store that migrates tables in src/ is one
 * the copy knows.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_STORES } from '../../src/cli/commands/state.js';
import { openDuckDB, openPostgres, type Engine } from '../../src/engines/index.js';
import { acquireProjectLock } from '../../src/orchestrator/index.js';
import { loadProject } from '../../src/project/index.js';
import { TokenStore } from '../../src/serve/index.js';
import { copyState, type RunRecord, type StepRecord } from '../../src/state/index.js';
import { tempDir, writeFiles } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');
const SRC = resolve(import.meta.dirname, '../../src');
const available = await serviceAvailable('postgres', postgresTestUrl);
const tag = `${Date.now().toString(36)}_${process.pid}`;
const APP_SCHEMA = `copy_app_${tag}`;
const STATE_SCHEMA = `copy_state_${tag}`;
const NEWER_SCHEMA = `copy_newer_${tag}`;
const ODD_SCHEMA = `copy_odd_${tag}`;
const URL_VAR = 'TRIBUTARY_TEST_COPY_URL';

function cli(dir: string, ...args: string[]) {
  const out = spawnSync(process.execPath, [CLI, '-p', dir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, [URL_VAR]: postgresTestUrl },
    timeout: 120_000,
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('the stores the copy knows', () => {
  it('are every store that migrates tables in src/', () => {
    const migrated = new Set<string>();
    for (const file of sourceFiles(SRC))
      for (const m of readFileSync(file, 'utf8').matchAll(/\bmigrate\(\s*\w+,\s*'([a-z_]+)'/g))
        migrated.add(m[1]!);
    expect(migrated.size).toBeGreaterThan(5);
    expect([...migrated].sort()).toEqual(STATE_STORES.map((s) => s.store).sort());
  });
});

describe.skipIf(!available)('tributary state copy, DuckDB to PostgreSQL', () => {
  let dir: string;
  let app: Engine;

  beforeAll(async () => {
    app = await openPostgres({ url: postgresTestUrl });
    await app.exec(`CREATE SCHEMA ${APP_SCHEMA}`);
    await app.exec(
      `CREATE TABLE ${APP_SCHEMA}.orders (id BIGINT PRIMARY KEY, amount DOUBLE PRECISION)`,
    );
    await app.exec(`INSERT INTO ${APP_SCHEMA}.orders VALUES (1, 10), (2, 20), (3, 30)`);
    dir = tempDir('trib-state-copy-');
    writeFiles(dir, {
      'tributary.yml': `name: moving
sources:
  app:
    type: postgres
    url: { env: ${URL_VAR} }
    tables:
      orders: { table: ${APP_SCHEMA}.orders, mode: incremental, cursor: id }
concurrency: 1
`,
      'contracts/orders.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: amount, type: double }
`,
    });
  }, 60_000);

  afterAll(async () => {
    if (!app) return;
    for (const schema of [APP_SCHEMA, STATE_SCHEMA, NEWER_SCHEMA, ODD_SCHEMA])
      await app.dropSchema(schema);
    await app.close();
  });

  const landedRows = (runId: string): number => {
    const shown = cli(dir, 'runs', runId, '--json');
    expect(shown.code, shown.stderr).toBe(0);
    const { steps } = JSON.parse(shown.stdout) as { steps: StepRecord[] };
    // The processing step's rows: what the run's landed batches held.
    return steps.find((s) => s.kind === 'processed')!.rowsOut ?? 0;
  };

  it('copies history, tokens and what the cursor needs; the project carries on there', async () => {
    expect(cli(dir, 'run').code).toBe(0);
    await app.exec(`INSERT INTO ${APP_SCHEMA}.orders VALUES (4, 40)`);
    expect(cli(dir, 'run').code).toBe(0);
    const created = cli(dir, 'token', 'create', '--role', 'viewer', '--name', 'mover', '--json');
    expect(created.code, created.stderr).toBe(0);
    const { token } = JSON.parse(created.stdout) as { token: string };
    const before = JSON.parse(cli(dir, 'runs', '--json').stdout) as { runs: RunRecord[] };
    expect(before.runs).toHaveLength(2);

    // The project is running (its lock is held): refused, nothing written.
    const project = await loadProject(dir);
    const release = await acquireProjectLock(project.paths.work, 'test holding the project');
    const locked = cli(dir, 'state', 'copy', '--to', `env:${URL_VAR}`, '--schema', STATE_SCHEMA);
    await release();
    expect(locked.code).not.toBe(0);
    expect(locked.stderr).toMatch(/in use by process \d+ \(test holding the project/);

    const copied = cli(
      dir,
      'state',
      'copy',
      '--to',
      `env:${URL_VAR}`,
      '--schema',
      STATE_SCHEMA,
      '--json',
    );
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stderr).toBe(''); // quiet by default off a terminal
    const summary = JSON.parse(copied.stdout) as {
      tables: { table: string; rows: number }[];
      versions: Record<string, number>;
    };
    const rowsOf = (t: string) => summary.tables.find((x) => x.table === t)?.rows;
    expect(rowsOf('runs')).toBe(2);
    expect(rowsOf('api_tokens')).toBe(1);
    expect(rowsOf('steps')).toBeGreaterThan(0);
    expect(Object.keys(summary.versions).sort()).toEqual(STATE_STORES.map((s) => s.store).sort());

    // Again into the same schema: it holds state now, so refused, and nothing changed.
    const again = cli(dir, 'state', 'copy', '--to', `env:${URL_VAR}`, '--schema', STATE_SCHEMA);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already holds state \(rows in .*runs/);

    appendFileSync(
      join(dir, 'tributary.yml'),
      `state:\n  store: postgres\n  url: { env: ${URL_VAR} }\n  schema: ${STATE_SCHEMA}\n`,
    );
    const after = JSON.parse(cli(dir, 'runs', '--json').stdout) as { runs: RunRecord[] };
    expect(after.runs).toEqual(before.runs);

    // The cursor carries on: the next run lands only the order added since.
    await app.exec(`INSERT INTO ${APP_SCHEMA}.orders VALUES (5, 50)`);
    const third = cli(dir, 'run');
    expect(third.code, third.stderr).toBe(0);
    const runs = (JSON.parse(cli(dir, 'runs', '--json').stdout) as { runs: RunRecord[] }).runs;
    expect(runs).toHaveLength(3);
    expect(landedRows(runs[2]!.runId)).toBe(3);
    expect(landedRows(runs[1]!.runId)).toBe(1);
    expect(landedRows(runs[0]!.runId)).toBe(1);

    // The token still authenticates, against the PostgreSQL state.
    const pg = await openPostgres({ url: postgresTestUrl, schema: STATE_SCHEMA });
    try {
      const tokens = await TokenStore.open(pg);
      expect(await tokens.check(token)).toMatchObject({ ok: true, info: { name: 'mover' } });
    } finally {
      await pg.close();
    }
  }, 300_000);

  it('refuses a table no store creates, rather than leave it behind', async () => {
    const file = await openDuckDB({ path: join(tempDir('trib-state-copy-odd-'), 'state.duckdb') });
    const pg = await openPostgres({ url: postgresTestUrl, schema: ODD_SCHEMA });
    try {
      await pg.ensureSchema(ODD_SCHEMA);
      await file.exec('CREATE TABLE mystery (x INTEGER)');
      const err = await copyState(
        { engine: file, schema: 'main', describe: 'the file' },
        { engine: pg, schema: ODD_SCHEMA, describe: 'the schema' },
        STATE_STORES,
      ).catch((e: unknown) => e);
      expect(String(err)).toMatch(/the file holds table\(s\) mystery that no state store/);
      const { rows } = await pg.query('SELECT count(*) AS n FROM runs');
      expect(Number(rows[0]!.n)).toBe(0);
    } finally {
      await file.close();
      await pg.close();
    }
  }, 120_000);

  it('refuses a target whose state schema is newer than this Tributary', async () => {
    const pg = await openPostgres({ url: postgresTestUrl });
    try {
      await pg.exec(`CREATE SCHEMA ${NEWER_SCHEMA}`);
      await pg.exec(`CREATE TABLE ${NEWER_SCHEMA}.schema_migrations (
        store TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,
        checksum TEXT NOT NULL, PRIMARY KEY (store, version))`);
      await pg.exec(
        `INSERT INTO ${NEWER_SCHEMA}.schema_migrations VALUES ('state', 1, 'x', 'now', 'x'), ('state', 2, 'y', 'now', 'y')`,
      );
    } finally {
      await pg.close();
    }
    const fresh = tempDir('trib-state-copy-newer-');
    writeFiles(fresh, { 'tributary.yml': 'name: newer\n' });
    const refused = cli(fresh, 'state', 'copy', '--to', `env:${URL_VAR}`, '--schema', NEWER_SCHEMA);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/differs from this Tributary's|newer than this Tributary knows/);
  }, 120_000);
});
