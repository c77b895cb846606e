/**
 * The project format, defined once with zod: validation of tributary.yml and contract files,
 * the TypeScript types the rest of the code uses, and the JSON Schema editors read.
 */
import { z } from 'zod';

const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a name of letters, digits and underscores');

/** Portable column types; the engine maps each to its own type name. */
export const logicalTypeSchema = z
  .string()
  .regex(
    /^(string|integer|bigint|double|boolean|date|timestamp|decimal\(\d{1,2},\d{1,2}\))$/,
    'expected one of string, integer, bigint, double, boolean, date, timestamp, decimal(p,s)',
  );

export const columnContractSchema = z
  .object({
    name: identifier.describe('Column name in the processed table.'),
    type: logicalTypeSchema.describe('Type every value must parse as.'),
    from: z
      .string()
      .optional()
      .describe(
        'Field in the raw file: a CSV header, or a dotted JSON path (metadata.order_id). Defaults to name.',
      ),
    required: z.boolean().default(false).describe('Empty or missing values are rejected.'),
    min: z.number().optional().describe('Smallest allowed value (numbers).'),
    max: z.number().optional().describe('Largest allowed value (numbers).'),
    allowed: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe('The only values allowed.'),
    references: z
      .string()
      .regex(/^[A-Za-z_]\w*\.[A-Za-z_]\w*$/, 'expected table.column')
      .optional()
      .describe('Foreign key: the value must exist in another processed table (table.column).'),
    description: z.string().optional(),
  })
  .strict();

export const contractSchema = z
  .object({
    description: z.string().optional(),
    primary_key: z
      .array(identifier)
      .min(1)
      .optional()
      .describe('Columns that identify a row; later duplicates go to quarantine.'),
    partition_by: z
      .object({
        column: identifier.describe('A date or timestamp column of this contract.'),
        granularity: z.enum(['day', 'month', 'year']).default('day'),
      })
      .strict()
      .optional()
      .describe('Hive-style partitions of the processed Parquet files.'),
    columns: z.array(columnContractSchema).min(1),
  })
  .strict();

export const csvOptionsSchema = z
  .object({
    delimiter: z.string().length(1).default(','),
    quote: z.string().length(1).default('"'),
    escape: z.string().length(1).default('"'),
    header: z
      .literal(true)
      .default(true)
      .describe('Files must have a header row; it is checked against the contract.'),
  })
  .strict();

export const fileTableSchema = z
  .object({
    files: z.string().describe('Glob of file names inside the source folder, e.g. orders*.csv.'),
    format: z
      .enum(['csv', 'json', 'ndjson'])
      .optional()
      .describe('Defaults to the file extension.'),
    csv: csvOptionsSchema.optional(),
    records: z
      .string()
      .optional()
      .describe(
        'JSON only: dotted path to the array of records inside each file (e.g. data for a Stripe list).',
      ),
    contract: z
      .union([z.string(), contractSchema])
      .optional()
      .describe('Contract file (default contracts/<table>.yml) or an inline contract.'),
  })
  .strict();

export const filesSourceSchema = z
  .object({
    type: z.literal('files'),
    path: z.string().default('landing').describe('Landing folder, relative to the project.'),
    tables: z.record(identifier, fileTableSchema),
  })
  .strict();

export const sourceSchema = z.discriminatedUnion('type', [filesSourceSchema]);

export const projectConfigSchema = z
  .object({
    $schema: z.string().optional(),
    name: identifier,
    description: z.string().optional(),
    generator: z
      .object({
        template: z.enum(['ecommerce']),
        scale: z.number().positive().default(0.1),
        seed: z.number().int().default(42),
        out: z.string().default('landing'),
      })
      .strict()
      .optional()
      .describe('Sample data `tributary generate` writes for this project.'),
    lake: z
      .object({
        store: z.literal('local').default('local'),
        path: z.string().default('.tributary/lake'),
      })
      .strict()
      .default({ store: 'local', path: '.tributary/lake' }),
    warehouse: z
      .object({
        engine: z.literal('duckdb').default('duckdb'),
        path: z.string().default('.tributary/warehouse.duckdb'),
        threads: z.number().int().positive().optional(),
        memory_limit: z.string().optional(),
      })
      .strict()
      .default({ engine: 'duckdb', path: '.tributary/warehouse.duckdb' }),
    state: z
      .object({
        store: z.literal('duckdb').default('duckdb'),
        path: z.string().default('.tributary/state.duckdb'),
      })
      .strict()
      .default({ store: 'duckdb', path: '.tributary/state.duckdb' }),
    sources: z.record(identifier, sourceSchema).default({}),
    models: z
      .object({
        project: z
          .string()
          .default('.')
          .describe(
            'Folder of the dbt project (dbt_project.yml) whose models the pipeline builds; without a dbt_project.yml, models/ is read with dbt defaults.',
          ),
        schema: identifier
          .default('main')
          .describe('Schema the models are built in (the target schema).'),
        threads: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('Nodes built at once (default: the run concurrency).'),
      })
      .strict()
      .default({ project: '.', schema: 'main' }),
    reports: z
      .object({ paths: z.array(z.string()).default(['reports']) })
      .strict()
      .default({ paths: ['reports'] }),
  })
  .strict();

export type ProjectConfig = z.output<typeof projectConfigSchema>;
export type Contract = z.output<typeof contractSchema>;
export type ColumnContract = z.output<typeof columnContractSchema>;
export type FileTableConfig = z.output<typeof fileTableSchema>;
export type FilesSourceConfig = z.output<typeof filesSourceSchema>;
export type CsvOptions = z.output<typeof csvOptionsSchema>;

/** JSON Schemas for editors, generated from the same definitions that validate. */
export function jsonSchemas(): Record<string, unknown> {
  return {
    'tributary.schema.json': z.toJSONSchema(projectConfigSchema, { io: 'input' }),
    'contract.schema.json': z.toJSONSchema(contractSchema, { io: 'input' }),
  };
}
