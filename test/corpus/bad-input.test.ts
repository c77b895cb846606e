/**
 * The bad-input corpus (bad-input.ts) through a real project: every case's rows load, wait in
 * quarantine with their line and reason, or its file is refused whole, as the corpus says; every
 * other table, and what is downstream, still runs. The same project then goes through the CLI in
 * a process of its own: no input crashes it, and the exit code says files were refused.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPipeline, type RunResult } from '../../src/orchestrator/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';
import { CORPUS, CSV_CONTRACT, JSON_CONTRACT } from './bad-input.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');
const EXT = { csv: 'csv', json: 'json', ndjson: 'ndjson' } as const;

/** The corpus, plus a parent whose file is refused, its child, and a good table with a model. */
function corpusProject(): string {
  const dir = tempDir('trib-corpus-');
  const tables = CORPUS.map(
    (c) => `      ${c.name}: { files: "${c.name}.${EXT[c.format]}", format: ${c.format} }`,
  );
  writeFiles(dir, {
    'tributary.yml': `name: corpus
sources:
  drop:
    type: files
    path: landing
    tables:
${tables.join('\n')}
      parents: { files: "parents*.csv" }
      children: { files: "children*.csv" }
      good: { files: "good*.csv" }
`,
    ...Object.fromEntries(
      CORPUS.map((c) => [
        `contracts/${c.name}.yml`,
        c.format === 'csv' ? CSV_CONTRACT : JSON_CONTRACT,
      ]),
    ),
    'contracts/parents.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: label, type: string }
`,
    'contracts/children.yml': `columns:
  - { name: id, type: bigint, required: true }
  - { name: parent_id, type: bigint, references: parents.id }
`,
    'contracts/good.yml': CSV_CONTRACT,
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: good }, { name: children }]
`,
    'models/good_total.sql': `select count(*) as n, sum(amount) as total from {{ source('lake', 'good') }}`,
    'models/children_seen.sql': `select count(*) as n from {{ source('lake', 'children') }}`,
    // The parent's file names a column its contract does not know: it is refused.
    'landing/parents.csv': 'id,lable\n1,one\n',
    'landing/children.csv': 'id,parent_id\n10,1\n11,\n',
    'landing/good.csv': 'id,name,amount,day\n1,a,1.50,2024-01-01\n2,b,2.50,2024-01-02\n',
  });
  for (const c of CORPUS)
    writeFileSync(join(dir, 'landing', `${c.name}.${EXT[c.format]}`), c.content());
  return dir;
}

let dir: string;
let result: RunResult;

beforeAll(async () => {
  dir = corpusProject();
  result = await withWorkspace(dir, (ws) => runPipeline(ws));
}, 120_000);

const query = (sql: string) =>
  withWorkspace(dir, async (ws) => (await ws.warehouse.query(sql)).rows);

describe('the bad-input corpus', () => {
  it('finishes the run: no file fails its step, and every step runs', () => {
    const failed = result.steps.filter((s) => s.status === 'failed' || s.status === 'skipped');
    expect(failed).toEqual([]);
    expect(result.status).toBe('succeeded');
  });

  it.each(CORPUS)('$name: $why', async (c) => {
    const loaded = await query(`select id from processed.${c.name} order by id`);
    expect(loaded.map((r) => r.id)).toEqual(c.loaded);
    const quarantined = await query(
      `select _line, _reason, _column, _record from quarantine.${c.name} order by _line`,
    );
    expect(
      quarantined.map((r) => ({
        line: r._line === null ? null : Number(r._line),
        reason: r._reason,
        ...(r._column ? { column: r._column } : {}),
      })),
    ).toEqual(c.quarantined ?? []);
    // Every quarantined record says which record of the file it was.
    expect(quarantined.every((r) => r._record !== null)).toBe(true);
    const refusals = result.refusedFiles.filter((f) => f.asset === `processed:${c.name}`);
    if (c.refused) {
      expect(refusals).toHaveLength(1);
      expect(refusals[0]!.message).toMatch(c.refused);
    } else {
      expect(refusals).toEqual([]);
    }
  });

  it('keeps rows that need a refused parent waiting in quarantine, and loads the others', async () => {
    expect(await query('select id from processed.children order by id')).toEqual([{ id: '11' }]);
    expect(await query('select id, _reason from quarantine.children')).toEqual([
      { id: '10', _reason: 'foreign_key' },
    ]);
  });

  it('loads every other table and builds what is downstream of it', async () => {
    expect(await query('select n, total from good_total')).toEqual([{ n: '2', total: '4.00' }]);
    expect(await query('select n from children_seen')).toEqual([{ n: '1' }]);
  });

  it('never crashes the CLI: a run over the same files exits 3, naming each refused file and how to retry', () => {
    const fresh = corpusProject();
    const cli = spawnSync(process.execPath, [CLI, '-p', fresh, 'run'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(cli.signal).toBeNull();
    expect(cli.status, cli.stderr).toBe(3);
    const refused = CORPUS.filter((c) => c.refused).map((c) => `${c.name}.${EXT[c.format]}`);
    expect(cli.stdout).toMatch(new RegExp(`${refused.length + 1} file\\(s\\) refused`));
    for (const file of [...refused, 'parents.csv']) expect(cli.stdout).toContain(file);
    expect(cli.stdout).toContain('tributary run --retry-rejected');
  }, 120_000);
});
