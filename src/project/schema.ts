/**
 * The project format, defined once with zod: validation of tributary.yml and contract files,
 * the TypeScript types the rest of the code uses, and the JSON Schema editors read.
 *
 * Config defaults are set here and nowhere else. A nested object defaults with `prefault({})`,
 * which parses `{}` through the object so its fields' own defaults apply (zod's `default()`
 * would return the value as given, so the fields' defaults would have to be written twice).
 */
import { z } from 'zod';
import { parseByteSize, parseDuration } from '../core/index.js';
import { dashboardJsonSchema } from './dashboards/schema.js';
import { forecastJsonSchema } from './forecasts/schema.js';
import { syncJsonSchema } from './syncs/schema.js';

const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a name of letters, digits and underscores');

/** Portable column types; the engine maps each to its own type name. */
const logicalTypeSchema = z
  .string()
  .regex(
    /^(string|integer|bigint|double|boolean|date|timestamp|decimal\(\d{1,2},\d{1,2}\))$/,
    'expected one of string, integer, bigint, double, boolean, date, timestamp, decimal(p,s)',
  );

const columnContractSchema = z
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
    pii: z
      .boolean()
      .optional()
      .describe(
        'Personal data (email, phone, address): masked for the viewer role in SQL and dashboards.',
      ),
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

const fileTableSchema = z
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
    disposition: z
      .enum(['append', 'replace', 'merge'])
      .default('append')
      .describe(
        'append: add rows (a key loaded before goes to quarantine); replace: each file is the whole table; merge: latest row per primary key wins.',
      ),
  })
  .strict();

const filesSourceSchema = z
  .object({
    type: z.literal('files'),
    path: z.string().default('landing').describe('Landing folder, relative to the project.'),
    tables: z.record(identifier, fileTableSchema),
  })
  .strict();

/** A secret: read from an environment variable or a file, never written in tributary.yml. */
const secretSchema = z
  .union([
    z.object({ env: z.string().describe('Environment variable holding the secret.') }).strict(),
    z
      .object({ file: z.string().describe('File holding the secret (trailing newline ignored).') })
      .strict(),
  ])
  .describe('Where a secret comes from: { env: NAME } or { file: path }.');

/** How a table's new rows join what is already processed. */
const dispositionSchema = z
  .enum(['append', 'replace', 'merge'])
  .default('append')
  .describe(
    'append: add rows; replace: the batch replaces the table; merge: latest row per primary key wins.',
  );

const evolutionSchema = z
  .enum(['evolve', 'freeze', 'discard_row'])
  .describe(
    'When a column changes incompatibly: evolve the schema, freeze (fail clearly), or quarantine the row.',
  );

const connectorTableCommon = {
  contract: z
    .union([z.string(), contractSchema])
    .optional()
    .describe('Contract file (default contracts/<table>.yml) or an inline contract.'),
  disposition: dispositionSchema.default('append'),
  schema_evolution: evolutionSchema.default('evolve'),
};

const restAuthSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bearer'), token: secretSchema }).strict(),
  z.object({ type: z.literal('basic'), username: secretSchema, password: secretSchema }).strict(),
  z
    .object({
      type: z.literal('api_key'),
      name: z.string().describe('Header or query parameter name.'),
      in: z.enum(['header', 'query']).default('header'),
      key: secretSchema,
    })
    .strict(),
]);

const paginationSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('cursor'),
      cursor_path: z
        .string()
        .optional()
        .describe(
          'Dotted path of the next cursor in the response body (or give from_last_record).',
        ),
      cursor_param: z.string().describe('Query parameter that carries the cursor.'),
      from_last_record: z
        .string()
        .optional()
        .describe(
          'Take the cursor from this field of the last record (Stripe: id) instead of cursor_path.',
        ),
      has_more_path: z
        .string()
        .optional()
        .describe('Dotted path of a boolean that says more pages exist.'),
    })
    .strict(),
  z.object({ type: z.literal('next_link'), next_path: z.string() }).strict(),
  z.object({ type: z.literal('link_header') }).strict(),
  z
    .object({
      type: z.literal('offset'),
      offset_param: z.string().default('offset'),
      limit_param: z.string().default('limit'),
      limit: z.number().int().positive().default(100),
      total_path: z.string().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('page'),
      page_param: z.string().default('page'),
      first_page: z.number().int().default(1),
      size_param: z.string().optional(),
      size: z.number().int().positive().optional(),
    })
    .strict(),
]);

