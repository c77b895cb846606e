/**
 * Producer keys: `tributary token create --role producer` prints an access key id, a secret and a
 * bearer token; the real Kinesis SDK signs with them against the collector (credentials looked up
 * in the project's state database), /api/events takes the bearer token, a revoked key stops
 * working, and a producer token opens nothing else: the API's check refuses it and its role
 * ranks below viewer.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { CreateStreamCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { TokenStore, allows } from '../../src/serve/index.js';
import { collectorRoutes, dualProtocolServerFactory } from '../../src/stream/collector/index.js';
import { LocalSegmentLog } from '../../src/stream/local/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tributary(dir: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, '-p', dir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', TRIBUTARY_FAULT: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Created {
  id: string;
  role: string;
  accessKeyId: string;
  secretAccessKey: string;
  token: string;
}

describe('producer keys', () => {
  it('are created by the CLI, sign SDK requests and bearer events, and stop when revoked', async () => {
    const dir = tempDir('trib-producer-');
    dirs.push(dir);
    writeFiles(dir, { 'tributary.yml': 'name: producing\n' });
    const created = tributary(dir, [
      'token',
      'create',
      '--role',
      'producer',
      '--name',
      'web',
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as Created;
    expect(key).toMatchObject({ role: 'producer', name: 'web' });
    expect(key.accessKeyId).toMatch(/^TRBP[A-Z0-9]{10}$/);
    expect(key.token).toBe(`trb_${key.id}_${key.secretAccessKey}`);
    const plain = tributary(dir, ['token', 'create', '--role', 'producer']);
    expect(plain.stdout).toMatch(
      /^AWS_ACCESS_KEY_ID=TRBP\w+\nAWS_SECRET_ACCESS_KEY=\S+\nTRIBUTARY_PRODUCER_TOKEN=trb_\S+\n$/,
    );
    const listed = JSON.parse(tributary(dir, ['token', 'list', '--json']).stdout) as {
      id: string;
      accessKeyId?: string;
    }[];
    expect(listed.find((t) => t.id === key.id)?.accessKeyId).toBe(key.accessKeyId);

    const logDir = tempDir('trib-producer-log-');
    dirs.push(logDir);
    await withWorkspace(dir, async (ws) => {
      const tokens = await TokenStore.open(ws.state.engine);
      const viewer = await tokens.create('viewer');
      // A producer token opens nothing in the API, and its role ranks below every API role.
      const apiCheck = await tokens.check(key.token);
      expect(apiCheck.ok).toBe(false);
      expect(allows('producer', 'viewer')).toBe(false);
      expect(await tokens.checkProducer(viewer.token)).toMatch(/a viewer token cannot send events/);

      const log = await LocalSegmentLog.open(logDir, { retentionIntervalMs: 0 });
      const app = Fastify({ serverFactory: dualProtocolServerFactory });
      await app.register(collectorRoutes, {
        log,
        credentials: {
          secretFor: (id) => tokens.producerSecret(id),
          checkBearer: (token) => tokens.checkProducer(token),
        },
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const endpoint = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const kinesis = new KinesisClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
        maxAttempts: 1,
      });
      try {
        await kinesis.send(new CreateStreamCommand({ StreamName: 'clicks', ShardCount: 1 }));
        const put = await kinesis.send(
          new PutRecordsCommand({
            StreamName: 'clicks',
            Records: [{ PartitionKey: 'a', Data: Buffer.from('{}') }],
          }),
        );
        expect(put.FailedRecordCount).toBe(0);
        const events = await fetch(`${endpoint}/api/events/clicks`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${key.token}` },
          body: '{"n":1}\n',
        });
        expect(events.status).toBe(200);

        await tokens.revoke(key.id);
        const refused = await kinesis
          .send(
            new PutRecordsCommand({
              StreamName: 'clicks',
              Records: [{ PartitionKey: 'a', Data: Buffer.from('{}') }],
            }),
          )
          .then(
            () => undefined,
            (e: unknown) => e as Error,
          );
        expect(refused?.name).toBe('UnrecognizedClientException');
        const revokedEvents = await fetch(`${endpoint}/api/events/clicks`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${key.token}` },
          body: '{"n":1}\n',
        });
        expect(revokedEvents.status).toBe(401);
      } finally {
        kinesis.destroy();
        await app.close();
        await log.close();
      }
    });
  });
});
