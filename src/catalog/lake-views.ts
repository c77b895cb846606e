/**
 * Lake tables as warehouse relations: each processed table becomes a view over exactly the
 * Parquet files its manifest lists (a consistent snapshot, never a glob that could catch a
 * half-written file). Quarantine tables get views too, so rejected rows are one query away.
 */
import type { Engine } from '../engines/index.js';
import {
  LOADED_AT,
  parquetScan,
  schemaHash,
  type ObjectStore,
  type TableManifest,
} from '../lake/index.js';

export const PROCESSED_SCHEMA = 'processed';
export const QUARANTINE_SCHEMA = 'quarantine';

/** A SELECT over a table's committed files; a typed empty relation when it has none. */
export function processedSelect(
  engine: Engine,
  store: ObjectStore,
  manifest: TableManifest,
): string {
  const { quoteIdentifier: q, quoteString: s } = engine.dialect;
  if (manifest.files.length === 0) {
    const cols = manifest.columns.map(
      (c) => `CAST(NULL AS ${engine.dialect.typeName(c.type as never)}) AS ${q(c.name)}`,
    );
    return `SELECT ${cols.join(', ')} WHERE false`;
  }
  // Files written before a column was added or widened are aligned by name and cast to the
  // table's current types; a table whose files share one schema reads them plainly.
  const scan = parquetScan(store, manifest.files, manifest.columns, s);
  const current = schemaHash(manifest.columns);
  const aligned = manifest.files.some((f) => f.schema !== current);
  const columns = manifest.columns.map((c) =>
    aligned
      ? `CAST(${q(c.name)} AS ${engine.dialect.typeName(c.type as never)}) AS ${q(c.name)}`
      : q(c.name),
  );
  return `SELECT ${columns.join(', ')} FROM ${scan}`;
}

/** The quarantine rows of a table, or an empty relation with the quarantine columns. */
export function quarantineSelect(
  engine: Engine,
  store: ObjectStore,
  manifest: TableManifest,
): string {
  const { quoteIdentifier: q, quoteString: s } = engine.dialect;
  if (manifest.quarantine.length === 0) {
    const cols = [
      'CAST(NULL AS VARCHAR) AS _source_file',
      'CAST(NULL AS BIGINT) AS _record',
      'CAST(NULL AS BIGINT) AS _line',
      'CAST(NULL AS VARCHAR) AS _column',
      'CAST(NULL AS VARCHAR) AS _reason',
      'CAST(NULL AS VARCHAR) AS _value',
      'CAST(NULL AS VARCHAR) AS _message',
      ...manifest.columns
        .filter((c) => c.name !== LOADED_AT)
        .map((c) => `CAST(NULL AS VARCHAR) AS ${q(c.name)}`),
    ];
    return `SELECT ${cols.join(', ')} WHERE false`;
  }
  const files = manifest.quarantine.map((f) => s(store.readableLocation(f.key))).join(', ');
  return `SELECT * FROM read_parquet([${files}], union_by_name = true)`;
}

/** Creates or replaces `processed.<table>` and `quarantine.<table>` views for a manifest. */
export async function registerLakeViews(
  engine: Engine,
  store: ObjectStore,
  manifest: TableManifest,
): Promise<void> {
  if (!engine.capabilities.readsFiles) return;
  const { quoteIdentifier: q } = engine.dialect;
  await engine.ensureSchema(PROCESSED_SCHEMA);
  await engine.ensureSchema(QUARANTINE_SCHEMA);
  await engine.exec(
    `CREATE OR REPLACE VIEW ${q(PROCESSED_SCHEMA)}.${q(manifest.table)} AS ${processedSelect(engine, store, manifest)}`,
  );
  await engine.exec(
    `CREATE OR REPLACE VIEW ${q(QUARANTINE_SCHEMA)}.${q(manifest.table)} AS ${quarantineSelect(engine, store, manifest)}`,
  );
}
