/**
 * Issue 17's crash campaign against the HubSpot destination. The real HubSpot cannot be reached
 * from here: the local stand-in (templates/ecommerce/crm/hubspot-server.ts, what `npm run crm-api`
 * serves) plays its API shapes and limits — batch upsert/create/read/archive of at most 100
 * inputs, 207 partial failures, 409 on a create of an email that exists, the rolling rate limit
 * (raised here so the campaign is not spent waiting).
 *
 * A sync of 1,000 rows (and growing) from a DuckDB warehouse file to the stand-in's contacts runs
 * in a child process (test/sync/crash/child.ts, built to dist/), in upsert, insert (HubSpot's
 * batch create) and mirror mode, and is killed again and again mid-run:
 * - by SIGKILL after a random number of batches plus a random few milliseconds (seeded);
 * - at the runner's fault points (`TRIBUTARY_FAULT=crash:<point>`): after the in-flight marker is
 *   committed but before the send, after the send but before the state is recorded, just after
 *   recording;
 * - while HTTP requests are in flight: the stand-in holds batch writes until 4 are waiting (the
 *   runner's 4 batches in flight), the child is killed, then each held write is, at random, applied
 *   (it reached HubSpot; the answer was lost with the client) or dropped (lost on the way).
 * The source changes between kills (new keys, changed values; mirror mode also loses keys). Then
 * the sync runs to completion, and:
 * - the stand-in holds each key exactly once, exactly the source's keys (mirror: deleted ones are
 *   gone), with the latest values (upsert and mirror);
 * - nothing was refused: HubSpot refuses a second create of an email (409), so a create re-sent
 *   after a crash would show as a dead letter and a key missing from the state, not a second record;
 * - the state equals what the stand-in holds: the same keys, each with the stand-in's record id,
 *   no in-flight marker left, and a dry run finds nothing to send.
 *
 * `SYNC_CRASH_TRIALS` (kills in all, shared by the three modes; default 6, two a mode, every kind
 * at least once) and `SYNC_CRASH_SEED` (default 17) set the campaign:
 * `SYNC_CRASH_TRIALS=30 npx vitest run test/sync/crash-hubspot.test.ts`.
 * Needs `npm run build`.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HUBSPOT_TEST_TOKEN,
  startHubSpotServer,
  type HubSpotServer,
} from '../../templates/ecommerce/crm/hubspot-server.js';
import { openDuckDB } from '../../src/engines/index.js';
import { DeadLetterStore } from '../../src/notify/index.js';
import { StateStore } from '../../src/state/index.js';
import { HubSpotDestination } from '../../src/sync/destinations/hubspot.js';
import { runSync } from '../../src/sync/runner.js';
import type { SyncMode } from '../../src/sync/types.js';
import { tempDir } from '../helpers.js';
import { childDefinition, type ChildConfig } from './crash/child.js';
import {
  createCustomers,
  endedAsKill,
  moveSourceOn,
  prng,
  requireBuiltChild,
  runChild,
  withWarehouse,
  type ChildRun,
} from './crash-support.js';

const TRIALS = Number(process.env.SYNC_CRASH_TRIALS ?? 6);
const SEED = Number(process.env.SYNC_CRASH_SEED ?? 17);
const ROWS = 1000;
const IN_FLIGHT = 4;
/**
 * The kinds of kill, in the order the campaign's trials take them, mode after mode: the default 6
 * give insert an in-flight kill and one after the send, upsert a timed SIGKILL and one before the
 * send, mirror one after recording and an in-flight kill.
 */
const KINDS = [
  'inflight',
  'crash:sync-sent',
  'sigkill',
  'crash:sync-marked',
  'crash:sync-recorded',
] as const;
type Kind = (typeof KINDS)[number];
const MODES: SyncMode[] = ['insert', 'upsert', 'mirror'];

/**
 * Kills the child while `IN_FLIGHT` batch writes are held by the stand-in (or, when fewer ever
 * arrive, after a few seconds), then applies or drops each held write at random.
 */
async function killWithRequestsInFlight(
  server: HubSpotServer,
  config: ChildConfig,
  random: () => number,
): Promise<ChildRun & { applied: number; dropped: number }> {
  const held: ((fate: 'apply' | 'drop') => void)[] = [];
  let child: ChildProcess | undefined;
  const kill = () => child?.kill('SIGKILL');
  const fallback = setTimeout(kill, 5000);
  server.gateWrites(
    () =>
      new Promise((decide) => {
        held.push(decide);
        if (held.length === IN_FLIGHT) kill();
      }),
  );
  let run: ChildRun;
  try {
    run = await runChild(config, { onSpawn: (c) => (child = c) });
  } finally {
    clearTimeout(fallback);
    server.gateWrites(undefined);
  }
  let applied = 0;
  for (const decide of held) {
    const apply = random() < 0.5;
    applied += apply ? 1 : 0;
    decide(apply ? 'apply' : 'drop');
  }
  // The held handlers go on in the stand-in once decided; let them finish before the next run.
  await new Promise((done) => setTimeout(done, 50));
  return { ...run, applied, dropped: held.length - applied };
}

interface StateRow {
  key: string;
  destination_id: string | null;
}

