/**
 * A masked copy of a DuckDB database: the same tables and views, with the values of chosen
 * columns replaced where they are stored. Tables are rewritten with the masked values (the
 * original values are not in any table of the copy); a view is redefined to mask its output,
 * so views that read it (by name, as DuckDB views do) see masked values too. What a role must
 * not see unmasked is then not reachable through that role's instance at all.
 */
import { constants } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { duckdb, type DuckDBConnection } from './api.js';
import { quoteIdentifier } from '../sql.js';

/** What a masked text value reads (NULL stays NULL, so `count(col)` and "has a value" hold). */
export const MASK_TEXT = '****';

export interface MaskedCopy {
  /** `schema.name` → the columns masked in it (as the database spells them). */
  columns: Record<string, string[]>;
  /** Relations with masked columns that could not be rewritten: dropped from the copy. */
  withheld: string[];
}

interface Relation {
  schema: string;
  name: string;
  kind: 'table' | 'view';
  sql: string | null;
}

const IDENT = String.raw`(?:"(?:[^"]|"")*"|[^\s."()]+)`;
/** `CREATE VIEW s.v [(aliases)] AS <select>;` as duckdb_views() prints it: the select. */
const VIEW_SQL = new RegExp(
  String.raw`^CREATE (?:OR REPLACE )?(?:TEMP(?:ORARY)? )?VIEW ${IDENT}(?:\.${IDENT}){0,2}(?: \((?:"(?:[^"]|"")*"|[^"()])*\))? AS ([\s\S]*?);?\s*$`,
);

const qualified = (r: { schema: string; name: string }) =>
  `${quoteIdentifier(r.schema)}.${quoteIdentifier(r.name)}`;

async function rows(c: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

/** The masked value of a column of `type`. */
function maskValue(column: string, type: string): string {
  const q = quoteIdentifier(column);
  return type === 'VARCHAR'
    ? `CASE WHEN ${q} IS NULL THEN NULL ELSE '${MASK_TEXT}' END`
    : `CAST(NULL AS ${type})`;
}

/** The masked value of a column under the column's own name. */
const maskExpression = (column: string, type: string) =>
  `${maskValue(column, type)} AS ${quoteIdentifier(column)}`;

async function maskRelation(
  c: DuckDBConnection,
  r: Relation,
  columns: { name: string; type: string; masked: boolean }[],
): Promise<boolean> {
  const replace = columns
    .filter((col) => col.masked)
    .map((col) => maskExpression(col.name, col.type))
    .join(', ');
  if (r.kind === 'table') {
    try {
      await c.run(
        `CREATE OR REPLACE TABLE ${qualified(r)} AS SELECT * REPLACE (${replace}) FROM ${qualified(r)}`,
      );
      return true;
    } catch {
      // A table others depend on (a foreign key) cannot be replaced: masked in place instead.
    }
    try {
      const set = columns
        .filter((col) => col.masked)
        .map((col) => `${quoteIdentifier(col.name)} = ${maskValue(col.name, col.type)}`);
      await c.run(`UPDATE ${qualified(r)} SET ${set.join(', ')}`);
      return true;
    } catch {
      await c.run(`DROP TABLE ${qualified(r)} CASCADE`);
      return false;
    }
  }
  const body = r.sql ? VIEW_SQL.exec(r.sql)?.[1] : undefined;
  if (body) {
    try {
      // The view's own column names, by position: its definition may rename them.
      const names = columns.map((col) => quoteIdentifier(col.name)).join(', ');
      await c.run(
        `CREATE OR REPLACE VIEW ${qualified(r)} AS SELECT * REPLACE (${replace}) FROM (${body}) AS _unmasked(${names})`,
      );
      return true;
    } catch {
      // falls through: withheld
    }
  }
  await c.run(`DROP VIEW ${qualified(r)} CASCADE`);
  return false;
}

/**
 * Writes `target` as a copy of the database file `source` with the columns of `wanted`
 * (`schema.name` → column names, matched case-insensitively; missing ones ignored) masked.
 */
export async function writeMaskedCopy(
  source: string,
  target: string,
  wanted: Record<string, string[]>,
): Promise<MaskedCopy> {
  const want = new Map(
    Object.entries(wanted).map(([k, cols]) => [
      k.toLowerCase(),
      new Set(cols.map((c) => c.toLowerCase())),
    ]),
  );
  const tmp = `${target}.tmp`;
  await copyFile(source, tmp, constants.COPYFILE_FICLONE);
  const out: MaskedCopy = { columns: {}, withheld: [] };
  try {
    const instance = await duckdb().DuckDBInstance.create(tmp);
    const c = await instance.connect();
    try {
      const relations = (await rows(
        c,
        `SELECT schema_name AS schema, table_name AS name, 'table' AS kind, NULL AS sql
           FROM duckdb_tables() WHERE NOT internal AND database_name = current_database()
         UNION ALL
         SELECT schema_name, view_name, 'view', sql
           FROM duckdb_views() WHERE NOT internal AND database_name = current_database()`,
      )) as unknown as Relation[];
      const allColumns = await rows(
        c,
        `SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns()
          WHERE database_name = current_database() ORDER BY schema_name, table_name, column_index`,
      );
      for (const r of relations) {
        const key = `${r.schema}.${r.name}`;
        const cols = want.get(key.toLowerCase());
        if (!cols) continue;
        const columns = allColumns
          .filter((x) => x.schema_name === r.schema && x.table_name === r.name)
          .map((x) => ({
            name: String(x.column_name),
            type: String(x.data_type),
            masked: cols.has(String(x.column_name).toLowerCase()),
          }));
        if (!columns.some((x) => x.masked)) continue;
        if (await maskRelation(c, r, columns))
          out.columns[key] = columns.filter((x) => x.masked).map((x) => x.name);
        else out.withheld.push(key);
      }
      await c.run('CHECKPOINT');
    } finally {
      c.closeSync();
      instance.closeSync();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return out;
}