const restTableSchema = z
  .object({
    path: z.string().describe('Endpoint path, appended to base_url.'),
    module: z
      .string()
      .optional()
      .describe(
        'Custom connector: a .js/.ts file (relative to the project) exporting async function* fetch(ctx).',
      ),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    records: z
      .string()
      .optional()
      .describe(
        'Dotted path of the records array in each response (default: the body is the array).',
      ),
    paginate: paginationSchema.optional(),
    incremental: z
      .object({
        cursor_field: z.string().describe('Field of each record that only grows (e.g. created).'),
        param: z
          .string()
          .describe(
            'Query parameter that asks for records from the cursor on (e.g. created[gte]).',
          ),
        initial: z.union([z.string(), z.number()]).optional(),
      })
      .strict()
      .optional(),
    primary_key: z.array(z.string()).optional(),
    child_tables: z
      .record(identifier, z.string())
      .default({})
      .describe(
        'Lists inside records to unnest into child tables: <child table>: <dotted path of the list>. Each child table needs a contract (contracts/<child>.yml); its rows carry <parent>_<key> and _index.',
      ),
    ...connectorTableCommon,
  })
  .strict();

export const restSourceSchema = z
  .object({
    type: z.literal('rest'),
    base_url: z.string().url(),
    auth: restAuthSchema.optional(),
    headers: z.record(z.string(), z.string()).default({}),
    rate_limit: z.object({ requests_per_second: z.number().positive() }).strict().optional(),
    retries: z
      .object({
        attempts: z.number().int().min(1).default(5),
        backoff_ms: z.number().int().positive().default(500),
        max_backoff_ms: z.number().int().positive().default(30000),
      })
      .strict()
      .prefault({}),
    timeout_ms: z.number().int().positive().default(30000),
    tables: z.record(identifier, restTableSchema),
  })
  .strict();

const databaseTableSchema = z
  .object({
    table: z
      .string()
      .optional()
      .describe('Table (or schema.table) in the database; defaults to the table name.'),
    columns: z.array(z.string()).optional().describe('Columns to extract (default: all).'),
    mode: z.enum(['full', 'incremental']).default('full'),
    cursor: z
      .string()
      .optional()
      .describe('incremental: a column that only grows (updated_at, id).'),
    primary_key: z.array(z.string()).optional(),
    parallel: z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(1)
      .describe(
        'postgres: extract over this many connections sharing one snapshot, each a range of split_by (one batch each).',
      ),
    split_by: z
      .string()
      .optional()
      .describe('postgres, parallel > 1: an integer column to split the extract into ranges.'),
    ...connectorTableCommon,
  })
  .strict();

const databaseSource = (type: 'postgres' | 'mysql') =>
  z
    .object({
      type: z.literal(type),
      url: secretSchema
        .optional()
        .describe('Connection URL, from an env var or a file (it holds the password).'),
      host: z.string().optional(),
      port: z.number().int().optional(),
      user: z.string().optional(),
      password: secretSchema.optional(),
      database: z.string().optional(),
      schema: z.string().optional().describe('Default schema of the tables (postgres).'),
      tables: z.record(identifier, databaseTableSchema),
    })
    .strict();

const postgresSourceSchema = databaseSource('postgres');
const mysqlSourceSchema = databaseSource('mysql');

