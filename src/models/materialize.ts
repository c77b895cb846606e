/**
 * Materializations: view, table, incremental (append, merge, delete+insert; on_schema_change),
 * seeds and SCD2 snapshots, and running tests, all through the Engine seam. Each one commits
 * atomically: a table swaps in whole, an incremental batch and a snapshot update run in one
 * transaction, so a failure leaves the previous state, never half of a batch.
 */
import { TributaryError } from '../core/index.js';
import type { ColumnInfo, Engine } from '../engines/index.js';
import type { Node } from './types.js';
import { nodeRelationSql } from './relation.js';

export interface MaterializeResult {
  /** Rows in the table (table), rows written (incremental, seed, snapshot); undefined for views. */
  rows?: number;
  message: string;
}

const ident = (engine: Engine) => engine.dialect.quoteIdentifier;

/** Builds a model with its configured materialization. */
export async function materializeModel(
  engine: Engine,
  node: Node,
  sql: string,
  opts: { fullRefresh: boolean; tempSuffix?: string },
): Promise<MaterializeResult> {
  const rel = nodeRelationSql(engine.dialect, node, node.alias);
  switch (node.config.materialized) {
    case 'view':
      await engine.ensureSchema(node.schema);
      await engine.replaceView(node.schema, node.alias, sql);
      return { message: `view ${rel}` };
    case 'table': {
      await engine.ensureSchema(node.schema);
      const rows = await engine.replaceTable(node.schema, node.alias, sql);
      return { rows, message: `table ${rel} (${rows} rows)` };
    }
    case 'incremental':
      return incremental(engine, node, sql, opts.fullRefresh, opts.tempSuffix ?? '');
    case 'ephemeral':
      return { message: 'ephemeral (inlined where referenced)' };
    default:
      throw new TributaryError(
        `materialized='${node.config.materialized}' is not a materialization Tributary knows`,
        {
          code: 'CONFIG',
          location: { file: node.original_file_path },
          hint: 'use view, table, incremental or ephemeral',
        },
      );
  }
}

function uniqueKeyOf(node: Node): string[] {
  const k = node.config.unique_key;
  if (k === undefined || k === null || k === '') return [];
  return (Array.isArray(k) ? k : [k]).map(String);
}

const normType = (t: string) => t.toUpperCase().replace(/\s+/g, ' ').trim();

interface SchemaDiff {
  added: ColumnInfo[];
  removed: ColumnInfo[];
  changed: { name: string; from: string; to: string }[];
}

function diffColumns(target: ColumnInfo[], source: ColumnInfo[]): SchemaDiff {
  const t = new Map(target.map((c) => [c.name, c]));
  const s = new Map(source.map((c) => [c.name, c]));
  return {
    added: source.filter((c) => !t.has(c.name)),
    removed: target.filter((c) => !s.has(c.name)),
    changed: source
      .filter((c) => t.has(c.name) && normType(t.get(c.name)!.type) !== normType(c.type))
      .map((c) => ({ name: c.name, from: t.get(c.name)!.type, to: c.type })),
  };
}

function describeDiff(d: SchemaDiff): string {
  const parts: string[] = [];
  if (d.added.length) parts.push(`new columns ${d.added.map((c) => c.name).join(', ')}`);
  if (d.removed.length) parts.push(`removed columns ${d.removed.map((c) => c.name).join(', ')}`);
  if (d.changed.length)
    parts.push(`changed types ${d.changed.map((c) => `${c.name} ${c.from} → ${c.to}`).join(', ')}`);
  return parts.join('; ');
}

async function relationType(
  engine: Engine,
  schema: string,
  name: string,
): Promise<'table' | 'view' | undefined> {
  return (await engine.listTables(schema)).find((t) => t.name === name)?.type;
}

/**
 * An incremental model. The new batch is staged in a table beside the target, then appended,
 * merged or delete+inserted by unique_key, in one transaction with the staging table's removal.
 * A NULL in a unique_key column never equals anything (SQL semantics, as in dbt), so such rows are
 * inserted on every run; duplicate keys inside one batch are refused before anything is written.
 */
