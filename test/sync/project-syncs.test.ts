/**
 * Syncs as part of the project: `syncs/*.yml` and `destinations:` in tributary.yml validated with
 * every problem at its file, line and YAML path; each mapped field keeps its line so later checks
 * (the model's columns, the destination's fields and operations) name it.
 */
import { describe, expect, it } from 'vitest';
import {
  ProblemsError,
  jsonSchemas,
  loadProject,
  loadSyncs,
  parseSync,
  type SyncDefinition,
} from '../../src/project/index.js';
import { checkSyncMapping } from '../../src/orchestrator/sync-assets.js';
import { tempDir, writeFiles } from '../helpers.js';

const SYNC = `description: customers to the CRM
source: ref('customer_lifecycle')
destination: crm
object: contacts
mode: upsert
match: { source: email, destination: email }
fields:
  - source: first_name
    destination: firstname
  - source: lifetime_value
    destination: lifetime_value
    cast: number
  - destination: lifecyclestage
    constant: customer
  - source: email
    destination: email
    transform: [trim, lower]
batch_size: 50
alert: { failed_share: 0.2 }
`;

describe('sync files', () => {
  it('parse into a SyncDefinition with every field and top-level key at its line', () => {
    const { sync, problems } = parseSync('crm_contacts', 'syncs/crm_contacts.yml', SYNC, ['crm']);
    expect(problems).toEqual([]);
    expect(sync).toMatchObject({
      name: 'crm_contacts',
      file: 'syncs/crm_contacts.yml',
      source: { ref: 'customer_lifecycle' },
      destination: 'crm',
      object: 'contacts',
      mode: 'upsert',
      match: { source: 'email', destination: 'email' },
      batchSize: 50,
      alert: { failedShare: 0.2 },
      lines: { source: 2, destination: 3, object: 4, mode: 5, match: 6 },
    });
    expect(sync!.fields).toEqual([
      { source: 'first_name', destination: 'firstname', line: 8 },
      { source: 'lifetime_value', destination: 'lifetime_value', cast: 'number', line: 10 },
      { destination: 'lifecyclestage', constant: 'customer', line: 13 },
      { source: 'email', destination: 'email', transform: ['trim', 'lower'], line: 15 },
    ]);
  });

  it('may be turned off (enabled: false), keeping the line for the reason', () => {
    const off = parseSync('a', 'syncs/a.yml', `enabled: false\n${SYNC}`, ['crm']).sync!;
    expect(off.enabled).toBe(false);
    expect(off.lines!.enabled).toBe(1);
    expect(parseSync('a', 'syncs/a.yml', SYNC, ['crm']).sync!.enabled).toBeUndefined();
  });

  it('accept { sql: … } and { ref: … } sources and default the mode to upsert', () => {
    const text = (source: string) =>
      `source: ${source}\ndestination: crm\nobject: contacts\nmatch: { source: email, destination: email }\nfields: [{ source: email, destination: email }]\n`;
    expect(
      parseSync('a', 'syncs/a.yml', text('{ sql: "select 1 as email" }'), ['crm']).sync,
    ).toMatchObject({ source: { sql: 'select 1 as email' }, mode: 'upsert', alert: {} });
    expect(
      parseSync('a', 'syncs/a.yml', text('{ ref: dim_customers }'), ['crm']).sync,
    ).toMatchObject({ source: { ref: 'dim_customers' } });
  });

  it('report every problem of a file at its line and YAML path', () => {
    const bad = `source: dim_customers
destination: crm
object: contacts
mode: replace
match: { source: email }
fields:
  - destination: firstname
  - source: email
    destination: email
    constant: x
  - source: email
    destination: email
    cast: decimal
`;
    const { problems } = parseSync('x', 'syncs/x.yml', bad, ['crm']);
    const at = problems.map((p) => `${p.location.line} ${p.location.path}`);
    expect(at).toEqual(
      expect.arrayContaining([
        '1 source',
        '4 mode',
        '5 match.destination',
        '7 fields.0',
        '8 fields.1',
        '13 fields.2.cast',
      ]),
    );
    for (const p of problems) expect(p.location.file).toBe('syncs/x.yml');
    expect(problems.find((p) => p.location.path === 'source')!.message).toContain("ref('<model>')");
    expect(problems.find((p) => p.location.path === 'fields.0')!.message).toBe(
      'give a source column or a constant',
    );
  });

  it('name an undeclared destination at its line, listing the declared ones', () => {
    const { problems } = parseSync(
      'x',
      'syncs/x.yml',
      SYNC.replace('destination: crm', 'destination: hubspot'),
      ['crm', 'warehouse_pg'],
    );
    expect(problems).toEqual([
      {
        message: 'no destination named hubspot in tributary.yml; declared: crm, warehouse_pg',
        location: { file: 'syncs/x.yml', line: 3, path: 'destination' },
      },
    ]);
  });

  it('report a field mapped twice at the second one', () => {
    const text = SYNC.replace('destination: lifetime_value', 'destination: firstname');
    const { problems } = parseSync('x', 'syncs/x.yml', text, ['crm']);
    expect(problems).toEqual([
      {
        message: 'destination field firstname is mapped twice',
        location: expect.objectContaining({ line: 11, path: 'fields.1.destination' }),
      },
    ]);
  });

  it('load every file of syncs/, sorted, collecting the problems of all of them', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'syncs/b_sync.yml': SYNC,
      'syncs/a_sync.yaml': SYNC,
      'syncs/Bad-Name.yml': SYNC,
      'syncs/broken.yml': 'source: [',
    });
    const err = await loadSyncs(dir, ['crm']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemsError);
    const files = (err as ProblemsError).problems.map((p) => p.location.file);
    expect(files).toEqual(['syncs/Bad-Name.yml', 'syncs/broken.yml']);
    writeFiles(dir, { 'syncs/broken.yml': SYNC });
    const { rmSync } = await import('node:fs');
    rmSync(`${dir}/syncs/Bad-Name.yml`);
    expect((await loadSyncs(dir, ['crm'])).map((s) => s.name)).toEqual([
      'a_sync',
      'b_sync',
      'broken',
    ]);
  });

  it('are none when the project has no syncs folder', async () => {
    expect(await loadSyncs(tempDir(), [])).toEqual([]);
  });
});

