/**
 * One conformance suite for every sync destination (src/sync/destination.ts's contract).
 *
 * The real HubSpot and Salesforce cannot be reached from here (no network, no accounts), so their
 * adapters run against local HTTP servers that play them: the HubSpot stand-in
 * (templates/ecommerce/crm/hubspot-server.ts) with its rate limit, 429 + Retry-After and
 * HubSpot's error JSON, 207 multi-status partial failures and property validation; the Salesforce
 * Bulk API 2.0 stand-in (test/sync/standins/salesforce-server.ts) processing ingest jobs
 * asynchronously and failing invalid rows with sf__Error; a webhook receiver
 * (test/sync/standins/webhook-receiver.ts) that verifies the HMAC signature. PostgreSQL is the
 * real one. Each harness says what the destination holds by asking the stand-in (or the table)
 * directly, never through the adapter under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordResult, SyncDestination, SyncRecord } from '../../src/sync/destination.js';
import { harnesses, type Harness, type OpenedHarness } from './conformance-harnesses.js';

function keys(results: RecordResult[], status: RecordResult['status']): string[] {
  return results.filter((r) => r.status === status).map((r) => r.key);
}

/** A unique key per test so tests never see each other's records. */
let serial = 0;
function key(h: Harness, label: string): string {
  serial++;
  return h.keyFor(`${label}${serial}`);
}

