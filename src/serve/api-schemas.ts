/**
 * What the API's JSON responses look like, as zod schemas: the routes give them to Fastify as
 * response schemas (JSON Schema, OpenAPI 3.0 flavour), so /api/openapi.json describes every
 * answer and the web UI's types are generated from it (npm run gen:api-types). They are strict
 * (no undeclared fields), and test/serve/api.test.ts checks real responses against the published
 * document, so a field added to a response without a schema change fails a test.
 *
 * Serialisation does not use them (see buildApp's serializer compiler): a response is
 * JSON.stringify'd as before, so a schema can never drop or coerce a field.
 */
import { z } from 'zod';
import { FILTER_TYPES, FORMATS, TILE_TYPES } from '../project/index.js';
import type { Role } from './auth.js';

const nullableString = z.string().nullable();
/** A count from the state store; null when the step did not record one. */
const nullableCount = z.number().nullable();
/** A row of a query result: BIGINT, HUGEINT and DECIMAL as exact strings, dates as ISO text. */
const row = z.record(z.string(), z.unknown());

export const meSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  role: z.enum(['viewer', 'operator', 'admin'] as const satisfies readonly Role[]),
});

/** Which `serve` replica fires the schedules (one leads among those sharing a state). */
export const schedulerLeaderSchema = z.strictObject({
  /** Whether this replica leads. */
  leading: z.boolean(),
  /**
   * The leader as it last recorded itself; null when none has led yet. (Which host and process
   * it is, `tributary schedules` says: health is public, and names no machines.)
   */
  leader: z
    .strictObject({
      since: z.string(),
      /** Its latest check (every few seconds): much older means it died and none took over yet. */
      seenAt: z.string(),
    })
    .nullable(),
});

export const healthSchema = z.strictObject({
  ok: z.boolean(),
  version: z.string(),
  dataVersion: z.string(),
  auditFailures: z.number(),
  /** Present when this process runs the scheduler (`tributary serve`). */
  scheduler: schedulerLeaderSchema.optional(),
});

export const okSchema = z.strictObject({ ok: z.boolean() });

export const sqlColumnSchema = z.strictObject({
  name: z.string(),
  /** The engine's type name, e.g. BIGINT, DECIMAL(18,2), VARCHAR, DATE. */
  type: z.string(),
  kind: z.enum(['number', 'string', 'boolean', 'date', 'other']),
});

export const queryResultSchema = z.strictObject({
  columns: z.array(sqlColumnSchema),
  rows: z.array(row),
  truncated: z.boolean(),
  dataVersion: z.string(),
  ms: z.number(),
});

export const runSchema = z.strictObject({
  runId: z.string(),
  command: z.string(),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  startedAt: z.string(),
  finishedAt: nullableString,
  plan: z.array(z.string()).nullable(),
  resumedFrom: nullableString,
  trigger: nullableString,
  /**
   * When serve had published what the run built, so dashboards and queries read it (null until
   * then: serve publishes right after a run it ran finishes; and for runs no serve ran).
   */
  publishedAt: nullableString,
});

export const stepSchema = z.strictObject({
  runId: z.string(),
  asset: z.string(),
  kind: z.string(),
  status: z.enum(['running', 'succeeded', 'failed', 'skipped', 'up_to_date', 'cancelled']),
  startedAt: z.string(),
  finishedAt: nullableString,
  rowsIn: nullableCount,
  rowsOut: nullableCount,
  rowsRejected: nullableCount,
  message: nullableString,
  attempts: nullableCount,
});

export const runDetailSchema = z.strictObject({ run: runSchema, steps: z.array(stepSchema) });

export const logLineSchema = z.strictObject({
  asset: z.string(),
  seq: z.number(),
  at: z.string(),
  line: z.string(),
});

export const runQueuedSchema = z.strictObject({
  queued: z.boolean(),
  /** Its place in the queue when answered: 1 is running now. */
  position: z.number(),
  /** The run's id, once it started (it then is in GET /api/runs). */
  runId: z.string().optional(),
});

export const graphSchema = z.strictObject({
  assets: z.array(
    z.strictObject({
      key: z.string(),
      kind: z.string(),
      name: z.string(),
      deps: z.array(z.string()),
      tags: z.array(z.string()),
      file: z.string().optional(),
    }),
  ),
});

