/**
 * What the sync crash campaigns share (crash.test.ts against PostgreSQL, crash-hubspot.test.ts
 * against the HubSpot stand-in): the child process they kill (test/sync/crash/child.ts, built to
 * dist/), a seeded random source for kill moments, the warehouse file between kills, and how the
 * source moves on between kills.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { seededRandom } from '../../src/core/index.js';
import { openDuckDB, type Engine } from '../../src/engines/index.js';
import type { ChildConfig } from './crash/child.js';

export const CHILD = resolve(import.meta.dirname, '../../dist/test/sync/crash/child.js');

/** Throws when the child is not built (the crash tests run it from dist/). */
export function requireBuiltChild(): void {
  if (!existsSync(CHILD))
    throw new Error(`${CHILD} is missing: run \`npm run build\` before the sync crash tests`);
}

/** The project's seeded PRNG, so a seed replays the same kill moments. */
export const prng = seededRandom;

export interface ChildRun {
  ended: string;
  batches: number;
  output: string;
}

export interface ChildRunOptions {
  /** SIGKILL the child `delayMs` after it has printed this many batch lines. */
  killAfterBatches?: number;
  delayMs?: number;
  /** TRIBUTARY_FAULT for the child (`crash:<point>` exits at that point). */
  fault?: string;
  /** Told the child as it starts (a test that kills on its own signal keeps it). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs the child with `config`; resolves when it exits, however it ends. */
export function runChild(config: ChildConfig, options: ChildRunOptions = {}): Promise<ChildRun> {
  const env = { ...process.env };
  if (options.fault) env.TRIBUTARY_FAULT = options.fault;
  else delete env.TRIBUTARY_FAULT;
  const child = spawn(process.execPath, [CHILD, JSON.stringify(config)], { env });
  options.onSpawn?.(child);
  let output = '';
  let batches = 0;
  let killing = false;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (output += d));
  child.stdout.on('data', (d: string) => {
    output += d;
    batches += (d.match(/^batch /gm) ?? []).length;
    if (options.killAfterBatches !== undefined && !killing && batches >= options.killAfterBatches) {
      killing = true;
      setTimeout(() => child.kill('SIGKILL'), options.delayMs ?? 0);
    }
  });
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('exit', (code, signal) =>
      done({ ended: signal ?? `exit ${code}`, batches, output: output.slice(-2000) }),
    );
  });
}

/** Whether a trial's child ended as a kill (or ran to the end before the kill came). */
export function endedAsKill(run: ChildRun): boolean {
  return run.ended === 'SIGKILL' || run.ended === 'exit 137' || run.ended === 'exit 0';
}

/** Opens the warehouse file (only while no child holds it), runs `fn`, closes it. */
export async function withWarehouse<T>(path: string, fn: (e: Engine) => Promise<T>): Promise<T> {
  const engine = await openDuckDB({ path });
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

/** The source table the child syncs: `rows` customers (email, name, version). */
export function createCustomers(path: string, rows: number): Promise<void> {
  return withWarehouse(path, (e) =>
    e.exec(`CREATE TABLE customers AS SELECT 'user' || lpad(CAST(i AS VARCHAR), 6, '0') || '@x.io' AS email,
              'name ' || i AS name, CAST(1 AS INTEGER) AS version FROM range(${rows}) t(i)`),
  );
}

/**
 * The source moves on between kills: `added` new keys, changed values of about a fifth of the old
 * ones and, with `deleteShare`, that share of keys gone (mirror mode deletes them downstream).
 */
export function moveSourceOn(
  path: string,
  trial: number,
  options: { added: number; deleteShare?: number },
): Promise<void> {
  const deletes = options.deleteShare
    ? `DELETE FROM customers WHERE hash(email || 'gone${trial}') % 1000 < ${Math.round(options.deleteShare * 1000)};`
    : '';
  return withWarehouse(path, (e) =>
    e.exec(`INSERT INTO customers SELECT 'new' || ${trial} || '-' || i || '@x.io', 'fresh ' || i, 1 FROM range(${options.added}) t(i);
            UPDATE customers SET version = version + 1, name = name || '+'
             WHERE hash(email || '${trial}') % 5 = 0;
            ${deletes}`),
  );
}
