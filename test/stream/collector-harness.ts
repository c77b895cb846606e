/**
 * The collector under test: the plugin on a real Fastify server listening on 127.0.0.1:0 (HTTP/1.1
 * and h2c, as `tributary collect` serves it), over the real local segment log, with one producer key, and the
 * real Kinesis and Firehose SDK clients pointed at it. `signedFetch` sends hand-made requests
 * signed like the SDK's, for what the SDK will not send (bad base64, a wrong content type).
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { buildCollectorApp } from '../../src/stream/collector/index.js';
import { NodeSha256 } from '../../src/stream/collector/sigv4.js';
import type { StreamLog } from '../../src/stream/log.js';
import { LocalSegmentLog } from '../../src/stream/local/index.js';
import { tempDir } from '../helpers.js';

export const REGION = 'eu-west-1';
export const KEY_ID = 'TRBTESTKEY0000000001';
export const SECRET = 'test-secret-access-key-0123456789abcdefgh';
export const BEARER = 'trb_producer0_test-bearer-token';

export interface Collector {
  app: FastifyInstance;
  log: StreamLog;
  endpoint: string;
  kinesis(
    credentials?: { accessKeyId: string; secretAccessKey: string },
    clockOffsetMs?: number,
  ): KinesisClient;
  firehose(): FirehoseClient;
  close(): Promise<void>;
}

/** Opens the real local segment log in a fresh folder (removed by `close`). */
async function openLog(): Promise<{ log: StreamLog; dir: string }> {
  const dir = tempDir('trib-collector-');
  return { log: await LocalSegmentLog.open(dir, { retentionIntervalMs: 0 }), dir };
}

/** Starts the collector; `wrap` may put a fault-injecting layer around the log. */
export async function startCollector(wrap?: (log: StreamLog) => StreamLog): Promise<Collector> {
  const { log: base, dir } = await openLog();
  const log = wrap ? wrap(base) : base;
  const app = await buildCollectorApp({
    log,
    region: REGION,
    credentials: {
      secretFor: async (id) => (id === KEY_ID ? SECRET : undefined),
      checkBearer: async (token) => (token === BEARER ? true : 'unknown token'),
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: { destroy(): void }[] = [];
  const own = { accessKeyId: KEY_ID, secretAccessKey: SECRET };
  return {
    app,
    log,
    endpoint,
    kinesis: (credentials = own, clockOffsetMs = 0) => {
      const client = new KinesisClient({
        endpoint,
        region: REGION,
        credentials,
        maxAttempts: 1,
        systemClockOffset: clockOffsetMs,
      });
      clients.push(client);
      return client;
    },
    firehose: () => {
      const client = new FirehoseClient({
        endpoint,
        region: REGION,
        credentials: own,
        maxAttempts: 1,
      });
      clients.push(client);
      return client;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      await app.close();
      await base.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A raw POST / signed with the test key, as the SDK signs (for bodies the SDK would not send). */
export async function signedFetch(
  endpoint: string,
  target: string,
  body: string,
  contentType = 'application/x-amz-json-1.1',
  payloadHash = createHash('sha256').update(body).digest('hex'),
): Promise<{
  status: number;
  json: { __type?: string; message?: string } & Record<string, unknown>;
}> {
  const url = new URL(endpoint);
  const service = target.startsWith('Firehose') ? 'firehose' : 'kinesis';
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: {
      host: url.host,
      'content-type': contentType,
      'x-amz-target': target,
      'x-amz-content-sha256': payloadHash,
    },
    body,
  });
  const signer = new SignatureV4({
    credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
    region: REGION,
    service,
    sha256: NodeSha256,
  });
  const signed = await signer.sign(request);
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: signed.headers as Record<string, string>,
    body,
  });
  return { status: res.status, json: (await res.json()) as { __type?: string } };
}
