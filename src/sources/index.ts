/** Sources: connectors that land data in the raw zone. */
export * from './types.js';
export * from './files/index.js';
export * from './raw-writer.js';
import { TributaryError } from '../core/index.js';
import type { SourceTable } from '../project/index.js';
import { FilesSource } from './files/index.js';
import type { Source } from './types.js';

/** The connector for a project table. */
export function sourceFor(table: SourceTable): Source {
  switch (table.kind) {
    case 'files':
      return new FilesSource(table);
    default:
      throw new TributaryError(`${table.kind} sources are not available in this build`, {
        code: 'CONFIG',
        location: { path: `sources.${table.source}` },
      });
  }
}
