/**
 * The REST connector passes the shared source conformance suite. The API here serves the items
 * offered since the last run (an events feed that drains as it is read); an offered CSV snippet
 * becomes JSON records, and one run lands them all as one NDJSON batch.
 */
import { describeSourceConformance } from '../conformance.js';
import { RestSource } from '../../../src/sources/index.js';
import { restTable, startApi } from './harness.js';

/** `id\n1\n` → [{ id: '1' }]: the CSV's rows as records of strings. */
function toRecords(csv: string): Record<string, string>[] {
  const [header, ...rows] = csv.split('\n').filter((l) => l !== '');
  const names = header!.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [names[i]!, v])));
}

describeSourceConformance('rest', async () => {
  let pending: string[] = [];
  const api = await startApi(() => {
    const page = pending.flatMap(toRecords);
    pending = [];
    return { events: page };
  });
  const table = restTable({
    base_url: api.url,
    tables: { items: { path: '/events', records: 'events' } },
  });
  return {
    source: new RestSource(table),
    sourceName: 'api',
    tableName: 'items',
    offer: async (_name, bytes) => void pending.push(bytes),
    landsAs: (offered) => [
      offered
        .flatMap(toRecords)
        .map((r) => `${JSON.stringify(r)}\n`)
        .join(''),
    ],
  };
});
