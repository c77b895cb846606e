/**
 * Loading a project folder: tributary.yml, its sources and their contracts. Loading is pure
 * (no engine, no lake): it returns a validated, resolved description or every problem found.
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { TributaryError } from '../core/index.js';
import {
  contractSchema,
  type ColumnContract,
  csvOptionsSchema,
  projectConfigSchema,
  type Contract,
  type CsvOptions,
  type DatabaseSourceConfig,
  type DatabaseTableConfig,
  type StreamTableConfig,
  type Disposition,
  type FileTableConfig,
  type ProjectConfig,
  type RestSourceConfig,
  type RestTableConfig,
  type SchemaEvolution,
} from './schema.js';
import { ProblemsError, readYamlFile, type Problem } from './yaml.js';
import { loadForecasts, type Forecast } from './forecasts/index.js';

export const CONFIG_FILE = 'tributary.yml';

export type FileFormat = 'csv' | 'json' | 'ndjson';

/** What every source table has: its names, how its raw batches read, and its contract. */
interface SourceTableBase {
  /** `<source>.<table>`. */
  id: string;
  source: string;
  table: string;
  /** How raw batches are read (files: from the extension when undefined; connectors land NDJSON or CSV). */
  format: FileFormat | undefined;
  csv: CsvOptions;
  records: string | undefined;
  contract: Contract;
  /** Where the contract came from, for messages. */
  contractFile: string;
  disposition: Disposition;
  schemaEvolution: SchemaEvolution;
}

/** Files dropped in a landing folder. */
export interface FileSourceTable extends SourceTableBase {
  kind: 'files';
  /** Absolute landing folder. */
  folder: string;
  /** Glob of file names inside the folder. */
  pattern: string;
}

/** An endpoint of a REST API. */
export interface RestSourceTable extends SourceTableBase {
  kind: 'rest';
  sourceConfig: RestSourceConfig;
  /** The endpoint's config (for a child table: its parent's). */
  tableConfig: RestTableConfig;
  /** The project folder: secret files and custom modules are relative to it. */
  dir?: string;
  /** Set on a child table: rows unnested from the list at `path` of `table`'s records. */
  parent?: { table: string; path: string };
}

/** A table of an operational database. */
export interface DatabaseSourceTable extends SourceTableBase {
  kind: 'postgres' | 'mysql';
  sourceConfig: DatabaseSourceConfig;
  tableConfig: DatabaseTableConfig;
}

/** A table fed by a stream of the collector, flushed into the raw zone in micro-batches. */
export interface StreamSourceTable extends SourceTableBase {
  kind: 'stream';
  /** The stream read (a Kinesis stream or Firehose delivery stream name). */
  stream: string;
  /** Cut a batch at this many bytes, or when its oldest record is `maxAgeMs` old. */
  buffer: { maxBytes: number; maxAgeMs: number };
}

/** One table of one source, with its contract resolved. */
export type SourceTable =
  FileSourceTable | RestSourceTable | DatabaseSourceTable | StreamSourceTable;

export interface ProjectPaths {
  /** The project's hidden working folder. */
  work: string;
  lake: string;
  warehouse: string;
  /** The state file, when state is a DuckDB file (undefined: state is on PostgreSQL). */
  state: string | undefined;
  reports: string;
  tmp: string;
  /** Folder of the dbt project holding the models. */
  models: string;
  reportQueries: string[];
}

export interface Project {
  dir: string;
  config: ProjectConfig;
  tables: SourceTable[];
  /** forecasts/*.yml, validated (each runs as the asset `forecast:<name>`). */
  forecasts: Forecast[];
  paths: ProjectPaths;
}

/** CSV as the connectors land it, and files read without `csv:`: the schema's defaults. */
const defaultCsv: CsvOptions = csvOptionsSchema.parse({});

