/**
 * The process the sync crash test kills: runs one sync from a DuckDB warehouse file to a
 * PostgreSQL table and prints a line per batch sent (`batch <records done>`) so the test can kill
 * it mid-run, then `done <outcome JSON>`. Built to dist/ (tsconfig.build.json) and run with node.
 *
 * Usage: node dist/test/sync/crash/child.js '<config JSON>' (see ChildConfig).
 */
import { openDuckDB } from '../../../src/engines/index.js';
import { StateStore } from '../../../src/state/index.js';
import { PostgresDestination } from '../../../src/sync/destinations/postgres.js';
import { runSync } from '../../../src/sync/runner.js';
import type { SyncDefinition } from '../../../src/sync/types.js';

export interface ChildConfig {
  warehouse: string;
  stateDb: string;
  postgresUrl: string;
  schema: string;
  table: string;
  sync: string;
  mode: SyncDefinition['mode'];
  batchSize: number;
  dryRun?: boolean;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
  const warehouse = await openDuckDB({ path: config.warehouse });
  const state = await StateStore.open(await openDuckDB({ path: config.stateDb }));
  const destination = new PostgresDestination({ url: config.postgresUrl, schema: config.schema });
  const definition: SyncDefinition = {
    name: config.sync,
    file: `syncs/${config.sync}.yml`,
    source: { ref: 'customers' },
    destination: 'pg',
    object: config.table,
    mode: config.mode,
    match: { source: 'email', destination: 'email' },
    fields: [
      { source: 'name', destination: 'name', line: 6 },
      { source: 'version', destination: 'version', cast: 'number', line: 7 },
    ],
    batchSize: config.batchSize,
    alert: {},
  };
  try {
    const outcome = await runSync({
      definition,
      warehouse,
      state,
      destination,
      sourceRelation: 'SELECT * FROM customers',
      runId: `crash_${process.pid}`,
      dryRun: config.dryRun ?? false,
      fullResync: false,
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

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