async function readSyncTables(warehouse: string, sync: string) {
  return withWarehouse(warehouse, async (e) => ({
    source: (await e.query(`SELECT email, name, version FROM customers ORDER BY email`)).rows,
    state: (
      await e.query(`SELECT key, destination_id FROM tributary_sync.${sync}__state ORDER BY key`)
    ).rows as unknown as StateRow[],
    inflight: Number(
      (await e.query(`SELECT COUNT(*) AS n FROM tributary_sync.${sync}__inflight`)).rows[0]!.n,
    ),
  }));
}

const PER_MODE = Math.max(1, Math.ceil(TRIALS / MODES.length));

describe(`a sync to the HubSpot stand-in killed ${PER_MODE} times in each mode (seed ${SEED})`, () => {
  const dir = tempDir('trib-sync-crash-hubspot-');
  const servers: HubSpotServer[] = [];

  beforeAll(() => requireBuiltChild());
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  MODES.forEach((mode, m) => {
    it(`${mode}: every key once in the stand-in, latest values, state equal to what it holds`, async () => {
      const server = await startHubSpotServer({ rateLimit: { requests: 5000, perMs: 1000 } });
      servers.push(server);
      const random = prng(SEED + 1000 * m);
      const warehouse = join(dir, `${mode}.duckdb`);
      const stateDb = join(dir, `${mode}-state.duckdb`);
      const config: ChildConfig = {
        warehouse,
        stateDb,
        destination: {
          type: 'hubspot',
          baseUrl: server.url,
          token: HUBSPOT_TEST_TOKEN,
          requestsPerSecond: 5000,
        },
        object: 'contacts',
        sync: `crash_hs_${mode}`,
        mode,
        match: { source: 'email', destination: 'email' },
        fields: [
          { source: 'name', destination: 'firstname' },
          { source: 'version', destination: 'order_count', cast: 'number' },
        ],
        batchSize: 25,
        concurrency: IN_FLIGHT,
      };
      await createCustomers(warehouse, ROWS);
      const log: string[] = [];
      for (let trial = 0; trial < PER_MODE; trial++) {
        const kind: Kind = KINDS[(m * PER_MODE + trial) % KINDS.length]!;
        let run: ChildRun;
        if (kind === 'inflight') {
          const r = await killWithRequestsInFlight(server, config, random);
          log.push(`${kind}: ${r.ended}, ${r.applied} held writes applied, ${r.dropped} dropped`);
          run = r;
        } else {
          run =
            kind === 'sigkill'
              ? await runChild(config, {
                  killAfterBatches: 1 + Math.floor(random() * 8),
                  delayMs: Math.floor(random() * 25),
                })
              : await runChild(config, { fault: `${kind}:${config.sync}` });
          log.push(`${kind}: ${run.ended} after ${run.batches} batches`);
        }
        if (!endedAsKill(run)) throw new Error(`trial ${trial} ended ${run.ended}:\n${run.output}`);
        await moveSourceOn(warehouse, trial, {
          added: 120,
          ...(mode === 'mirror' ? { deleteShare: 0.05 } : {}),
        });
      }
      const last = await runChild(config);
      expect(last.ended, last.output).toBe('exit 0');
      log.push(`final: ${last.output.split('\n').find((l) => l.startsWith('done')) ?? ''}`);
      const why = log.join('\n');

      // Each key exactly once, exactly the source's keys.
      const records = server.records('contacts');
      const byEmail = new Map<string, (typeof records)[number][]>();
      for (const r of records) {
        const email = r.properties.email!;
        byEmail.set(email, [...(byEmail.get(email) ?? []), r]);
      }
      const doubled = [...byEmail].filter(([, list]) => list.length > 1).map(([e]) => e);
      expect(doubled, why).toEqual([]);
      const { source, state, inflight } = await readSyncTables(warehouse, config.sync);
      expect([...byEmail.keys()].sort(), why).toEqual(source.map((r) => String(r.email)));
      if (mode !== 'insert')
        expect(
          source.filter((r) => {
            const held = byEmail.get(String(r.email))![0]!.properties;
            return held.firstname !== r.name || held.order_count !== String(r.version);
          }),
          why,
        ).toEqual([]);

      // Nothing refused (a doubled create would be refused as existing), and the state is what
      // the stand-in holds: its keys, each with the stand-in's record id.
      const stateEngine = await openDuckDB({ path: stateDb });
      const letters = await (await DeadLetterStore.open(stateEngine)).list();
      await stateEngine.close();
      expect(
        letters.map((l) => l.error),
        why,
      ).toEqual([]);
      expect(
        state.map((r) => [r.key, r.destination_id]),
        why,
      ).toEqual(source.map((r) => [String(r.email), byEmail.get(String(r.email))![0]!.id]));
      expect(inflight).toBe(0);

      // A dry run over the same files finds nothing left to send.
      const engine = await openDuckDB({ path: warehouse });
      const stateStore = await StateStore.open(await openDuckDB({ path: ':memory:' }));
      const destination = new HubSpotDestination({
        name: 'crm',
        baseUrl: server.url,
        token: HUBSPOT_TEST_TOKEN,
      });
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
        expect(dry, why).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
      } finally {
        await destination.close();
        await stateStore.close();
        await engine.close();
      }
    }, 300_000);
  });
});
