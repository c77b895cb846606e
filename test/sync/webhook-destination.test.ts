/**
 * The webhook format beyond the conformance suite: the signature is exactly the documented
 * HMAC-SHA256 over "<timestamp>.<raw body>" (checked here with node:crypto, not the adapter's
 * helper), a receiver that checks it refuses a wrong secret, and a receiver that answers without
 * per-record results gets all-or-nothing batches. The receiver is a local stand-in.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { WebhookDestination } from '../../src/sync/destinations/webhook.js';
import { startWebhookReceiver } from './standins/webhook-receiver.js';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

describe('webhook destination', () => {
  it('signs "<timestamp>.<raw body>" with HMAC-SHA256 and sends the documented headers and body', async () => {
    const seen: { headers: Record<string, unknown>; body: string }[] = [];
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const destination = new WebhookDestination({
      name: 'hook',
      url,
      secret: 's3cret',
      token: 'tok',
    });
    const results = await destination.write({
      object: 'contacts',
      operation: 'upsert',
      matchField: 'email',
      records: [{ key: 'a@example.com', fields: { ltv: 12.5, vip: true, note: null } }],
    });
    expect(results).toEqual([{ status: 'ok', key: 'a@example.com' }]);
    const { headers, body } = seen[0]!;
    const timestamp = String(headers['x-tributary-timestamp']);
    const expected = createHmac('sha256', 's3cret').update(`${timestamp}.${body}`).digest('hex');
    expect(headers['x-tributary-signature']).toBe(`sha256=${expected}`);
    expect(headers['authorization']).toBe('Bearer tok');
    expect(headers['x-tributary-batch-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(body)).toEqual({
      object: 'contacts',
      operation: 'upsert',
      match_field: 'email',
      records: [{ key: 'a@example.com', fields: { ltv: 12.5, vip: true, note: null } }],
    });
  });

  it('fails clearly when the receiver refuses the signature (wrong secret)', async () => {
    const receiver = await startWebhookReceiver({ secret: 'right' });
    closers.push(() => receiver.close());
    const destination = new WebhookDestination({
      name: 'hook',
      url: receiver.url,
      secret: 'wrong',
    });
    await expect(
      destination.write({
        object: 'contacts',
        operation: 'upsert',
        matchField: 'email',
        records: [{ key: 'a@example.com', fields: {} }],
      }),
    ).rejects.toThrow(/webhook destination hook: POST of a upsert batch failed with HTTP 401/);
    expect(receiver.stats.badSignatures).toBe(1);
  });

  it('without per-record results, a batch is all or nothing', async () => {
    const receiver = await startWebhookReceiver({ secret: 'k', batchStatusOnly: true });
    closers.push(() => receiver.close());
    const destination = new WebhookDestination({ name: 'hook', url: receiver.url, secret: 'k' });
    const write = (keys: string[]) =>
      destination.write({
        object: 'contacts',
        operation: 'upsert',
        matchField: 'email',
        records: keys.map((key) => ({ key, fields: { n: 1 } })),
      });
    expect((await write(['a@x.io', 'b@x.io'])).map((r) => r.status)).toEqual(['ok', 'ok']);
    const refused = await write(['c@x.io', 'not-an-email']);
    expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((refused[0] as { message: string }).message).toMatch(/HTTP 422.*invalid email/);
    expect([...receiver.records('contacts').keys()]).toEqual(['a@x.io', 'b@x.io']);
  });

  it('says a receiver without lookup answers cannot check an interrupted batch', async () => {
    const receiver = await startWebhookReceiver({ secret: 'k', batchStatusOnly: true });
    closers.push(() => receiver.close());
    const destination = new WebhookDestination({ name: 'hook', url: receiver.url, secret: 'k' });
    await expect(destination.lookup('contacts', 'email', ['a@x.io'])).rejects.toThrow(
      /does not answer lookups/,
    );
  });
});