describe('destinations in tributary.yml', () => {
  it('parse each type with secret references for credentials', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'tributary.yml': `name: shop
destinations:
  crm:
    type: hubspot
    base_url: \${CRM_URL_UNSET_FOR_TEST:-http://127.0.0.1:4601}
    token: { file: .tributary/crm-token }
    rate_limit: { requests: 190, per: 10s }
  sf:
    type: salesforce
    base_url: https://acme.my.salesforce.com
    token: { env: SF_TOKEN }
  hook:
    type: webhook
    url: https://example.com/hook
    secret: { env: HOOK_SECRET }
  pg:
    type: postgres
    url: { env: PG_URL }
`,
    });
    const project = await loadProject(dir);
    expect(project.config.destinations.crm).toEqual({
      type: 'hubspot',
      enabled: true,
      base_url: 'http://127.0.0.1:4601',
      token: { file: '.tributary/crm-token' },
      rate_limit: { requests: 190, per: 10_000 },
      timeout_ms: 30000,
    });
    expect(project.config.destinations.sf).toMatchObject({ api_version: '59.0' });
    expect(project.config.destinations.pg).toEqual({
      type: 'postgres',
      enabled: true,
      url: { env: 'PG_URL' },
      schema: 'public',
    });
  });

  it('take enabled: as a boolean or, from an environment variable, its text; else a problem at the line', async () => {
    const config = (enabled: string) =>
      `name: shop\ndestinations:\n  crm:\n    type: hubspot\n    enabled: ${enabled}\n    base_url: http://x\n    token: { env: T }\n`;
    const enabledOf = async (enabled: string) => {
      const dir = tempDir();
      writeFiles(dir, { 'tributary.yml': config(enabled) });
      return (await loadProject(dir)).config.destinations.crm!.enabled;
    };
    expect(await enabledOf('false')).toBe(false);
    expect(await enabledOf('${SYNC_TEST_UNSET_FLAG:-false}')).toBe(false);
    expect(await enabledOf('${SYNC_TEST_UNSET_FLAG:-on}')).toBe(true);
    process.env.SYNC_TEST_SET_FLAG = 'TRUE';
    try {
      expect(await enabledOf('${SYNC_TEST_SET_FLAG:-false}')).toBe(true);
    } finally {
      delete process.env.SYNC_TEST_SET_FLAG;
    }
    const dir = tempDir();
    writeFiles(dir, { 'tributary.yml': config('"maybe"') });
    const err = await loadProject(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemsError);
    expect((err as ProblemsError).problems[0]).toMatchObject({
      message: expect.stringMatching(/expected true or false .* got "maybe"/),
      location: { line: 5, path: 'destinations.crm.enabled' },
    });
  });

  it('refuse a token written in the file, naming the line', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'tributary.yml':
        'name: shop\ndestinations:\n  crm:\n    type: hubspot\n    base_url: http://x\n    token: pat-123\n',
    });
    const err = await loadProject(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemsError);
    expect((err as ProblemsError).problems[0]!.location).toMatchObject({
      line: 6,
      path: 'destinations.crm.token',
    });
  });

  it('have a JSON Schema for sync files beside the others', () => {
    const schema = jsonSchemas()['sync.schema.json'] as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['source', 'destination', 'object', 'mode', 'match', 'fields']),
    );
  });
});

