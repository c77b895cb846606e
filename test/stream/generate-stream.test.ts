/**
 * `tributary generate --stream` against the real collector (the plugin on a listening server over
 * the real local segment log): every generated clickstream event arrives once, keyed by its
 * session, spread over the shards; records the collector refuses per record (FailedRecordCount)
 * are resent until taken, never doubled; the rate is kept; a missing key or collector is a clear
 * error before anything is written.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateForProject } from '../../src/cli/commands/generate.js';
import { initProject } from '../../src/cli/commands/init.js';
import { silentProgress } from '../../src/core/index.js';
import type { AppendOutcome, StreamLog } from '../../src/stream/index.js';
import { tempDir } from '../helpers.js';
import { KEY_ID, REGION, SECRET, startCollector, type Collector } from './collector-harness.js';

const SCALE = 0.005;
const SEED = 5;

/** A template project whose clickstream comes from the `clickstream` stream. */
async function streamProject(): Promise<string> {
  const dir = await initProject(join(tempDir('trib-genstream-'), 'shop'), 'ecommerce');
  const config = join(dir, 'tributary.yml');
  const text = readFileSync(config, 'utf8').replace(
    / {2}web:[^\n]*\n( {4}[^\n]*\n)+/,
    '  web:\n    type: stream\n    tables:\n      clickstream: { stream: clickstream }\n',
  );
  writeFileSync(config, text);
  return dir;
}

/** Every record of a stream, shard by shard. */
async function everyRecord(log: StreamLog, stream: string) {
  const described = (await log.describeStream(stream))!;
  const out: { shardId: string; partitionKey: string; data: string }[] = [];
  for (const shard of described.shards) {
    let from: Parameters<StreamLog['read']>[2] = { type: 'oldest' };
    for (;;) {
      const r = await log.read(stream, shard.shardId, from, { maxRecords: 10_000 });
      for (const rec of r.records)
        out.push({
          shardId: rec.shardId,
          partitionKey: rec.partitionKey,
          data: rec.data.toString('utf8'),
        });
      if (r.records.length === 0) break;
      from = r.next;
    }
  }
  return out;
}

const key = { accessKeyId: KEY_ID, secretAccessKey: SECRET, region: REGION };