/** Loads and validates a project; throws one error listing every problem found. */
export async function loadProject(dirArg: string): Promise<Project> {
  const dir = resolve(dirArg);
  const { config, configFile } = await readConfig(dir);
  const loading: TableLoading = { dir, configFile, problems: [], tables: [], seen: new Map() };
  for (const [source, sourceConfig] of Object.entries(config.sources)) {
    for (const [table, tableConfig] of Object.entries(sourceConfig.tables)) {
      await addSourceTable(loading, source, sourceConfig, table, tableConfig);
    }
  }
  const problems = [...loading.problems, ...checkContracts(loading.tables)];
  let forecasts: Forecast[] = [];
  try {
    forecasts = await loadForecasts(dir);
  } catch (err) {
    if (!(err instanceof ProblemsError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length) throw new ProblemsError(problems);
  return { dir, config, tables: loading.tables, forecasts, paths: projectPaths(dir, config) };
}

/** tributary.yml, validated (environment variables interpolated), or every problem in it. */
async function readConfig(dir: string): Promise<{ config: ProjectConfig; configFile: string }> {
  const configPath = join(dir, CONFIG_FILE);
  if (!existsSync(configPath)) {
    throw new TributaryError(`no ${CONFIG_FILE} in ${dir}`, {
      code: 'CONFIG',
      hint: 'run `tributary init <folder>` to create a project, or pass --project <folder>',
    });
  }
  const configFile = relative(process.cwd(), configPath) || CONFIG_FILE;
  const parsed = await readYamlFile(configPath, configFile, projectConfigSchema, {
    interpolateEnv: true,
  });
  if (!parsed.value) throw new ProblemsError(parsed.problems);
  return { config: parsed.value, configFile };
}

/** The tables resolved so far and the problems found, while sources are read in order. */
interface TableLoading {
  dir: string;
  /** tributary.yml as messages name it. */
  configFile: string;
  problems: Problem[];
  tables: SourceTable[];
  /** Each table name taken so far, with the source that took it. */
  seen: Map<string, string>;
}

type SourceConfig = ProjectConfig['sources'][string];

/** One table of a source (a REST table's child tables too), with its contract read. */
async function addSourceTable(
  loading: TableLoading,
  source: string,
  sourceConfig: SourceConfig,
  table: string,
  tableConfig: SourceConfig['tables'][string],
): Promise<void> {
  const path = `sources.${source}.tables.${table}`;
  if (!claimTableName(loading, table, source, path)) return;
  const { contract, contractFile } = await readContract(loading, table, tableConfig, path);
  if (!contract) return;
  const base = { id: `${source}.${table}`, source, table, contract, contractFile };
  switch (sourceConfig.type) {
    case 'files':
      loading.tables.push(fileTable(base, loading.dir, sourceConfig.path, tableConfig));
      break;
    case 'rest':
      await addRestTables(loading, base, sourceConfig, tableConfig as RestTableConfig, path);
      break;
    case 'postgres':
    case 'mysql': {
      const t = tableConfig as DatabaseTableConfig;
      // Database extracts land as CSV with a header row (PostgreSQL's COPY format).
      loading.tables.push({
        ...base,
        kind: sourceConfig.type,
        sourceConfig,
        tableConfig: t,
        format: 'csv',
        csv: defaultCsv,
        records: undefined,
        disposition: t.disposition,
        schemaEvolution: t.schema_evolution,
      });
      break;
    }
    case 'stream': {
      const t = tableConfig as StreamTableConfig;
      // The flusher lands each micro-batch as NDJSON, one event per line.
      loading.tables.push({
        ...base,
        contract: withStreamMetadata(contract),
        kind: 'stream',
        stream: t.stream ?? table,
        buffer: { maxBytes: t.buffer.max_bytes, maxAgeMs: t.buffer.max_age },
        format: 'ndjson',
        csv: defaultCsv,
        records: undefined,
        disposition: t.disposition,
        schemaEvolution: t.schema_evolution,
      });
      break;
    }
  }
}

/**
 * The log's metadata of each event, which the flusher adds to every line it lands: columns of
 * every stream table, so a contract need not list them (one that does keeps its own definition).
 */
export const STREAM_METADATA_COLUMNS: readonly ColumnContract[] = [
  { name: '_sequence_number', type: 'string', required: true },
  { name: '_shard_id', type: 'string', required: false },
  { name: '_partition_key', type: 'string', required: false },
  { name: '_arrival_ts', type: 'timestamp', required: false },
];

/** A stream table's contract: the user's columns, then the metadata columns it does not list. */
function withStreamMetadata(contract: Contract): Contract {
  const listed = new Set(contract.columns.map((c) => c.name));
  return {
    ...contract,
    columns: [
      ...contract.columns,
      ...STREAM_METADATA_COLUMNS.filter((c) => !listed.has(c.name)).map((c) => ({ ...c })),
    ],
  };
}

/**
 * Takes a table name for a source; false (and a problem) when another source has it, since
 * processed tables are named by table alone.
 */
function claimTableName(
  loading: TableLoading,
  table: string,
  source: string,
  path: string,
): boolean {
  const taken = loading.seen.get(table);
  if (taken !== undefined) {
    loading.problems.push({
      message: `table name ${table} is used by sources ${taken} and ${source}; processed tables are named by table alone, so names must be unique`,
      location: { file: loading.configFile, path },
    });
    return false;
  }
  loading.seen.set(table, source);
  return true;
}

/** A table's contract: inline in tributary.yml, or its file (default contracts/<table>.yml). */
async function readContract(
  loading: TableLoading,
  table: string,
  tableConfig: { contract?: string | Contract | undefined },
  path: string,
): Promise<{ contract: Contract | undefined; contractFile: string }> {
  if (typeof tableConfig.contract === 'object') {
    return {
      contract: tableConfig.contract,
      contractFile: `${loading.configFile} (${path}.contract)`,
    };
  }
  const file = join(loading.dir, tableConfig.contract ?? join('contracts', `${table}.yml`));
  return readContractFile(loading, file);
}

async function readContractFile(
  loading: TableLoading,
  file: string,
): Promise<{ contract: Contract | undefined; contractFile: string }> {
  const contractFile = relative(process.cwd(), file);
  const result = await readYamlFile(file, contractFile, contractSchema);
  loading.problems.push(...result.problems);
  return { contract: result.value, contractFile };
}

type TableBase = Pick<SourceTableBase, 'id' | 'source' | 'table' | 'contract' | 'contractFile'>;

/** A table of a landing folder. */
function fileTable(
  base: TableBase,
  dir: string,
  folder: string,
  tableConfig: SourceConfig['tables'][string],
): FileSourceTable {
  const t = tableConfig as FileTableConfig;
  return {
    ...base,
    kind: 'files',
    folder: resolve(dir, folder),
    pattern: t.files,
    format: t.format,
    csv: { ...defaultCsv, ...t.csv },
    records: t.records,
    disposition: t.disposition,
    schemaEvolution: 'freeze',
  };
}

/**
 * A REST endpoint's table, then its child tables (lists unnested from each record): tables of
 * the same source, landed by the parent's run, each with its own contract at contracts/<child>.yml.
 */
async function addRestTables(
  loading: TableLoading,
  base: TableBase,
  sourceConfig: RestSourceConfig,
  t: RestTableConfig,
  path: string,
): Promise<void> {
  // Connectors land what they fetched as NDJSON, one record per line.
  const rest = {
    kind: 'rest' as const,
    sourceConfig,
    tableConfig: t,
    dir: loading.dir,
    format: 'ndjson' as const,
    csv: defaultCsv,
    records: undefined,
    disposition: t.disposition,
    schemaEvolution: t.schema_evolution,
  };
  loading.tables.push({ ...base, ...rest });
  for (const [child, listPath] of Object.entries(t.child_tables)) {
    if (!claimTableName(loading, child, base.source, `${path}.child_tables.${child}`)) continue;
    const file = join(loading.dir, 'contracts', `${child}.yml`);
    const { contract, contractFile } = await readContractFile(loading, file);
    if (!contract) continue;
    loading.tables.push({
      id: `${base.source}.${child}`,
      source: base.source,
      table: child,
      contract,
      contractFile,
      ...rest,
      parent: { table: base.table, path: listPath },
    });
  }
}

/** Where the project's files live, all absolute. */
function projectPaths(dir: string, config: ProjectConfig): ProjectPaths {
  const work = join(dir, '.tributary');
  return {
    work,
    lake: resolve(dir, config.lake.path),
    warehouse: resolve(dir, config.warehouse.path),
    state: config.state.store === 'duckdb' ? resolve(dir, config.state.path) : undefined,
    reports: join(work, 'reports'),
    tmp: join(work, 'tmp'),
    models: resolve(dir, config.models.project),
    reportQueries: config.reports.paths.map((p) => resolve(dir, p)),
  };
}

/** Cross-checks contracts: keys, partitions and foreign keys must name columns that exist. */
function checkContracts(tables: SourceTable[]): Problem[] {
  const problems: Problem[] = [];
  const byName = new Map(tables.map((t) => [t.table, t]));
  for (const t of tables) {
    const columns = new Map(t.contract.columns.map((c) => [c.name, c]));
    const at = (path: string) => ({ file: t.contractFile, path });
    if (columns.size !== t.contract.columns.length) {
      problems.push({ message: 'column names must be unique', location: at('columns') });
    }
    for (const key of t.contract.primary_key ?? []) {
      const col = columns.get(key);
      if (!col)
        problems.push({
          message: `primary key column ${key} is not in columns`,
          location: at('primary_key'),
        });
      else if (!col.required) {
        problems.push({
          message: `primary key column ${key} must be required: rows without a key cannot be told apart`,
          location: at('primary_key'),
        });
      }
    }
    const partition = t.contract.partition_by;
    if (partition) {
      const col = columns.get(partition.column);
      if (!col)
        problems.push({
          message: `partition column ${partition.column} is not in columns`,
          location: at('partition_by.column'),
        });
      else if (col.type !== 'date' && col.type !== 'timestamp') {
        problems.push({
          message: `partition column ${partition.column} must be a date or timestamp, not ${col.type}`,
          location: at('partition_by.column'),
        });
      } else if (!col.required) {
        problems.push({
          message: `partition column ${partition.column} must be required: every row needs a partition`,
          location: at('partition_by.column'),
        });
      }
    }
    t.contract.columns.forEach((c, i) => {
      if ((c.min !== undefined || c.max !== undefined) && !isNumeric(c.type)) {
        problems.push({
          message: `min/max need a numeric type, not ${c.type}`,
          location: at(`columns.${i}`),
        });
      }
      if (!c.references) return;
      const [table, column] = c.references.split('.') as [string, string];
      const parent = byName.get(table);
      if (!parent) {
        problems.push({
          message: `references unknown table ${table}`,
          location: at(`columns.${i}.references`),
        });
      } else if (!parent.contract.columns.some((pc) => pc.name === column)) {
        problems.push({
          message: `references unknown column ${table}.${column}`,
          location: at(`columns.${i}.references`),
        });
      }
    });
  }
  return problems;
}

function isNumeric(type: string): boolean {
  return type === 'integer' || type === 'bigint' || type === 'double' || type.startsWith('decimal');
}
