/**
 * Changing rights on or views over the pipeline's relations while a run's step rebuilds one:
 * the step renames tables and drops the old one (with CASCADE) in a transaction, and PostgreSQL
 * updates a catalog row without waiting (a GRANT meeting the step's uncommitted rename fails with
 * "tuple concurrently updated", on either side). So such work first takes every relation it
 * touches, without waiting, and starts over a moment later while a step holds one: it never
 * waits on a step while holding what the step needs next (no deadlock), and a step never meets
 * its catalog changes half done.
 */
import { quoteIdentifier } from '../sql.js';
import { engineErrorKind, type Engine } from '../types.js';

/** Tries before giving up (about 10 s in all). */
const ATTEMPTS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `err` (or what caused it) has one of these SQLSTATEs. */
function hasCode(err: unknown, codes: string[]): boolean {
  for (let e = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && codes.includes(code)) return true;
  }
  return false;
}

/** A relation held, dropped since it was listed, or its catalog row changed meanwhile. */
const busy = (err: unknown) =>
  engineErrorKind(err) === 'conflict' ||
  hasCode(err, ['42P01']) ||
  /tuple concurrently updated/.test(err instanceof Error ? err.message : '');

/** Runs `fn` in a transaction, again (up to ATTEMPTS times) while a step holds what it needs. */
export async function whenRelationsFree<T>(
  engine: Engine,
  fn: (tx: Engine) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await engine.transaction(fn);
    } catch (err) {
      if (!busy(err) || attempt >= ATTEMPTS) throw err;
      await sleep(100 + Math.random() * 150);
    }
  }
}

/** Takes every `schema.name` (ACCESS SHARE, NOWAIT: fails at once when one is held). */
export async function lockRelations(
  tx: Engine,
  relations: { schema: string; name: string }[],
): Promise<void> {
  if (!relations.length) return;
  const names = relations.map((r) => `${quoteIdentifier(r.schema)}.${quoteIdentifier(r.name)}`);
  await tx.exec(`LOCK TABLE ${names.join(', ')} IN ACCESS SHARE MODE NOWAIT`);
}

/** Takes every table, view and the like of `schemas` (as lockRelations). */
export async function lockSchemas(tx: Engine, schemas: readonly string[]): Promise<void> {
  const { rows } = await tx.query(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      ORDER BY 1, 2`,
    [[...schemas]],
  );
  await lockRelations(
    tx,
    rows.map((r) => ({ schema: String(r.schema), name: String(r.name) })),
  );
}
