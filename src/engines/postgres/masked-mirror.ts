/**
 * Masked mirrors of a PostgreSQL warehouse's schemas, for roles that may not see personal data
 * (what a DuckDB warehouse's masked twin is, engines/duckdb/mask.ts, without copying anything):
 * for each schema, a schema `<schema>__masked` with one view per relation of the original,
 * reading it with the PII columns masked (text `****`, other types NULL of the column's type,
 * NULL staying NULL). The views are owned by the warehouse user, so they read the originals; the
 * masked role is granted the mirrors only, never the originals, so no statement it sends can
 * reach an unmasked value. A view of the original is mirrored by its own definition with its
 * references pointed at the mirrors (as the DuckDB twin's views read the masked tables by name),
 * so what it derives from PII under another name is masked too; a view whose definition cannot
 * be redirected is left out (withheld), as the DuckDB twin leaves it out.
 */
import { createHash } from 'node:crypto';
import { TributaryError } from '../../core/errors.js';
import { quoteIdentifier, quoteString } from '../sql.js';
import type { Engine } from '../types.js';
import { lockRelations, whenRelationsFree } from './relation-locks.js';

/** What a masked text value reads (the same as the DuckDB twin's). */
const MASK_TEXT = '****';

/** The comment that marks a schema as a mirror this code made (and may drop). */
const MARK = 'tributary masked mirror of ';

/** PostgreSQL truncates names past 63 bytes: a long schema's mirror is shortened, with a hash. */
export function mirrorSchemaOf(schema: string): string {
  const name = `${schema}__masked`;
  if (Buffer.byteLength(name) <= 63) return name;
  const hash = createHash('sha256').update(schema).digest('hex').slice(0, 8);
  return `${schema.slice(0, 40)}_${hash}__masked`;
}

/** The comment on a table's mirror view: which table it reads and its columns shown as they are. */
const VIEW_MARK = 'tributary masked view ';

interface MirrorNote {
  /** The table's schema and name. */
  of: [string, string];
  /** Its columns the mirror shows unmasked (lower case); every other column is masked. */
  clear: string[];
}

/** The mirror note of a view's comment, or undefined when it is not a table's mirror view. */
export function readMirrorNote(comment: string | null | undefined): MirrorNote | undefined {
  if (!comment?.startsWith(VIEW_MARK)) return undefined;
  try {
    const note = JSON.parse(comment.slice(VIEW_MARK.length)) as MirrorNote;
    if (Array.isArray(note.of) && note.of.length === 2 && Array.isArray(note.clear)) return note;
  } catch {
    // not one of ours
  }
  return undefined;
}

/**
 * Creates (in `mirror`) the mirror view of the table a note names, from the table's columns as
 * they are now: the columns the note shows clear stay clear, every other one is masked (one the
 * table gained since publishing too, until the next publish decides). Returns false when the
 * table is gone.
 */
