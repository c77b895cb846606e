/**
 * Moving a project's state from one database to another (the default DuckDB file to a PostgreSQL
 * schema several processes share): `tributary state copy`. The tables to copy are not a list
 * kept here: both databases are migrated with every store's migrations (as opening them does),
 * their recorded versions must then agree, and every table the source holds is copied, so a store
 * added later is copied without anyone remembering this file. All rows go in one transaction of
 * the target: a copy that fails leaves the target without a row of state.
 */
import { TributaryError } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import { appliedMigrations, migrate, type Migration } from './migrations.js';

/** A store kept in the state database and its migrations (the name `migrate` records it under). */
export interface StateStoreMigrations {
  store: string;
  migrations: readonly Migration[];
}

/** Where the state is, for the copy: an engine and the schema its tables are in. */
export interface StateSide {
  engine: Engine;
  /** The schema of the state tables (`main` in a DuckDB file). */
  schema: string;
  /** Said in messages: the file, or the server and schema. */
  describe: string;
}

export interface CopiedTable {
  table: string;
  rows: number;
}

export interface StateCopyResult {
  tables: CopiedTable[];
  /** Each store's schema version, the same on both sides. */
  versions: Record<string, number>;
}

export interface StateCopyOptions {
  /** Told as each table is about to be copied and once it is. */
  onTable?: (event: { table: string; index: number; total: number; rows?: number }) => void;
}

/** The versions table is each side's own (migrate writes it); it is compared, not copied. */
const VERSIONS_TABLE = 'schema_migrations';
/** Rows sent in one COPY: a bounded message, however long a table is. */
const INSERT_CHUNK = 5_000;
/** Held by a copy inside the target's transaction, so two copies into one schema never interleave. */
const COPY_LOCK = 'tributary.state.copy';

/** Each store's highest applied version. */
async function versionsOf(engine: Engine): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  for (const m of await appliedMigrations(engine))
    versions.set(m.store, Math.max(versions.get(m.store) ?? 0, m.version));
  return versions;
}

/** Migrates both sides and refuses when their stores' versions still differ. */
async function alignVersions(
  source: StateSide,
  target: StateSide,
  stores: readonly StateStoreMigrations[],
): Promise<Record<string, number>> {
  for (const { store, migrations } of stores) {
    await migrate(source.engine, store, migrations);
    await migrate(target.engine, store, migrations);
  }
  const [from, to] = [await versionsOf(source.engine), await versionsOf(target.engine)];
  const names = [...new Set([...from.keys(), ...to.keys()])].sort();
  const differ = names.filter((n) => from.get(n) !== to.get(n));
  if (differ.length)
    throw new TributaryError(
      `the state schemas differ after migrating both: ${differ.map((n) => `${n} is at version ${from.get(n) ?? 'none'} in ${source.describe} and ${to.get(n) ?? 'none'} in ${target.describe}`).join('; ')}`,
      {
        code: 'STATE',
        hint: 'a store this Tributary does not know was written by another version: copy with the Tributary that wrote it',
      },
    );
  return Object.fromEntries(names.map((n) => [n, from.get(n)!]));
}

/** The base tables of a side's schema, the versions table left out. */
async function tablesOf(side: StateSide): Promise<string[]> {
  const tables = await side.engine.listTables(side.schema);
  return tables
    .filter((t) => t.type === 'table' && t.name !== VERSIONS_TABLE)
    .map((t) => t.name)
    .sort();
}

/** The tables of the target that hold rows (empty: nothing would be overwritten or mixed). */
async function tablesWithRows(engine: Engine, schema: string, tables: readonly string[]) {
  const held: string[] = [];
  for (const table of tables) {
    const { rows } = await engine.query(
      `SELECT count(*) AS n FROM ${engine.dialect.relation(schema, table)}`,
    );
    if (Number(rows[0]!.n) > 0) held.push(table);
  }
  return held;
}

function refuseHeldTarget(target: StateSide, held: readonly string[]): never {
  throw new TributaryError(
    `${target.describe} already holds state (rows in ${held.join(', ')}): nothing was copied`,
    {
      code: 'STATE',
      hint: `copy into a schema no project uses yet (--schema), or, if this one is a copy you mean to replace, drop it first (DROP SCHEMA ${target.schema} CASCADE) and copy again`,
    },
  );
}

/** A value as text for the target's COPY (null stays NULL). */
function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Copies one table's rows inside the target's transaction; returns how many. */
async function copyTable(
  source: StateSide,
  tx: Engine,
  target: StateSide,
  table: string,
): Promise<number> {
  const columns = (await source.engine.describe(source.schema, table))!.map((c) => c.name);
  const into = new Set((await tx.describe(target.schema, table))?.map((c) => c.name) ?? []);
  const missing = columns.filter((c) => !into.has(c));
  if (missing.length)
    throw new TributaryError(
      `state table ${table} has column(s) ${missing.join(', ')} in ${source.describe} that ${target.describe} lacks`,
      { code: 'STATE', hint: 'both sides must be at the same schema version: migrate them first' },
    );
  const q = (c: string) => source.engine.dialect.quoteIdentifier(c);
  const { rows } = await source.engine.query(
    `SELECT ${columns.map(q).join(', ')} FROM ${source.engine.dialect.relation(source.schema, table)}`,
  );
  let copied = 0;
  for (let at = 0; at < rows.length; at += INSERT_CHUNK) {
    const chunk = rows.slice(at, at + INSERT_CHUNK).map((r) => columns.map((c) => asText(r[c])));
    copied += await tx.insertRows(target.schema, table, columns, chunk);
  }
  if (copied !== rows.length)
    throw new TributaryError(
      `copying state table ${table}: ${rows.length} rows read, ${copied} written`,
      {
        code: 'STATE',
      },
    );
  return copied;
}

/**
 * Copies every state table of `source` into `target`, both migrated to the same versions first,
 * in one transaction of the target. Refuses a target that holds any row of state.
 */
export async function copyState(
  source: StateSide,
  target: StateSide,
  stores: readonly StateStoreMigrations[],
  options: StateCopyOptions = {},
): Promise<StateCopyResult> {
  const versions = await alignVersions(source, target, stores);
  const tables = await tablesOf(source);
  const targetTables = new Set(await tablesOf(target));
  const unknown = tables.filter((t) => !targetTables.has(t));
  if (unknown.length)
    throw new TributaryError(
      `${source.describe} holds table(s) ${unknown.join(', ')} that no state store of this Tributary creates`,
      {
        code: 'STATE',
        hint: 'they were not written by Tributary, or by a newer one: nothing was copied',
      },
    );
  const held = await tablesWithRows(target.engine, target.schema, [...targetTables]);
  if (held.length) refuseHeldTarget(target, held);
  const copied = await target.engine.transaction(async (tx) => {
    await tx.lockInTransaction(COPY_LOCK);
    // Under the lock, again: another copy or a process may have written since the first look.
    const heldNow = await tablesWithRows(tx, target.schema, [...targetTables]);
    if (heldNow.length) refuseHeldTarget(target, heldNow);
    const done: CopiedTable[] = [];
    for (const [index, table] of tables.entries()) {
      options.onTable?.({ table, index, total: tables.length });
      const rows = await copyTable(source, tx, target, table);
      done.push({ table, rows });
      options.onTable?.({ table, index, total: tables.length, rows });
    }
    return done;
  });
  return { tables: copied, versions };
}