describe('generate --stream', () => {
  let collector: Collector | undefined;
  afterEach(async () => {
    await collector?.close();
    collector = undefined;
  });

  it('replays every generated event once, as the file holds them, keyed by session over both shards', async () => {
    collector = await startCollector();
    await collector.log.createStream('clickstream', { shards: 2, maxAgeMs: 86_400_000 });
    const dir = await streamProject();
    const outcome = await generateForProject(dir, {
      scale: SCALE,
      seed: SEED,
      progress: silentProgress,
      stream: { endpoint: collector.endpoint, ...key },
    });
    expect(existsSync(join(outcome.outDir, 'clickstream.ndjson'))).toBe(false);
    expect(outcome.report.files.map((f) => f.table)).not.toContain('clickstream');
    // The same seed written to a file: the stream holds exactly its lines.
    const fileDir = await initProject(join(tempDir('trib-genfile-'), 'shop'), 'ecommerce');
    const file = await generateForProject(fileDir, {
      scale: SCALE,
      seed: SEED,
      progress: silentProgress,
    });
    const lines = readFileSync(join(file.outDir, 'clickstream.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean);
    const records = await everyRecord(collector.log, 'clickstream');
    expect(records.map((r) => r.data).sort()).toEqual([...lines].sort());
    for (const r of records) {
      const event = JSON.parse(r.data) as { session_id: string };
      expect(r.partitionKey).toBe(event.session_id);
    }
    const s = outcome.stream!;
    expect(s).toMatchObject({
      stream: 'clickstream',
      records: lines.length,
      acknowledged: lines.length,
      failed: 0,
      retried: 0,
      errors: {},
      rate: null,
    });
    expect(Object.keys(s.shards).sort()).toEqual(['shardId-000000000000', 'shardId-000000000001']);
    expect(Object.values(s.shards).reduce((a, b) => a + b, 0)).toBe(lines.length);
    expect(Math.min(...Object.values(s.shards))).toBeGreaterThan(lines.length / 4);
    expect(s.requests).toBe(Math.ceil(lines.length / 500));
    expect(outcome.report.expected.clickstream!.records).toBe(lines.length);
  });

  it('resends the records the collector refuses per record until each is taken once', async () => {
    let appends = 0;
    let refused = 0;
    // Every third record of the first five appends is refused as the log would when it cannot write.
    // Without appendColumns, so the collector's PutRecords goes through the faulty append.
    const flaky = (log: StreamLog): StreamLog =>
      new Proxy(log, {
        get(target, prop, receiver) {
          if (prop === 'appendColumns') return undefined;
          if (prop !== 'append') return Reflect.get(target, prop, receiver) as unknown;
          return async (stream: string, input: Parameters<StreamLog['append']>[1]) => {
            if (appends++ >= 5) return target.append(stream, input);
            const keep = input.filter((_, i) => i % 3 !== 0);
            const taken = await target.append(stream, keep);
            let k = 0;
            return input.map((_, i): AppendOutcome => {
              if (i % 3 !== 0) return taken[k++]!;
              refused++;
              return { ok: false, code: 'UNAVAILABLE', message: 'disk busy' };
            });
          };
        },
      });
    collector = await startCollector(flaky);
    await collector.log.createStream('clickstream', { shards: 2, maxAgeMs: 86_400_000 });
    const dir = await streamProject();
    const outcome = await generateForProject(dir, {
      scale: SCALE,
      seed: SEED,
      progress: silentProgress,
      stream: { endpoint: collector.endpoint, ...key },
    });
    const s = outcome.stream!;
    expect(refused).toBeGreaterThan(0);
    expect(s).toMatchObject({ failed: 0, retried: refused, acknowledged: s.records });
    expect(s.errors).toEqual({ ProvisionedThroughputExceededException: refused });
    const records = await everyRecord(collector.log, 'clickstream');
    expect(records).toHaveLength(s.records);
    expect(new Set(records.map((r) => r.data)).size).toBe(s.records);
  });

  it('keeps the rate asked for', async () => {
    collector = await startCollector();
    await collector.log.createStream('clickstream', { shards: 2, maxAgeMs: 86_400_000 });
    const dir = await streamProject();
    const rate = 1500;
    const outcome = await generateForProject(dir, {
      scale: SCALE,
      seed: SEED,
      progress: silentProgress,
      stream: { endpoint: collector.endpoint, rate, ...key },
    });
    const s = outcome.stream!;
    // Batches of rate/20 records, the last one sent at (records - batch) / rate seconds.
    const batch = Math.ceil(rate / 20);
    expect(s.seconds).toBeGreaterThanOrEqual((s.records - batch) / rate);
    expect(s.requests).toBe(Math.ceil(s.records / batch));
    expect(s.acknowledged).toBe(s.records);
  });

  it('says what to do without a producer key, an unknown stream or no collector, writing nothing', async () => {
    const dir = await streamProject();
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      await expect(
        generateForProject(dir, { scale: SCALE, progress: silentProgress, stream: {} }),
      ).rejects.toMatchObject({
        code: 'USAGE',
        hint: expect.stringMatching(/token create --role producer/) as unknown,
      });
    } finally {
      if (saved.id !== undefined) process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret !== undefined) process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
    collector = await startCollector();
    await expect(
      generateForProject(dir, {
        scale: SCALE,
        progress: silentProgress,
        stream: { endpoint: collector.endpoint, ...key },
      }),
    ).rejects.toThrow(/has no stream clickstream/);
    const endpoint = collector.endpoint;
    await collector.close();
    collector = undefined;
    await expect(
      generateForProject(dir, {
        scale: SCALE,
        progress: silentProgress,
        stream: { endpoint, ...key },
      }),
    ).rejects.toThrow(/no collector answers at/);
    await expect(
      generateForProject(dir, {
        scale: SCALE,
        progress: silentProgress,
        stream: { endpoint: 'http://127.0.0.1:1', accessKeyId: 'nope', secretAccessKey: 'x' },
      }),
    ).rejects.toThrow(/no collector answers/);
    expect(existsSync(join(dir, 'landing', 'orders.csv'))).toBe(false);
  });
});
