/**
 * A run rebuilding relations on a PostgreSQL warehouse never takes a relation away from its
 * readers (engines/postgres/dependents.ts): a viewer querying the masked mirrors in a loop, and an
 * operator querying the originals, while runs rebuild every kind of relation a project has (a
 * table swapped in, a view over it, a seed dropped and loaded again, an incremental model whose
 * columns are dropped and retyped in place, then all of it rebuilt in full), gets no error at all
 * (no "does not exist", no deadlock), and the viewer sees only masked values, before, during and
 * after. A table's mirror view made again over a rebuilt table shows clear only the columns the
 * last publish showed clear: a column the table gained since is masked. The database and roles
 * are the test's own, dropped after.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  maskedRoleOf,
  publishServingSnapshot,
  runPipeline,
  warehouseReaderUrl,
  type Workspace,
} from '../../src/orchestrator/index.js';
import { queryRunnerFor } from '../../src/serve/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase, uniqueName } from '../sync/support.js';

const available = await serviceAvailable('postgres', postgresTestUrl);
const URL_ENV = 'TRIBUTARY_TEST_PG_MIRROR_REBUILD_URL';

const VISITS = (score: string) =>
  `{{ config(materialized='incremental', unique_key='id', on_schema_change='sync_all_columns') }}
select id, email, ${score} as score${score === 'score' ? ', city' : ''} from {{ ref('dim_customers') }}`;

const FILES = (readRole: string): Record<string, string> => ({
  'tributary.yml': `name: mirror_rebuild
warehouse: { engine: postgres, url: { env: ${URL_ENV} }, read_role: ${readRole} }
sources:
  app:
    type: files
    path: landing
    tables:
      customers: { files: "customers*.csv" }
`,
  'contracts/customers.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: email, type: string, pii: true }
  - { name: score, type: double, pii: true }
  - { name: city, type: string }
`,
  'landing/customers1.csv': `id,email,score,city
1,ann@example.com,3.5,Zürich
2,,1.25,Oslo
3,bo@example.com,,Oslo
`,
  'models/_sources.yml': `version: 2
sources:
  - name: app
    schema: processed
    tables:
      - name: customers
`,
  'models/stg_customers.sql': `{{ config(materialized='view') }}
select id, email, email as contact, score, city from {{ source('app', 'customers') }}`,
  'models/dim_customers.sql': `{{ config(materialized='table') }}
select id, email, score, city from {{ ref('stg_customers') }}`,
  // A view over a table a run swaps in: PostgreSQL drops it with the old table (CASCADE).
  'models/dim_emails.sql': `{{ config(materialized='view') }}
select id, email from {{ ref('dim_customers') }}`,
  'models/visits.sql': VISITS('score'),
  'models/region_contacts.sql': `{{ config(materialized='view') }}
select code, contact from {{ ref('regions') }}`,
  'seeds/regions.csv': 'code,contact\nZH,zh@example.com\nOS,os@example.com\n',
  'seeds/_seeds.yml': `version: 2
seeds:
  - name: regions
    columns:
      - { name: contact, meta: { pii: true } }
`,
  'snapshots/customers_snap.sql': `{% snapshot customers_snap %}
{{ config(target_schema='snapshots', unique_key='id', strategy='check', check_cols='all') }}
select id, email, city from {{ ref('dim_customers') }}
{% endsnapshot %}`,
});

/** What readers query during the runs: every relation the project builds, PII columns included. */
const QUERIES = [
  'select id, email, score from dim_customers',
  'select id, email from dim_emails',
  'select id, email, contact, score from stg_customers',
  'select id, email, score from processed.customers',
  'select id, email, score from visits',
  'select code, contact from regions',
  'select code, contact from region_contacts',
  'select id, email from snapshots.customers_snap',
];

const PII = ['email', 'contact', 'score'];

interface Reader {
  queries: number;
  errors: string[];
  /** PII values a viewer saw unmasked (or an operator saw masked). */
  wrong: string[];
}

