/** Sources: connectors that land data in the raw zone. */
export * from './types.js';
export * from './files/index.js';
import type { SourceTable } from '../project/index.js';
import { FilesSource } from './files/index.js';
import type { Source } from './types.js';

/** The connector for a project table. */
export function sourceFor(table: SourceTable): Source {
  switch (table.kind) {
    case 'files':
      return new FilesSource(table);
  }
}
