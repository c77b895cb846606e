/**
 * The catalog (the seeds' Glue crawler and Data Catalog): what tables exist in each zone, their
 * columns and types, row counts, partitions and schema versions. Entries are derived from lake
 * manifests and warehouse tables after each step, and kept in the state store.
 */
import type { Engine } from '../engines/index.js';
import { lakeKeys, type TableManifest } from '../lake/index.js';
import type { CatalogEntry, StateStore } from '../state/index.js';

/**
 * Records a raw table as the crawler found it: columns inferred from the latest file, and the
 * number of records read from all its files.
 */
export async function catalogRaw(
  state: StateStore,
  source: string,
  table: string,
  columns: { name: string; type: string }[],
  records: number,
  format: string,
): Promise<CatalogEntry> {
  return state.upsertCatalogEntry({
    zone: 'raw',
    name: `${source}.${table}`,
    location: lakeKeys.rawTable(source, table),
    format,
    columns,
    rowCount: records,
    partitions: [],
  });
}

/** Records a processed table and its quarantine from the committed manifest. */
export async function catalogProcessed(state: StateStore, manifest: TableManifest): Promise<void> {
  const partitions = [
    ...new Set(
      manifest.files.flatMap((f) =>
        f.partition ? Object.entries(f.partition).map(([k, v]) => `${k}=${v}`) : [],
      ),
    ),
  ].sort();
  await state.upsertCatalogEntry({
    zone: 'processed',
    name: manifest.table,
    location: lakeKeys.processedTable(manifest.table),
    format: 'parquet',
    columns: manifest.columns,
    rowCount: manifest.files.reduce((n, f) => n + f.rows, 0),
    partitions,
  });
  await state.upsertCatalogEntry({
    zone: 'quarantine',
    name: manifest.table,
    location: manifest.quarantine[0]?.key.replace(/\/[^/]*$/, '') ?? '',
    format: 'parquet',
    columns: [
      { name: '_source_file', type: 'string' },
      { name: '_record', type: 'bigint' },
      { name: '_line', type: 'bigint' },
      { name: '_column', type: 'string' },
      { name: '_reason', type: 'string' },
      { name: '_value', type: 'string' },
      { name: '_message', type: 'string' },
      ...manifest.columns.map((c) => ({ name: c.name, type: 'string' })),
    ],
    rowCount: manifest.quarantine.reduce((n, f) => n + f.rows, 0),
    partitions: [],
  });
}

/** A warehouse table or view as it now stands, ready for the catalog (undefined if it is gone). */
export async function warehouseEntry(
  engine: Engine,
  schema: string,
  name: string,
  location: string,
  /** The row count when the caller already knows it (a table just built); counted otherwise. */
  knownRowCount?: number,
): Promise<Omit<CatalogEntry, 'schemaVersion' | 'updatedAt'> | undefined> {
  const columns = await engine.describe(schema, name);
  if (!columns) return undefined;
  const { quoteIdentifier: q } = engine.dialect;
  // A view stores no rows; counting it would run its whole query, so it is not counted.
  const isView = (await engine.listTables(schema)).some(
    (t) => t.name === name && t.type === 'view',
  );
  const rowCount = isView
    ? null
    : (knownRowCount ??
      Number((await engine.query(`SELECT count(*) AS n FROM ${q(schema)}.${q(name)}`)).rows[0]!.n));
  return {
    zone: 'warehouse',
    name: `${schema}.${name}`,
    location,
    format: engine.kind,
    columns: columns.map((c) => ({ name: c.name, type: c.type })),
    rowCount,
    partitions: [],
  };
}