/** Sends QUERIES one after another as `role` until `stop()` says so. */
function readInLoop(ws: Workspace, role: 'viewer' | 'operator', stop: () => boolean) {
  const reader: Reader = { queries: 0, errors: [], wrong: [] };
  const runner = queryRunnerFor(ws, { role });
  const done = (async () => {
    try {
      for (let i = 0; !stop(); i++) {
        const sql = QUERIES[i % QUERIES.length]!;
        try {
          const { rows } = await runner.query(sql);
          reader.queries++;
          if (!rows.length) reader.errors.push(`${sql}: no rows`);
          for (const row of rows)
            for (const col of PII) {
              const v = row[col];
              if (v === undefined || v === null) continue;
              const masked = v === '****';
              if ((role === 'viewer') !== masked) reader.wrong.push(`${sql}: ${col}=${String(v)}`);
            }
        } catch (err) {
          reader.errors.push(`${sql}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    } finally {
      await runner.close();
    }
  })();
  return { reader, done };
}

describe.skipIf(!available)('a run rebuilding a PostgreSQL warehouse, read meanwhile', () => {
  const readRole = uniqueName('rreader');
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let dir: string;

  beforeAll(async () => {
    db = await freshPostgresDatabase('mirror_rebuild');
    process.env[URL_ENV] = db.url;
    dir = tempDir('trib-pg-mirror-rebuild-');
    writeFiles(dir, FILES(readRole));
    await withWorkspace(dir, async (ws) => {
      const run = await runPipeline(ws, {});
      expect(run.steps.filter((s) => s.status === 'failed')).toEqual([]);
      await publishServingSnapshot(ws);
    });
  }, 120_000);

  afterAll(async () => {
    delete process.env[URL_ENV];
    await db?.drop();
    const admin = new pg.Client({ connectionString: postgresTestUrl });
    await admin.connect();
    for (const name of [readRole, maskedRoleOf(readRole)])
      await admin.query(`DROP ROLE IF EXISTS "${name}"`).catch(() => undefined);
    await admin.end();
  });

  it('never takes a relation away from a viewer or an operator, and masks throughout', async () => {
    // The first run loads the seed again and drops and retypes columns of visits in place
    // (sync_all_columns); the second rebuilds the incremental model in full. No publish until the readers have read through both.
    writeFileSync(join(dir, 'models', 'visits.sql'), VISITS('cast(score as text)'));
    writeFileSync(join(dir, 'seeds', 'regions.csv'), 'code,contact\nZH,zh@example.com\n');
    await withWorkspace(dir, async (ws) => {
      let stopped = false;
      const failed: (string | undefined)[] = [];
      const readers = [
        readInLoop(ws, 'viewer', () => stopped),
        readInLoop(ws, 'viewer', () => stopped),
        readInLoop(ws, 'operator', () => stopped),
      ];
      try {
        await new Promise((r) => setTimeout(r, 300));
        for (const [i, fullRefresh] of [false, true].entries()) {
          // New rows landed: every relation downstream is rebuilt.
          writeFiles(dir, {
            [`landing/customers${i + 2}.csv`]: `id,email,score,city\n${i + 4},n${i}@example.com,${i},Bern\n`,
          });
          const run = await runPipeline(ws, { fullRefresh });
          failed.push(...run.steps.filter((s) => s.status === 'failed').map((s) => s.message));
        }
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        stopped = true;
        await Promise.all(readers.map((r) => r.done));
      }
      for (const { reader } of readers) {
        expect([...new Set(reader.errors)]).toEqual([]);
        expect(reader.wrong).toEqual([]);
        expect(reader.queries).toBeGreaterThan(QUERIES.length);
      }
      // Nor does a reader ever make a step fail (a deadlock between the two, say).
      expect(failed).toEqual([]);
      // The next publish finds the mirrors as a step left them, and still masks.
      await publishServingSnapshot(ws);
      const runner = queryRunnerFor(ws, { role: 'viewer' });
      try {
        const { rows } = await runner.query('select id, email, score from visits order by id');
        expect(rows[0]).toEqual({ id: rows[0]!.id, email: '****', score: '****' });
      } finally {
        await runner.close();
      }
    });
  }, 180_000);

  it("masks a column a rebuilt table gained since publishing, and keeps the mirror's grants", async () => {
    await withWorkspace(dir, async (ws) => {
      await publishServingSnapshot(ws);
      // What a model renaming PII into a new column would build, before any publish saw it.
      await ws.warehouse.replaceTable(
        'main',
        'dim_customers',
        `select id, email, score, city, email as backup_email, id * 2 as twice from main.stg_customers`,
      );
      const viewer = new pg.Client({
        connectionString: await warehouseReaderUrl(ws, true),
      });
      await viewer.connect();
      try {
        const { rows } = await viewer.query(
          'select * from main__masked.dim_customers where id = 1',
        );
        // Shown clear only what the last publish showed clear (id, city).
        expect(rows).toEqual([
          {
            id: '1',
            email: '****',
            score: null,
            city: 'Zürich',
            backup_email: '****',
            twice: null,
          },
        ]);
        const views = await viewer.query(
          'select id, email from main__masked.dim_emails where id = 1',
        );
        expect(views.rows).toEqual([{ id: '1', email: '****' }]);
      } finally {
        await viewer.end();
      }
    });
  });
});