const catalogColumnSchema = z.strictObject({ name: z.string(), type: z.string() });

export const catalogEntrySchema = z.strictObject({
  zone: z.string(),
  name: z.string(),
  location: z.string(),
  format: z.string(),
  columns: z.array(catalogColumnSchema),
  /** Null for relations that store no rows of their own (views). */
  rowCount: nullableCount,
  partitions: z.array(z.string()),
  schemaVersion: z.number(),
  updatedAt: z.string(),
});

export const schemaVersionSchema = z.strictObject({
  zone: z.string(),
  name: z.string(),
  version: z.number(),
  columns: z.array(catalogColumnSchema),
  recordedAt: z.string(),
});

export const catalogDetailSchema = catalogEntrySchema.extend({
  versions: z.array(schemaVersionSchema),
});

export const qualitySchema = z.strictObject({
  tests: z.array(
    z.strictObject({
      asset: z.string(),
      status: stepSchema.shape.status,
      failingRows: nullableCount,
      message: nullableString,
      runId: z.string(),
      finishedAt: nullableString,
    }),
  ),
  quarantine: z.array(
    z.strictObject({
      table: z.string(),
      source: z.string(),
      rows: z.number(),
      reasons: z.record(z.string(), z.number()),
      rejectedFiles: z.number(),
    }),
  ),
});

export const quarantineRowsSchema = queryResultSchema.pick({
  columns: true,
  rows: true,
  truncated: true,
});

