/**
 * The `syncs/<name>.yml` format (reverse ETL), defined once with zod: validation, the JSON Schema
 * editors read, and the SyncDefinition the sync module runs. The TypeScript shapes live here
 * because project cannot import sync (sync builds on project); src/sync/types.ts re-exports them.
 */
import { z } from 'zod';

/**
 * - `upsert`: new and changed keys are upserted.
 * - `update`: new and changed keys are sent as updates; the destination rejects unknown ones per
 *   record (they go to dead letters).
 * - `insert`: only keys never synced are sent, as inserts.
 * - `mirror`: upsert, and delete keys that left the source.
 */
export type SyncMode = 'upsert' | 'update' | 'insert' | 'mirror';

export const SYNC_MODES: readonly SyncMode[] = ['upsert', 'update', 'insert', 'mirror'];

/** `cast:` targets. `date` sends an ISO date (YYYY-MM-DD) as text. */
export type FieldCast = 'string' | 'number' | 'boolean' | 'date';

export const FIELD_CASTS: readonly FieldCast[] = ['string', 'number', 'boolean', 'date'];

/** Text transforms, applied after the cast, in the order listed. */
export type FieldTransform = 'lower' | 'upper' | 'trim';

export const FIELD_TRANSFORMS: readonly FieldTransform[] = ['lower', 'upper', 'trim'];

/** One mapped destination field: from a source column, or a constant. */
export interface SyncFieldMapping {
  /** The source column (absent when `constant` is given). */
  source?: string;
  /** The destination field it fills. */
  destination: string;
  cast?: FieldCast;
  /** One transform or several, applied in order. */
  transform?: FieldTransform | readonly FieldTransform[];
  /** A fixed value for every record (instead of `source`). */
  constant?: string | number | boolean | null;
  /** Line in the sync file, for errors. */
  line: number;
}

/** Lines of a sync file's top-level keys, so checks after loading can name them. */
export interface SyncLines {
  source: number;
  destination: number;
  object: number;
  mode: number;
  match: number;
  /** The `enabled:` line, when the file turns the sync off. */
  enabled?: number;
}

export interface SyncDefinition {
  /** The sync's name (the file name without `.yml`): `[a-z][a-z0-9_]*`. */
  name: string;
  /** The file it was read from, relative to the project root. */
  file: string;
  description?: string;
  /** What the sync reads: a model (`ref`) or a SELECT (`sql`). Exactly one is set. */
  source: { ref?: string; sql?: string };
  /** The destination's name under `destinations:` in tributary.yml. */
  destination: string;
  /** The destination's object: `contacts`, `Contact`, a table name. */
  object: string;
  mode: SyncMode;
  /** The match key: source column -> destination identifier field (e.g. email -> email). */
  match: { source: string; destination: string };
  fields: SyncFieldMapping[];
  /** Most records a batch; the destination's `maxBatch` caps it. */
  batchSize?: number;
  /** Alert when the rejected share of a run's records passes `failedShare` (default 0.1). */
  alert: { failedShare?: number };
  /** Where the top-level keys are in the file. */
  lines?: SyncLines;
  /** `enabled: false` in the file: the sync stays in the graph, its step is skipped. Absent = on. */
  enabled?: boolean;
}

/** The default of `alert.failed_share`. */
export const DEFAULT_FAILED_SHARE = 0.1;

const columnName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a column name of letters, digits and underscores');

/** `ref('model')` (dbt's spelling, quotes either way) or `{ ref: model }` or `{ sql: SELECT … }`. */
const REF_CALL = /^\s*ref\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\1\s*\)\s*$/;

const SOURCE_FORMS = "expected ref('<model>'), { ref: <model> } or { sql: SELECT … }";

const sourceSchema = z
  .union(
    [
      z.string().transform((v, ctx) => {
        const m = REF_CALL.exec(v);
        if (m) return { ref: m[2]! };
        ctx.addIssue({ code: 'custom', message: `${SOURCE_FORMS}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }),
      z.object({ ref: columnName.describe('The model the sync reads.') }).strict(),
      z
        .object({
          sql: z
            .string()
            .min(1)
            .describe('A SELECT over warehouse relations; its columns are the mapped sources.'),
        })
        .strict(),
    ],
    { error: () => SOURCE_FORMS },
  )
  .describe("The rows synced: ref('<model>') or { sql: SELECT … }.");

const transformSchema = z.enum(['lower', 'upper', 'trim']);

const fieldSchema = z
  .object({
    source: columnName.optional().describe('Source column (omit with constant).'),
    destination: z.string().min(1).describe('Destination field it fills.'),
    cast: z
      .enum(['string', 'number', 'boolean', 'date'])
      .optional()
      .describe('Convert the value first (date sends YYYY-MM-DD).'),
    transform: z
      .union([transformSchema, z.array(transformSchema).min(1)])
      .optional()
      .describe('lower, upper or trim (or a list, applied in order), after the cast.'),
    constant: z
      .union([z.string(), z.number(), z.boolean(), z.null()])
      .optional()
      .describe('A fixed value for every record, instead of a source column.'),
  })
  .strict()
  .superRefine((f, ctx) => {
    const hasConstant = f.constant !== undefined;
    if (hasConstant === (f.source !== undefined))
      ctx.addIssue({
        code: 'custom',
        message: hasConstant
          ? 'give source or constant, not both'
          : 'give a source column or a constant',
      });
  });

export const syncFileSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    enabled: z
      .boolean()
      .default(true)
      .describe('false: the sync stays in the graph but its step is skipped (default true).'),
    source: sourceSchema,
    destination: columnName.describe("A destination's name under destinations: in tributary.yml."),
    object: z.string().min(1).describe('Object (contacts, companies), sObject or table written.'),
    mode: z
      .enum(['upsert', 'update', 'insert', 'mirror'])
      .default('upsert')
      .describe(
        'upsert: create or update; update: only existing records; insert: only new keys; mirror: upsert and delete what left the source.',
      ),
    match: z
      .object({
        source: columnName.describe('Source column holding the key (unique per row).'),
        destination: z.string().min(1).describe('Destination field identifying a record.'),
      })
      .strict()
      .describe('How a row finds its record: source column -> destination identifier.'),
    fields: z.array(fieldSchema).min(1).describe('Destination fields and where they come from.'),
    batch_size: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Records per request (capped by the destination's batch limit)."),
    alert: z
      .object({
        failed_share: z
          .number()
          .min(0)
          .max(1)
          .optional()
          .describe(
            'Alert when more than this share of a run’s records is rejected (default 0.1).',
          ),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.fields.forEach((f, i) => {
      if (seen.has(f.destination))
        ctx.addIssue({
          code: 'custom',
          path: ['fields', i, 'destination'],
          message: `destination field ${f.destination} is mapped twice`,
        });
      seen.add(f.destination);
    });
  });

export type SyncFile = z.output<typeof syncFileSchema>;

/** The JSON Schema of sync files, for editors (`tributary schema`). */
export function syncJsonSchema(): unknown {
  return z.toJSONSchema(syncFileSchema, { io: 'input' });
}
