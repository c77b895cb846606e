/**
 * Several `serve` replicas of one shared project (PostgreSQL state and warehouse, opened twice in
 * this process, as two replicas would): a run finished through one replica is what the other's
 * SQL endpoint and dashboards read right after (the publish is recorded in state, not in a file
 * of one machine); and only the scheduler's leader watches the landing folder, so one new file
 * starts one run, and the watching passes on with leadership. The database and the read-only
 * role are the test's own, dropped after.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PipelineServer,
  maskedRoleOf,
  openWorkspace,
  publishServingSnapshot,
  runPipeline,
  type SchedulerEvent,
} from '../../src/orchestrator/index.js';
import { queryRunnerFor } from '../../src/serve/index.js';
import { ServingPointerStore } from '../../src/state/index.js';
import { tempDir, writeFiles } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase, uniqueName } from '../sync/support.js';

const available = await serviceAvailable('postgres', postgresTestUrl);
const URL_ENV = 'TRIBUTARY_TEST_SHARED_SERVING_URL';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!available)('serve replicas sharing a PostgreSQL state and warehouse', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  const readRole = uniqueName('reader');

  beforeAll(async () => {
    db = await freshPostgresDatabase('serving');
    process.env[URL_ENV] = db.url;
  });

  afterAll(async () => {
    delete process.env[URL_ENV];
    await db?.drop();
    const admin = new pg.Client({ connectionString: postgresTestUrl });
    await admin.connect();
    for (const role of [readRole, maskedRoleOf(readRole)])
      await admin.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
    await admin.end();
  });

  function project(extra = '', files: Record<string, string> = {}): string {
    const dir = tempDir('trib-shared-serving-');
    writeFiles(dir, {
      'tributary.yml': `name: serving
state: { store: postgres, url: { env: ${URL_ENV} }, schema: state }
warehouse: { engine: postgres, url: { env: ${URL_ENV} }, read_role: ${readRole} }
${extra}`,
      'models/a.sql': `{{ config(materialized='table') }}\nselect 1 as n`,
      ...files,
    });
    return dir;
  }

  it("a run finished through one replica is what the other's SQL reads within a second", async () => {
    const dir = project();
    const a = await openWorkspace(dir, 'serve');
    const b = await openWorkspace(dir, 'serve');
    const sqlA = queryRunnerFor(a);
    const sqlB = queryRunnerFor(b);
    try {
      expect((await runPipeline(a, {})).status).toBe('succeeded');
      const first = await publishServingSnapshot(a);
      await sqlA.refresh();
      // b never ran anything: it reads the publish a recorded in state.
      const r1 = await sqlB.query('select n from a');
      expect(r1.rows).toEqual([{ n: 1 }]);
      expect(r1.dataVersion).toBe(first.version);
      const v1 = await sqlB.versionOf('select n from a');

      // Another process (a `tributary run`, or a third replica) rebuilds the model and publishes.
      writeFileSync(
        join(dir, 'models', 'a.sql'),
        `{{ config(materialized='table') }}\nselect 2 as n`,
      );
      const c = await openWorkspace(dir, 'run');
      let second;
      try {
        expect((await runPipeline(c, {})).status).toBe('succeeded');
        second = await publishServingSnapshot(c);
      } finally {
        await c.close();
      }
      expect(second.version).not.toBe(first.version);
      const published = performance.now();
      // Neither a nor b is told: each finds out on a request, within a second.
      let seen = '';
      while (performance.now() - published < 3000) {
        seen = (await sqlB.query('select n from a')).dataVersion;
        if (seen === second.version) break;
        await sleep(100);
      }
      expect(seen).toBe(second.version);
      expect(performance.now() - published).toBeLessThan(1500);
      expect(await sqlB.versionOf('select n from a')).not.toBe(v1);
      expect((await sqlA.query('select n from a')).dataVersion).toBe(second.version);
      expect(sqlA.dataVersion()).toBe(second.version);

      // A publish that read the warehouse before the recorded one does not replace it.
      const pointers = await ServingPointerStore.open(a.state.engine);
      const older = { version: 'older', publishedAt: first.publishedAt, snapshot: '{}' };
      expect(await pointers.write(older)).toBe(false);
      expect(await pointers.read(second.version)).toBe('unchanged');
    } finally {
      await sqlA.close();
      await sqlB.close();
      await a.close();
      await b.close();
    }
  }, 60_000);

  it('only the leader watches the landing folder; watching passes on with leadership', async () => {
    const dir = project(
      `sources:
  app:
    type: files
    path: landing
    tables:
      items: { files: "items*.csv" }
triggers:
  arrive: { on: file_arrival, settle: 200ms, run: ["raw:app.items"] }
`,
      {
        'contracts/items.yml': `primary_key: [id]\ncolumns:\n  - { name: id, type: bigint, required: true }\n`,
        'landing/.keep': '',
      },
    );
    const events: { by: string; e: SchedulerEvent }[] = [];
    const replica = async (name: string) => {
      const ws = await openWorkspace(dir, 'serve');
      const server = new PipelineServer(ws, {
        leaderCheckMs: 300,
        publish: false,
        onEvent: (e) => events.push({ by: name, e }),
      });
      await server.start();
      return { ws, server };
    };
    const triggered = () =>
      events.filter(({ e }) => /^trigger:arrive: run \S+ succeeded/.test(e.message));
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 20_000;
      while (triggered().length < n && Date.now() < deadline) await sleep(100);
    };
    const a = await replica('a');
    const b = await replica('b');
    let [aStopped, bStopped] = [false, false];
    try {
      expect([a.server.scheduler.leading, b.server.scheduler.leading]).toEqual([true, false]);
      writeFileSync(join(dir, 'landing', 'items-1.csv'), 'id\n1\n2\n');
      await waitFor(1);
      // Both replicas see the folder; a settle and a rescan later, still one run, by the leader.
      await sleep(1500);
      expect(triggered().map((t) => t.by)).toEqual(['a']);

      // The leader stops (a replica going away): b leads, and watches.
      await a.server.stop();
      aStopped = true;
      const deadline = Date.now() + 5000;
      while (!b.server.scheduler.leading && Date.now() < deadline) await sleep(50);
      expect(b.server.scheduler.leading).toBe(true);
      // Like a restarted serve, the new leader's watcher takes the files it finds there: one
      // run, which lands nothing twice (the raw manifest records what landed).
      await waitFor(2);
      expect(triggered().map((t) => t.by)).toEqual(['a', 'b']);
      writeFileSync(join(dir, 'landing', 'items-2.csv'), 'id\n3\n');
      await waitFor(3);
      await sleep(1500);
      expect(triggered().map((t) => t.by)).toEqual(['a', 'b', 'b']);
      await b.server.stop();
      bStopped = true;
    } finally {
      if (!aStopped) await a.server.stop();
      if (!bStopped) await b.server.stop();
      await a.ws.close();
      await b.ws.close();
    }
  }, 90_000);
});
