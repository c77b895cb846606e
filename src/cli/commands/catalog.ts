/** `tributary catalog`: tables in every zone with columns, types, row counts, partitions and schema versions. */
import type { Command } from 'commander';
import { TributaryError } from '../../core/index.js';
import { withProject } from '../remote.js';
import type { CatalogEntry, SchemaVersion } from '../../state/index.js';
import { print, type CliContext } from '../context.js';
import { formatTable, type Output } from '../output.js';

export interface CatalogListing {
  tables: (CatalogEntry & { versions?: SchemaVersion[] })[];
}

/** All catalog entries, or the entries whose name matches `name` with their schema history. */
async function readCatalog(projectDir: string, name?: string): Promise<CatalogListing> {
  type Entry = CatalogEntry & { versions?: SchemaVersion[] };
  const pick = (all: CatalogEntry[]) => {
    if (!name) return all;
    const matches = all.filter(
      (e) => e.name === name || `${e.zone}.${e.name}` === name || e.name.endsWith(`.${name}`),
    );
    if (!matches.length) {
      throw new TributaryError(`no table named ${name} in the catalog`, {
        code: 'NOT_FOUND',
        hint: 'run `tributary catalog` to list tables (and `tributary run` to fill the catalog)',
      });
    }
    return matches;
  };
  return withProject<CatalogListing>(
    projectDir,
    'catalog',
    async (ws) => {
      const matches = pick(await ws.state.listCatalog());
      if (!name) return { tables: matches };
      return {
        tables: await Promise.all(
          matches.map(async (e) => ({
            ...e,
            versions: await ws.state.schemaVersions(e.zone, e.name),
          })),
        ),
      };
    },
    async (api) => {
      const matches = pick(await api.get<CatalogEntry[]>('/api/catalog'));
      if (!name) return { tables: matches };
      return {
        tables: await Promise.all(
          matches.map((e) =>
            api.get<Entry>(
              `/api/catalog/${encodeURIComponent(e.zone)}/${encodeURIComponent(e.name)}`,
            ),
          ),
        ),
      };
    },
  );
}

function formatCatalog(listing: CatalogListing, out: Output, detailed: boolean): string {
  if (!listing.tables.length) return 'the catalog is empty: run `tributary run` first';
  if (!detailed) {
    const rows = listing.tables.map((t) => ({
      zone: t.zone,
      table: t.name,
      rows: t.rowCount ?? 'view',
      columns: t.columns.length,
      partitions: t.partitions.length,
      schema_version: t.schemaVersion,
      location: t.location,
    }));
    const columns = [
      'zone',
      'table',
      'rows',
      'columns',
      'partitions',
      'schema_version',
      'location',
    ].map((name) => ({
      name,
      kind: ['rows', 'columns', 'partitions', 'schema_version'].includes(name)
        ? ('number' as const)
        : ('string' as const),
      type: '',
    }));
    const listingText = formatTable(columns, rows);
    const columnText = listing.tables
      .map(
        (t) =>
          `${out.paint('bold', `${t.zone}.${t.name}`)}: ${t.columns.map((c) => `${c.name} ${c.type}`).join(', ')}`,
      )
      .join('\n');
    return `${listingText}\n\n${columnText}`;
  }
  return listing.tables
    .map((t) => {
      const head = `${out.paint('bold', `${t.zone}.${t.name}`)}  ${t.rowCount === null ? 'a view (no stored rows)' : `${t.rowCount.toLocaleString('en-US')} rows`}, schema version ${t.schemaVersion}, ${t.location}`;
      const cols = formatTable(
        [
          { name: 'column', kind: 'string', type: '' },
          { name: 'type', kind: 'string', type: '' },
        ],
        t.columns.map((c) => ({ column: c.name, type: c.type })),
      );
      const parts = t.partitions.length
        ? `partitions (${t.partitions.length}): ${t.partitions.join(' ')}`
        : 'not partitioned';
      const versions = (t.versions ?? [])
        .map(
          (v) =>
            `  v${v.version} ${v.recordedAt}: ${v.columns.map((c) => `${c.name} ${c.type}`).join(', ')}`,
        )
        .join('\n');
      return `${head}\n${cols}\n${parts}\nschema versions:\n${versions}`;
    })
    .join('\n\n');
}

export function registerCatalog(program: Command, cli: CliContext): void {
  program
    .command('catalog')
    .description('list tables with columns, types, row counts, partitions and schema versions')
    .argument('[table]', 'show one table in detail, with its schema history')
    .option('--json', 'print as JSON')
    .action(async (table: string | undefined, opts: { json?: boolean }) => {
      const listing = await readCatalog(cli.project(), table);
      print(
        opts.json
          ? JSON.stringify(listing, null, 2)
          : formatCatalog(listing, cli.output(), Boolean(table)),
      );
    });
}
