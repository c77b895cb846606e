/**
 * openStreamLog: the factory every caller opens the configured stream log through. The local
 * log lives in the project folder (a relative path is the project's); JetStream connects to the
 * configured server (the NATS part runs where NATS answers, and must under CI=true).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import { openStreamLog } from '../../src/stream/index.js';
import { tempDir } from '../helpers.js';
import { serviceAvailable } from '../services.js';
import { natsTestUrl } from './log-adapters.js';

const natsAvailable = await serviceAvailable('nats', natsTestUrl);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('openStreamLog', () => {
  it('opens the local log under the project folder and keeps what was appended', async () => {
    const project = tempDir('trib-open-log-');
    dirs.push(project);
    const log = await openStreamLog({ type: 'local', path: '.tributary/stream' }, project);
    expect(log.kind).toBe('local');
    await log.createStream('events', { shards: 1, maxAgeMs: 60_000 });
    await log.append('events', [{ partitionKey: 'a', data: Buffer.from('{"x":1}') }]);
    await log.close();
    expect(existsSync(join(project, '.tributary/stream/streams/events/stream.json'))).toBe(true);
    const again = await openStreamLog({ type: 'local', path: '.tributary/stream' }, project);
    const page = await again.read('events', 'shardId-000000000000', { type: 'oldest' });
    expect(page.records.map((r) => r.data.toString())).toEqual(['{"x":1}']);
    await again.close();
  });

  it.skipIf(!natsAvailable)('opens the JetStream log the configuration names', async () => {
    const prefix = `open${process.pid}x${Date.now().toString(36)}`;
    const log = await openStreamLog(
      { type: 'jetstream', url: natsTestUrl, prefix },
      '/nonexistent',
    );
    try {
      expect(log.kind).toBe('jetstream');
      await log.createStream('events', { shards: 1, maxAgeMs: 60_000 });
      await log.append('events', [{ partitionKey: 'a', data: Buffer.from('{"x":1}') }]);
      const page = await log.read('events', 'shardId-000000000000', { type: 'oldest' });
      expect(page.records.map((r) => r.data.toString())).toEqual(['{"x":1}']);
    } finally {
      for (const name of await log.listStreams()) await log.deleteStream(name);
      await log.close();
    }
  });

  it('says UNAVAILABLE when the configured NATS server does not answer', async () => {
    const err = await openStreamLog(
      { type: 'jetstream', url: 'nats://127.0.0.1:1', prefix: 'tributary' },
      '/nonexistent',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).code).toBe('UNAVAILABLE');
  });
});
