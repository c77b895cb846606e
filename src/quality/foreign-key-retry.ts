/**
 * Rows waiting for a parent. A row refused only because its parent's key was not loaded yet (the
 * parent's file came later, was refused and then fixed, or its own rows were waiting too) is no
 * defect of the row: whenever any parent table changed since the waiting rows were last checked,
 * they are checked again against the parents as they are now, and those that pass leave the
 * quarantine for the processed table, in one manifest swap with the quarantine rewritten without
 * them. Each keeps its batch and gets a new `_loaded_at`, so incremental models pick it up.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  lakeKeys,
  parquetScan,
  type DataFile,
  type QuarantineFile,
  type TableManifest,
} from '../lake/index.js';
import type { Contract, SourceTable } from '../project/index.js';
import {
  PARQUET,
  copyRowsSql,
  foreignKeyInputs,
  publishDataFiles,
  rewriteWithoutKeys,
  run,
  settleDuplicateKeys,
  type LakeEngine,
} from './batch-io.js';
import { compileContract } from './contract-sql.js';
import { effectiveContract } from './evolution.js';

/** What a retry did: the manifest to commit (undefined when nothing moved) and the rows that moved. */
export interface ForeignKeyRetry {
  manifest?: TableManifest;
  /** Rows loaded from quarantine into the table. */
  loaded: number;
  /** Rows that left quarantine without loading: a newer batch of a merge table holds their key. */
  superseded: number;
  /** Parent versions the waiting rows were checked against, to record once committed. */
  checkedAgainst: Record<string, number>;
}

/** The parent tables' manifest versions (0 for a parent never committed), in a stable order. */
function parentVersions(
  contract: Contract,
  parents: ReadonlyMap<string, TableManifest>,
): Record<string, number> {
  const names = [
    ...new Set(
      contract.columns.filter((c) => c.references).map((c) => c.references!.split('.')[0]!),
    ),
  ].sort();
  return Object.fromEntries(names.map((n) => [n, parents.get(n)?.version ?? 0]));
}

/** The parent versions the table's waiting rows were last checked against, if ever. */
async function lastForeignKeyCheck(
  ctx: LakeEngine,
  table: string,
): Promise<Record<string, number> | undefined> {
  const bytes = await ctx.store.get(lakeKeys.processedForeignKeyCheck(table));
  return bytes ? (JSON.parse(bytes.toString('utf8')) as Record<string, number>) : undefined;
}

/** Records what the waiting rows were checked against (after the manifest swap that used it). */
export async function recordForeignKeyCheck(
  ctx: LakeEngine,
  table: string,
  versions: Record<string, number>,
): Promise<void> {
  await ctx.store.put(lakeKeys.processedForeignKeyCheck(table), JSON.stringify(versions));
}

/**
 * Checks the rows waiting for a parent again when a parent changed since they were last checked.
 * `rawOrder` lists the table's raw batch ids in landing order (merge: a newer batch's row wins).
 */
export async function retryForeignKeyRows(
  ctx: LakeEngine,
  table: SourceTable,
  manifest: TableManifest,
  parents: ReadonlyMap<string, TableManifest>,
  rawOrder: readonly string[],
  staging: string,
): Promise<ForeignKeyRetry | undefined> {
  const contract = effectiveContract(table, manifest);
  if (!contract.columns.some((c) => c.references)) return undefined;
  const checkedAgainst = parentVersions(contract, parents);
  const last = await lastForeignKeyCheck(ctx, table.table);
  if (last && JSON.stringify(last) === JSON.stringify(checkedAgainst)) return undefined;
  const result: ForeignKeyRetry = { loaded: 0, superseded: 0, checkedAgainst };
  // replace: the table is its latest batch; rows of batches it replaced are history.
  const batches = Object.keys(manifest.batches);
  const current = table.disposition === 'replace' ? batches[batches.length - 1] : undefined;
  const waiting = manifest.quarantine.filter(
    (q) => (q.reasons.foreign_key ?? 0) > 0 && (current === undefined || q.batch === current),
  );
  let next = manifest;
  for (const [i, q] of waiting.entries()) {
    const dir = join(staging, `retry-${i}`);
    await mkdir(dir, { recursive: true });
    const moved = await retryFile(ctx, table, contract, next, q, parents, rawOrder, dir);
    if (!moved) continue;
    next = moved.manifest;
    result.loaded += moved.loaded;
    result.superseded += moved.superseded;
  }
  if (next !== manifest) result.manifest = next;
  return result;
}