export const deadLetterSchema = z.strictObject({
  id: z.string(),
  kind: z.enum(['notification', 'event', 'record']),
  source: z.string(),
  payload: z.unknown(),
  error: z.string(),
  attempts: z.number(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  status: z.enum(['pending', 'replaying', 'replayed']),
  replayedAt: nullableString,
  dedupeKey: nullableString,
});

export const replayedSchema = deadLetterSchema.pick({ id: true, status: true });

// --- syncs (reverse ETL) ----------------------------------------------------------------------

export const syncRunSchema = z.strictObject({
  sync: z.string(),
  runId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  status: z.enum(['succeeded', 'failed']),
  dryRun: z.boolean(),
  fullResync: z.boolean(),
  inserted: z.number(),
  updated: z.number(),
  deleted: z.number(),
  rejected: z.number(),
  unchanged: z.number(),
  /** rejected / records sent. */
  failedShare: z.number(),
  message: z.string(),
});

const syncRecordSchema = z.strictObject({
  key: z.string(),
  fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
});

/** A dry run's plan: what the sync would send (counts, and up to five records of each). */
export const syncDryRunSchema = z.strictObject({
  runId: z.string(),
  /** The run's status: `failed` when the plan could not be made (message says why). */
  status: z.enum(['succeeded', 'failed', 'cancelled']),
  dryRun: z.literal(true),
  inserted: z.number(),
  updated: z.number(),
  deleted: z.number(),
  unchanged: z.number(),
  samples: z.strictObject({
    insert: z.array(syncRecordSchema),
    update: z.array(syncRecordSchema),
    delete: z.array(syncRecordSchema),
  }),
  message: z.string(),
});

export const syncSummarySchema = z.strictObject({
  name: z.string(),
  file: z.string(),
  description: nullableString,
  /** `ref('model')` or `sql`. */
  source: z.string(),
  destination: z.string(),
  destinationType: z.string(),
  object: z.string(),
  mode: z.enum(['upsert', 'update', 'insert', 'mirror']),
  /** The last run that sent (dry runs are in the sync's history). */
  lastRun: syncRunSchema.nullable(),
  pendingDeadLetters: z.number(),
  /** Why its step is skipped (the sync or its destination is turned off); null when it runs. */
  disabled: nullableString,
});

// --- dashboards ------------------------------------------------------------------------------

const dateRangeSchema = z.strictObject({ from: nullableString, to: nullableString });

export const dashboardSummarySchema = z.strictObject({
  name: z.string(),
  title: z.string(),
  description: z.string().optional(),
  tiles: z.number(),
});

export const dashboardDefinitionSchema = z.strictObject({
  name: z.string(),
  title: z.string(),
  description: z.string().optional(),
  filters: z.array(
    z.strictObject({
      name: z.string(),
      type: z.enum(FILTER_TYPES),
      label: z.string(),
      /** select: the value chosen at first (null: all); date_range: { from, to } (null: open). */
      default: z.union([z.string(), dateRangeSchema]).nullable(),
      /** The query-string parameters that set it: [name], or [name_from, name_to] for a range. */
      params: z.array(z.string()),
    }),
  ),
  tiles: z.array(
    z.strictObject({
      id: z.string(),
      title: z.string(),
      description: z.string().optional(),
      type: z.enum(TILE_TYPES),
      renderAs: z.enum(TILE_TYPES),
      format: z.enum(FORMATS).optional(),
      width: z.number(),
      x: z.string().optional(),
      y: z.union([z.string(), z.array(z.string())]).optional(),
      series: z.string().optional(),
      value: z.string().optional(),
      compare: z.literal('previous_period').optional(),
      /** line/area: a shaded band between two columns (a forecast's interval). */
      band: z
        .strictObject({ lower: z.string(), upper: z.string(), label: z.string().optional() })
        .optional(),
      /** Model tiles: the query keeps the first n groups (ranked/map: the n largest). */
      limit: z.number().optional(),
      filters: z.array(z.string()),
    }),
  ),
});

export const filterOptionsSchema = z.strictObject({ options: z.array(z.string()) });

const kpiValue = z.union([z.string(), z.number()]).nullable();

export const tileResultSchema = z.strictObject({
  tile: z.string(),
  type: z.enum(TILE_TYPES),
  columns: z.array(sqlColumnSchema),
  rows: z.array(row),
  truncated: z.boolean(),
  /** kpi: the value (first row's value column), exact as the engine returned it. */
  value: kpiValue.optional(),
  previous: kpiValue.optional(),
  /** kpi with compare: (value − previous) / |previous|; null when previous is 0 or missing. */
  change: z.number().nullable().optional(),
  previousPeriod: z.record(z.string(), dateRangeSchema).optional(),
  dataVersion: z.string(),
  cached: z.boolean(),
  ms: z.number(),
});

/** A tile that failed inside a dashboard run: the others still show. */
export const tileFailureSchema = z.strictObject({
  tile: z.string(),
  type: z.enum(TILE_TYPES),
  error: z.string(),
  code: z.string().optional(),
});

export const dashboardResultSchema = z.strictObject({
  dashboard: z.string(),
  /** The filter values used, defaults applied. */
  filters: z.record(z.string(), z.union([z.string(), dateRangeSchema]).nullable()),
  dataVersion: z.string(),
  tiles: z.record(z.string(), z.union([tileResultSchema, tileFailureSchema])),
});

/**
 * A route's `response` entry: the schema as OpenAPI 3.0 JSON Schema (nullable, no $schema), the
 * dialect @fastify/swagger publishes.
 */
export function jsonResponse(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'output' }) as Record<string, unknown>;
}

/** Every asset's columns, for the graph's column picker (column lineage). */
export const lineageColumnsSchema = z.strictObject({
  assets: z.array(
    z.strictObject({
      asset: z.string(),
      columns: z.array(z.string()),
      /** Why its columns (or some) cannot be followed. */
      unresolved: z.string().optional(),
    }),
  ),
});

const tracedColumnSchema = z.strictObject({
  id: z.string(),
  asset: z.string(),
  column: z.string(),
  depth: z.number(),
  via: z.string(),
  transform: z.enum(['identity', 'rename', 'derived', 'constant']),
  unresolved: z.string().optional(),
});

/** One column's upstream and downstream columns (`tributary lineage --json` prints the same). */
export const columnTraceSchema = z.strictObject({
  id: z.string(),
  asset: z.string(),
  column: z.string(),
  unresolved: z.string().optional(),
  upstream: z.array(tracedColumnSchema).optional(),
  downstream: z.array(tracedColumnSchema).optional(),
  tableLevel: z
    .array(
      z.strictObject({
        asset: z.string(),
        tile: z.string().optional(),
        reads: z.array(z.string()),
        reason: z.string(),
      }),
    )
    .optional(),
});
