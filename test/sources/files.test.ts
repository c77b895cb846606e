import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FilesSource } from '../../src/sources/index.js';
import type { FileSourceTable } from '../../src/project/index.js';
import { tempDir } from '../helpers.js';
import { describeSourceConformance } from './conformance.js';

describeSourceConformance('files', async () => {
  const folder = tempDir('trib-landing-');
  const table: FileSourceTable = {
    id: 'app.items',
    source: 'app',
    table: 'items',
    kind: 'files',
    folder,
    pattern: 'items-*.csv',
    format: 'csv',
    csv: { delimiter: ',', quote: '"', escape: '"', header: true },
    records: undefined,
    contract: { columns: [{ name: 'id', type: 'bigint', required: true }] },
    contractFile: 'contracts/items.yml',
    disposition: 'append',
    schemaEvolution: 'freeze',
  };
  return {
    source: new FilesSource(table),
    sourceName: 'app',
    tableName: 'items',
    offer: async (name, bytes) => writeFileSync(join(folder, `items-${name}.csv`), bytes),
  };
});