/** Retries one quarantine file's waiting rows; undefined when none can leave it yet. */
async function retryFile(
  ctx: LakeEngine,
  table: SourceTable,
  contract: Contract,
  manifest: TableManifest,
  quarantine: QuarantineFile,
  parents: ReadonlyMap<string, TableManifest>,
  rawOrder: readonly string[],
  dir: string,
): Promise<{ manifest: TableManifest; loaded: number; superseded: number } | undefined> {
  const { engine, store } = ctx;
  const q = engine.dialect.quoteIdentifier;
  const s = engine.dialect.quoteString;
  const label = `${quarantine.key} (rows waiting for a parent)`;
  const location = s(store.readableLocation(quarantine.key));
  // The quarantine keeps each column's text (columns added to the table since read as NULL).
  const described = await engine.query(`DESCRIBE SELECT * FROM read_parquet(${location})`);
  const present = new Set(described.rows.map((r) => String(r.column_name)));
  const text = contract.columns.map((c) =>
    present.has(c.name) ? `CAST(${q(c.name)} AS VARCHAR) AS ${q(c.name)}` : `NULL AS ${q(c.name)}`,
  );
  const compiled = compileContract(
    contract,
    engine.dialect,
    foreignKeyInputs(ctx, contract, parents),
  );
  await run(
    engine,
    label,
    `CREATE OR REPLACE TEMP TABLE _tb_checked AS
     SELECT _record, ${compiled.retainedColumns.join(', ')}, _fail FROM (
       SELECT *, ${compiled.failure} AS _fail FROM (
         SELECT raw._record, ${compiled.typedColumns.join(', ')}
           FROM (SELECT _record, ${text.join(', ')} FROM read_parquet(${location})
                  WHERE _reason = 'foreign_key') AS raw ${compiled.joins.join(' ')}))`,
  );
  const passing = async () =>
    Number(
      (await engine.query(`SELECT count(*) AS n FROM _tb_checked WHERE _fail IS NULL`)).rows[0]!.n,
    );
  if ((await passing()) === 0) return undefined; // all still wait (or fail as before)

  const revision = manifest.version + 1;
  let kept = manifest.files;
  let superseded = 0;
  const pk = contract.primary_key ?? [];
  if (pk.length && table.disposition === 'merge') {
    // A key a newer batch loaded stays with that batch's row; an older batch's row gives way.
    const position = rawOrder.indexOf(quarantine.batch);
    const newer = kept.filter((f) => rawOrder.indexOf(f.batch) > position);
    superseded = await settleDuplicateKeys(engine, label, pk, {
      keepLast: true,
      ...(newer.length ? { loaded: parquetScan(store, newer, manifest.columns, s) } : {}),
      onDuplicate: 'drop',
    });
    if (kept.length && (await passing()) > 0)
      kept = await rewriteWithoutKeys(ctx, table, kept, `r${revision}`, dir);
  } else if (pk.length) {
    await settleDuplicateKeys(engine, label, pk, {
      keepLast: false,
      ...(kept.length ? { loaded: parquetScan(store, kept, manifest.columns, s) } : {}),
      onDuplicate: 'quarantine',
    });
  }
  const loaded = await passing();
  // A waiting row whose key another batch loaded meanwhile is a duplicate now: it stays, so told.
  const reclassified = Number(
    (
      await engine.query(
        `SELECT count(*) AS n FROM _tb_checked WHERE _fail IS NOT NULL AND _fail NOT LIKE 'foreign_key:%'`,
      )
    ).rows[0]!.n,
  );
  if (loaded === 0 && superseded === 0 && reclassified === 0) return undefined;

  const dataDir = join(dir, 'data');
  const target = {
    dir: dataDir,
    fileTag: `${quarantine.batch.slice(0, 16)}-r${revision}`,
    loadedAt: new Date().toISOString(),
  };
  let files: DataFile[] = [];
  if (loaded > 0) {
    await mkdir(dataDir, { recursive: true });
    await run(
      engine,
      label,
      copyRowsSql(engine, contract, target, `SELECT * FROM _tb_checked WHERE _fail IS NULL`),
    );
    files = await publishDataFiles(ctx, table, contract, dataDir, quarantine.batch);
  }
  const rewritten = await rewriteQuarantine(ctx, table, quarantine, compiled, revision, dir);
  const batch = manifest.batches[quarantine.batch];
  return {
    manifest: {
      ...manifest,
      files: [...kept, ...files],
      quarantine: manifest.quarantine.flatMap((f) =>
        f.key !== quarantine.key ? [f] : rewritten ? [rewritten] : [],
      ),
      batches: batch
        ? {
            ...manifest.batches,
            [quarantine.batch]: {
              ...batch,
              rowsOut: batch.rowsOut + loaded,
              rowsRejected: batch.rowsRejected - loaded - superseded,
            },
          }
        : manifest.batches,
    },
    loaded,
    superseded,
  };
}

