/**
 * A webhook receiver for tests, written from the format in docs/sync-destinations.md rather than
 * from the adapter: it recomputes the HMAC-SHA256 signature over "<timestamp>.<raw body>" with its
 * own crypto call, refuses a bad signature or a timestamp more than 5 minutes off (401), keeps
 * records per object in memory, answers per-record results (or, with `batchStatusOnly`, a bare
 * 200 / 422 for the whole batch), enforces a sliding-window rate limit with 429 + Retry-After, and
 * can be told to throttle.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookReceiverOptions {
  secret: string;
  rateLimit?: { requests: number; perMs: number };
  /** Answer without per-record results: 200 when every record is fine, else 422 for all. */
  batchStatusOnly?: boolean;
}

interface Delivery {
  object: string;
  operation: string;
  match_field: string;
  records: { key: string; fields: Record<string, unknown> }[];
}

export interface WebhookReceiver {
  url: string;
  records(object: string): Map<string, Record<string, unknown>>;
  stats: { requests: number; rateLimited: number; throttled: number; badSignatures: number };
  batchIds: string[];
  throttle(seconds: number, requests: number): void;
  close(): Promise<void>;
}

function verified(req: IncomingMessage, raw: string, secret: string): boolean {
  const timestamp = String(req.headers['x-tributary-timestamp'] ?? '');
  const signature = String(req.headers['x-tributary-signature'] ?? '');
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300)
    return false;
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

type Result = { key: string; status: 'ok' | 'rejected' | 'missing'; message?: string; id?: string };

function apply(store: Map<string, Record<string, unknown>>, delivery: Delivery): Result[] {
  return delivery.records.map(({ key, fields }): Result => {
    const has = store.has(key);
    switch (delivery.operation) {
      case 'lookup':
        return has ? { key, status: 'ok', id: `rec-${key}` } : { key, status: 'missing' };
      case 'delete':
        store.delete(key);
        return { key, status: 'ok' };
      case 'update':
        if (!has) return { key, status: 'rejected', message: `no record with key ${key}` };
        break;
      case 'insert':
        if (has)
          return { key, status: 'rejected', message: `a record with key ${key} exists already` };
        break;
    }
    if (delivery.match_field === 'email' && !key.includes('@'))
      return { key, status: 'rejected', message: `invalid email address: ${key}` };
    store.set(key, { ...store.get(key), ...fields });
    return { key, status: 'ok', id: `rec-${key}` };
  });
}

export async function startWebhookReceiver(opts: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const objects = new Map<string, Map<string, Record<string, unknown>>>();
  const stats = { requests: 0, rateLimited: 0, throttled: 0, badSignatures: 0 };
  const batchIds: string[] = [];
  const hooks = { throttleRequests: 0, throttleSeconds: 0 };
  const arrivals: number[] = [];
  const limit = opts.rateLimit ?? { requests: 1000, perMs: 1000 };
  const server = createServer(async (req, res) => {
    stats.requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (!verified(req, raw, opts.secret)) {
      stats.badSignatures++;
      return answer(401, { error: 'bad or stale signature' });
    }
    if (hooks.throttleRequests > 0) {
      hooks.throttleRequests--;
      stats.throttled++;
      return answer(429, { error: 'slow down' }, { 'retry-after': String(hooks.throttleSeconds) });
    }
    const now = Date.now();
    while (arrivals.length && arrivals[0]! <= now - limit.perMs) arrivals.shift();
    if (arrivals.length >= limit.requests) {
      stats.rateLimited++;
      const wait = Math.max(1, Math.ceil((arrivals[0]! + limit.perMs - now) / 1000));
      return answer(429, { error: 'rate limited' }, { 'retry-after': String(wait) });
    }
    arrivals.push(now);
    batchIds.push(String(req.headers['x-tributary-batch-id']));
    const delivery = JSON.parse(raw) as Delivery;
    if (!objects.has(delivery.object)) objects.set(delivery.object, new Map());
    const store = objects.get(delivery.object)!;
    if (!opts.batchStatusOnly) return answer(200, { results: apply(store, delivery) });
    // All or nothing: try on a copy, keep it only when every record went through.
    const trial = new Map([...store].map(([k, v]) => [k, { ...v }]));
    const refused = apply(trial, delivery).find((r) => r.status === 'rejected');
    if (refused) return answer(422, { error: refused.message });
    objects.set(delivery.object, trial);
    return answer(200);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/tributary`,
    records: (object) => objects.get(object) ?? new Map(),
    stats,
    batchIds,
    throttle: (seconds, requests) =>
      Object.assign(hooks, { throttleSeconds: seconds, throttleRequests: requests }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