export async function recreateMirrorView(
  tx: Engine,
  mirror: string,
  name: string,
  note: MirrorNote,
): Promise<boolean> {
  const [schema, table] = note.of;
  const { rows } = await tx.query(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            t.typcategory = 'S' AS is_text
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_type t ON t.oid = a.atttypid
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'm', 'f')
      ORDER BY a.attnum`,
    [schema, table],
  );
  if (!rows.length) return false;
  const columns = rows.map((r) => ({
    name: String(r.name),
    type: String(r.type),
    text: r.is_text === true,
  }));
  const clear = new Set(note.clear);
  const masked = new Set(columns.map((c) => c.name.toLowerCase()).filter((c) => !clear.has(c)));
  await createTableMirror(tx, mirror, name, { schema, name: table, columns }, masked);
  return true;
}

/** The mirror view of a table, with the note that lets a step rebuilding the table re-make it. */
async function createTableMirror(
  tx: Engine,
  mirror: string,
  name: string,
  rel: { schema: string; name: string; columns: Column[] },
  masked: Set<string>,
): Promise<void> {
  const note: MirrorNote = {
    of: [rel.schema, rel.name],
    clear: rel.columns.map((c) => c.name.toLowerCase()).filter((c) => !masked.has(c)),
  };
  await tx.exec(
    `CREATE VIEW ${q(mirror)}.${q(name)} AS SELECT ${selectList(rel.columns, masked)} FROM ${q(rel.schema)}.${q(rel.name)};
     COMMENT ON VIEW ${q(mirror)}.${q(name)} IS ${quoteString(VIEW_MARK + JSON.stringify(note))}`,
  );
}

/**
 * Drops the mirror view of `schema.name` (and mirror views reading it), if its mirror is one
 * this code made: a column it reads can be neither dropped nor retyped. Publishing rebuilds it.
 */
export async function dropMirrorView(engine: Engine, schema: string, name: string): Promise<void> {
  const mirror = mirrorSchemaOf(schema);
  const { rows } = await engine.query(
    `SELECT 1 AS x FROM pg_namespace
      WHERE nspname = $1 AND obj_description(oid, 'pg_namespace') = $2`,
    [mirror, MARK + schema],
  );
  if (rows.length) await engine.exec(`DROP VIEW IF EXISTS ${q(mirror)}.${q(name)} CASCADE`);
}

export interface MaskedMirrorOptions {
  /** The schemas to mirror (those that do not exist are skipped). */
  schemas: readonly string[];
  /** `schema.name` → its PII columns (matched case-insensitively; missing ones ignored). */
  pii: Record<string, string[]>;
  /** The role that reads the mirrors: granted them, revoked the originals. */
  role: string;
  /**
   * A view's definition (names schema-qualified) with its references to each schema `redirect`
   * maps pointed at that schema instead; throws when the definition cannot be read.
   */
  redirectView: (sql: string, redirect: (schema: string) => string | undefined) => Promise<string>;
}

export interface MaskedMirrors {
  /** Original schema → its mirror. */
  mirrors: Record<string, string>;
  /** `schema.name` → the columns masked in its mirror view. */
  columns: Record<string, string[]>;
  /** Relations with PII that have no mirror view (their definition could not be redirected). */
  withheld: string[];
}

interface Column {
  name: string;
  type: string;
  text: boolean;
}

interface Relation {
  oid: number;
  schema: string;
  name: string;
  view: boolean;
  columns: Column[];
}

const q = quoteIdentifier;

/** The relations of `schemas` with their columns, in order. */
async function relationsOf(tx: Engine, schemas: string[]): Promise<Relation[]> {
  const { rows } = await tx.query(
    `SELECT c.oid::bigint AS oid, n.nspname AS schema, c.relname AS name, c.relkind = 'v' AS is_view,
            a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type,
            t.typcategory = 'S' AS is_text
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_type t ON t.oid = a.atttypid
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      ORDER BY n.nspname, c.relname, a.attnum`,
    [schemas],
  );
  const out = new Map<number, Relation>();
  for (const r of rows) {
    const oid = Number(r.oid);
    let rel = out.get(oid);
    if (!rel) {
      rel = {
        oid,
        schema: String(r.schema),
        name: String(r.name),
        view: r.is_view === true,
        columns: [],
      };
      out.set(oid, rel);
    }
    rel.columns.push({ name: String(r.column_name), type: String(r.type), text: !!r.is_text });
  }
  return [...out.values()];
}

/** The select list of a mirror view: every column by name, the masked ones replaced. */
function selectList(columns: Column[], masked: Set<string>): string {
  return columns
    .map((c) => {
      if (!masked.has(c.name.toLowerCase())) return q(c.name);
      const value = c.text
        ? `CASE WHEN ${q(c.name)} IS NULL THEN NULL ELSE ${quoteString(MASK_TEXT)} END`
        : `CAST(NULL AS ${c.type})`;
      return `${value} AS ${q(c.name)}`;
    })
    .join(', ');
}

/** Runs `sql` inside a savepoint: false (and rolled back to it) when it fails. */
async function attempt(tx: Engine, sql: string): Promise<boolean> {
  await tx.exec('SAVEPOINT tributary_mirror');
  try {
    await tx.exec(sql);
    await tx.exec('RELEASE SAVEPOINT tributary_mirror');
    return true;
  } catch {
    await tx.exec('ROLLBACK TO SAVEPOINT tributary_mirror');
    return false;
  }
}

/**
 * Drops the mirrors made before (the comment marks them) that are rebuilt now, and those whose
 * original schema is gone; refuses a schema of the same name that is not a mirror. A mirror of
 * a schema that still exists is left alone otherwise: it may be another project's in the same
 * database.
 */
async function dropOldMirrors(tx: Engine, wanted: string[]): Promise<void> {
  const { rows } = await tx.query(
    `SELECT n.nspname AS name, obj_description(n.oid, 'pg_namespace') AS note
       FROM pg_namespace n
      WHERE n.nspname = ANY($1::text[])
         OR (obj_description(n.oid, 'pg_namespace') LIKE $2 AND NOT EXISTS (
               SELECT 1 FROM pg_namespace o
                WHERE $3 || o.nspname = obj_description(n.oid, 'pg_namespace')))`,
    [wanted, `${MARK}%`, MARK],
  );
  for (const r of rows) {
    if (!String(r.note ?? '').startsWith(MARK))
      throw new TributaryError(
        `the PostgreSQL warehouse has a schema ${String(r.name)} that Tributary did not make: it is the name of a masked mirror`,
        { code: 'CONFIG', hint: `rename or drop the schema ${String(r.name)}` },
      );
    await tx.exec(`DROP SCHEMA ${q(String(r.name))} CASCADE`);
  }
}

/** Creates the mirror views of views, those reading other mirror views after them. */
async function mirrorViews(
  tx: Engine,
  views: { rel: Relation; masked: Set<string> }[],
  options: MaskedMirrorOptions,
  mirrors: Record<string, string>,
): Promise<Relation[]> {
  const redirect = (schema: string) => mirrors[schema];
  const pending: { rel: Relation; sql: string }[] = [];
  const failed: Relation[] = [];
  for (const { rel, masked } of views) {
    const { rows } = await tx.query('SELECT pg_get_viewdef($1::oid) AS sql', [rel.oid]);
    try {
      const body = await options.redirectView(
        String(rows[0]!.sql).trim().replace(/;\s*$/, ''),
        redirect,
      );
      const names = rel.columns.map((c) => q(c.name)).join(', ');
      const select = masked.size
        ? `SELECT ${selectList(rel.columns, masked)} FROM (${body}) AS _unmasked(${names})`
        : body;
      pending.push({
        rel,
        sql: `CREATE VIEW ${q(mirrors[rel.schema]!)}.${q(rel.name)} AS ${select}`,
      });
    } catch {
      failed.push(rel);
    }
  }
  // A view reading another view's mirror needs it first: passes until one makes no progress.
  for (let progress = true; progress && pending.length;) {
    progress = false;
    for (const p of [...pending])
      if (await attempt(tx, p.sql)) {
        pending.splice(pending.indexOf(p), 1);
        progress = true;
      }
  }
  return [...failed, ...pending.map((p) => p.rel)];
}

/** One attempt at the rebuild, in the transaction `tx`. */
async function rebuildIn(
  tx: Engine,
  options: MaskedMirrorOptions,
  want: Map<string, Set<string>>,
): Promise<MaskedMirrors> {
  await tx.lockInTransaction('tributary.masked_mirrors');
  // Names in view definitions come out schema-qualified.
  await tx.exec(`SET LOCAL search_path = ''`);
  const { rows } = await tx.query(
    'SELECT nspname AS name FROM pg_namespace WHERE nspname = ANY($1::text[]) ORDER BY nspname',
    [[...options.schemas]],
  );
  const schemas = rows.map((r) => String(r.name));
  const mirrors = Object.fromEntries(schemas.map((s) => [s, mirrorSchemaOf(s)]));
  const relations = await relationsOf(tx, schemas);
  // The originals first, without waiting: a run's step swapping a table in holds it and then
  // drops the old one's mirror view; waiting for it while holding others could close a cycle
  // (a deadlock, which might fail that step). Held, nothing here waits on a step.
  await lockRelations(tx, relations);
  await dropOldMirrors(tx, Object.values(mirrors));
  const out: MaskedMirrors = { mirrors, columns: {}, withheld: [] };
  const role = q(options.role);
  for (const s of schemas) {
    const m = q(mirrors[s]!);
    await tx.exec(
      `CREATE SCHEMA ${m}; COMMENT ON SCHEMA ${m} IS ${quoteString(MARK + s)};
         REVOKE ALL ON ALL TABLES IN SCHEMA ${q(s)} FROM ${role};
         REVOKE ALL ON SCHEMA ${q(s)} FROM ${role}`,
    );
  }
  const views: { rel: Relation; masked: Set<string> }[] = [];
  for (const rel of relations) {
    const key = `${rel.schema}.${rel.name}`;
    const masked = new Set(
      rel.columns
        .map((c) => c.name.toLowerCase())
        .filter((c) => want.get(key.toLowerCase())?.has(c)),
    );
    if (masked.size)
      out.columns[key] = rel.columns
        .filter((c) => masked.has(c.name.toLowerCase()))
        .map((c) => c.name);
    if (rel.view) views.push({ rel, masked });
    else await createTableMirror(tx, mirrors[rel.schema]!, rel.name, rel, masked);
  }
  for (const rel of await mirrorViews(tx, views, options, mirrors)) {
    const key = `${rel.schema}.${rel.name}`;
    delete out.columns[key];
    out.withheld.push(key);
  }
  for (const s of schemas)
    await tx.exec(
      `GRANT USAGE ON SCHEMA ${q(mirrors[s]!)} TO ${role};
         GRANT SELECT ON ALL TABLES IN SCHEMA ${q(mirrors[s]!)} TO ${role}`,
    );
  return out;
}

/**
 * Rebuilds the masked mirrors of `schemas` in one transaction (readers see the old mirrors or the
 * new; two publishers take turns), dropping mirrors of schemas no longer built, and grants the
 * masked role the mirrors only. A relation locked or dropped by a run meanwhile: tried again.
 */
export async function rebuildMaskedMirrors(
  engine: Engine,
  options: MaskedMirrorOptions,
): Promise<MaskedMirrors> {
  const want = new Map(
    Object.entries(options.pii).map(([k, cols]) => [
      k.toLowerCase(),
      new Set(cols.map((c) => c.toLowerCase())),
    ]),
  );
  try {
    return await whenRelationsFree(engine, (tx) => rebuildIn(tx, options, want));
  } catch (err) {
    if (err instanceof TributaryError) throw err;
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new TributaryError(
      `cannot build the masked mirrors of the PostgreSQL warehouse: ${message}`,
      {
        code: 'CONFIG',
        hint: 'the warehouse user needs CREATE on the database (to create the <schema>__masked schemas) and the right to grant on them',
        cause: err,
      },
    );
  }
}
