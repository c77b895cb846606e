// A local stand-in for the payment provider's API (Stripe in the seeds): serves the generated
// payments.json as `GET /v1/charges` with Stripe's list semantics, so the REST connector can be
// shown and tested against something shaped like the real thing, with no account or network.
// It lives beside the generator because it ships with Tributary, not inside each project.
//
// Semantics (https://docs.stripe.com/api/pagination): newest first (created desc, then id desc);
// `limit` 1–100 (default 10); `starting_after` / `ending_before` take a charge id; `has_more`;
// `created[gte|gt|lte|lt]` filter by Unix seconds; auth is a bearer token, and the only key it
// accepts is the documented test key `sk_test_tributary` (a stand-in, not a secret).

import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The one API key the stand-in accepts (documented, not a secret). */
export const PAYMENTS_TEST_KEY = 'sk_test_tributary';

export interface PaymentsServerOptions {
  /** The generator's payments.json (a JSON array of charge objects). */
  dataFile: string;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
}

export interface PaymentsServer {
  /** Base URL, e.g. http://127.0.0.1:4242 (the list is at `${url}/v1/charges`). */
  url: string;
  close(): Promise<void>;
}

interface Charge {
  id: string;
  created: number;
  [k: string]: unknown;
}

/** Starts the stand-in payments API over a payments.json file. */
export async function startPaymentsServer(opts: PaymentsServerOptions): Promise<PaymentsServer> {
  const charges = JSON.parse(await readFile(opts.dataFile, 'utf8')) as Charge[];
  charges.sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const position = new Map(charges.map((c, i) => [c.id, i]));
  const server = createServer((req, res) => {
    try {
      handle(req, res, charges, position);
    } catch (err) {
      send(res, 500, { error: { type: 'api_error', message: (err as Error).message } });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function invalid(res: ServerResponse, message: string, param?: string): void {
  send(res, 400, {
    error: { type: 'invalid_request_error', message, ...(param ? { param } : {}) },
  });
}

function authorized(req: IncomingMessage): boolean {
  const header = req.headers.authorization ?? '';
  if (header === `Bearer ${PAYMENTS_TEST_KEY}`) return true;
  // Stripe also takes the key as the Basic-auth user name.
  const basic = /^Basic (.+)$/.exec(header);
  return !!basic && Buffer.from(basic[1]!, 'base64').toString().split(':')[0] === PAYMENTS_TEST_KEY;
}

function handle(
  req: IncomingMessage,
  res: ServerResponse,
  charges: Charge[],
  position: Map<string, number>,
): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (!authorized(req)) {
    res.setHeader('www-authenticate', 'Bearer realm="Stripe"');
    return send(res, 401, {
      error: {
        type: 'invalid_request_error',
        message: `Invalid API Key provided. Use the test key ${PAYMENTS_TEST_KEY}.`,
      },
    });
  }
  if (req.method !== 'GET' || url.pathname !== '/v1/charges') {
    return send(res, 404, {
      error: {
        type: 'invalid_request_error',
        message: `Unrecognized request URL (${req.method}: ${url.pathname}).`,
      },
    });
  }
  const q = url.searchParams;
  const limit = q.has('limit') ? Number(q.get('limit')) : 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    return invalid(res, 'Invalid limit: must be an integer between 1 and 100.', 'limit');
  const bounds: [string, (created: number, v: number) => boolean][] = [
    ['gte', (c, v) => c >= v],
    ['gt', (c, v) => c > v],
    ['lte', (c, v) => c <= v],
    ['lt', (c, v) => c < v],
  ];
  const filters: ((c: Charge) => boolean)[] = [];
  for (const [op, test] of bounds) {
    const raw = q.get(`created[${op}]`);
    if (raw === null) continue;
    const v = Number(raw);
    if (!Number.isInteger(v)) return invalid(res, `Invalid integer: ${raw}`, `created[${op}]`);
    filters.push((c) => test(c.created, v));
  }
  if (q.has('created')) {
    const v = Number(q.get('created'));
    filters.push((c) => c.created === v);
  }
  const after = q.get('starting_after');
  const before = q.get('ending_before');
  if (after && before)
    return invalid(res, 'You may only specify one of starting_after and ending_before.');
  for (const [name, id] of [
    ['starting_after', after],
    ['ending_before', before],
  ] as const) {
    if (id && !position.has(id)) return invalid(res, `No such charge: '${id}'`, name);
  }
  const keep = (c: Charge) => filters.every((f) => f(c));
  let data: Charge[];
  let hasMore: boolean;
  if (before) {
    // The page of newer charges right before the given one, still listed newest first.
    const newer = charges.slice(0, position.get(before)).filter(keep);
    data = newer.slice(Math.max(0, newer.length - limit));
    hasMore = newer.length > limit;
  } else {
    const start = after ? position.get(after)! + 1 : 0;
    data = [];
    hasMore = false;
    for (let i = start; i < charges.length; i++) {
      if (!keep(charges[i]!)) continue;
      if (data.length === limit) {
        hasMore = true;
        break;
      }
      data.push(charges[i]!);
    }
  }
  send(res, 200, { object: 'list', data, has_more: hasMore, url: '/v1/charges' });
}
