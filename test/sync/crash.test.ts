/**
 * Issue 17's crash test: a sync of 1,500 rows (and growing) from a DuckDB warehouse file to a real
 * PostgreSQL table runs in a child process (test/sync/crash/child.ts, built to dist/) that is
 * killed again and again mid-run: by SIGKILL after a random number of batches plus a random few
 * milliseconds (seeded), or at one of the runner's fault points (`TRIBUTARY_FAULT=crash:<point>`:
 * after the in-flight marker is committed but before the send, after the send but before the
 * state is recorded, just after recording). The source changes between kills (new rows; changed
 * values). Then the sync runs to completion, and:
 * - the destination holds each key exactly once (insert mode's table has no unique constraint on
 *   the key, so only the runner's lookup of an interrupted batch prevents a duplicate) with the
 *   latest values (upsert mode);
 * - the state equals the destination: the same keys, no in-flight marker left, and a dry run
 *   finds nothing to send.
 *
 * `SYNC_CRASH_TRIALS` (default 5 kills: 3 in insert mode, the hard one, 2 in upsert) and `SYNC_CRASH_SEED` (default 17) set the
 * campaign: `SYNC_CRASH_TRIALS=30 npx vitest run test/sync/crash.test.ts`. Needs `npm run build`.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDB } from '../../src/engines/index.js';
import { StateStore } from '../../src/state/index.js';
import { PostgresDestination } from '../../src/sync/destinations/postgres.js';
import { runSync } from '../../src/sync/runner.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { childDefinition, type ChildConfig } from './crash/child.js';
import {
  createCustomers,
  endedAsKill,
  moveSourceOn,
  prng,
  requireBuiltChild,
  runChild,
  withWarehouse,
} from './crash-support.js';
import { freshPostgresDatabase } from './support.js';

const TRIALS = Number(process.env.SYNC_CRASH_TRIALS ?? 5);
const SEED = Number(process.env.SYNC_CRASH_SEED ?? 17);
const ROWS = 1500;
/** The kinds of kill, in the order trials take them (upsert starts half-way through). */
const KINDS = [
  'sigkill',
  'crash:sync-sent',
  'crash:sync-marked',
  'sigkill',
  'crash:sync-recorded',
  'sigkill',
];

const available = await serviceAvailable('postgres', postgresTestUrl);

describe.skipIf(!available)(`a sync to PostgreSQL killed ${TRIALS} times (seed ${SEED})`, () => {
  const dir = tempDir('trib-sync-crash-');
  let url: string;
  let drop: () => Promise<void>;
  let client: pg.Client;

  beforeAll(async () => {
    requireBuiltChild();
    const db = await freshPostgresDatabase('synccrash');
    url = db.url;
    drop = db.drop;
    client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE SCHEMA crm`);
    // No unique constraint on email: a second insert of a key would be a real duplicate.
    await client.query(
      `CREATE TABLE crm.contacts_insert (id bigserial PRIMARY KEY, email text NOT NULL, name text, version double precision)`,
    );
    await client.query(
      `CREATE TABLE crm.contacts_upsert (email text PRIMARY KEY, name text, version double precision)`,
    );
  });
  afterAll(async () => {
    await client?.end();
    await drop?.();
  });

  for (const mode of ['insert', 'upsert'] as const) {
    it(`${mode}: every key once, latest values, state equal to the destination`, async () => {
      const random = prng(SEED + (mode === 'insert' ? 0 : 1000));
      const warehouse = join(dir, `${mode}.duckdb`);
      const config: ChildConfig = {
        warehouse,
        stateDb: join(dir, `${mode}-state.duckdb`),
        destination: { type: 'postgres', url, schema: 'crm' },
        object: `contacts_${mode}`,
        sync: `crash_${mode}`,
        mode,
        match: { source: 'email', destination: 'email' },
        fields: [
          { source: 'name', destination: 'name' },
          { source: 'version', destination: 'version', cast: 'number' },
        ],
        batchSize: 50,
      };
      await createCustomers(warehouse, ROWS);
      const log: string[] = [];
      const kills = mode === 'insert' ? Math.ceil(TRIALS / 2) : Math.floor(TRIALS / 2);
      const offset = mode === 'insert' ? 0 : 3;
      for (let trial = 0; trial < kills; trial++) {
        const kind = KINDS[(trial + offset) % KINDS.length]!;
        const run =
          kind === 'sigkill'
            ? await runChild(config, {
                killAfterBatches: 1 + Math.floor(random() * 8),
                delayMs: Math.floor(random() * 25),
              })
            : await runChild(config, { fault: `${kind}:${config.sync}` });
        log.push(`${kind}: ${run.ended} after ${run.batches} batches`);
        if (!endedAsKill(run)) throw new Error(`trial ${trial} ended ${run.ended}:\n${run.output}`);
        // The source moves on between kills: new keys, and changed values of some old ones.
        await moveSourceOn(warehouse, trial, { added: 150 });
      }
      const last = await runChild(config);
      expect(last.ended, last.output).toBe('exit 0');
      log.push(`final: ${last.output.split('\n').find((l) => l.startsWith('done')) ?? ''}`);

      const { rows: dupes } = await client.query(
        `SELECT email, COUNT(*) AS n FROM crm.contacts_${mode} GROUP BY email HAVING COUNT(*) > 1`,
      );
      expect(dupes, log.join('\n')).toEqual([]);
      const { rows: held } = await client.query<{ email: string; name: string; version: number }>(
        `SELECT email, name, version FROM crm.contacts_${mode} ORDER BY email`,
      );
      const { source, state, inflight } = await withWarehouse(warehouse, async (e) => ({
        source: (await e.query(`SELECT email, name, version FROM customers ORDER BY email`)).rows,
        state: (await e.query(`SELECT key FROM tributary_sync.crash_${mode}__state ORDER BY key`))
          .rows,
        inflight: (
          await e.query(`SELECT COUNT(*) AS n FROM tributary_sync.crash_${mode}__inflight`)
        ).rows,
      }));
      expect(held.map((r) => r.email)).toEqual(source.map((r) => r.email));
      if (mode === 'upsert') expect(held).toEqual(source);
      expect(state.map((r) => r.key)).toEqual(held.map((r) => r.email));
      expect(Number(inflight[0]!.n)).toBe(0);

      // A dry run over the same files finds nothing left to send.
      const engine = await openDuckDB({ path: warehouse });
      const stateStore = await StateStore.open(await openDuckDB({ path: ':memory:' }));
      const destination = new PostgresDestination({ url, schema: 'crm' });
      try {
        const dry = await runSync({
          definition: childDefinition(config),
          warehouse: engine,
          state: stateStore,
          destination,
          sourceRelation: 'SELECT * FROM customers',
          runId: 'verify',
          dryRun: true,
          fullResync: false,
        });
        expect(dry, log.join('\n')).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
      } finally {
        await destination.close();
        await stateStore.close();
        await engine.close();
      }
    }, 300_000);
  }
});
