/**
 * openStreamLog: the factory every caller opens the configured stream log through. The local
 * log lives in the project folder (a relative path is the project's); JetStream is refused
 * plainly until that adapter is part of the build.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import { openStreamLog } from '../../src/stream/index.js';
import { tempDir } from '../helpers.js';

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

  it('refuses a JetStream log with a configuration error until that adapter is built in', async () => {
    const err = await openStreamLog(
      { type: 'jetstream', url: 'nats://127.0.0.1:4222', prefix: 'tributary' },
      '/nonexistent',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).code).toBe('CONFIG');
    expect((err as TributaryError).location?.path).toBe('stream.log.type');
  });
});
