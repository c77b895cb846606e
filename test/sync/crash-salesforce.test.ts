/**
 * A crash re-run against the Salesforce-shaped Bulk API 2.0 stand-in (test/sync/standins/
 * salesforce-server.ts; the real org cannot be reached here, the stand-in plays its job states,
 * CSV results and errors). Salesforce runs an ingest job on its own once the upload is closed: a
 * sync killed while its job runs leaves the job going, and a re-run that looked the interrupted
 * keys up before the job ended would miss them and insert them a second time. The first run here
 * stops the moment its job is closed (an abort of the run: nothing after the close happens, as
 * after a SIGKILL; the in-flight marker is left), with the job taking 800 ms; the re-run must wait
 * for the job (the adapter's settle), find its records and insert each key exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../../src/notify/index.js';
import { SalesforceDestination } from '../../src/sync/destinations/salesforce.js';
import { runSync } from '../../src/sync/runner.js';
import { SALESFORCE_TEST_TOKEN, startSalesforceStandIn } from './standins/salesforce-server.js';
import { openWarehouse, syncDefinition, type Warehouse } from './support.js';

describe('a Salesforce insert sync killed while its ingest job runs', () => {
  let warehouse: Warehouse | undefined;
  afterEach(async () => {
    await warehouse?.close();
    warehouse = undefined;
  });

  it('waits for the job on the re-run and inserts each key once', async () => {
    const closed = new AbortController();
    const standIn = await startSalesforceStandIn({
      processDelayMs: 400,
      onJobClosed: () => closed.abort(new Error('killed once the job was closed')),
    });
    warehouse = await openWarehouse('duckdb');
    const destination = new SalesforceDestination({
      name: 'sf',
      instanceUrl: standIn.url,
      token: SALESFORCE_TEST_TOKEN,
      pollIntervalMs: 20,
    });
    try {
      await warehouse.engine.exec(
        `CREATE TABLE customers AS SELECT 'c' || i || '@x.io' AS email, 'Name ' || i AS name
           FROM range(40) t(i)`,
      );
      const definition = syncDefinition({
        destination: 'sf',
        object: 'Contact',
        mode: 'insert',
        match: { source: 'email', destination: 'Email' },
        fields: [{ source: 'name', destination: 'LastName', line: 7 }],
      });
      const run = (signal?: AbortSignal) =>
        runSync({
          definition,
          warehouse: warehouse!.engine,
          state: warehouse!.state,
          destination,
          sourceRelation: 'SELECT * FROM customers',
          runId: 'r',
          dryRun: false,
          fullResync: false,
          ...(signal ? { signal } : {}),
        });
      await expect(run(closed.signal)).rejects.toThrow();
      // The job is still running in the stand-in and the marker says the batch was in flight.
      expect(standIn.records('Contact').size).toBe(0);
      const marker = await warehouse.engine.query(
        `SELECT COUNT(*) AS n FROM tributary_sync.${definition.name}__inflight`,
      );
      expect(Number(marker.rows[0]!.n)).toBe(40);

      const outcome = await run();
      expect(outcome.message).toContain('resolved 40 records left in flight');
      const emails = [...standIn.records('Contact').values()].map((r) => r.Email);
      expect(emails.length).toBe(40);
      expect(new Set(emails).size).toBe(40);
      const letters = await (await DeadLetterStore.open(warehouse.state.engine)).list();
      expect(letters.map((l) => l.error)).toEqual([]);
      const { rows } = await warehouse.engine.query(
        `SELECT key, destination_id FROM tributary_sync.${definition.name}__state ORDER BY key`,
      );
      const held = [...standIn.records('Contact').values()]
        .map((r) => [r.Email, r.Id])
        .sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
      expect(rows.map((r) => [r.key, r.destination_id])).toEqual(held);
    } finally {
      await destination.close();
      await standIn.close();
    }
  }, 60_000);
});