for (const harness of harnesses) {
  describe(`destination conformance: ${harness.name}`, () => {
    let opened: OpenedHarness;
    let destination: SyncDestination;
    const { object, matchField } = harness;
    const write = (operation: 'upsert' | 'update' | 'insert' | 'delete', records: SyncRecord[]) =>
      destination.write({ object, operation, matchField, records });

    beforeAll(async () => {
      opened = await harness.open();
      destination = opened.destination;
    });
    afterAll(async () => {
      await destination?.close();
      await opened?.teardown();
    });

    it('describes the object with its fields, the match field unique', async () => {
      const fields = await destination.describe(object);
      const byName = new Map(fields.map((f) => [f.name, f]));
      expect(byName.get(matchField)?.unique).toBe(true);
      for (const name of Object.keys(harness.fields('x', 1))) expect(byName.has(name)).toBe(true);
    });

    it('upserts, then updates, then deletes, and a second delete is ok', async () => {
      const [a, b, c] = [key(harness, 'a'), key(harness, 'b'), key(harness, 'c')];
      const first = await write('upsert', [
        { key: a, fields: harness.fields(a, 1) },
        { key: b, fields: harness.fields(b, 2) },
        { key: c, fields: harness.fields(c, 3) },
      ]);
      expect(first.map((r) => [r.key, r.status])).toEqual([
        [a, 'ok'],
        [b, 'ok'],
        [c, 'ok'],
      ]);
      expect(await opened.read(b)).toMatchObject(harness.expected(b, 2));
      const second = await write('update', [
        { key: b, fields: harness.fields(b, 20) },
        { key: c, fields: harness.fields(c, 30) },
      ]);
      expect(keys(second, 'ok')).toEqual([b, c]);
      expect(await opened.read(b)).toMatchObject(harness.expected(b, 20));
      expect(await opened.read(c)).toMatchObject(harness.expected(c, 30));
      const deleted = await write('delete', [
        { key: a, fields: {} },
        { key: c, fields: {} },
      ]);
      expect(keys(deleted, 'ok')).toEqual([a, c]);
      expect(await opened.read(a)).toBeUndefined();
      expect(await opened.read(c)).toBeUndefined();
      expect(await opened.read(b)).toBeDefined();
      expect(keys(await write('delete', [{ key: a, fields: {} }]), 'ok')).toEqual([a]);
    });

    it('update mode rejects a key the destination does not have, and updates the others', async () => {
      const [known, unknown] = [key(harness, 'known'), key(harness, 'unknown')];
      await write('upsert', [{ key: known, fields: harness.fields(known, 1) }]);
      const results = await write('update', [
        { key: unknown, fields: harness.fields(unknown, 2) },
        { key: known, fields: harness.fields(known, 3) },
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'ok']);
      expect(await opened.read(unknown)).toBeUndefined();
      expect(await opened.read(known)).toMatchObject(harness.expected(known, 3));
    });

    it('insert mode rejects an existing key, leaves it unchanged, and creates the new one', async () => {
      const [old, fresh] = [key(harness, 'old'), key(harness, 'fresh')];
      await write('upsert', [{ key: old, fields: harness.fields(old, 1) }]);
      const results = await write('insert', [
        { key: old, fields: harness.fields(old, 9) },
        { key: fresh, fields: harness.fields(fresh, 2) },
      ]);
      expect(results.map((r) => [r.key, r.status])).toEqual([
        [old, 'rejected'],
        [fresh, 'ok'],
      ]);
      expect((results[0] as { message: string }).message).toMatch(/exist|duplicate/i);
      expect(await opened.read(old)).toMatchObject(harness.expected(old, 1));
      expect(await opened.read(fresh)).toMatchObject(harness.expected(fresh, 2));
    });

    for (const operation of ['upsert', 'insert'] as const) {
      it(`a rejected record keeps the destination's message and never fails the good ones (${operation})`, async () => {
        const [good1, good2] = [key(harness, 'g'), key(harness, 'g')];
        const invalid = harness.invalidRecord(`bad${++serial}`);
        const bad = invalid.key;
        const results = await write(operation, [
          { key: good1, fields: harness.fields(good1, 1) },
          invalid,
          { key: good2, fields: harness.fields(good2, 2) },
        ]);
        expect(results.map((r) => [r.key, r.status])).toEqual([
          [good1, 'ok'],
          [bad, 'rejected'],
          [good2, 'ok'],
        ]);
        expect((results[1] as { message: string }).message).toMatch(harness.invalidMessage);
        expect(await opened.read(good1)).toMatchObject(harness.expected(good1, 1));
        expect(await opened.read(good2)).toMatchObject(harness.expected(good2, 2));
        expect(await opened.read(bad)).toBeUndefined();
      });
    }

    it('looks up which keys exist', async () => {
      const [here, gone] = [key(harness, 'here'), key(harness, 'gone')];
      await write('upsert', [{ key: here, fields: harness.fields(here, 1) }]);
      const found = await destination.lookup(object, matchField, [here, gone]);
      expect([...found.keys()]).toEqual([here]);
      expect(found.get(here)).toBeTruthy();
    });

    it('a re-sent upsert changes nothing and creates no second record', async () => {
      const [a, b] = [key(harness, 'again'), key(harness, 'again')];
      const batch = [
        { key: a, fields: harness.fields(a, 5) },
        { key: b, fields: harness.fields(b, 6) },
      ];
      const first = await write('upsert', batch);
      const before = await opened.count();
      const second = await write('upsert', batch);
      expect(second.map((r) => r.status)).toEqual(['ok', 'ok']);
      if (first[0]!.status === 'ok' && second[0]!.status === 'ok' && first[0]!.destinationId)
        expect(second[0]!.destinationId).toBe(first[0]!.destinationId);
      expect(await opened.count()).toBe(before);
      expect(await opened.read(a)).toMatchObject(harness.expected(a, 5));
    });

    if (harness.paced) {
      it('paces to the configured limit: the stand-in never has to refuse a request', async () => {
        const paced = harness.paced!;
        const before = opened.refusals!();
        const keysSent = Array.from({ length: paced.requests }, () => key(harness, 'paced'));
        // One record a request, several in flight at once, more requests than one window allows.
        await Promise.all(
          keysSent.map((k) => write('upsert', [{ key: k, fields: harness.fields(k, 1) }])),
        );
        expect(opened.refusals!()).toBe(before);
        expect(await opened.read(keysSent.at(-1)!)).toMatchObject(
          harness.expected(keysSent.at(-1)!, 1),
        );
      });
    }

    if (harness.canThrottle) {
      it('honours Retry-After when the stand-in throttles, then delivers', async () => {
        const waits: [number, string][] = [];
        destination.setWaitListener?.((ms, why) => waits.push([ms, why]));
        opened.throttle!(1, 2);
        const k = key(harness, 'throttled');
        const results = await write('upsert', [{ key: k, fields: harness.fields(k, 1) }]);
        destination.setWaitListener?.(undefined);
        expect(results[0]!.status).toBe('ok');
        expect(opened.throttled!()).toBe(2);
        const refusals = waits.filter(([, why]) => why.includes('429'));
        expect(refusals.map(([ms]) => ms)).toEqual([1000, 1000]);
        expect(await opened.read(k)).toMatchObject(harness.expected(k, 1));
      });
    }
  });
}
