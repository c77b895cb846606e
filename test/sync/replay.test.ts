/**
 * Replaying a sync dead letter sends that one record again, not the whole sync: accepted, its
 * key's state holds the letter's hash and the letter is replayed; refused again, the letter stays
 * pending with the destination's new message and its key's state is unchanged. The destination is
 * the HubSpot-shaped stand-in (templates/ecommerce/crm/hubspot-server.ts): HubSpot itself cannot
 * be reached from here; the stand-in plays its batch API and per-record errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { replayDeadLetter, runOneSync, runPipeline } from '../../src/orchestrator/index.js';
import {
  HUBSPOT_TEST_TOKEN,
  startHubSpotServer,
  type HubSpotServer,
} from '../../templates/ecommerce/crm/hubspot-server.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';

let crm: HubSpotServer | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

/** Creates a contact in the stand-in through its API, as someone in the CRM would. */
async function createContact(url: string, email: string): Promise<void> {
  const res = await fetch(`${url}/crm/v3/objects/contacts/batch/create`, {
    method: 'POST',
    headers: { authorization: `Bearer ${HUBSPOT_TEST_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ properties: { email, firstname: 'from the CRM' } }] }),
  });
  expect(res.status).toBe(201);
}

describe('replaying a sync dead letter', () => {
  it('sends that record alone: accepted it records its state, refused it stays pending with the new message', async () => {
    crm = await startHubSpotServer();
    const dir = tempDir('trib-sync-replay-');
    writeFiles(dir, {
      'tributary.yml': `name: shop
destinations:
  crm: { type: hubspot, base_url: "${crm.url}", token: { file: secrets/crm-token } }
`,
      'secrets/crm-token': `${HUBSPOT_TEST_TOKEN}\n`,
      'models/customers.sql': `select * from (values (1, 'ada@example.com', 'Ada'), (2, 'bob@example.com', 'Bob'))
  as t(customer_id, email, first_name)`,
      // Update mode: a contact the CRM does not have is refused (OBJECT_NOT_FOUND) per record.
      'syncs/contacts.yml': `source: ref('customers')
destination: crm
object: contacts
mode: update
match: { source: email, destination: email }
fields: [{ source: email, destination: email }, { source: first_name, destination: firstname }]
`,
    });
    await withWorkspace(dir, async (ws) => {
      const run = await runPipeline(ws);
      expect(run.steps.find((s) => s.asset === 'sync:contacts')).toMatchObject({
        rowsRejected: 2,
      });
      const letters = await ws.dlq.list({ kind: 'record', source: 'sync:contacts' });
      const ada = letters.find((l) => l.error.includes('ada@example.com'))!;
      const bob = letters.find((l) => l.error.includes('bob@example.com'))!;
      expect(ada.error).toMatch(/OBJECT_NOT_FOUND/);
      // Ada is created in the CRM; replaying her letter sends her record, and nothing else.
      await createContact(crm!.url, 'ada@example.com');
      crm!.resetStats();
      expect(await replayDeadLetter(ws, ada.id)).toMatchObject({ status: 'replayed' });
      expect(crm!.stats.requests).toBe(1); // one batch/update of one input (no describe, no diff)
      const contact = crm!
        .records('contacts')
        .find((c) => c.properties.email === 'ada@example.com')!;
      expect(contact.properties.firstname).toBe('Ada');
      const state = await ws.warehouse.query(
        'SELECT key, hash, destination_id FROM tributary_sync.contacts__state ORDER BY key',
      );
      expect(state.rows).toEqual([
        {
          key: 'ada@example.com',
          hash: (ada.payload as { hash: string }).hash,
          destination_id: contact.id,
        },
      ]);
      expect(
        (await ws.warehouse.query('SELECT * FROM tributary_sync.contacts__inflight')).rows,
      ).toEqual([]);
      expect((await ws.dlq.get(bob.id))!.attempts).toBe(1); // untouched by Ada's replay
      // Bob is still unknown to the CRM: refused again, his letter stays, with the new message.
      await expect(replayDeadLetter(ws, bob.id)).rejects.toThrow(
        /update email=bob@example\.com refused by crm again: OBJECT_NOT_FOUND/,
      );
      expect(await ws.dlq.get(bob.id)).toMatchObject({
        status: 'pending',
        attempts: 2,
        error: expect.stringMatching(/refused by crm again: OBJECT_NOT_FOUND/),
      });
      expect(
        (
          await ws.warehouse.query(
            "SELECT count(*) AS n FROM tributary_sync.contacts__state WHERE key = 'bob@example.com'",
          )
        ).rows[0]!.n,
      ).toBe('0');
      // The next run has nothing new for Ada (her state matches) and tries Bob again.
      const next = await runOneSync(ws, 'contacts');
      expect(next.outcome).toMatchObject({ updated: 0, rejected: 1, unchanged: 1 });
    });
  }, 60_000);
});
