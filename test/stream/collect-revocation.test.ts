/**
 * `tributary collect` on shared state (issue 18): the real collect process (dist/) on a project
 * whose state and warehouse are on PostgreSQL and whose stream log is NATS JetStream. A producer
 * key revoked by another process (this test's own token store on the same state, as a serve
 * replica or `tributary token revoke` would) is refused by the collector at once, for both the
 * bearer token of POST /api/events and the SigV4 secret of the real Kinesis SDK, although the
 * collector had just accepted it and holds it in its 5-second credential cache. SIGTERM then
 * stops the collector cleanly (its listening connection closed with it).
 */
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspace, type Workspace } from '../../src/orchestrator/index.js';
import { TokenStore } from '../../src/serve/index.js';
import { JetStreamLog } from '../../src/stream/jetstream/index.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase } from '../sync/support.js';
import {
  freePort,
  kinesisClient,
  startCollector,
  stopCollector,
  streamProjectFiles,
  writeProjectFiles,
  type Collector,
} from './harness.js';
import { logAdapters, natsTestUrl } from './log-adapters.js';

const URL_ENV = 'TRIBUTARY_TEST_COLLECT_REVOKE_URL';
const pgAvailable = await serviceAvailable('postgres', postgresTestUrl);
const jetstream = logAdapters.find((a) => a.name === 'jetstream');
const noJetStream = jetstream ? await jetstream.available() : 'no jetstream adapter';
if (noJetStream !== undefined && process.env.CI === 'true')
  throw new Error(`must run on CI: ${noJetStream}`);
/** The collector's credential cache (auth.ts CACHE_MS): without the notice, the bound. */
const CACHE_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `accepted` until it says false; the milliseconds that took (or fails after `ms`). */
async function refusedWithin(accepted: () => Promise<boolean>, ms: number): Promise<number> {
  const started = performance.now();
  while (await accepted()) {
    const elapsed = performance.now() - started;
    if (elapsed > ms) throw new Error(`the revoked key was still accepted after ${elapsed} ms`);
    await sleep(20);
  }
  return performance.now() - started;
}

describe.skipIf(!pgAvailable || noJetStream !== undefined)('collect on shared state', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let dir: string;
  let ws: Workspace;
  let tokens: TokenStore;
  let collector: Collector | undefined;
  const prefix = `revoke${process.pid}x${Date.now().toString(36)}`;

  beforeAll(async () => {
    db = await freshPostgresDatabase('collectrevoke');
    process.env[URL_ENV] = db.url;
    dir = tempDir('trib-collect-revoke-');
    const port = await freePort();
    const files = streamProjectFiles({ port, stream: 'events' });
    files['tributary.yml'] = files['tributary.yml']!.replace(
      'log: { type: local, path: .tributary/stream }',
      `log: { type: jetstream, url: "${natsTestUrl}", prefix: ${prefix} }`,
    ).concat(`state: { store: postgres, url: { env: ${URL_ENV} }, schema: state }
warehouse: { engine: postgres, url: { env: ${URL_ENV} } }
`);
    writeProjectFiles(dir, files);
    // The other process's side: the same project's state, opened beside the collector.
    ws = await openWorkspace(dir, 'token');
    tokens = await TokenStore.open(ws.state.engine);
    collector = await startCollector(dir, port, { [URL_ENV]: db.url });
  }, 90_000);

  afterAll(async () => {
    if (collector) await stopCollector(collector);
    await ws?.close();
    const log = await JetStreamLog.connect({ url: natsTestUrl, prefix, timeoutMs: 5000 });
    for (const name of await log.listStreams()) await log.deleteStream(name);
    await log.close();
    delete process.env[URL_ENV];
    await db?.drop();
  });

  const post = (token: string) =>
    fetch(`${collector!.url}/api/events/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        { event_id: 'e1', user_id: 1, event_type: 'view', event_ts: '2026-03-02T10:00:00Z' },
      ]),
    });

  it('refuses a bearer token revoked elsewhere at once, not after the cache window', async () => {
    const key = await tokens.createProducer('events-revoked');
    const first = await post(key.token);
    expect(first.status, await first.text()).toBeLessThan(300);
    // Checked and cached just now: only the revocation notice can make it refused sooner than 5 s.
    await tokens.revoke(key.info.id);
    const ms = await refusedWithin(async () => (await post(key.token)).status < 300, CACHE_MS * 2);
    expect(ms).toBeLessThan(1_500);
    const refused = await post(key.token);
    expect(refused.status).toBe(401);
  }, 60_000);

  it('refuses a SigV4 access key revoked elsewhere at once, not after the cache window', async () => {
    const key = await tokens.createProducer('kinesis-revoked');
    const kinesis = kinesisClient(collector!.url, key);
    const put = () =>
      kinesis.send(
        new PutRecordCommand({
          StreamName: 'events',
          PartitionKey: 'p',
          Data: Buffer.from(
            JSON.stringify({
              event_id: 'k',
              user_id: 1,
              event_type: 'view',
              event_ts: '2026-03-02T10:00:00Z',
            }),
          ),
        }),
      );
    try {
      expect((await put()).SequenceNumber).toBeDefined();
      await tokens.revoke(key.info.id);
      const ms = await refusedWithin(
        () =>
          put().then(
            () => true,
            (err: unknown) => {
              // Only the SDK's refusal counts: anything else fails the test.
              if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode)
                return false;
              throw err;
            },
          ),
        CACHE_MS * 2,
      );
      expect(ms).toBeLessThan(1_500);
      await expect(put()).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    } finally {
      kinesis.destroy();
    }
  }, 60_000);

  it('stops on SIGTERM with its listening connection closed', async () => {
    const c = collector!;
    collector = undefined;
    c.proc.child.kill('SIGTERM');
    const timer = setTimeout(() => c.proc.kill(), 20_000);
    const exit = await c.proc.exited;
    clearTimeout(timer);
    expect(exit, c.proc.output()).toEqual({ code: 0, signal: null });
  }, 30_000);
});
