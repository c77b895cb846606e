/**
 * The e-commerce template with its state on PostgreSQL (`state: {store: postgres}`) and the
 * default DuckDB warehouse: `tributary run` succeeds, `tributary runs` and the API read the run
 * history from PostgreSQL, a second run finds everything up to date (asset versions read back
 * from PostgreSQL, batches from the lake's manifests), and no state file is written.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWithOwnCollector } from '../../src/cli/commands/generate.js';
import { initProject } from '../../src/cli/commands/init.js';
import { silentProgress } from '../../src/core/index.js';
import { openPostgres } from '../../src/engines/index.js';
import { openWorkspace, publishServingSnapshot, servingDir } from '../../src/orchestrator/index.js';
import { QuerySandbox, TokenStore, buildApp } from '../../src/serve/index.js';
import type { RunRecord } from '../../src/state/index.js';
import { connectTemplateCrm, startTemplateCrm, type CrmStandIn } from '../crm-standin.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');
const available = await serviceAvailable('postgres', postgresTestUrl);
const SCHEMA = `state_e2e_${Date.now().toString(36)}_${process.pid}`;
const URL_VAR = 'TRIBUTARY_TEST_STATE_URL';

function cli(dir: string, ...args: string[]) {
  const out = spawnSync(process.execPath, [CLI, '-p', dir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, [URL_VAR]: postgresTestUrl },
    timeout: 300_000,
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe.skipIf(!available)('the template pipeline with state on PostgreSQL', () => {
  let crm: CrmStandIn | undefined;
  let dir: string;

  beforeAll(async () => {
    crm = await startTemplateCrm();
    dir = await initProject(join(tempDir('trib-pgstate-'), 'shop'), 'ecommerce');
    connectTemplateCrm(dir);
    appendFileSync(
      join(dir, 'tributary.yml'),
      `\nstate:\n  store: postgres\n  url: { env: ${URL_VAR} }\n  schema: ${SCHEMA}\n`,
    );
    process.env[URL_VAR] = postgresTestUrl;
    // The collector (a producer key in PostgreSQL state) takes the clickstream, as in the demo.
    await generateWithOwnCollector(dir, { scale: 0.01, seed: 7, progress: silentProgress });
  }, 300_000);

  afterAll(async () => {
    await crm?.close();
    delete process.env[URL_VAR];
    const pg = await openPostgres({ url: postgresTestUrl });
    await pg.dropSchema(SCHEMA);
    await pg.close();
  });

  it('runs, reads its history back from PostgreSQL, and finds everything up to date the second time', async () => {
    const first = cli(dir, 'run');
    expect(first.code, first.stderr).toBe(0);
    const second = cli(dir, 'run');
    expect(second.code, second.stderr).toBe(0);
    expect(existsSync(join(dir, '.tributary', 'state.duckdb'))).toBe(false);

    const listed = cli(dir, 'runs', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const { runs } = JSON.parse(listed.stdout) as { runs: RunRecord[] };
    const byCli = runs.filter((r) => r.command === 'run');
    expect(byCli.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const [latest, earliest] = byCli;

    const shown = cli(dir, 'runs', latest!.runId, '--json');
    const { steps } = JSON.parse(shown.stdout) as { steps: { kind: string; status: string }[] };
    const rebuilt = steps.filter(
      (s) => ['raw', 'processed', 'model'].includes(s.kind) && s.status !== 'up_to_date',
    );
    expect(steps.length).toBeGreaterThan(20);
    expect(rebuilt).toEqual([]);

    // The history is PostgreSQL's: the same rows, read with SQL.
    const pg = await openPostgres({ url: postgresTestUrl, schema: SCHEMA });
    try {
      const { rows } = await pg.query(
        `SELECT run_id, status FROM runs WHERE command = 'run' ORDER BY started_at`,
      );
      expect(rows).toEqual([
        { run_id: earliest!.runId, status: 'succeeded' },
        { run_id: latest!.runId, status: 'succeeded' },
      ]);
      const versions = await pg.query('SELECT count(*) AS n FROM asset_versions');
      expect(Number(versions.rows[0]!.n)).toBeGreaterThan(20);
    } finally {
      await pg.close();
    }

    // And the API's.
    const ws = await openWorkspace(dir, 'test');
    try {
      const tokens = await TokenStore.open(ws.state.engine);
      const { token } = await tokens.create('viewer', 'e2e');
      await publishServingSnapshot(ws);
      const sql = new QuerySandbox({ dir: servingDir(ws) });
      const app = await buildApp({ ws, tokens, sql, version: 'test' });
      try {
        const res = await app.inject({
          method: 'GET',
          url: '/api/runs',
          headers: { authorization: `Bearer ${token}` },
        });
        expect(res.statusCode).toBe(200);
        const apiRuns = (res.json() as RunRecord[]).filter((r) => r.command === 'run');
        expect(apiRuns.map((r) => r.runId)).toEqual([latest!.runId, earliest!.runId]);
      } finally {
        await app.close();
        await sql.close();
      }
    } finally {
      await ws.close();
    }
  }, 600_000);
});
