/**
 * Write dispositions: how a table's new batch joins what is already processed. append keeps
 * every earlier row (a key seen before goes to quarantine); replace makes the batch the whole
 * table; merge keeps the latest row per primary key, in the batch and across batches. Each
 * commit is one manifest swap, so a reader sees the table before or after, never between.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/orchestrator/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';

function project(disposition: string, partitioned = false): string {
  const dir = tempDir('trib-disp-');
  writeFiles(dir, {
    'tributary.yml': `name: t
sources:
  app:
    type: files
    path: landing
    tables:
      accounts: { files: "accounts*.csv", disposition: ${disposition} }
`,
    'contracts/accounts.yml': `primary_key: [id]
${partitioned ? 'partition_by: { column: opened, granularity: month }\n' : ''}columns:
  - { name: id, type: bigint, required: true }
  - { name: plan, type: string }
  - { name: opened, type: date, required: true }
`,
  });
  writeFiles(join(dir, 'landing'), {
    'accounts-1.csv': 'id,plan,opened\n1,free,2025-01-05\n2,free,2025-02-05\n3,pro,2025-02-07\n',
  });
  return dir;
}

async function runAndRead(dir: string) {
  return withWorkspace(dir, async (ws) => {
    const result = await runPipeline(ws);
    expect(result.status, JSON.stringify(result.steps.filter((s) => s.status === 'failed'))).toBe(
      'succeeded',
    );
    const { rows } = await ws.warehouse.query(
      'SELECT id, plan FROM processed.accounts ORDER BY id',
    );
    const quarantined = await ws.warehouse.query('SELECT count(*) AS n FROM quarantine.accounts');
    return {
      rows: rows.map((r) => `${String(r.id)}:${String(r.plan)}`),
      quarantined: Number(quarantined.rows[0]!.n),
    };
  });
}

const second = (dir: string, text: string) =>
  writeFileSync(join(dir, 'landing', 'accounts-2.csv'), text);

describe('write dispositions', () => {
  it('append keeps earlier rows and quarantines a key loaded before', async () => {
    const dir = project('append');
    await runAndRead(dir);
    second(dir, 'id,plan,opened\n2,pro,2025-02-05\n4,free,2025-03-01\n');
    expect(await runAndRead(dir)).toEqual({
      rows: ['1:free', '2:free', '3:pro', '4:free'],
      quarantined: 1,
    });
  });

  it('replace makes the newest batch the whole table', async () => {
    const dir = project('replace');
    await runAndRead(dir);
    second(dir, 'id,plan,opened\n2,pro,2025-02-05\n4,free,2025-03-01\n');
    expect(await runAndRead(dir)).toEqual({ rows: ['2:pro', '4:free'], quarantined: 0 });
  });

  it('replace removes the files of the replaced batch from the lake after the commit', async () => {
    const dir = project('replace');
    await runAndRead(dir);
    second(dir, 'id,plan,opened\n9,pro,2025-02-05\n');
    await runAndRead(dir);
    await withWorkspace(dir, async (ws) => {
      const manifest = JSON.parse(
        (await ws.store.get('processed/accounts/_manifest.json'))!.toString(),
      ) as { files: { key: string }[] };
      const onDisk = (await ws.store.list('processed/accounts/'))
        .map((o) => o.key)
        .filter((k) => k.endsWith('.parquet'));
      expect(onDisk.sort()).toEqual(manifest.files.map((f) => f.key).sort());
    });
  });

  it('merge replaces loaded rows by primary key and adds new keys', async () => {
    const dir = project('merge');
    await runAndRead(dir);
    second(dir, 'id,plan,opened\n2,pro,2025-02-05\n4,free,2025-03-01\n');
    expect(await runAndRead(dir)).toEqual({
      rows: ['1:free', '2:pro', '3:pro', '4:free'],
      quarantined: 0,
    });
  });

  it('merge keeps the last row of a key that appears twice in one batch, without quarantining the other', async () => {
    const dir = project('merge');
    await runAndRead(dir);
    second(dir, 'id,plan,opened\n1,pro,2025-01-05\n1,team,2025-01-05\n');
    expect(await runAndRead(dir)).toEqual({
      rows: ['1:team', '2:free', '3:pro'],
      quarantined: 0,
    });
  });

  it('merge rewrites only the partitions that hold a replaced key', async () => {
    const dir = project('merge', true);
    await runAndRead(dir);
    const before = await withWorkspace(dir, (ws) => ws.store.list('processed/accounts/'));
    second(dir, 'id,plan,opened\n3,team,2025-02-07\n');
    expect(await runAndRead(dir)).toEqual({ rows: ['1:free', '2:free', '3:team'], quarantined: 0 });
    await withWorkspace(dir, async (ws) => {
      const { rows } = await ws.warehouse.query(
        `SELECT count(*) AS n FROM processed.accounts WHERE id = 3`,
      );
      expect(Number(rows[0]!.n)).toBe(1);
      const january = before
        .filter((o) => o.key.includes('opened_month=2025-01/'))
        .map((o) => o.key);
      const manifest = JSON.parse(
        (await ws.store.get('processed/accounts/_manifest.json'))!.toString(),
      ) as { files: { key: string }[] };
      // The January file held no replaced key: the manifest still names it, untouched.
      expect(manifest.files.map((f) => f.key)).toEqual(expect.arrayContaining(january));
    });
  });
});
