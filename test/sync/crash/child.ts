/**
 * The process the sync crash tests kill: runs one sync from a DuckDB warehouse file to a
 * destination (a real PostgreSQL table, or the HubSpot stand-in over HTTP) and prints a line per
 * batch sent (`batch <records done>`) so the test can kill it mid-run, then `done <outcome JSON>`.
 * Built to dist/ (tsconfig.build.json) and run with node.
 *
 * Usage: node dist/test/sync/crash/child.js '<config JSON>' (see ChildConfig).
 */
import { openDuckDB } from '../../../src/engines/index.js';
import { StateStore } from '../../../src/state/index.js';
import type { SyncDestination } from '../../../src/sync/destination.js';
import { HubSpotDestination } from '../../../src/sync/destinations/hubspot.js';
import { PostgresDestination } from '../../../src/sync/destinations/postgres.js';
import { runSync } from '../../../src/sync/runner.js';
import type { SyncDefinition, SyncFieldMapping } from '../../../src/sync/types.js';

export type ChildDestination =
  | { type: 'postgres'; url: string; schema: string }
  | { type: 'hubspot'; baseUrl: string; token: string; requestsPerSecond: number };

export interface ChildConfig {
  warehouse: string;
  stateDb: string;
  destination: ChildDestination;
  /** The destination object: a table, or a HubSpot object (`contacts`). */
  object: string;
  sync: string;
  mode: SyncDefinition['mode'];
  match: { source: string; destination: string };
  fields: Omit<SyncFieldMapping, 'line'>[];
  batchSize: number;
  /** Batches in flight at once (the runner's default, 4, when not set). */
  concurrency?: number;
  dryRun?: boolean;
}

function openDestination(config: ChildDestination): SyncDestination {
  if (config.type === 'postgres')
    return new PostgresDestination({ url: config.url, schema: config.schema });
  return new HubSpotDestination({
    name: 'crm',
    baseUrl: config.baseUrl,
    token: config.token,
    rateLimit: { requests: config.requestsPerSecond, perMs: 1000 },
    retries: 2,
  });
}

/** The sync definition a config describes (the test's dry run builds the same one). */
export function childDefinition(config: ChildConfig): SyncDefinition {
  return {
    name: config.sync,
    file: `syncs/${config.sync}.yml`,
    source: { ref: 'customers' },
    destination: config.destination.type,
    object: config.object,
    mode: config.mode,
    match: config.match,
    fields: config.fields.map((f, i) => ({ ...f, line: 6 + i })),
    batchSize: config.batchSize,
    alert: {},
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
  const warehouse = await openDuckDB({ path: config.warehouse });
  const state = await StateStore.open(await openDuckDB({ path: config.stateDb }));
  const destination = openDestination(config.destination);
  try {
    const outcome = await runSync({
      definition: childDefinition(config),
      warehouse,
      state,
      destination,
      sourceRelation: 'SELECT * FROM customers',
      runId: `crash_${process.pid}`,
      dryRun: config.dryRun ?? false,
      fullResync: false,
      ...(config.concurrency ? { concurrency: config.concurrency } : {}),
      progress: {
        update: (e) => process.stdout.write(`batch ${e.done}\n`),
        log: (m) => process.stdout.write(`log ${m}\n`),
      },
    });
    process.stdout.write(`done ${JSON.stringify(outcome)}\n`);
  } finally {
    await destination.close();
    await state.close();
    await warehouse.close();
  }
}

// Imported by the tests for its types and childDefinition: only the built file run by node runs.
if (process.argv[1]?.endsWith('child.js'))
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
