/**
 * Which columns are PII and how far masking reaches: a contract's `pii: true`, a dbt source
 * column's and a model column's `meta: {pii: true}`, a column of the same name downstream (view
 * or table), a column renamed in a table (not masked unless flagged: the documented limit), and
 * anything a view derives (masked, as views read the masked relations); and the CLI's
 * `tributary query`, which runs under the admin rules (the local user owns the files).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryProject } from '../../src/cli/commands/query.js';
import {
  openWorkspace,
  piiColumns,
  publishServingSnapshot,
  runPipeline,
  servingDir,
  type Workspace,
} from '../../src/orchestrator/index.js';
import { QuerySandbox } from '../../src/serve/index.js';
import { tempDir, writeFiles } from '../helpers.js';

let dir: string;
let ws: Workspace | undefined;
let sandbox: QuerySandbox;

beforeAll(async () => {
  dir = tempDir('trib-pii-');
  writeFiles(dir, {
    'tributary.yml': `name: pii
sources:
  crm:
    type: files
    path: landing
    tables:
      people: { files: "people*.csv" }
`,
    'contracts/people.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: email, type: string, pii: true }
  - { name: phone, type: string }
  - { name: born, type: date }
  - { name: town, type: string }
`,
    'landing/people-1.csv':
      'id,email,phone,born,town\n1,a@x.org,555-1,1980-01-02,Oslo\n2,,555-2,1990-03-04,Rome\n',
    'models/_sources.yml': `version: 2
sources:
  - name: crm
    schema: processed
    tables:
      - name: people
        columns:
          - name: phone
            meta: { pii: true }
`,
    'models/contacts.sql': `{{ config(materialized='view') }}
select id, email, phone, email as mail, born, town from {{ source('crm', 'people') }}`,
    'models/towns.sql': `{{ config(materialized='table') }}
select c.id, c.town, c.born, c.email, p.email as contact
from {{ ref('contacts') }} c join {{ source('crm', 'people') }} p using (id)`,
    'models/towns.yml': `version: 2
models:
  - name: towns
    columns:
      - name: born
        meta: { pii: true }
`,
  });
  ws = await openWorkspace(dir, 'test');
  expect((await runPipeline(ws)).status).toBe('succeeded');
  await publishServingSnapshot(ws);
  sandbox = new QuerySandbox({ dir: servingDir(ws) });
});

afterAll(async () => {
  sandbox?.close();
  await ws?.close();
});

describe('PII columns', () => {
  it('come from contracts, dbt source and model meta, and follow their names downstream', () => {
    expect(piiColumns(ws!)).toEqual({
      'processed.people': ['email', 'phone'],
      'main.contacts': ['email', 'phone'],
      'main.towns': ['born', 'email', 'phone'],
    });
  });

  it('are masked for a viewer, by type, NULL kept; visible to an operator', async () => {
    const sql = 'select id, email, phone, mail, born, town from main.contacts order by id';
    const viewer = await sandbox.query(sql, {}, { role: 'viewer' });
    expect(viewer.rows).toEqual([
      // A view reads the masked relations, so what it derives is masked whatever its name.
      { id: '1', email: '****', phone: '****', mail: '****', born: '1980-01-02', town: 'Oslo' },
      { id: '2', email: null, phone: '****', mail: null, born: '1990-03-04', town: 'Rome' },
    ]);
    const operator = await sandbox.query(sql, {}, { role: 'operator' });
    expect(operator.rows[0]).toMatchObject({ email: 'a@x.org', phone: '555-1' });
    // A non-text PII column of a table is NULL for a viewer, with its type kept. A table was
    // built from unmasked data: a column renamed on the way (contact) is not recognised.
    const towns = await sandbox.query(
      'select born, email, contact, town from main.towns order by id',
      {},
      { role: 'viewer' },
    );
    expect(towns.columns.find((c) => c.name === 'born')?.type).toBe('DATE');
    expect(towns.rows).toEqual([
      { born: null, email: '****', contact: 'a@x.org', town: 'Oslo' },
      { born: null, email: null, contact: null, town: 'Rome' },
    ]);
  });

  it('are visible to `tributary query`, which runs under the admin rules', async () => {
    sandbox.close();
    await ws!.close();
    ws = undefined;
    const result = await queryProject(dir, 'select email, phone from processed.people order by id');
    expect(result.rows[0]).toEqual({ email: 'a@x.org', phone: '555-1' });
    const settings = await queryProject(
      dir,
      "select count(*) as n from duckdb_settings() where name = 'allowed_directories'",
    );
    expect(settings.rows).toEqual([{ n: '1' }]);
  });
});
