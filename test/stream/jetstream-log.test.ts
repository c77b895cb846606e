/**
 * What only the JetStream stream log has, beyond the shared conformance suite: how streams map
 * onto JetStream (names, subjects, limits), pipelined appends staying in order, partition keys
 * that are not plain ASCII, big reads, per-shard byte retention on a stream-wide store, records
 * over the server's max_payload, and a server that goes away (UNAVAILABLE, never a hang).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { TributaryError } from '../../src/core/errors.js';
import { JetStreamLog } from '../../src/stream/jetstream/index.js';
import { hashKeyOf, shardForHashKey } from '../../src/stream/shards.js';
import { serviceAvailable } from '../services.js';
import { natsTestUrl } from './log-adapters.js';

const natsUrl = natsTestUrl;
const available = await serviceAvailable('nats', natsUrl);

function uniquePrefix(): string {
  return `tt${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe.skipIf(!available)('JetStream stream log', () => {
  const prefix = uniquePrefix();
  let log: JetStreamLog;

  beforeAll(async () => {
    log = await JetStreamLog.connect({ url: natsUrl, prefix, timeoutMs: 5000 });
  });
  afterAll(async () => {
    for (const name of await log.listStreams()) await log.deleteStream(name);
    await log.close();
  });

  it('maps a stream to one JetStream stream with a subject per shard and its limits', async () => {
    await log.createStream('orders.v2', { shards: 3, maxAgeMs: 3_600_000, maxBytes: 1000 });
    const nc = await connect({ servers: natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(`${prefix}_orders=2Ev2`);
      expect(info.config.subjects).toEqual([`${prefix}.orders=2Ev2.*`]);
      expect(info.config.storage).toBe('file');
      expect(info.config.max_age).toBe(3_600_000 * 1_000_000);
      expect(info.config.max_bytes).toBe(2 * 3 * 1000);
      const outcomes = await log.append('orders.v2', [{ partitionKey: 'k', data: bytes('x') }]);
      const shard = shardForHashKey(hashKeyOf('k'), 3);
      const last = await jsm.streams.getMessage(info.config.name, {
        last_by_subj: `${prefix}.orders=2Ev2.${shard}`,
      });
      expect(outcomes[0]).toMatchObject({ ok: true, sequenceNumber: String(last!.seq) });
    } finally {
      await nc.close();
    }
    expect(await log.listStreams()).toContain('orders.v2');
  });

  it('keeps concurrent pipelined appends in order, each call contiguous in its shard', async () => {
    await log.createStream('burst', { shards: 1, maxAgeMs: 3_600_000 });
    const calls = Array.from({ length: 8 }, (_, call) =>
      log.append(
        'burst',
        Array.from({ length: 250 }, (_, i) => ({
          partitionKey: `p${i}`,
          data: bytes(`${call}:${i}`),
        })),
      ),
    );
    const results = await Promise.all(calls);
    expect(results.flat().every((outcome) => outcome.ok)).toBe(true);
    const read = await log.read('burst', 'shardId-000000000000', { type: 'oldest' });
    expect(read.records).toHaveLength(2000);
    const texts = read.records.map((record) => record.data.toString());
    for (let at = 0; at < texts.length; at += 250) {
      const call = texts[at]!.split(':')[0];
      const run = texts.slice(at, at + 250);
      expect(run).toEqual(Array.from({ length: 250 }, (_, i) => `${call}:${i}`));
    }
    expect(read.lastSequenceNumber).toBe(read.records.at(-1)!.sequenceNumber);
  });

  it('reads thousands of records in bounded pages, and partition keys come back as sent', async () => {
    await log.createStream('big', { shards: 2, maxAgeMs: 3_600_000 });
    const keys = ['plain', 'ünïcødé ключ', 'with\nnewline', 'a:b/c%d', '🙂'];
    const input = Array.from({ length: 6000 }, (_, i) => ({
      partitionKey: keys[i % keys.length]!,
      data: bytes(JSON.stringify({ i, pad: 'x'.repeat(100) })),
    }));
    const outcomes = await log.append('big', input);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    const seen: number[] = [];
    for (const shardId of ['shardId-000000000000', 'shardId-000000000001']) {
      let from: Parameters<JetStreamLog['read']>[2] = { type: 'oldest' };
      for (;;) {
        const page = await log.read('big', shardId, from, { maxRecords: 1500, maxBytes: 50_000 });
        if (page.records.length === 0) break;
        const pageBytes = page.records.reduce((sum, record) => sum + record.data.length, 0);
        expect(pageBytes).toBeLessThanOrEqual(50_000);
        for (const record of page.records) {
          const { i } = JSON.parse(record.data.toString()) as { i: number };
          expect(record.partitionKey).toBe(keys[i % keys.length]);
          expect(record.shardId).toBe(shardId);
          seen.push(i);
        }
        from = page.next;
      }
    }
    expect(seen.sort((a, b) => a - b)).toEqual(input.map((_, i) => i));
  });

  it('trims each shard to its byte limit on its own and reports the gap', async () => {
    await log.createStream('trim', { shards: 2, maxAgeMs: 3_600_000, maxBytes: 1000 });
    const shardOf = (key: string): number => shardForHashKey(hashKeyOf(key), 2);
    const keyFor = (shard: number): string => {
      for (let i = 0; ; i++) if (shardOf(`k${i}`) === shard) return `k${i}`;
    };
    const big = Array.from({ length: 10 }, () => ({
      partitionKey: keyFor(0),
      data: new Uint8Array(300),
    }));
    const small = [{ partitionKey: keyFor(1), data: new Uint8Array(300) }];
    const outcomes = await log.append('trim', [...big, ...small]);
    await log.enforceRetention('trim');
    const shard0 = await log.read('trim', 'shardId-000000000000', { type: 'oldest' });
    expect(shard0.records.map((record) => record.sequenceNumber)).toEqual(
      outcomes.slice(7, 10).map((outcome) => (outcome.ok ? outcome.sequenceNumber : '')),
    );
    const fromStart = await log.read('trim', 'shardId-000000000000', {
      type: 'at',
      sequenceNumber: outcomes[0]!.ok ? outcomes[0]!.sequenceNumber : '',
    });
    expect(fromStart.trimmedBefore).toBeDefined();
    expect(fromStart.records).toHaveLength(3);
    const shard1 = await log.read('trim', 'shardId-000000000001', { type: 'oldest' });
    expect(shard1.records).toHaveLength(1);
  });

  it('removes records past their age when asked, without waiting for the server', async () => {
    await log.createStream('aged', { shards: 1, maxAgeMs: 400 });
    await log.append('aged', [{ partitionKey: 'a', data: bytes('old') }]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const fresh = await log.append('aged', [{ partitionKey: 'a', data: bytes('new') }]);
    await log.enforceRetention('aged');
    const read = await log.read('aged', 'shardId-000000000000', {
      type: 'at',
      sequenceNumber: '1',
    });
    expect(read.records.map((record) => record.data.toString())).toEqual(['new']);
    expect(read.trimmedBefore).toBe(fresh[0]!.ok ? fresh[0]!.sequenceNumber : '');
  });

  it('refuses a record Kinesis takes but the server does not (max_payload), and the rest is taken', async () => {
    await log.createStream('huge', { shards: 1, maxAgeMs: 3_600_000 });
    const outcomes = await log.append('huge', [
      { partitionKey: 'a', data: bytes('fits') },
      // 1 MiB of data is Kinesis's limit; with its header it is over nats-server's default 1 MiB.
      { partitionKey: 'a', data: new Uint8Array(1024 * 1024) },
    ]);
    expect(outcomes[0]!.ok).toBe(true);
    expect(outcomes[1]).toMatchObject({ ok: false, code: 'INPUT' });
    expect(outcomes[1]!.ok ? '' : outcomes[1]!.message).toMatch(/max_payload/);
  });

  it('says CONFLICT when another prefix holds the JetStream name, and keeps the streams apart', async () => {
    // Prefix "<p>_x" with stream "s" and prefix "<p>" with stream "x_s" share a JetStream name.
    const other = await JetStreamLog.connect({
      url: natsUrl,
      prefix: `${prefix}_x`,
      timeoutMs: 5000,
    });
    try {
      await other.createStream('s', { shards: 1, maxAgeMs: 60_000 });
      const error = await log
        .createStream('x_s', { shards: 1, maxAgeMs: 60_000 })
        .catch((e: unknown) => e);
      expect((error as TributaryError).code).toBe('CONFLICT');
      expect(await log.describeStream('x_s')).toBeUndefined();
      expect(await log.listStreams()).not.toContain('x_s');
      expect(await other.listStreams()).toEqual(['s']);
    } finally {
      for (const name of await other.listStreams()) await other.deleteStream(name);
      await other.close();
    }
  });

  it('answers UNAVAILABLE for a stream deleted behind its back, then NOT_FOUND', async () => {
    await log.createStream('vanishing', { shards: 1, maxAgeMs: 60_000 });
    expect((await log.append('vanishing', [{ partitionKey: 'a', data: bytes('1') }]))[0]!.ok).toBe(
      true,
    );
    const other = await JetStreamLog.connect({ url: natsUrl, prefix, timeoutMs: 5000 });
    await other.deleteStream('vanishing');
    await other.close();
    const outcomes = await log.append('vanishing', [{ partitionKey: 'a', data: bytes('2') }]);
    expect(outcomes[0]).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    const error = await log
      .append('vanishing', [{ partitionKey: 'a', data: bytes('3') }])
      .catch((e: unknown) => e);
    expect((error as TributaryError).code).toBe('NOT_FOUND');
  });

  it('reads at a time by the server timestamps the records got', async () => {
    await log.createStream('timed', { shards: 1, maxAgeMs: 3_600_000 });
    await log.append('timed', [{ partitionKey: 'a', data: bytes('before') }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const mark = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await log.append('timed', [{ partitionKey: 'a', data: bytes('after') }]);
    const read = await log.read('timed', 'shardId-000000000000', {
      type: 'at_time',
      timestampMs: mark,
    });
    expect(read.records.map((record) => record.data.toString())).toEqual(['after']);
    expect(read.records[0]!.arrivalMs).toBeGreaterThanOrEqual(mark - 5);
  });
});

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

describe.skipIf(!available)('JetStream stream log when the server goes away', () => {
  let server: ChildProcess | undefined;
  let dir: string;

  afterAll(async () => {
    server?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('says UNAVAILABLE for a server that is not there', async () => {
    const port = await freePort();
    const error = await JetStreamLog.connect({
      url: `nats://127.0.0.1:${port}`,
      prefix: 'x',
      timeoutMs: 1000,
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TributaryError);
    expect((error as TributaryError).code).toBe('UNAVAILABLE');
  });

  it('answers UNAVAILABLE per record, then errors, within the timeout after a kill', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-nats-'));
    const port = await freePort();
    server = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], {
      stdio: 'ignore',
    });
    const url = `nats://127.0.0.1:${port}`;
    let log: JetStreamLog | undefined;
    for (let attempt = 0; attempt < 50 && !log; attempt++) {
      log = await JetStreamLog.connect({ url, prefix: 'gone', timeoutMs: 1500 }).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return undefined;
      });
    }
    expect(log).toBeDefined();
    await log!.createStream('s', { shards: 1, maxAgeMs: 60_000 });
    expect((await log!.append('s', [{ partitionKey: 'a', data: bytes('1') }]))[0]!.ok).toBe(true);
    server.kill('SIGKILL');
    await new Promise((resolve) => server!.once('exit', resolve));
    const started = Date.now();
    const outcomes = await log!.append('s', [{ partitionKey: 'a', data: bytes('2') }]);
    expect(outcomes[0]).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    const readError = await log!
      .read('s', 'shardId-000000000000', { type: 'oldest' })
      .catch((err: unknown) => err);
    expect((readError as TributaryError).code).toBe('UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(6000);
    await log!.close();
  }, 20_000);
});