/**
 * The quarantine file without the rows that left it (loaded, or superseded), and with the new
 * reason of a waiting row that now fails otherwise (its key loaded meanwhile by another batch);
 * undefined when no row is left. Written under a new key: the old file stays what the committed
 * manifest lists until the swap.
 */
async function rewriteQuarantine(
  ctx: LakeEngine,
  table: SourceTable,
  quarantine: QuarantineFile,
  compiled: { message: string; failedValue: string },
  revision: number,
  dir: string,
): Promise<QuarantineFile | undefined> {
  const { engine, store } = ctx;
  const s = engine.dialect.quoteString;
  const label = `${quarantine.key} (rows waiting for a parent)`;
  const location = s(store.readableLocation(quarantine.key));
  const path = join(dir, 'quarantine.parquet');
  await run(
    engine,
    label,
    `CREATE OR REPLACE TEMP TABLE _tb_requarantine AS
     SELECT o.* REPLACE (
              coalesce(n._reason, o._reason) AS _reason,
              coalesce(n._column, o._column) AS _column,
              coalesce(n._value, o._value) AS _value,
              coalesce(n._message, o._message) AS _message)
       FROM read_parquet(${location}) AS o
       LEFT JOIN (SELECT _record, split_part(_fail, ':', 1) AS _reason,
                         split_part(_fail, ':', 2) AS _column,
                         ${compiled.failedValue} AS _value, ${compiled.message} AS _message
                    FROM _tb_checked AS c WHERE _fail IS NOT NULL) AS n
         ON o._reason = 'foreign_key' AND n._record = o._record
      WHERE o._reason <> 'foreign_key' OR n._record IS NOT NULL`,
  );
  const counts = await engine.query(
    `SELECT _reason AS reason, count(*) AS n FROM _tb_requarantine GROUP BY 1`,
  );
  const reasons: Record<string, number> = {};
  for (const r of counts.rows) reasons[String(r.reason)] = Number(r.n);
  const rows = Object.values(reasons).reduce((a, b) => a + b, 0);
  if (rows === 0) return undefined;
  await run(
    engine,
    label,
    `COPY (SELECT * FROM _tb_requarantine ORDER BY _record NULLS LAST, _line) TO ${s(path)} (${PARQUET})`,
  );
  const key = lakeKeys.quarantineFile(table.source, table.table, quarantine.batch, revision);
  const { size } = await stat(path);
  await store.putFile(key, path, { move: true });
  return { key, rows, bytes: size, batch: quarantine.batch, reasons };
}
