/**
 * Snapshots: type-2 slowly changing dimensions as dbt builds them. Each row version carries
 * dbt_scd_id, dbt_updated_at, dbt_valid_from and dbt_valid_to (NULL while current). The
 * `timestamp` strategy compares updated_at; `check` compares check_cols (or all columns).
 * invalidate_hard_deletes closes the current version of keys that left the source. One run is
 * one transaction.
 */
import { TributaryError } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import type { MaterializeResult } from './materialize.js';
import type { Node } from './types.js';
import { nodeRelationSql } from './relation.js';

const META = ['dbt_scd_id', 'dbt_updated_at', 'dbt_valid_from', 'dbt_valid_to'];

function configError(node: Node, message: string, hint?: string): TributaryError {
  return new TributaryError(`snapshot ${node.name}: ${message}`, {
    code: 'CONFIG',
    location: { file: node.original_file_path },
    ...(hint ? { hint } : {}),
  });
}

/** Runs a snapshot; `now` is the snapshot time used by the check strategy and hard deletes. */
export async function runSnapshot(
  engine: Engine,
  node: Node,
  sql: string,
  now: Date,
): Promise<MaterializeResult> {
  const q = engine.dialect.quoteIdentifier;
  const str = engine.dialect.typeName('string');
  const tsType = engine.dialect.typeName('timestamp');
  const c = node.config;
  const strategy = String(c.strategy ?? '');
  if (strategy !== 'timestamp' && strategy !== 'check')
    throw configError(
      node,
      `strategy must be 'timestamp' or 'check'${strategy ? `, not '${strategy}'` : ''}`,
    );
  const keys = (Array.isArray(c.unique_key) ? c.unique_key : [c.unique_key])
    .filter(Boolean)
    .map(String);
  if (!keys.length) throw configError(node, 'unique_key is required');
  if (strategy === 'timestamp' && !c.updated_at)
    throw configError(node, "the timestamp strategy needs updated_at='<column>'");
  const invalidate = c.invalidate_hard_deletes === true || c.hard_deletes === 'invalidate';
  const nowSql = `CAST(${engine.dialect.quoteString(now.toISOString().replace('T', ' ').replace('Z', ''))} AS ${tsType})`;
  const rel = nodeRelationSql(engine.dialect, node, node.alias);
  const keyText = (alias: string) =>
    keys.map((k) => `COALESCE(CAST(${alias}.${q(k)} AS ${str}), '')`).join(` || '|' || `);
  const updatedExpr = (alias: string) =>
    strategy === 'timestamp' ? `CAST(${alias}.${q(String(c.updated_at))} AS ${tsType})` : nowSql;
  const scdId = (alias: string) =>
    `md5(${keyText(alias)} || '|' || COALESCE(CAST(${updatedExpr(alias)} AS ${str}), ''))`;

  await engine.ensureSchema(node.schema);
  const exists = await engine.describe(node.schema, node.alias);
  if (!exists) {
    const rows = await engine.replaceTable(
      node.schema,
      node.alias,
      `SELECT src.*, ${scdId('src')} AS dbt_scd_id, ${updatedExpr('src')} AS dbt_updated_at, ${updatedExpr('src')} AS dbt_valid_from, CAST(NULL AS ${tsType}) AS dbt_valid_to FROM (${sql}) AS src`,
    );
    return { rows, message: `snapshot ${rel} created (${rows} rows)` };
  }

  const stageName = `${node.alias}__dbt_snapshot_src`;
  const changesName = `${node.alias}__dbt_snapshot_changes`;
  const stage = nodeRelationSql(engine.dialect, node, stageName);
  const changes = nodeRelationSql(engine.dialect, node, changesName);
  return engine.transaction(async (tx) => {
    await tx.dropRelation(node.schema, stageName);
    await tx.dropRelation(node.schema, changesName);
    await tx.exec(`CREATE TABLE ${stage} AS ${sql}`);
    const sourceCols = (await tx.describe(node.schema, stageName))!;
    for (const k of keys)
      if (!sourceCols.some((s) => s.name === k))
        throw configError(node, `unique_key column ${k} is not selected by the snapshot query`);
    // New source columns are added to the snapshot (dbt does the same); removed ones stay, NULL from now on.
    const snapCols = (await tx.describe(node.schema, node.alias))!;
    for (const col of sourceCols)
      if (!snapCols.some((s) => s.name === col.name))
        await tx.exec(`ALTER TABLE ${rel} ADD COLUMN ${q(col.name)} ${col.type}`);
    const dataCols = sourceCols.map((s) => s.name).filter((n) => !META.includes(n));
    const join = keys.map((k) => `cur.${q(k)} = src.${q(k)}`).join(' AND ');
    let changed: string;
    if (strategy === 'timestamp') {
      changed = `${updatedExpr('src')} > cur.dbt_updated_at`;
    } else {
      const checkCols =
        c.check_cols === 'all' || c.check_cols === undefined || c.check_cols === null
          ? dataCols
          : (Array.isArray(c.check_cols) ? c.check_cols : [c.check_cols]).map(String);
      for (const col of checkCols)
        if (!dataCols.includes(col))
          throw configError(node, `check_cols names ${col}, which the query does not select`);
      changed =
        checkCols.map((col) => `cur.${q(col)} IS DISTINCT FROM src.${q(col)}`).join(' OR ') ||
        'FALSE';
    }
    await tx.exec(
      `CREATE TABLE ${changes} AS SELECT src.*, (cur.${q(keys[0]!)} IS NULL) AS dbt_is_new
       FROM ${stage} AS src
       LEFT JOIN (SELECT * FROM ${rel} WHERE dbt_valid_to IS NULL) AS cur ON ${join}
       WHERE cur.${q(keys[0]!)} IS NULL OR (${changed})`,
    );
    const counts = (
      await tx.query(
        `SELECT count(*) AS n, sum(CASE WHEN dbt_is_new THEN 0 ELSE 1 END) AS updated FROM ${changes}`,
      )
    ).rows[0]!;
    const updatedMatch = keys.map((k) => `${rel}.${q(k)} = ch.${q(k)}`).join(' AND ');
    await tx.exec(
      `UPDATE ${rel} SET dbt_valid_to = ${updatedExpr('ch')} FROM ${changes} AS ch
       WHERE ${updatedMatch} AND ${rel}.dbt_valid_to IS NULL AND NOT ch.dbt_is_new`,
    );
    const colList = dataCols.map((n) => q(n)).join(', ');
    await tx.exec(
      `INSERT INTO ${rel} (${colList}, dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to)
       SELECT ${dataCols.map((n) => `ch.${q(n)}`).join(', ')}, ${scdId('ch')}, ${updatedExpr('ch')}, ${updatedExpr('ch')}, CAST(NULL AS ${tsType})
       FROM ${changes} AS ch`,
    );
    let deleted = 0;
    if (invalidate) {
      const gone = `dbt_valid_to IS NULL AND NOT EXISTS (SELECT 1 FROM ${stage} AS src WHERE ${keys.map((k) => `src.${q(k)} = ${rel}.${q(k)}`).join(' AND ')})`;
      deleted = Number(
        (await tx.query(`SELECT count(*) AS n FROM ${rel} WHERE ${gone}`)).rows[0]!.n,
      );
      if (deleted) await tx.exec(`UPDATE ${rel} SET dbt_valid_to = ${nowSql} WHERE ${gone}`);
    }
    await tx.dropRelation(node.schema, stageName);
    await tx.dropRelation(node.schema, changesName);
    const n = Number(counts.n ?? 0);
    const updated = Number(counts.updated ?? 0);
    return {
      rows: n + deleted,
      message: `snapshot ${rel}: ${n - updated} new, ${updated} changed${invalidate ? `, ${deleted} invalidated` : ''}`,
    };
  });
}
