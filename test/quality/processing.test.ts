/**
 * Processing raw files through contracts, end to end on a small project: each kind of bad row
 * lands in quarantine with its reason and line, each kind of bad file is refused whole with a
 * message naming it, and nothing partial is ever committed.
 */
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWorkspace, runPipeline, type RunResult } from '../../src/orchestrator/index.js';
import { lakeKeys, readManifest, type TableManifest } from '../../src/lake/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';

const CONFIG = `name: t
sources:
  app:
    type: files
    path: landing
    tables:
      customers: { files: "customers*.csv" }
      orders: { files: "orders*.csv" }
      events: { files: "events*.json", format: json }
`;
const CONTRACTS = {
  'contracts/customers.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: name, type: string }
  - { name: zip, type: string }
`,
  'contracts/orders.yml': `primary_key: [order_id]
partition_by: { column: ts, granularity: day }
columns:
  - { name: order_id, type: bigint, required: true }
  - { name: customer_id, type: bigint, required: true, references: customers.id }
  - { name: ts, type: timestamp, required: true }
  - { name: qty, type: integer, min: 1 }
  - { name: status, type: string, allowed: [open, closed] }
`,
  'contracts/events.yml': `columns:
  - { name: id, type: string, required: true }
  - { name: order_id, type: bigint, from: meta.order }
`,
};

const GOOD_CUSTOMERS = 'id,name,zip\n1,Ann,02139\n2,"Bob, ""the"" builder",10001\n';
const GOOD_EVENTS = '[\n{"id":"e1","meta":{"order":10}},\n{"id":"e2","meta":{}}\n]\n';

function project(landing: Record<string, string | Buffer>): string {
  const dir = tempDir('trib-proc-');
  writeFiles(dir, { 'tributary.yml': CONFIG, ...CONTRACTS });
  writeFiles(join(dir, 'landing'), landing);
  return dir;
}

async function run(dir: string, options: { retryRejected?: boolean } = {}): Promise<RunResult> {
  const ws = await openWorkspace(dir, 'test');
  try {
    return await runPipeline(ws, options);
  } finally {
    await ws.close();
  }
}

const step = (r: RunResult, asset: string) => r.steps.find((s) => s.asset === asset)!;

describe('processing with contracts', () => {
  it('quarantines each kind of bad row with its reason, column, value and physical line', async () => {
    const orders = [
      'order_id,customer_id,ts,qty,status',
      '10,1,2025-01-01 10:00:00,1,open', // line 2: ok
      '11,,2025-01-01 11:00:00,1,open', // 3: required
      '12,1,not a date,1,open', // 4: type
      '13,1,2025-01-02 10:00:00,0,open', // 5: range
      '"14",1,2025-01-02 10:00:00,2,"multi', // 6-7: allowed_values, value spans two lines
      'line"',
      '15,99,2025-01-02 10:00:00,1,open', // 8: foreign_key
      '10,2,2025-01-03 10:00:00,1,closed', // 9: duplicate_key
      '16,1,2025-01-03 10:00:00,1,open,extra', // 10: malformed (too many columns)
      '17,2,2025-01-03 12:00:00,3,closed', // 11: ok
    ].join('\n');
    const dir = project({
      'customers.csv': GOOD_CUSTOMERS,
      'orders.csv': `${orders}\n`,
      'events.json': GOOD_EVENTS,
    });
    const result = await run(dir);
    expect(step(result, 'processed:orders')).toMatchObject({
      status: 'succeeded',
      rowsIn: 9,
      rowsOut: 2,
      reasons: {
        required: 1,
        type: 1,
        range: 1,
        allowed_values: 1,
        foreign_key: 1,
        duplicate_key: 1,
        malformed: 1,
      },
    });
    const q = await withWorkspace(dir, (ws) =>
      ws.warehouse.query(
        `SELECT _source_file, _line, _column, _reason, _value, _message FROM quarantine.orders ORDER BY _line`,
      ),
    );
    // BIGINT leaves the engine as a string (no precision lost), so line numbers read as strings.
    expect(q.rows.map((r) => [r._line, r._reason, r._column, r._value])).toEqual([
      ['3', 'required', 'customer_id', null],
      ['4', 'type', 'ts', 'not a date'],
      ['5', 'range', 'qty', '0'],
      ['6', 'allowed_values', 'status', 'multi\nline'],
      ['8', 'foreign_key', 'customer_id', '99'],
      ['9', 'duplicate_key', 'order_id', '10'],
      ['10', 'malformed', null, '16,1,2025-01-03 10:00:00,1,open,extra'],
    ]);
    expect(q.rows.every((r) => r._source_file === 'orders.csv')).toBe(true);
    expect(q.rows[1]!._message).toBe("ts: 'not a date' is not a valid timestamp");
  });

  it('writes typed, partitioned Parquet and keeps text such as leading zeros and quotes intact', async () => {
    const dir = project({
      'customers.csv': GOOD_CUSTOMERS,
      'orders.csv':
        'order_id,customer_id,ts,qty,status\n10,1,2025-01-01 10:00:00,1,open\n11,2,2025-01-02 10:00:00,2,closed\n',
      'events.json': GOOD_EVENTS,
    });
    await run(dir);
    const manifest = await withWorkspace(dir, (ws) =>
      readManifest<TableManifest>(ws.store, lakeKeys.processedManifest('orders')),
    );
    expect(manifest!.files.map((f) => [f.partition, f.rows])).toEqual([
      [{ ts_day: '2025-01-01' }, 1],
      [{ ts_day: '2025-01-02' }, 1],
    ]);
    expect(manifest!.files.every((f) => f.bytes > 0)).toBe(true);
    expect(manifest!.files[0]!.key).toMatch(
      /^processed\/orders\/ts_day=2025-01-01\/part-[0-9a-f]{16}-0\.parquet$/,
    );
    const rows = await withWorkspace(dir, async (ws) => ({
      customers: (
        await ws.warehouse.query('SELECT id, name, zip FROM processed.customers ORDER BY id')
      ).rows,
      types: (await ws.warehouse.query('SELECT * FROM processed.orders LIMIT 0')).columns.map(
        (c) => c.type,
      ),
      events: (await ws.warehouse.query('SELECT id, order_id FROM processed.events ORDER BY id'))
        .rows,
    }));
    expect(rows.customers).toEqual([
      { id: '1', name: 'Ann', zip: '02139' },
      { id: '2', name: 'Bob, "the" builder', zip: '10001' },
    ]);
    // Every processed row carries `_loaded_at`, when its batch was committed.
    expect(rows.types).toEqual([
      'BIGINT',
      'BIGINT',
      'TIMESTAMP',
      'INTEGER',
      'VARCHAR',
      'TIMESTAMP',
    ]);
    expect(rows.events).toEqual([
      { id: 'e1', order_id: '10' },
      { id: 'e2', order_id: null },
    ]);
  });

  it('lands the same bytes only once, whatever the file is called', async () => {
    const dir = project({
      'customers.csv': GOOD_CUSTOMERS,
      'orders.csv': 'order_id,customer_id,ts\n',
      'events.json': GOOD_EVENTS,
    });
    await run(dir);
    copyFileSync(join(dir, 'landing/customers.csv'), join(dir, 'landing/customers_copy.csv'));
    const second = await run(dir);
    expect(step(second, 'raw:app.customers').status).toBe('up_to_date');
    expect(step(second, 'processed:customers').status).toBe('up_to_date');
  });

  it('quarantines keys already loaded by an earlier batch and appends the new ones', async () => {
    const dir = project({
      'customers.csv': GOOD_CUSTOMERS,
      'orders.csv': 'order_id,customer_id,ts\n',
      'events.json': GOOD_EVENTS,
    });
    await run(dir);
    writeFileSync(
      join(dir, 'landing/customers_2.csv'),
      'id,name,zip\n2,Bob again,10001\n3,Cy,07030\n',
    );
    const second = await run(dir);
    expect(step(second, 'processed:customers')).toMatchObject({
      rowsOut: 1,
      reasons: { duplicate_key: 1 },
    });
    const ids = await withWorkspace(dir, (ws) =>
      ws.warehouse.query('SELECT id FROM processed.customers ORDER BY id'),
    );
    expect(ids.rows.map((r) => r.id)).toEqual(['1', '2', '3']);
  });
});

describe('JSON records inside a wrapper object', () => {
  it('reads the records under `records:` and flattens dotted paths', async () => {
    const dir = tempDir('trib-proc-');
    writeFiles(dir, {
      'tributary.yml': `name: t
sources:
  stripe:
    type: files
    path: landing
    tables:
      charges: { files: "charges*.json", format: json, records: data }
`,
      'contracts/charges.yml': `primary_key: [id]
columns:
  - { name: id, type: string, required: true }
  - { name: amount, type: bigint, min: 0 }
  - { name: last4, type: string, from: card.last4 }
`,
      'landing/charges.json':
        '{"object":"list","has_more":false,"data":[{"id":"ch_1","amount":1250,"card":{"last4":"0042"}},{"id":"ch_2","amount":-5,"card":{}},{"id":"ch_1","amount":1,"card":{"last4":"1"}}]}',
    });
    const result = await run(dir);
    expect(step(result, 'processed:charges')).toMatchObject({
      rowsOut: 1,
      reasons: { range: 1, duplicate_key: 1 },
    });
    const rows = await withWorkspace(dir, (ws) =>
      ws.warehouse.query('SELECT id, amount, last4 FROM processed.charges'),
    );
    expect(rows.rows).toEqual([{ id: 'ch_1', amount: '1250', last4: '0042' }]);
  });
});

describe('bad files', () => {
  async function refused(landing: Record<string, string | Buffer>, table: string) {
    const dir = project({
      'customers.csv': GOOD_CUSTOMERS,
      'orders.csv': 'order_id,customer_id,ts,qty,status\n',
      'events.json': GOOD_EVENTS,
      ...landing,
    });
    const result = await run(dir);
    // Before the project is opened again, which clears the scratch folder.
    const scratch = readdirSync(join(dir, '.tributary/tmp'));
    const manifest = await withWorkspace(dir, (ws) =>
      readManifest<TableManifest>(ws.store, lakeKeys.processedManifest(table)),
    );
    const s = step(result, `processed:${table}`);
    // A refused file is a data problem, not a failed step: the step and the run go on.
    expect(s.status).toBe('succeeded');
    const refusal = s.refusedFiles?.[0]?.message ?? '';
    expect(result.refusedFiles.map((f) => f.message)).toEqual([refusal]);
    return { dir, result, step: s, refusal, manifest, scratch };
  }

  it('refuses a CSV whose header does not match the contract, naming the missing columns, and loads the rest', async () => {
    const { result, refusal, manifest } = await refused(
      { 'orders.csv': 'order_id,cust,ts\n1,1,2025-01-01\n' },
      'orders',
    );
    expect(refusal).toMatch(
      /^orders\.csv:1: header does not match the contract: missing customer_id, qty, status; found order_id, cust, ts/,
    );
    expect(manifest!.files).toEqual([]);
    expect(step(result, 'processed:customers').status).toBe('succeeded');
    expect(step(result, 'processed:events').status).toBe('succeeded');
  });

  it('refuses an empty file', async () => {
    const { refusal } = await refused({ 'customers_empty.csv': '' }, 'customers');
    expect(refusal).toMatch(/^customers_empty\.csv: file is empty/);
  });

  it('refuses a file that is not UTF-8, naming the line and column', async () => {
    const latin1 = Buffer.concat([
      Buffer.from('id,name,zip\n3,Caf'),
      Buffer.from([0xe9]),
      Buffer.from(',01234\n'),
    ]);
    const { refusal, manifest } = await refused({ 'customers_latin1.csv': latin1 }, 'customers');
    expect(refusal).toMatch(/^customers_latin1\.csv:2:6: file is not valid UTF-8/);
    expect(manifest!.files.map((f) => f.rows)).toEqual([2]); // the good file loaded, nothing from the bad one
  });

  it('refuses a truncated JSON file, naming it', async () => {
    const { refusal, manifest } = await refused(
      { 'events.json': '[\n{"id":"e1"},\n{"id":' },
      'events',
    );
    // The second record of the array is the truncated one.
    expect(refusal).toMatch(
      /^events\.json record 2: malformed JSON: unexpected end of data \(byte \d+ of the record\)/,
    );
    expect(manifest!.files).toEqual([]);
  });

  it('says which pattern matched no file, and loads the other tables', async () => {
    const dir = tempDir('trib-proc-');
    writeFiles(dir, { 'tributary.yml': CONFIG, ...CONTRACTS });
    writeFiles(join(dir, 'landing'), {
      'customers.csv': GOOD_CUSTOMERS,
      'events.json': GOOD_EVENTS,
    });
    const result = await run(dir);
    expect(step(result, 'raw:app.orders').message).toMatch(
      /no files match orders\*\.csv in .*landing/,
    );
    expect(step(result, 'processed:orders').status).toBe('skipped');
    expect(step(result, 'processed:customers').status).toBe('succeeded');
    expect(result.status).toBe('failed');
  });

  it('does not retry a refused file on the next run unless asked, then loads it once fixed', async () => {
    const dir = project({
      'customers.csv': GOOD_CUSTOMERS,
      'orders.csv': 'order_id,cust,ts\n1,1,2025-01-01\n',
      'events.json': GOOD_EVENTS,
    });
    await run(dir);
    const again = await run(dir);
    expect(step(again, 'processed:orders').status).toBe('up_to_date');
    expect(step(again, 'processed:orders').message).toMatch(
      /1 file\(s\) refused by an earlier run/,
    );
    // The contract is fixed to match the file; a retry now loads it.
    writeFileSync(
      join(dir, 'contracts/orders.yml'),
      'columns:\n  - { name: order_id, type: bigint, required: true }\n  - { name: customer_id, type: bigint, from: cust }\n  - { name: ts, type: timestamp }\n',
    );
    const retried = await run(dir, { retryRejected: true });
    expect(step(retried, 'processed:orders')).toMatchObject({ status: 'succeeded', rowsOut: 1 });
  });

  it('leaves no staged files behind after a refused file', async () => {
    const { scratch } = await refused(
      { 'orders.csv': 'order_id,cust,ts\n1,1,2025-01-01\n' },
      'orders',
    );
    expect(scratch).toEqual([]);
  });

  it('clears what a killed run left: its scratch files and its partial writes in the lake', async () => {
    const dir = project({ 'customers.csv': GOOD_CUSTOMERS, 'events.json': GOOD_EVENTS });
    await run(dir);
    // What a process killed mid-write leaves: staging in the scratch folder, and temporary files
    // beside the lake objects it was writing (a file being landed, a manifest being swapped).
    const lake = join(dir, '.tributary/lake');
    writeFiles(join(dir, '.tributary/tmp'), { 'batch-dead/data/part-0.parquet': 'half' });
    writeFiles(lake, {
      'raw/app/customers/.landing-dead.tmp': 'half',
      'processed/customers/._manifest.json.0123456789ab.tmp': '{',
      'quarantine/app/customers/.x.parquet.0123456789ab.tmp': 'half',
    });
    writeFiles(join(dir, 'landing'), { 'customers-2.csv': 'id,name,zip\n3,Cy,02139\n' });
    const result = await run(dir);
    expect(step(result, 'processed:customers')).toMatchObject({ status: 'succeeded', rowsOut: 1 });
    expect(readdirSync(join(dir, '.tributary/tmp'))).toEqual([]);
    const left = readdirSync(lake, { recursive: true }).map(String);
    expect(left.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