async function incremental(
  engine: Engine,
  node: Node,
  sql: string,
  fullRefresh: boolean,
  /** Makes the staging table's name unique when one model is built several times at once. */
  tempSuffix: string,
): Promise<MaterializeResult> {
  const rel = nodeRelationSql(engine.dialect, node, node.alias);
  await engine.ensureSchema(node.schema);
  const existing = await relationType(engine, node.schema, node.alias);
  const forceFull =
    node.config.full_refresh === true || (fullRefresh && node.config.full_refresh !== false);
  if (!existing || existing === 'view' || forceFull) {
    const rows = await engine.replaceTable(node.schema, node.alias, sql);
    return { rows, message: `table ${rel} built in full (${rows} rows)` };
  }
  const { strategy, keys } = incrementalStrategy(node);
  const onSchemaChange = String(node.config.on_schema_change ?? 'ignore');
  const tmpName = `${node.alias}__dbt_tmp${tempSuffix}`;
  const tmp = nodeRelationSql(engine.dialect, node, tmpName);
  return engine.transaction(async (tx) => {
    await tx.dropRelation(node.schema, tmpName);
    await tx.exec(`CREATE TABLE ${tmp} AS ${sql}`);
    const source = (await tx.describe(node.schema, tmpName))!;
    let target = (await tx.describe(node.schema, node.alias))!;
    const diff = diffColumns(target, source);
    let note = '';
    if (diff.added.length + diff.removed.length + diff.changed.length > 0) {
      note = await applySchemaChange(tx, node, diff, onSchemaChange);
      target = (await tx.describe(node.schema, node.alias))!;
    }
    const sourceNames = new Set(source.map((c) => c.name));
    const missing = target.filter((c) => !sourceNames.has(c.name) && onSchemaChange === 'ignore');
    if (missing.length && onSchemaChange === 'ignore' && diff.removed.length)
      throw new TributaryError(
        `${node.name} no longer selects ${missing.map((c) => c.name).join(', ')}, which ${rel} has`,
        {
          code: 'CONFIG',
          location: { file: node.original_file_path },
          hint: "run with --full-refresh, or set on_schema_change='sync_all_columns'",
        },
      );
    // Columns written: the target's columns that the batch has (new ones were added above if configured).
    const cols = target.filter((c) => sourceNames.has(c.name)).map((c) => c.name);
    const batchRows = Number((await tx.query(`SELECT count(*) AS n FROM ${tmp}`)).rows[0]!.n);
    for (const k of keys)
      if (!sourceNames.has(k))
        throw new TributaryError(`unique_key column ${k} is not selected by ${node.name}`, {
          code: 'CONFIG',
          location: { file: node.original_file_path },
        });
    const nullKeys =
      keys.length && strategy !== 'append' ? await checkBatchKeys(tx, node, tmp, keys) : 0;
    await writeBatch(tx, node, { rel, tmp, strategy, keys, cols });
    await tx.dropRelation(node.schema, tmpName);
    const nullNote = nullKeys
      ? `; ${nullKeys} row(s) with a NULL unique_key were inserted as new`
      : '';
    return {
      rows: batchRows,
      message: `${strategy} ${batchRows} row(s) into ${rel}${note}${nullNote}`,
    };
  });
}

/** The configured strategy (dbt-postgres' and dbt-duckdb's default) and unique_key columns. */
function incrementalStrategy(node: Node): { strategy: string; keys: string[] } {
  const keys = uniqueKeyOf(node);
  // dbt-postgres and dbt-duckdb default to delete+insert when a unique_key is set.
  const strategy = String(
    node.config.incremental_strategy ?? (keys.length ? 'delete+insert' : 'append'),
  );
  if (!['append', 'merge', 'delete+insert'].includes(strategy))
    throw new TributaryError(`incremental_strategy='${strategy}' is not supported`, {
      code: 'CONFIG',
      location: { file: node.original_file_path },
      hint: 'use append, merge or delete+insert',
    });
  if (strategy === 'delete+insert' && !keys.length)
    throw new TributaryError(`incremental_strategy='delete+insert' needs a unique_key`, {
      code: 'CONFIG',
      location: { file: node.original_file_path },
    });
  return { strategy, keys };
}