describe('compile-time checks of a sync', () => {
  const sync = (): SyncDefinition =>
    parseSync('crm_contacts', 'syncs/crm_contacts.yml', SYNC, ['crm']).sync!;
  const fields = ['email', 'firstname', 'lifetime_value', 'lifecyclestage', 'hs_object_id'].map(
    (name) => ({
      name,
      type: 'string',
      unique: name === 'email',
      readOnly: name === 'hs_object_id',
    }),
  );
  const caps = {
    maxBatch: 100,
    operations: ['upsert', 'update', 'insert', 'delete'] as const,
    maxRequestsPerSecond: 19,
  };

  it('pass a mapping that fits the model and the destination', () => {
    const source = { columns: ['email', 'first_name', 'lifetime_value'], label: 'model m' };
    expect(checkSyncMapping(sync(), source, fields, caps)).toEqual([]);
  });

  it('name the line of a mapped column the model does not have', () => {
    const source = { columns: ['email', 'lifetime_value'], label: 'model customer_lifecycle' };
    expect(checkSyncMapping(sync(), source, fields, caps)).toEqual([
      {
        message:
          'column first_name is not a column of model customer_lifecycle (columns: email, lifetime_value)',
        location: { file: 'syncs/crm_contacts.yml', line: 8, path: 'fields.0.source' },
      },
    ]);
  });

  it('name the line of a destination field that does not exist or is read-only', () => {
    const source = { columns: ['email', 'first_name', 'lifetime_value'], label: 'model m' };
    const without = fields.filter((f) => f.name !== 'lifetime_value');
    const problems = checkSyncMapping(sync(), source, without, caps);
    expect(problems.map((p) => [p.location.line, p.message])).toEqual([
      [
        10,
        'contacts has no field lifetime_value at destination crm (fields: email, firstname, lifecyclestage, hs_object_id)',
      ],
    ]);
    const readOnly = SYNC.replace('destination: lifecyclestage', 'destination: hs_object_id');
    const s = parseSync('x', 'syncs/x.yml', readOnly, ['crm']).sync!;
    expect(checkSyncMapping(s, source, fields, caps)[0]).toMatchObject({
      message: 'field hs_object_id of contacts is read-only at destination crm',
      location: { line: 13 },
    });
  });

  it('name the mode line when the destination cannot do the mode', () => {
    const source = { columns: ['email', 'first_name', 'lifetime_value'], label: 'model m' };
    const mirror = parseSync('x', 'syncs/x.yml', SYNC.replace('mode: upsert', 'mode: mirror'), [
      'crm',
    ]).sync!;
    const webhookLike = { ...caps, operations: ['upsert'] as const };
    expect(checkSyncMapping(mirror, source, fields, webhookLike)).toEqual([
      {
        message: 'mode mirror needs delete, which destination crm cannot do (it can: upsert)',
        location: { file: 'syncs/x.yml', line: 5, path: 'mode' },
      },
    ]);
  });

  it('name the match line when the match column or field is missing', () => {
    const source = { columns: ['first_name', 'lifetime_value'], label: 'model m' };
    const problems = checkSyncMapping(sync(), source, fields, caps);
    expect(problems.filter((p) => p.location.line === 6).map((p) => p.location.path)).toEqual([
      'match.source',
    ]);
  });
});