/** A duration (`30s`, `10m`, `26h`, `1h30m`, or milliseconds), as milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration such as 30s, 10m or 26h, got ${JSON.stringify(v)}`,
    });
    return z.NEVER;
  }
  return ms;
});

/** A byte size (`64MB`, `1GiB`, or a number of bytes), as bytes. */
const byteSize = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const bytes = parseByteSize(v);
  if (bytes === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a size such as 64MB, 512KiB or 1GB, got ${JSON.stringify(v)}`,
    });
    return z.NEVER;
  }
  return bytes;
});

/**
 * When the flusher cuts a stream's micro-batch into the lake: at this many bytes or this age of
 * its oldest record, whichever comes first (Firehose's buffering hints).
 */
const streamBufferSchema = z
  .object({
    max_bytes: byteSize.default(64_000_000).describe('Cut a batch at this size (default 64MB).'),
    max_age: duration
      .default(10_000)
      .describe('Cut a batch when its oldest record is this old (default 10s).'),
  })
  .strict()
  .prefault({});

const streamTableSchema = z
  .object({
    stream: identifier
      .optional()
      .describe(
        'The stream (Kinesis stream or Firehose delivery stream) read; defaults to the table name.',
      ),
    buffer: streamBufferSchema,
    ...connectorTableCommon,
  })
  .strict();

/** Tables fed by streams of the collector: each flushed into the lake exactly once. */
const streamSourceSchema = z
  .object({
    type: z.literal('stream'),
    tables: z.record(identifier, streamTableSchema),
  })
  .strict();

const sourceSchema = z.discriminatedUnion('type', [
  filesSourceSchema,
  restSourceSchema,
  postgresSourceSchema,
  mysqlSourceSchema,
  streamSourceSchema,
]);

/** Where the collector's durable log lives: local segment files (default) or NATS JetStream. */
const streamLogSchema = z
  .discriminatedUnion('type', [
    z
      .object({
        type: z.literal('local'),
        path: z.string().default('.tributary/stream').describe('Folder of the segment files.'),
      })
      .strict(),
    z
      .object({
        type: z.literal('jetstream'),
        url: z
          .string()
          .default('nats://127.0.0.1:4222')
          .describe('NATS server(s), comma-separated.'),
        prefix: identifier
          .default('tributary')
          .describe('Prefix of the JetStream stream names and subjects this project uses.'),
      })
      .strict(),
  ])
  .prefault({ type: 'local' });

const streamDefinitionSchema = z
  .object({
    shards: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(1)
      .describe('Shards (hash-key ranges of the partition key).'),
    retention: z
      .object({
        max_age: duration.default(24 * 3_600_000).describe('Keep records this long (default 24h).'),
        max_bytes: byteSize.optional().describe('Keep at most this many bytes per shard.'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

const streamConfigSchema = z
  .object({
    log: streamLogSchema,
    streams: z
      .record(identifier, streamDefinitionSchema)
      .default({})
      .describe('Streams created at start (producers may also create them with CreateStream).'),
    collector: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(4567)
          .describe('Port of `tributary collect`.'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

const retryPolicySchema = z
  .object({
    attempts: z.number().int().min(1).default(1).describe('Tries in all, the first included.'),
    backoff: duration.default(1000).describe('Wait before the second try; doubles each try.'),
    max_backoff: duration.default(300_000).describe('Longest wait between tries.'),
    jitter: z
      .boolean()
      .default(true)
      .describe('Wait a random 50–100% of the backoff, so retries spread out.'),
    on: z
      .enum(['transient', 'all'])
      .default('transient')
      .describe('transient: connection losses, timeouts, 429/5xx and locks; all: any failure.'),
  })
  .strict();

const partitionsSchema = z
  .object({
    type: z.literal('daily').default('daily'),
    start: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD'),
    end: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
      .optional()
      .describe('Last partition (default: yesterday in the timezone).'),
    timezone: z.string().default('UTC'),
  })
  .strict();

const assetPolicySchema = z
  .object({
    retry: retryPolicySchema.optional(),
    timeout: duration.optional().describe('Longest one try may take; then it is cancelled.'),
    freshness: z
      .object({ max_age: duration.describe('Alert when the asset was last updated longer ago.') })
      .strict()
      .optional(),
    partitions: partitionsSchema.optional(),
  })
  .strict();

const scheduleSchema = z
  .object({
    cron: z.string().describe('Five or six cron fields, e.g. "0 2 * * *".'),
    timezone: z.string().default('UTC'),
    select: z.array(z.string()).default([]).describe('Assets to run (default: all).'),
    exclude: z.array(z.string()).default([]),
    catch_up: z
      .enum(['none', 'latest', 'all'])
      .default('latest')
      .describe('Ticks missed while no scheduler ran: none, the latest only, or all of them.'),
    enabled: z.boolean().default(true),
  })
  .strict();

const triggerSchema = z.discriminatedUnion('on', [
  z
    .object({
      on: z.literal('file_arrival'),
      tables: z
        .array(z.string())
        .optional()
        .describe('File tables (source.table) to watch; default all.'),
      run: z
        .array(z.string())
        .optional()
        .describe('Assets to run; default the arrived table and what is downstream.'),
      settle: duration.optional(),
    })
    .strict(),
  z
    .object({
      on: z.literal('asset_updated'),
      assets: z.array(z.string()).min(1).describe('Assets whose update fires the trigger.'),
      run: z
        .array(z.string())
        .optional()
        .describe('Assets to run; default what is downstream of them.'),
    })
    .strict(),
]);

const secretOrString = z.union([z.string(), secretSchema]);

/** Pacing of an HTTP destination: at most `requests` per `per` (its documented limit). */
const destinationRateLimitSchema = z
  .object({
    requests: z.number().int().positive().describe('Requests allowed per window.'),
    per: duration.describe('The window, e.g. 10s (HubSpot private apps: 190 per 10s).'),
  })
  .strict();

/**
 * A destination's on/off switch. tributary.yml's `${VAR:-default}` interpolation gives text, so
 * `enabled: ${TRIBUTARY_CRM_ENABLED:-false}` must read as a boolean: true/false, yes/no, on/off, 1/0.
 */
const FLAG_WORDS: Record<string, boolean> = {
  true: true,
  yes: true,
  on: true,
  '1': true,
  false: false,
  no: false,
  off: false,
  '0': false,
};
const enabledFlag = z
  .union(
    [
      z.boolean(),
      z
        .string()
        .refine((v) => Object.hasOwn(FLAG_WORDS, v.trim().toLowerCase()))
        .transform((v) => FLAG_WORDS[v.trim().toLowerCase()]!),
    ],
    {
      error: (issue) =>
        `expected true or false (or yes/no, on/off, 1/0), got ${JSON.stringify(issue.input)}`,
    },
  )
  .default(true)
  .describe(
    "false: the destination's syncs stay in the graph but are skipped (default true); `${VAR:-false}` reads an env var.",
  );

/**
 * Where syncs (reverse ETL) send rows: a HubSpot-shaped CRM, a Salesforce-shaped Bulk API 2.0, a
 * signed webhook or a PostgreSQL table. Credentials are secret references, as REST sources' auth.
 */
const destinationSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('hubspot'),
      enabled: enabledFlag,
      base_url: z.string().url().describe('API root, e.g. https://api.hubapi.com.'),
      token: secretSchema.describe('Private app access token (sent as a Bearer token).'),
      rate_limit: destinationRateLimitSchema.optional(),
      timeout_ms: z.number().int().positive().default(30000),
    })
    .strict(),
  z
    .object({
      type: z.literal('salesforce'),
      enabled: enabledFlag,
      base_url: z.string().url().describe('Instance URL, e.g. https://acme.my.salesforce.com.'),
      token: secretSchema.describe('OAuth access token (sent as a Bearer token).'),
      api_version: z.string().default('59.0'),
      rate_limit: destinationRateLimitSchema.optional(),
      timeout_ms: z.number().int().positive().default(30000),
    })
    .strict(),
  z
    .object({
      type: z.literal('webhook'),
      enabled: enabledFlag,
      url: z.string().url().describe('Endpoint the batches are POSTed to.'),
      secret: secretSchema.describe('HMAC-SHA256 key signing each body (X-Tributary-Signature).'),
      headers: z.record(z.string(), secretOrString).default({}),
      rate_limit: destinationRateLimitSchema.optional(),
      timeout_ms: z.number().int().positive().default(30000),
    })
    .strict(),
  z
    .object({
      type: z.literal('postgres'),
      enabled: enabledFlag,
      url: secretSchema.describe(
        'Connection URL, from an env var or a file (it holds the password).',
      ),
      schema: identifier.default('public').describe('Schema of the destination tables.'),
    })
    .strict(),
]);

/**
 * Where state lives (run history, catalog, versions, tokens, audit, dead letters): a DuckDB file
 * (default), or a PostgreSQL schema several machines can share. `store` may be left out for DuckDB.
 */
const stateSchema = z
  .discriminatedUnion('store', [
    z
      .object({
        store: z.literal('duckdb').default('duckdb'),
        path: z.string().default('.tributary/state.duckdb').describe('The state file.'),
      })
      .strict(),
    z
      .object({
        store: z.literal('postgres'),
        url: secretSchema.describe(
          'Connection URL of the state database, from an env var or a file (it holds the password).',
        ),
        schema: identifier
          .default('tributary_state')
          .describe('Schema of the state tables (created when missing; one per project).'),
      })
      .strict(),
  ])
  .prefault({});

const alertChannelSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('webhook'),
      url: secretOrString,
      headers: z.record(z.string(), secretOrString).default({}),
      events: z.array(z.string()).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('slack'),
      url: secretOrString,
      events: z.array(z.string()).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('email'),
      host: z.string(),
      port: z.number().int().positive().default(587),
      secure: z
        .boolean()
        .default(false)
        .describe('TLS from the start (port 465); otherwise STARTTLS when offered.'),
      user: z.string().optional(),
      password: secretSchema.optional(),
      from: z.string(),
      to: z.array(z.string()).min(1),
      events: z.array(z.string()).optional(),
    })
    .strict(),
]);

const alertEventSchema = z.enum([
  'failure',
  'retries_exhausted',
  'success',
  'freshness',
  'refused_files',
  'stream_gap',
  'sync_failures',
]);

/**
 * The warehouse: an embedded DuckDB file (the default) or an existing PostgreSQL database, whose
 * URL (it holds the password) comes from the environment or a file like every other secret.
 */
const warehouseSchema = z
  .object({
    engine: z
      .enum(['duckdb', 'postgres'])
      .default('duckdb')
      .describe('duckdb: an embedded file (default); postgres: an existing PostgreSQL server.'),
    path: z.string().default('.tributary/warehouse.duckdb').describe('duckdb: the database file.'),
    threads: z.number().int().positive().optional().describe('duckdb: threads.'),
    memory_limit: z.string().optional().describe('duckdb: memory limit, e.g. 4GB.'),
    url: secretSchema
      .optional()
      .describe(
        'postgres: connection URL (postgres://user:password@host:port/database), from { env: NAME } or { file: path }.',
      ),
    schema: identifier
      .optional()
      .describe(
        'postgres: the search_path schema, where unqualified names resolve (default public).',
      ),
    read_url: secretSchema
      .optional()
      .describe(
        'postgres: URL of an existing read-only login role to query through, instead of the one Tributary creates.',
      ),
    read_role: identifier
      .default('tributary_reader')
      .describe(
        'postgres: the read-only role dashboards, the SQL endpoint and `tributary query` read through (created if missing).',
      ),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.engine === 'postgres' && !w.url)
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message:
          'warehouse.engine postgres needs warehouse.url, e.g. url: { env: TRIBUTARY_WAREHOUSE_URL }',
      });
    if (w.engine === 'duckdb')
      for (const key of ['url', 'schema', 'read_url'] as const)
        if (w[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `warehouse.${key} is for engine postgres; this warehouse is DuckDB (set engine: postgres, or remove ${key})`,
          });
  })
  .prefault({});

export const alertsSchema = z
  .object({
    channels: z.record(identifier, alertChannelSchema).default({}),
    events: z
      .array(alertEventSchema)
      .default([
        'failure',
        'retries_exhausted',
        'freshness',
        'refused_files',
        'stream_gap',
        'sync_failures',
      ])
      .describe('What is sent (success is opt-in).'),
    // Only what differs from a step's retry policy; the rest are retryPolicySchema's defaults.
    retry: retryPolicySchema.prefault({ attempts: 3, max_backoff: 60_000, on: 'all' }),
    timeout: duration.default(10_000),
  })
  .strict();

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
      .prefault({}),
    warehouse: warehouseSchema,
    state: stateSchema,
    sources: z.record(identifier, sourceSchema).default({}),
    stream: streamConfigSchema.describe(
      'The event collector (Kinesis/Firehose-compatible) and its durable log.',
    ),
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
      .prefault({}),
    reports: z
      .object({ paths: z.array(z.string()).default(['reports']) })
      .strict()
      .prefault({}),
    assets: z
      .record(z.string(), assetPolicySchema)
      .default({})
      .describe(
        'Policies by selector (`*`, a name, `tag:x`, `kind:model`), applied in order, later keys winning.',
      ),
    schedules: z.record(identifier, scheduleSchema).default({}),
    triggers: z.record(identifier, triggerSchema).default({}),
    alerts: alertsSchema.optional(),
    destinations: z
      .record(identifier, destinationSchema)
      .default({})
      .describe('Where syncs (syncs/*.yml) send warehouse rows: CRMs, webhooks, databases.'),
    serve: z
      .object({
        tls: z
          .object({
            cert: z.string().describe('Certificate file (PEM), relative to the project.'),
            key: z
              .string()
              .describe('Its private key (PEM, unencrypted), relative to the project.'),
          })
          .strict()
          .optional()
          .describe(
            'Serve HTTPS with this certificate (`serve --tls-cert/--tls-key` win over it).',
          ),
        sandbox: z
          .object({
            processes: z
              .number()
              .int()
              .min(1)
              .max(64)
              .optional()
              .describe('Query processes: sandboxed queries that run at once (default 2).'),
            memory_cap_mb: z
              .number()
              .int()
              .min(128)
              .optional()
              .describe(
                'Resident memory one query process may reach before it is killed, in MB (default 1024).',
              ),
            threads: z
              .number()
              .int()
              .min(1)
              .optional()
              .describe('DuckDB threads in each query process (default 2).'),
            timeout_ms: z
              .number()
              .int()
              .min(1)
              .optional()
              .describe('Statement timeout for queries that name none, in ms (default 30000).'),
            row_limit: z
              .number()
              .int()
              .min(0)
              .optional()
              .describe('Row limit for queries that name none (default 10000).'),
          })
          .strict()
          .optional()
          .describe(
            'Limits of the SQL sandbox (`/api/query`, dashboard tiles, `tributary query`).',
          ),
      })
      .strict()
      .optional()
      .describe('How `tributary serve` serves the API and the web UI.'),
    // Two, so the landing of one file overlaps the SQL of another; `run -c` overrides it.
    concurrency: z.number().int().positive().default(2).describe('Assets run at once.'),
  })
  .strict();

export type ProjectConfig = z.output<typeof projectConfigSchema>;
export type Contract = z.output<typeof contractSchema>;
export type ColumnContract = z.output<typeof columnContractSchema>;
export type FileTableConfig = z.output<typeof fileTableSchema>;
export type CsvOptions = z.output<typeof csvOptionsSchema>;

/** JSON Schemas for editors, generated from the same definitions that validate. */
export function jsonSchemas(): Record<string, unknown> {
  return {
    'tributary.schema.json': z.toJSONSchema(projectConfigSchema, { io: 'input' }),
    'contract.schema.json': z.toJSONSchema(contractSchema, { io: 'input' }),
    'dashboard.schema.json': dashboardJsonSchema(),
    'forecast.schema.json': forecastJsonSchema(),
    'sync.schema.json': syncJsonSchema(),
  };
}
export type SecretRef = z.output<typeof secretSchema>;
export type RestSourceConfig = z.output<typeof restSourceSchema>;
export type RestTableConfig = z.output<typeof restTableSchema>;
export type DatabaseSourceConfig = z.output<typeof postgresSourceSchema>;
export type DatabaseTableConfig = z.output<typeof databaseTableSchema>;
export type StreamTableConfig = z.output<typeof streamTableSchema>;
export type StreamConfig = z.output<typeof streamConfigSchema>;
export type StreamLogConfig = z.output<typeof streamLogSchema>;
export type Disposition = z.output<typeof dispositionSchema>;
export type SchemaEvolution = z.output<typeof evolutionSchema>;
export type AssetPolicyConfig = z.output<typeof assetPolicySchema>;
export type PartitionsConfig = z.output<typeof partitionsSchema>;
export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type AlertChannelConfig = z.output<typeof alertChannelSchema>;
export type AlertEventType = z.output<typeof alertEventSchema>;
export type AlertsConfig = z.output<typeof alertsSchema>;
export type DestinationConfig = z.output<typeof destinationSchema>;
export type DestinationType = DestinationConfig['type'];