/** Applies on_schema_change to the target table; returns a note for the run's message. */
async function applySchemaChange(
  tx: Engine,
  node: Node,
  diff: SchemaDiff,
  onSchemaChange: string,
): Promise<string> {
  const q = ident(tx);
  const rel = nodeRelationSql(tx.dialect, node, node.alias);
  switch (onSchemaChange) {
    case 'fail':
      throw new TributaryError(
        `the columns of ${node.name} changed (${describeDiff(diff)}) and on_schema_change is 'fail'`,
        {
          code: 'CONFIG',
          location: { file: node.original_file_path },
          hint: "run with --full-refresh, or set on_schema_change to 'append_new_columns' or 'sync_all_columns'",
        },
      );
    case 'append_new_columns':
      for (const c of diff.added)
        await tx.exec(`ALTER TABLE ${rel} ADD COLUMN ${q(c.name)} ${c.type}`);
      return diff.added.length ? `; added ${diff.added.map((c) => c.name).join(', ')}` : '';
    case 'sync_all_columns':
      // Views over the table (its masked mirror, a model's view) would refuse both changes; the
      // engine re-makes them before the transaction commits. Asked before any change takes the
      // table: the views are taken first, as readers take them.
      if (diff.removed.length || diff.changed.length)
        await tx.beforeColumnsChange?.(node.schema, node.alias);
      for (const c of diff.added)
        await tx.exec(`ALTER TABLE ${rel} ADD COLUMN ${q(c.name)} ${c.type}`);
      for (const c of diff.removed) await tx.exec(`ALTER TABLE ${rel} DROP COLUMN ${q(c.name)}`);
      for (const c of diff.changed)
        await tx.exec(
          `ALTER TABLE ${rel} ALTER COLUMN ${q(c.name)} TYPE ${c.to} USING CAST(${q(c.name)} AS ${c.to})`,
        );
      return `; synced columns (${describeDiff(diff)})`;
    case 'ignore':
      return '';
    default:
      throw new TributaryError(
        `on_schema_change='${onSchemaChange}' is not one of ignore, append_new_columns, sync_all_columns, fail`,
        {
          code: 'CONFIG',
          location: { file: node.original_file_path },
        },
      );
  }
}

/** Refuses a batch with several rows per unique_key; returns how many rows have a NULL key. */
async function checkBatchKeys(
  tx: Engine,
  node: Node,
  tmp: string,
  keys: string[],
): Promise<number> {
  const q = ident(tx);
  const keyList = keys.map(q).join(', ');
  const dup = await tx.query(
    `SELECT ${keyList}, count(*) AS n FROM ${tmp} WHERE ${keys.map((k) => `${q(k)} IS NOT NULL`).join(' AND ')} GROUP BY ${keyList} HAVING count(*) > 1 LIMIT 3`,
  );
  if (dup.rows.length)
    throw new TributaryError(
      `the new batch of ${node.name} has several rows per unique_key (${dup.rows
        .map((r) => keys.map((k) => `${k}=${String(r[k])}`).join(',') + ` ×${String(r.n)}`)
        .join('; ')})`,
      {
        code: 'INPUT',
        location: { file: node.original_file_path },
        hint: 'make the model select one row per key (e.g. the latest by a timestamp), or fix unique_key',
      },
    );
  return Number(
    (
      await tx.query(
        `SELECT count(*) AS n FROM ${tmp} WHERE ${keys.map((k) => `${q(k)} IS NULL`).join(' OR ')}`,
      )
    ).rows[0]!.n,
  );
}

/** Writes the staged batch into the target by the strategy. */
async function writeBatch(
  tx: Engine,
  node: Node,
  b: { rel: string; tmp: string; strategy: string; keys: string[]; cols: string[] },
): Promise<void> {
  const q = ident(tx);
  const { rel, tmp, strategy, keys, cols } = b;
  const colList = cols.map(q).join(', ');
  const match = (x: string, y: string) =>
    keys.map((k) => `${x}.${q(k)} = ${y}.${q(k)}`).join(' AND ');
  if (strategy === 'append' || !keys.length) {
    await tx.exec(`INSERT INTO ${rel} (${colList}) SELECT ${colList} FROM ${tmp}`);
  } else if (strategy === 'merge' && tx.capabilities.mergeStatement) {
    const updateCols = mergeUpdateColumns(node, cols, keys);
    await tx.exec(
      `MERGE INTO ${rel} AS dbt_internal_dest USING ${tmp} AS dbt_internal_source ON ${match('dbt_internal_dest', 'dbt_internal_source')}` +
        (updateCols.length
          ? ` WHEN MATCHED THEN UPDATE SET ${updateCols.map((c) => `${q(c)} = dbt_internal_source.${q(c)}`).join(', ')}`
          : '') +
        ` WHEN NOT MATCHED THEN INSERT (${colList}) VALUES (${cols.map((c) => `dbt_internal_source.${q(c)}`).join(', ')})`,
    );
  } else {
    // delete+insert, and merge on engines without MERGE: the same end state in one transaction.
    await tx.exec(
      `DELETE FROM ${rel} WHERE EXISTS (SELECT 1 FROM ${tmp} AS s WHERE ${match(rel, 's')})`,
    );
    await tx.exec(`INSERT INTO ${rel} (${colList}) SELECT ${colList} FROM ${tmp}`);
  }
}

function mergeUpdateColumns(node: Node, cols: string[], keys: string[]): string[] {
  const only = node.config.merge_update_columns as string[] | undefined;
  const except = new Set((node.config.merge_exclude_columns as string[] | undefined) ?? []);
  return (only ?? cols).filter((c) => !keys.includes(c) && !except.has(c));
}
