/**
 * The template's stand-in payments API (Stripe's list semantics over the generated payments.json)
 * and the REST connector against it, end to end: the first run lands every generated payment,
 * the second lands nothing new.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEcommerce } from '../../../templates/ecommerce/generator/index.js';
import {
  PAYMENTS_TEST_KEY,
  startPaymentsServer,
  type PaymentsServer,
} from '../../../templates/ecommerce/generator/payments-server.js';
import { runPipeline } from '../../../src/orchestrator/index.js';
import { tempDir, withWorkspace, writeFiles } from '../../helpers.js';
import { lake, restTable } from './harness.js';

interface Charge {
  id: string;
  created: number;
}

let server: PaymentsServer;
let payments: Charge[];
let landing: string;
let report: Awaited<ReturnType<typeof generateEcommerce>>;
const auth = { authorization: `Bearer ${PAYMENTS_TEST_KEY}` };
const list = async (query: string, headers: Record<string, string> = auth) => {
  const res = await fetch(`${server.url}/v1/charges${query}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
/** Stripe's order: newest first. */
const newestFirst = () =>
  [...payments].sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));

beforeAll(async () => {
  landing = tempDir('trib-payments-');
  report = await generateEcommerce({ outDir: landing, scale: 0.005, seed: 7 });
  const file = join(landing, 'payments.json');
  payments = JSON.parse(readFileSync(file, 'utf8')) as Charge[];
  server = await startPaymentsServer({ dataFile: file });
});
afterAll(() => server.close());

describe('the stand-in payments API', () => {
  it('answers a Stripe list object of the 10 newest charges by default', async () => {
    const { status, body } = await list('');
    expect(status).toBe(200);
    expect(body).toMatchObject({ object: 'list', has_more: true, url: '/v1/charges' });
    expect((body.data as Charge[]).map((c) => c.id)).toEqual(
      newestFirst()
        .slice(0, 10)
        .map((c) => c.id),
    );
  });

  it('pages older with starting_after and newer with ending_before', async () => {
    const all = newestFirst();
    const after = await list(`?limit=3&starting_after=${all[2]!.id}`);
    expect((after.body.data as Charge[]).map((c) => c.id)).toEqual(
      all.slice(3, 6).map((c) => c.id),
    );
    const before = await list(`?limit=3&ending_before=${all[6]!.id}`);
    expect((before.body.data as Charge[]).map((c) => c.id)).toEqual(
      all.slice(3, 6).map((c) => c.id),
    );
    expect(before.body.has_more).toBe(true);
  });

  it('filters by created[gte], [gt], [lte] and [lt]', async () => {
    const t = newestFirst()[50]!.created;
    const { body } = await list(`?limit=100&created[gte]=${t}&created[lt]=${t + 3600}`);
    const data = body.data as Charge[];
    expect(data.length).toBeGreaterThan(0);
    expect(data.every((c) => c.created >= t && c.created < t + 3600)).toBe(true);
    expect(data.length).toBe(payments.filter((c) => c.created >= t && c.created < t + 3600).length);
  });

  it('refuses a limit outside 1 to 100 and an unknown cursor id with 400', async () => {
    expect((await list('?limit=101')).status).toBe(400);
    expect((await list('?limit=0')).status).toBe(400);
    expect((await list('?starting_after=ch_nope')).status).toBe(400);
  });

  it('refuses any key but the test key with 401', async () => {
    expect((await list('', { authorization: 'Bearer sk_live_other' })).status).toBe(401);
    expect((await list('', {})).status).toBe(401);
  });
});

describe('the REST connector against the payments API', () => {
  it('lands every generated payment, then nothing new on the next run', async () => {
    process.env.TRIB_PAYMENTS_KEY = PAYMENTS_TEST_KEY;
    try {
      const table = restTable(
        {
          base_url: server.url,
          auth: { type: 'bearer', token: { env: 'TRIB_PAYMENTS_KEY' } },
          rate_limit: { requests_per_second: 1000 },
          tables: {
            payments: {
              path: '/v1/charges',
              params: { limit: 100 },
              records: 'data',
              primary_key: ['id'],
              paginate: {
                type: 'cursor',
                cursor_param: 'starting_after',
                from_last_record: 'id',
                has_more_path: 'has_more',
              },
              incremental: { cursor_field: 'created', param: 'created[gte]' },
            },
          },
        },
        'payments',
      );
      const l = lake();
      const first = await l.land(table);
      expect(first.landed).toHaveLength(1);
      const landed = (await l.records('payments')) as Charge[];
      expect(landed).toHaveLength(payments.length);
      expect(new Set(landed.map((c) => c.id))).toEqual(new Set(payments.map((c) => c.id)));
      const manifest = await l.manifest('payments');
      const second = await l.land(table);
      expect(second.landed).toEqual([]);
      expect(await l.manifest('payments')).toEqual(manifest);
    } finally {
      delete process.env.TRIB_PAYMENTS_KEY;
    }
  });

  it("processes what it lands through the template's payments contract, as the files did", async () => {
    const dir = tempDir('trib-payments-proj-');
    const template = join(import.meta.dirname, '../../../templates/ecommerce');
    writeFiles(dir, {
      'tributary.yml': `name: t
sources:
  shop:
    type: files
    path: ${landing}
    tables:
      customers:   { files: "customers*.json", format: json }
      products:    { files: "products*.csv" }
      stores:      { files: "stores*.csv" }
      orders:      { files: "orders*.csv" }
  payments:
    type: rest
    base_url: ${server.url}
    auth: { type: bearer, token: { env: TRIB_PAYMENTS_KEY } }
    tables:
      payments:
        path: /v1/charges
        params: { limit: 100 }
        records: data
        primary_key: [id]
        paginate: { type: cursor, cursor_param: starting_after, from_last_record: id, has_more_path: has_more }
        incremental: { cursor_field: created, param: "created[gte]" }
`,
    });
    for (const t of ['customers', 'products', 'stores', 'orders', 'payments'])
      writeFiles(dir, {
        [`contracts/${t}.yml`]: readFileSync(join(template, 'contracts', `${t}.yml`)),
      });
    process.env.TRIB_PAYMENTS_KEY = PAYMENTS_TEST_KEY;
    try {
      const count = await withWorkspace(dir, async (ws) => {
        const run = await runPipeline(ws);
        expect(run.steps.filter((s) => s.status === 'failed')).toEqual([]);
        return (await ws.warehouse.query('SELECT count(*) AS n FROM processed.payments')).rows[0]!
          .n;
      });
      expect(Number(count)).toBe(report.expected.payments!.valid);
    } finally {
      delete process.env.TRIB_PAYMENTS_KEY;
    }
  });
});
