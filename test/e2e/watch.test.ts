/**
 * File arrival: a file dropped in the landing folder triggers its table's ingestion (and what
 * depends on it); a file still being written is not read half-done; a temporary name is not
 * read; each file lands exactly once, across a restart of the watcher too. The tests act on what
 * the watcher reports (a file seen changed, a run finished, a rescan done) and move the settle
 * clock by hand where the spacing of writes matters, never on wall-clock sleeps.
 */
import { appendFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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
      items: { files: "items*" }
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

const SETTLE_MS = 300;

/**
 * Starts a watcher (on the given settle clock, else the real one) and returns ways to wait for
 * its next run and for it to have seen a file at a given size.
 */
async function watching(ws: Workspace, now?: () => number) {
  const runs: { result: RunResult; tables: string[] }[] = [];
  const changes: { path: string; size: number }[] = [];
  const waiters: (() => void)[] = [];
  const seenWaiters: { path: string; size: number; resolve: () => void }[] = [];
  const settlingWaiters: { path: string; ms: number; resolve: () => void }[] = [];
  const watcher = new LandingWatcher(ws, {
    settleMs: SETTLE_MS,
    rescanMs: 1000,
    ...(now ? { now } : {}),
    onRun: (result, tables) => {
      runs.push({ result, tables });
      waiters.splice(0).forEach((w) => w());
    },
    onSettling: (path, ms) => {
      for (const w of settlingWaiters.filter((x) => x.path === path && x.ms === ms)) {
        settlingWaiters.splice(settlingWaiters.indexOf(w), 1);
        w.resolve();
      }
    },
    onChange: (path, size) => {
      changes.push({ path, size });
      for (const w of seenWaiters.filter((x) => x.path === path && x.size === size)) {
        seenWaiters.splice(seenWaiters.indexOf(w), 1);
        w.resolve();
      }
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
  /** Resolves once the watcher has seen the file at its current size. */
  const seen = (path: string) => {
    const size = statSync(path).size;
    if (changes.some((c) => c.path === path && c.size === size)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${path} not seen at ${size} bytes`)), 15_000);
      seenWaiters.push({
        path,
        size,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  };
  /** Resolves once a check found the file unchanged for exactly `ms` and kept waiting. */
  const settling = (path: string, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no check found ${path} unchanged for ${ms} ms and waiting`)),
        15_000,
      );
      settlingWaiters.push({
        path,
        ms,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  return { watcher, runs, changes, nextRun, seen, settling };
}

/** A settle clock that moves only when told. */
function handClock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
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
      const clock = handClock();
      const { watcher, runs, nextRun, seen, settling } = await watching(ws, clock.now);
      const ran = nextRun();
      const path = join(dir, 'landing', 'items-2.csv');
      writeFileSync(path, 'id,label\n1,a\n');
      await seen(path);
      for (let i = 2; i <= 5; i++) {
        // Just short of settling, a check keeps waiting; then the writer adds a line, and the wait
        // starts again. (Counted from the first sight of the file, it would have settled.)
        const waited = settling(path, SETTLE_MS - 1);
        clock.advance(SETTLE_MS - 1);
        await waited;
        appendFileSync(path, `${i},x\n`);
        await seen(path);
      }
      expect(runs).toHaveLength(0);
      clock.advance(SETTLE_MS);
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
      const { watcher, runs, changes, nextRun } = await watching(ws);
      const ran = nextRun();
      // The name matches the table's pattern (items*): only its temporary ending keeps it out.
      writeFileSync(join(dir, 'landing', 'items-3.csv.part'), 'id,label\n7,z\n');
      await watcher.rescan(); // the watcher has looked at every file in the folder
      expect(changes).toEqual([]);
      renameSync(join(dir, 'landing', 'items-3.csv.part'), join(dir, 'landing', 'items-3.csv'));
      await ran;
      await watcher.stop();
      expect(runs).toHaveLength(1);
      expect(changes.map((c) => c.path)).not.toContain(join(dir, 'landing', 'items-3.csv.part'));
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
