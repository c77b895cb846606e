/**
 * Views kept across a rebuild of the relation they read. A PostgreSQL view binds to a relation,
 * not its name, so dropping a table (or swapping a new one in and dropping the old) drops every
 * view over it, by CASCADE: a model's view downstream, and the table's masked mirror view with
 * the mirrors of views over it. Readers would meet "relation does not exist" until the view's own
 * model or the next publish made it again. Instead, the step's transaction takes those views
 * first (before the relation, the order a reader's query locks them in, so a reader waiting on
 * the relation can never deadlock with the step), keeps their definitions, rights and comments,
 * and re-makes them before it commits: readers see the old relation with its views, or the new
 * one with its views, never the gap. A table's masked mirror view is re-made from the new
 * table's columns (masking every column publishing did not show clear); a view whose definition
 * no longer fits the new relation (a column it reads is gone) is left dropped, as before.
 */
import { quoteIdentifier, quoteString } from '../sql.js';
import type { Engine } from '../types.js';
import { readMirrorNote, recreateMirrorView } from './masked-mirror.js';

/** A view over a rebuilt relation, as it was before the rebuild. */
export interface KeptView {
  oid: number;
  schema: string;
  name: string;
  /** Its distance from the rebuilt relation (1: reads it directly). */
  depth: number;
  /** Its definition, every name schema-qualified. */
  definition: string;
  comment: string | null;
  grants: { grantee: string; privilege: string; grantable: boolean }[];
}

const q = quoteIdentifier;
const rel = (v: { schema: string; name: string }) => `${q(v.schema)}.${q(v.name)}`;

/**
 * Views reading `schema.name`, directly or through other views, deepest first; only plain views
 * the session's user owns (it can re-make those as they were). Others are dropped by CASCADE.
 */
const DEPENDENTS_SQL = `
WITH RECURSIVE deps(oid, depth) AS (
    SELECT c.oid, 0 FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = coalesce($1::text, current_schema()) AND c.relname = $2
  UNION
    SELECT r.ev_class, d.depth + 1
      FROM deps d
      JOIN pg_catalog.pg_depend dep ON dep.refclassid = 'pg_catalog.pg_class'::regclass
       AND dep.refobjid = d.oid AND dep.classid = 'pg_catalog.pg_rewrite'::regclass
      JOIN pg_catalog.pg_rewrite r ON r.oid = dep.objid
     WHERE r.ev_class <> d.oid AND d.depth < 32)
SELECT c.oid::bigint AS oid, n.nspname AS schema, c.relname AS name, max(d.depth) AS depth,
       obj_description(c.oid, 'pg_class') AS comment
  FROM deps d
  JOIN pg_catalog.pg_class c ON c.oid = d.oid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE d.depth > 0 AND c.relkind = 'v' AND pg_get_userbyid(c.relowner) = current_user
   AND n.nspname NOT LIKE 'pg\\_temp\\_%'
 GROUP BY 1, 2, 3, 5
 ORDER BY 4 DESC, 2, 3`;

async function dependentsOf(
  tx: Engine,
  schema: string | undefined,
  name: string,
): Promise<Omit<KeptView, 'definition' | 'grants'>[]> {
  const { rows } = await tx.query(DEPENDENTS_SQL, [schema ?? null, name]);
  return rows.map((r) => ({
    oid: Number(r.oid),
    schema: String(r.schema),
    name: String(r.name),
    depth: Number(r.depth),
    comment: r.comment === null ? null : String(r.comment),
  }));
}

/** Runs `fn` with an empty search_path (names in definitions come out, and go in, qualified). */
async function qualifiedNames<T>(tx: Engine, fn: () => Promise<T>): Promise<T> {
  const { rows } = await tx.query(
    `SELECT current_setting('search_path') AS path, set_config('search_path', '', true) AS x`,
  );
  try {
    return await fn();
  } finally {
    await tx.query(`SELECT set_config('search_path', $1, true) AS x`, [String(rows[0]!.path)]);
  }
}

/**
 * Takes the views over `schema.name` and the relation itself (ACCESS EXCLUSIVE, views first, in
 * `tx`, which must be a transaction) and returns those views as they are, to `restoreViews` once
 * the relation is rebuilt. Call it before anything else in `tx` touches the relation.
 */
