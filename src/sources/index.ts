/** Sources: connectors that land data in the raw zone. */
export type { LandContext, LandResult, LostRange, Source } from './types.js';
export { FilesSource, type LandedBatch } from './files/index.js';
export { readRawManifest, commitRawBatches, RawBatchWriter } from './raw-writer.js';
export {
  RestSource,
  parseRetryAfter,
  type RestCursor,
  type RestSourceOptions,
  type Clock,
} from './rest/index.js';
export { PostgresSource } from './postgres/index.js';
export type { DatabaseBatch } from './database/index.js';
import { TributaryError } from '../core/index.js';
import type { SourceTable } from '../project/index.js';
import { FilesSource } from './files/index.js';
import { RestSource } from './rest/index.js';
import { MysqlSource } from './mysql/index.js';
import { PostgresSource } from './postgres/index.js';
import type { Source } from './types.js';

/** The connector for a project table. */
export function sourceFor(table: SourceTable): Source {
  switch (table.kind) {
    case 'files':
      return new FilesSource(table);
    case 'rest':
      return new RestSource(table);
    case 'postgres':
      return new PostgresSource(table);
    case 'mysql':
      return new MysqlSource(table);
    default: {
      // Every kind has a connector; this guards a table built outside loadProject.
      const t = table as { kind: string; source: string };
      throw new TributaryError(`${t.kind} sources are not available in this build`, {
        code: 'CONFIG',
        location: { path: `sources.${t.source}` },
      });
    }
  }
}
