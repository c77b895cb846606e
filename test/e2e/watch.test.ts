/**
 * File arrival: a file dropped in the landing folder triggers its table's ingestion (and what
 * depends on it); a file still being written is not read half-done; each file lands exactly once,
 * across a restart of the watcher too.
 */
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LandingWatcher,
  openWorkspace,
  type RunResult,
  type Workspace,
} from '../../src/orchestrator/index.js';
import { tempDir, writeFiles } from '../helpers.js';

function project(): string {
  const dir = tempDir('trib-watch-');
  writeFiles(dir, {
    'tributary.yml': `name: w
sources:
  app:
    type: files
    path: landing
    tables:
      items: { files: "items*.csv" }
`,
    'contracts/items.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: label, type: string }
`,
    'landing/.keep': '',
  });
  return dir;
}

/** Starts a watcher and returns a way to wait for its next run. */
async function watching(ws: Workspace) {
  const runs: { result: RunResult; tables: string[] }[] = [];
  const waiters: (() => void)[] = [];
  const watcher = new LandingWatcher(ws, {
    settleMs: 300,
    rescanMs: 1000,
    onRun: (result, tables) => {
      runs.push({ result, tables });
      waiters.splice(0).forEach((w) => w());
    },
  });
  await watcher.start();
  const nextRun = () =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no run within 15 s')), 15_000);
      waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  return { watcher, runs, nextRun };
}

const count = async (ws: Workspace) =>
  Number((await ws.warehouse.query('SELECT count(*) AS n FROM processed.items')).rows[0]!.n);

describe('file arrival', () => {
  it('ingests a new file and everything downstream of its table', async () => {
    const dir = project();
    const ws = await openWorkspace(dir, 'test');
    try {
      const { watcher, runs, nextRun } = await watching(ws);
      const ran = nextRun();
      writeFileSync(join(dir, 'landing', 'items-1.csv'), 'id,label\n1,a\n2,b\n');
      await ran;
      await watcher.stop();
      expect(runs[0]!.tables).toEqual(['app.items']);
      expect(runs[0]!.result.status).toBe('succeeded');
      expect(runs[0]!.result.steps.map((s) => s.asset)).toEqual([
        'raw:app.items',
        'processed:items',
      ]);
      expect(await count(ws)).toBe(2);
    } finally {
      await ws.close();
    }
  });

  it('waits for a file that is still being written, and reads it whole', async () => {
    const dir = project();
    const ws = await openWorkspace(dir, 'test');
    try {
      const { watcher, runs, nextRun } = await watching(ws);
      const ran = nextRun();
      const path = join(dir, 'landing', 'items-2.csv');
      writeFileSync(path, 'id,label\n1,a\n');
      for (let i = 2; i <= 5; i++) {
        await new Promise((r) => setTimeout(r, 100)); // shorter than settleMs: still being written
        appendFileSync(path, `${i},x\n`);
      }
      await ran;
      await watcher.stop();
      expect(runs).toHaveLength(1);
      expect(await count(ws)).toBe(5);
    } finally {
      await ws.close();
    }
  });

  it('ignores temporary names until the file is renamed into place', async () => {
    const dir = project();
    const ws = await openWorkspace(dir, 'test');
    try {
      const { watcher, runs, nextRun } = await watching(ws);
      const ran = nextRun();
      writeFileSync(join(dir, 'landing', 'items-3.csv.part'), 'id,label\n7,z\n');
      await new Promise((r) => setTimeout(r, 800));
      expect(runs).toHaveLength(0);
      renameSync(join(dir, 'landing', 'items-3.csv.part'), join(dir, 'landing', 'items-3.csv'));
      await ran;
      await watcher.stop();
      expect(await count(ws)).toBe(1);
    } finally {
      await ws.close();
    }
  });

  it('lands each file once across a restart, catching up on files that arrived while stopped', async () => {
    const dir = project();
    writeFileSync(join(dir, 'landing', 'items-1.csv'), 'id,label\n1,a\n');
    let ws = await openWorkspace(dir, 'test');
    try {
      const { watcher, nextRun } = await watching(ws);
      await nextRun(); // the catch-up run for the file already there
      await watcher.stop();
      expect(await count(ws)).toBe(1);
    } finally {
      await ws.close();
    }
    writeFileSync(join(dir, 'landing', 'items-2.csv'), 'id,label\n2,b\n');
    ws = await openWorkspace(dir, 'test');
    try {
      const { watcher, nextRun } = await watching(ws);
      await nextRun();
      await watcher.stop();
      expect(await count(ws)).toBe(2);
      const raw = JSON.parse((await ws.store.get('raw/app/items/_manifest.json'))!.toString()) as {
        batches: unknown[];
      };
      expect(raw.batches).toHaveLength(2);
    } finally {
      await ws.close();
    }
  });
});
