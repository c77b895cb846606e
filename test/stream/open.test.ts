/**
 * openStreamLog: the factory every caller opens the configured stream log through. The local
 * log lives in the project folder (a relative path is the project's). (The JetStream case is
 * tested with its adapter, on the log-jetstream branch.)
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
});
