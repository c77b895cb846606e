/**
 * A sync as an asset of the pipeline: `sync:<name>` downstream of its model, run by the runner
 * (history, alerts), its mapping checked against the built model and the destination's schema
 * before anything is sent. The destination is the HubSpot-shaped stand-in
 * (templates/ecommerce/crm/hubspot-server.ts): HubSpot itself cannot be reached from here; the
 * stand-in plays its batch API, property schema, per-record validation errors and rate limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkSync,
  listSyncs,
  runOneSync,
  runPipeline,
  syncRunHistory,
} from '../../src/orchestrator/index.js';
import { ProblemsError } from '../../src/project/index.js';
import {
  HUBSPOT_TEST_TOKEN,
  startHubSpotServer,
  type HubSpotServer,
} from '../../templates/ecommerce/crm/hubspot-server.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';
import { startReceiver } from '../notify/receivers.js';

let crm: HubSpotServer | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

const CUSTOMERS = `select * from (values
  (1, 'ada@example.com', 'Ada', 120.5),
  (2, 'bob@example.com', 'Bob', 80.0),
  (3, 'not-an-email', 'Cy', 10.0)
) as t(customer_id, email, first_name, lifetime_value)`;

function project(crmUrl: string, sync: string, extra: Record<string, string> = {}): string {
  const dir = tempDir('trib-sync-');
  writeFiles(dir, {
    'tributary.yml': `name: shop
destinations:
  crm:
    type: hubspot
    base_url: ${crmUrl}
    token: { file: secrets/crm-token }
${extra['alerts'] ?? ''}`,
    'secrets/crm-token': `${HUBSPOT_TEST_TOKEN}\n`,
    'models/customers.sql': CUSTOMERS,
    'syncs/contacts.yml': sync,
  });
  return dir;
}

const SYNC = `source: ref('customers')
destination: crm
object: contacts
mode: upsert
match: { source: email, destination: email }
fields:
  - { source: email, destination: email }
  - { source: first_name, destination: firstname }
  - { source: lifetime_value, destination: lifetime_value, cast: number }
alert: { failed_share: 0.2 }
`;

describe('a sync in the asset graph', () => {
  it('is the asset sync:<name> downstream of the model it reads', async () => {
    const dir = project('http://127.0.0.1:9', SYNC);
    await withWorkspace(dir, async (ws) => {
      const asset = ws.graph.assets.get('sync:contacts')!;
      expect(asset).toMatchObject({
        kind: 'sync',
        deps: ['model:customers'],
        file: 'syncs/contacts.yml',
      });
      expect(ws.graph.order.indexOf('sync:contacts')).toBeGreaterThan(
        ws.graph.order.indexOf('model:customers'),
      );
    });
  });

  it('refuses a ref to no model at the source line when the project opens', async () => {
    const dir = project('http://127.0.0.1:9', SYNC.replace("ref('customers')", "ref('clients')"));
    const err = await withWorkspace(dir, async () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemsError);
    expect((err as ProblemsError).problems[0]).toMatchObject({
      message: "source ref('clients') names no model, seed or snapshot of the project",
      location: { file: 'syncs/contacts.yml', line: 1, path: 'source' },
    });
  });

  it('runs after its model, sends the rows, keeps the bad one out and records history', async () => {
    crm = await startHubSpotServer();
    const alerts = await startReceiver();
    const dir = project(crm.url, SYNC, {
      alerts: `alerts:\n  channels:\n    ops: { type: webhook, url: "${alerts.url}/hook" }\n`,
    });
    await withWorkspace(dir, async (ws) => {
      const run = await runPipeline(ws);
      const step = run.steps.find((s) => s.asset === 'sync:contacts')!;
      expect(step).toMatchObject({ status: 'succeeded', rowsOut: 2, rowsRejected: 1 });
      expect(run.status).toBe('succeeded');
      const emails = crm!
        .records('contacts')
        .map((r) => r.properties.email)
        .sort();
      expect(emails).toEqual(['ada@example.com', 'bob@example.com']);
      // 1 of 3 rejected is over the sync's 0.2: the alert channel heard of it.
      const sent = alerts.requests.map((r) => JSON.parse(r.body) as { event: { type: string } });
      expect(sent.map((b) => b.event.type)).toContain('sync_failures');
      const [summary] = await listSyncs(ws);
      expect(summary).toMatchObject({
        name: 'contacts',
        destinationType: 'hubspot',
        lastRun: { status: 'succeeded', inserted: 2, rejected: 1, runId: run.runId },
        pendingDeadLetters: 1,
      });
      // Nothing changed: the next run sends nothing.
      const again = await runOneSync(ws, 'contacts');
      expect(again.outcome).toMatchObject({ inserted: 0, updated: 0, unchanged: 2 });
      expect((await syncRunHistory(ws, 'contacts')).map((r) => r.runId)).toEqual([
        again.run.runId,
        run.runId,
      ]);
    });
  });

  it('dry run shows samples of what it would send and sends nothing', async () => {
    crm = await startHubSpotServer();
    const dir = project(crm.url, SYNC);
    await withWorkspace(dir, async (ws) => {
      await runPipeline(ws, { select: ['customers'] });
      const { run, outcome } = await runOneSync(ws, 'contacts', { dryRun: true });
      expect(run.status).toBe('succeeded');
      expect(outcome!.inserted).toBe(3);
      expect(outcome!.samples!.insert.map((r) => r.key).sort()).toEqual([
        'ada@example.com',
        'bob@example.com',
        'not-an-email',
      ]);
      expect(crm!.records('contacts')).toEqual([]);
      expect((await syncRunHistory(ws, 'contacts'))[0]).toMatchObject({ dryRun: true });
      expect((await listSyncs(ws))[0]!.lastRun).toBeNull();
    });
  });

  it('refuses a mapped column the model does not have at its line when the project opens', async () => {
    const bad = SYNC.replace('source: first_name', 'source: given_name').replace(
      'source: email, destination: email }\nfields',
      'source: mail, destination: email }\nfields',
    );
    const dir = project('http://127.0.0.1:9', bad);
    const err = await withWorkspace(dir, async () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemsError);
    const its = 'its columns: customer_id, email, first_name, lifetime_value';
    expect((err as ProblemsError).problems).toEqual([
      {
        message: `match column "mail" is not in customers (${its})`,
        location: { file: 'syncs/contacts.yml', line: 5, path: 'match.source' },
      },
      {
        message: `column "given_name" is not in customers (${its})`,
        location: { file: 'syncs/contacts.yml', line: 8, path: 'fields.1.source' },
      },
    ]);
    expect((err as ProblemsError).message).toContain(
      `syncs/contacts.yml:8 (fields.1.source): column "given_name" is not in customers`,
    );
  });

  it("checks a sql: source's columns by parsing it, through the models it reads", async () => {
    const sql = `source: { sql: "select c.email, upper(c.first_name) as shout from {{ ref('customers') }} c" }
destination: crm
object: contacts
match: { source: email, destination: email }
fields:
  - { source: shout, destination: firstname }
  - { source: lifetime_value, destination: lifetime_value }
`;
    const dir = project('http://127.0.0.1:9', sql.replace("{{ ref('customers') }}", 'customers'));
    const err = await withWorkspace(dir, async () => undefined).catch((e: unknown) => e);
    expect((err as ProblemsError).problems).toEqual([
      {
        message: `column "lifetime_value" is not in the sync's SQL (its columns: email, shout)`,
        location: { file: 'syncs/contacts.yml', line: 7, path: 'fields.1.source' },
      },
    ]);
  });

  it('leaves a source whose columns parsing cannot list to the run-time check', async () => {
    // A star over a relation outside the project: its columns are only known once it exists.
    const sql = `source: { sql: "select * from outside.people" }
destination: crm
object: contacts
match: { source: email, destination: email }
fields:
  - { source: given_name, destination: firstname }
`;
    const dir = project('http://127.0.0.1:9', sql);
    await withWorkspace(dir, async (ws) => {
      expect(ws.syncs.map((s) => s.name)).toEqual(['contacts']);
    });
  });

  it('--check names a destination field that does not exist, from the schema API, at its line', async () => {
    crm = await startHubSpotServer();
    const dir = project(crm.url, SYNC.replace('destination: lifetime_value', 'destination: ltv'));
    await withWorkspace(dir, async (ws) => {
      const report = await checkSync(ws, 'contacts');
      expect(report.columns).toBe(
        'checked against customers (4 columns, derived by parsing its SQL)',
      );
      expect(report.destination).toMatch(
        /^checked against the schema of contacts at crm \(hubspot, \d+ fields\)$/,
      );
      expect(report.problems).toEqual([
        {
          message: expect.stringContaining(
            'contacts has no field ltv at destination crm',
          ) as string,
          location: { file: 'syncs/contacts.yml', line: 9, path: 'fields.2.destination' },
        },
      ]);
      expect(crm!.records('contacts')).toEqual([]);
    });
  });

  it('--check says when the destination cannot be reached and when columns wait for the run', async () => {
    const sql = `source: { sql: "select * from outside.people" }
destination: crm
object: contacts
match: { source: email, destination: email }
fields:
  - { source: given_name, destination: firstname }
`;
    const dir = project('http://127.0.0.1:9', sql);
    await withWorkspace(dir, async (ws) => {
      const report = await checkSync(ws, 'contacts');
      expect(report.problems).toEqual([]);
      expect(report.columns).toContain(
        "the columns of the sync's SQL cannot be derived by parsing",
      );
      expect(report.columns).toContain('checked against the built relation when the sync runs');
      expect(report.destination).toContain(
        'destination crm at http://127.0.0.1:9 cannot be reached',
      );
      expect(report.destination).toContain('its fields are checked when the sync runs');
    });
  }, 60_000);

  it('fails only its own step, naming the line, when a destination field does not exist', async () => {
    crm = await startHubSpotServer();
    const bad = SYNC.replace('destination: lifetime_value', 'destination: ltv');
    const dir = project(crm.url, bad);
    await withWorkspace(dir, async (ws) => {
      const run = await runPipeline(ws);
      expect(run.steps.find((s) => s.asset === 'model:customers')!.status).toBe('succeeded');
      const step = run.steps.find((s) => s.asset === 'sync:contacts')!;
      expect(step.status).toBe('failed');
      expect(step.message).toContain('syncs/contacts.yml:9');
      expect(step.message).toContain('contacts has no field ltv at destination crm');
      expect(crm!.stats.requests).toBeGreaterThan(0); // describe only
      expect(crm!.records('contacts')).toEqual([]);
    });
  });

  it('fails only its own step with what to do when the destination does not answer', async () => {
    const dir = project('http://127.0.0.1:9', SYNC);
    await withWorkspace(dir, async (ws) => {
      const run = await runPipeline(ws);
      expect(run.steps.find((s) => s.asset === 'model:customers')!.status).toBe('succeeded');
      const step = run.steps.find((s) => s.asset === 'sync:contacts')!;
      expect(step.status).toBe('failed');
      expect(step.message).toContain('destination crm at http://127.0.0.1:9 cannot be reached');
      expect(step.message).toContain('npm run crm-api');
      const [summary] = await listSyncs(ws);
      expect(summary!.lastRun).toMatchObject({ status: 'failed' });
    });
  }, 60_000);

  it('is skipped with its reason when its file turns it off, and `sync` refuses it', async () => {
    // No token and no server: a disabled sync opens nothing.
    const dir = project('http://127.0.0.1:9', `enabled: false\n${SYNC}`);
    await withWorkspace(dir, async (ws) => {
      expect(ws.graph.assets.get('sync:contacts')!.deps).toEqual(['model:customers']);
      const run = await runPipeline(ws);
      expect(run.status).toBe('succeeded');
      expect(run.steps.find((s) => s.asset === 'sync:contacts')).toMatchObject({
        status: 'skipped',
        message: 'skipped: sync contacts is disabled (syncs/contacts.yml line 1: enabled: false)',
      });
      const [summary] = await listSyncs(ws);
      expect(summary).toMatchObject({ lastRun: null, disabled: expect.stringMatching(/line 1/) });
      await expect(runOneSync(ws, 'contacts', { dryRun: true })).rejects.toMatchObject({
        code: 'CONFIG',
        hint: 'set enabled: true in syncs/contacts.yml (or remove the line)',
      });
    });
  });
});
