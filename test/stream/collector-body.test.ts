import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerPooledBodies, type BodyBufferPool } from '../../src/stream/collector/body.js';

const LIMIT = 512 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** POSTs `body` (as one piece with Content-Length, or in chunks without it). */
function post(
  port: number,
  body: Buffer,
  chunked = false,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (!chunked) headers['content-length'] = String(body.length);
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (chunked) {
      for (let at = 0; at < body.length; at += 10_000) req.write(body.subarray(at, at + 10_000));
      req.end();
    } else req.end(body);
  });
}

describe('request bodies read into pooled buffers', () => {
  let app: FastifyInstance;
  let pool: BodyBufferPool;
  let port: number;

  beforeAll(async () => {
    app = Fastify();
    app.removeAllContentTypeParsers();
    pool = registerPooledBodies(app, LIMIT);
    app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) =>
      reply.status(err.statusCode ?? 500).send(`${err.code ?? 'error'}`),
    );
    app.post('/', (req, reply) => {
      const body = req.body as Buffer;
      return reply.send(`${body.length} ${sha(body)}`);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('hands each request exactly its own bytes while reusing the buffers of answered ones', async () => {
    const bodies = [300_000, 200_000, 250_000, 80_000, 1_000, 0].map((n) => randomBytes(n));
    for (const body of bodies) {
      const res = await post(port, body);
      expect(res).toEqual({ status: 200, text: `${body.length} ${sha(body)}` });
    }
    // The large bodies' buffers came back after their answers (and were taken again).
    expect(pool.bytes).toBeGreaterThanOrEqual(300_000);
    const many = Array.from({ length: 8 }, () => randomBytes(150_000));
    const answers = await Promise.all(many.map((b) => post(port, b)));
    expect(answers.map((a) => a.text)).toEqual(many.map((b) => `${b.length} ${sha(b)}`));
  });

  it('reads a body sent in chunks without a Content-Length', async () => {
    const body = randomBytes(333_333);
    expect(await post(port, body, true)).toEqual({
      status: 200,
      text: `${body.length} ${sha(body)}`,
    });
  });

  it('refuses a body over the limit, declared or received, as Fastify does', async () => {
    const big = randomBytes(LIMIT + 1);
    expect(await post(port, big)).toEqual({ status: 413, text: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(await post(port, big, true)).toEqual({
      status: 413,
      text: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
    // The server goes on serving.
    const body = randomBytes(100_000);
    expect((await post(port, body)).text).toBe(`${body.length} ${sha(body)}`);
  });
});
