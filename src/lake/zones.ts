/**
 * Lake layout (DESIGN.md): where each zone keeps its objects. All key construction lives here so
 * the layout can change in one place.
 *   raw/<source>/<table>/ingest_date=YYYY-MM-DD/<hash>.<ext>   original bytes
 *   processed/<table>/<partition>=<value>/part-<batch>-N.parquet typed, zstd
 *   quarantine/<source>/<table>/<batch>.parquet                rejected rows + reasons
 *   curated/<model>/…                                          published models
 */
const MANIFEST = '_manifest.json';

export const lakeKeys = {
  rawTable: (source: string, table: string) => `raw/${source}/${table}`,
  rawManifest: (source: string, table: string) => `raw/${source}/${table}/${MANIFEST}`,
  rawFile: (source: string, table: string, ingestDate: string, hash: string, ext: string) =>
    `raw/${source}/${table}/ingest_date=${ingestDate}/${hash.slice(0, 16)}${ext}`,
  processedTable: (table: string) => `processed/${table}`,
  processedManifest: (table: string) => `processed/${table}/${MANIFEST}`,
  quarantineTable: (source: string, table: string) => `quarantine/${source}/${table}`,
  /** A batch's quarantine file; `revision` names the rewrite left after rows were retried. */
  quarantineFile: (source: string, table: string, batch: string, revision?: number) =>
    `quarantine/${source}/${table}/${batch.slice(0, 16)}${revision ? `-r${revision}` : ''}.parquet`,
  /** The parent versions a table's rows waiting for a parent were last checked against. */
  processedForeignKeyCheck: (table: string) => `processed/${table}/_foreign_keys.json`,
  curatedTable: (model: string) => `curated/${model}`,
};
