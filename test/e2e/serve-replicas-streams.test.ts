/**
 * Streams in shared mode: two `tributary serve` replicas (dist/) on one project with state and
 * warehouse on PostgreSQL and its stream log on NATS JetStream (a prefix of its own, deleted
 * after). Both replicas take events (POST /api/events) into the one log and both run a flusher
 * loop; each flush holds its table's lock in the state database, so every event sent to either
 * replica is in the lake's raw batches exactly once. And a shared project on the local segment
 * log is refused at start with what to do, instead of collecting into a log of each replica's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamLog } from '../../src/stream/jetstream/index.js';
import { tempDir, writeFiles } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { logAdapters, natsTestUrl } from '../stream/log-adapters.js';
import { readLanded, streamProjectFiles, waitForLanded } from '../stream/harness.js';
import { freshPostgresDatabase } from '../sync/support.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');
const URL_ENV = 'TRIBUTARY_TEST_STREAM_REPLICA_URL';
const pgAvailable = await serviceAvailable('postgres', postgresTestUrl);
const jetstream = logAdapters.find((a) => a.name === 'jetstream');
const noJetStream = jetstream ? await jetstream.available() : 'no jetstream adapter';
if (noJetStream !== undefined) {
  if (process.env.CI === 'true') throw new Error(`must run on CI: ${noJetStream}`);
  console.warn(`the stream replicas test did not run: ${noJetStream}`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Replica {
  child: ChildProcess;
  collector: string;
  log: string[];
  exited: Promise<number | null>;
}

/** Starts `tributary serve`; resolves with its collector's URL once it serves. */
async function startServe(dir: string, url: string): Promise<Replica> {
  const child = spawn(process.execPath, [CLI, '-p', dir, 'serve', '--port', '0'], {
    env: { ...process.env, [URL_ENV]: url },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log: string[] = [];
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  let collector = '';
  const serving = new Promise<void>((res, rej) => {
    let buffer = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        log.push(line);
        const m = /collecting streams at (http:\/\/\S+)/.exec(line);
        if (m) collector = m[1]!;
        if (/ at https?:\/\/\S+ \(pid \d+\)/.test(line)) res();
      }
    });
    void exited.then((code) => rej(new Error(`serve exited (${code}):\n${log.join('\n')}`)));
    setTimeout(() => rej(new Error(`serve did not start in 60 s:\n${log.join('\n')}`)), 60_000);
  });
  await serving;
  return { child, collector, log, exited };
}

function sharedFiles(log: string): Record<string, string> {
  const files = streamProjectFiles({ port: 0, maxAge: '100ms', maxBytes: '4KB' });
  files['tributary.yml'] = files['tributary.yml']!.replace(
    'log: { type: local, path: .tributary/stream }',
    `log: ${log}`,
  ).concat(`state: { store: postgres, url: { env: ${URL_ENV} }, schema: state }
warehouse: { engine: postgres, url: { env: ${URL_ENV} } }
`);
  return files;
}

describe.skipIf(!pgAvailable || noJetStream !== undefined)(
  'stream collectors in shared mode',
  () => {
    let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
    const replicas: Replica[] = [];
    const prefix = `replicas${process.pid}x${Date.now().toString(36)}`;

    beforeAll(async () => {
      db = await freshPostgresDatabase('streamreplicas');
    });

    afterAll(async () => {
      for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL');
      await Promise.all(replicas.map((r) => r.exited));
      const log = await JetStreamLog.connect({ url: natsTestUrl, prefix, timeoutMs: 5000 });
      for (const name of await log.listStreams()) await log.deleteStream(name);
      await log.close();
      await db?.drop();
    });

    it('refuses to collect into the local segment log, saying what to do', () => {
      const dir = tempDir('trib-stream-replicas-local-');
      writeFiles(dir, sharedFiles('{ type: local, path: .tributary/stream }'));
      const out = spawnSync(process.execPath, [CLI, '-p', dir, 'serve', '--port', '0'], {
        encoding: 'utf8',
        env: { ...process.env, [URL_ENV]: db.url },
        timeout: 60_000,
      });
      expect(out.status).not.toBe(0);
      expect(out.stderr).toMatch(/stream log is the local segment log/);
      expect(out.stderr).toMatch(/type: jetstream/);
    }, 90_000);

    it('lands every event sent to either replica exactly once', async () => {
      const dir = tempDir('trib-stream-replicas-');
      writeFiles(dir, sharedFiles(`{ type: jetstream, url: "${natsTestUrl}", prefix: ${prefix} }`));
      const created = spawnSync(
        process.execPath,
        [CLI, '-p', dir, 'token', 'create', '--role', 'producer', '--json'],
        { encoding: 'utf8', env: { ...process.env, [URL_ENV]: db.url } },
      );
      expect(created.status, created.stderr).toBe(0);
      const { token } = JSON.parse(created.stdout) as { token: string };
      replicas.push(await startServe(dir, db.url));
      replicas.push(await startServe(dir, db.url));
      expect(replicas.map((r) => r.collector).every((u) => u.startsWith('http'))).toBe(true);

      const sent: string[] = [];
      const send = async (replica: Replica, batch: number) => {
        const events = Array.from({ length: 40 }, (_, i) => {
          const id = `r${batch}-${i}`;
          sent.push(id);
          return JSON.stringify({
            event_id: id,
            user_id: i,
            event_type: 'view',
            event_ts: '2026-03-02T10:00:00Z',
          });
        });
        const res = await fetch(`${replica.collector}/api/events/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
          body: `${events.join('\n')}\n`,
        });
        expect(res.status, await res.text()).toBeLessThan(300);
      };
      // Batches to both replicas, spread over a few seconds so both flushers commit many times.
      for (let round = 0; round < 10; round++) {
        await Promise.all([send(replicas[0]!, 2 * round), send(replicas[1]!, 2 * round + 1)]);
        await sleep(300);
      }
      const ids = (raw: unknown[]) =>
        raw.map((line) => String((line as { event_id?: string }).event_id));
      await waitForLanded(dir, (l) => l.raw.length >= sent.length, 60_000);
      // A little longer: a second commit of the same records would show up now.
      await sleep(2_000);
      const landed = await readLanded(dir);
      const landedIds = ids(landed.raw);
      expect(landedIds.length).toBe(sent.length);
      expect([...new Set(landedIds)].sort()).toEqual([...sent].sort());

      for (const r of replicas) r.child.kill('SIGTERM');
      expect(await Promise.all(replicas.map((r) => r.exited))).toEqual([0, 0]);
    }, 240_000);
  },
);