export async function keepViewsOver(
  tx: Engine,
  schema: string | undefined,
  name: string,
): Promise<KeptView[]> {
  let found = await dependentsOf(tx, schema, name);
  if (!found.length) return [];
  const locked = new Set<number>();
  // A view made over the relation while this waited is taken too, and a view a publish dropped
  // meanwhile (a lock naming it fails, to its savepoint) is looked up again; a few rounds at
  // most, then the drop takes what is left as it goes.
  for (let round = 0; round < 5; round++) {
    const fresh = found.filter((v) => !locked.has(v.oid));
    if (!fresh.length) break;
    const lock = `LOCK TABLE ${fresh.map(rel).join(', ')} IN ACCESS EXCLUSIVE MODE`;
    if (await attempt(tx, () => tx.exec(lock))) for (const v of fresh) locked.add(v.oid);
    found = await dependentsOf(tx, schema, name);
  }
  const oids = found.map((v) => v.oid);
  return qualifiedNames(tx, async () => {
    const { rows } = await tx.query(
      `SELECT c.oid::bigint AS oid, pg_get_viewdef(c.oid) AS definition,
              coalesce((SELECT json_agg(json_build_array(
                         CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                         a.privilege_type, a.is_grantable))
                          FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner), '[]') AS grants
         FROM pg_catalog.pg_class c WHERE c.oid = ANY($1::oid[])`,
      [oids],
    );
    const byOid = new Map(rows.map((r) => [Number(r.oid), r]));
    return found.flatMap((v) => {
      const r = byOid.get(v.oid);
      if (!r) return [];
      const grants = (
        (typeof r.grants === 'string' ? JSON.parse(r.grants) : r.grants) as [
          string,
          string,
          boolean,
        ][]
      ).map(([grantee, privilege, grantable]) => ({ grantee, privilege, grantable }));
      const definition = String(r.definition).trim().replace(/;\s*$/, '');
      return [{ ...v, definition, grants }];
    });
  });
}

/** Runs `fn` inside a savepoint: false (and rolled back to it) when it fails. */
async function attempt(tx: Engine, fn: () => Promise<unknown>): Promise<boolean> {
  await tx.exec('SAVEPOINT tributary_keep_view');
  try {
    await fn();
    await tx.exec('RELEASE SAVEPOINT tributary_keep_view');
    return true;
  } catch {
    await tx.exec('ROLLBACK TO SAVEPOINT tributary_keep_view');
    return false;
  }
}

/** Whether `schema.name` is a relation now. */
async function exists(tx: Engine, v: { schema: string; name: string }): Promise<boolean> {
  const { rows } = await tx.query(
    `SELECT 1 AS x FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [v.schema, v.name],
  );
  return rows.length > 0;
}

/**
 * Re-makes the views `keepViewsOver` kept that are gone (nearest the relation first), with their
 * rights and comments, in `tx`; returns those it could not (their definition no longer fits).
 */
export async function restoreViews(tx: Engine, kept: readonly KeptView[]): Promise<KeptView[]> {
  if (!kept.length) return [];
  let pending = [...kept].sort((a, b) => a.depth - b.depth);
  await qualifiedNames(tx, async () => {
    // A view over another kept one needs it first: passes until one makes no progress.
    for (let progress = true; progress && pending.length;) {
      progress = false;
      const left: KeptView[] = [];
      for (const v of pending) {
        // Still there (not over what was dropped), or kept twice: nothing to do.
        if ((await exists(tx, v)) || (await restoreView(tx, v))) progress = true;
        else left.push(v);
      }
      pending = left;
    }
  });
  return pending;
}

/** Re-makes one kept view (false when its definition no longer fits). */
function restoreView(tx: Engine, v: KeptView): Promise<boolean> {
  const note = readMirrorNote(v.comment);
  return attempt(tx, async () => {
    if (note) {
      if (!(await recreateMirrorView(tx, v.schema, v.name, note)))
        throw new Error('its table is gone');
    } else {
      await tx.exec(`CREATE VIEW ${rel(v)} AS ${v.definition}`);
      if (v.comment !== null)
        await tx.exec(`COMMENT ON VIEW ${rel(v)} IS ${quoteString(v.comment)}`);
    }
    for (const g of v.grants)
      await tx.exec(
        `GRANT ${g.privilege} ON ${rel(v)} TO ${g.grantee === 'PUBLIC' ? 'PUBLIC' : q(g.grantee)}${g.grantable ? ' WITH GRANT OPTION' : ''}`,
      );
  });
}
