/**
 * The forecast file format (`forecasts/<name>.yml`), defined once with zod: validation with every
 * problem at its YAML path and line, the TypeScript types, and the JSON Schema editors read.
 * Checks that need the whole file (keys against output columns) are refinements, so their
 * problems carry a path and line too. Method names are checked where the methods are known (the
 * asset graph), since this module sits below forecast/.
 */
import { z } from 'zod';
import { scanSql } from '../dashboards/params.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const identifier = z
  .string()
  .regex(IDENTIFIER, 'expected a name of letters, digits and underscores');

export const FREQUENCIES = ['hour', 'day', 'week', 'month'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

/** The top level of a hierarchy: one series, the sum of everything. */
export const TOTAL_LEVEL = 'total';

/** `ref('model')` (dbt's spelling, with or without `{{ }}`): the model's name, or undefined. */
export function parseRef(text: string): string | undefined {
  const m = /^\s*(?:\{\{\s*)?ref\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\1\s*\)(?:\s*\}\})?\s*$/.exec(
    text,
  );
  return m?.[2];
}

/** Every `{{ ref('model') }}` in SQL text, with the offset it starts at. */
export const SQL_REF = /\{\{\s*ref\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\1\s*\)\s*\}\}/g;

const sourceSchema = z.union([
  z
    .string()
    .refine((s) => parseRef(s) !== undefined, {
      message: "expected ref('<model>'), or { sql: <one SELECT> }",
    })
    .describe("The model to read, as ref('fct_sales')."),
  z
    .object({
      sql: z
        .string()
        .min(1)
        .describe(
          "One SELECT returning the time column, the keys and what the target aggregates; {{ ref('model') }} names a model.",
        ),
    })
    .strict(),
]);

const backtestSchema = z
  .object({
    windows: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(3)
      .describe('Rolling origins: each fits on the data before it and scores the next horizon.'),
    step: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Periods between one origin and the next (default: the horizon).'),
  })
  .strict();

/** Columns every forecast table has, which a key column may not be named. */
const OUTPUT_COLUMNS = new Set([
  'level',
  'period',
  'method',
  'forecast',
  'window',
  'smape',
  'mase',
  'rmsse',
  'msis',
  'owa',
  'fallback_reason',
]);

export const forecastSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    source: sourceSchema,
    time_column: identifier.describe('The date or timestamp column periods are cut from.'),
    target: z
      .string()
      .min(1)
      .describe('An aggregate SQL expression over the source, e.g. sum(quantity).'),
    group_by: z
      .array(identifier)
      .optional()
      .describe('Key columns: one series per combination of their values (default: one series).'),
    hierarchy: z
      .array(identifier)
      .min(1)
      .optional()
      .describe(
        'Nested levels, coarsest first, e.g. [total, category, product]: a series per value at every level, reconciled so each level sums to the one above. `total` is the grand total.',
      ),
    frequency: z.enum(FREQUENCIES).describe('The period: hour, day, week (Monday) or month.'),
    horizon: z.number().int().min(1).max(10_000).describe('Periods to forecast.'),
    methods: z
      .array(identifier)
      .min(1)
      .default(['auto'])
      .describe(
        'Methods to run (`tributary forecast --help` and docs/forecasting.md list them); auto picks per series by backtest score.',
      ),
    combine_top: z
      .number()
      .int()
      .min(2)
      .optional()
      .describe('With auto: average the best k methods of each series instead of taking one.'),
    selection: z
      .enum(['hedge', 'pool', 'best'])
      .default('hedge')
      .describe(
        'With auto: hedge (default) averages the pool half and half with the median of ETS, OTM (optimised Theta), damped and Comb; pool averages the methods whose backtest score is within 5% of the best (at most 3); best takes the single best.',
      ),
    reconcile: z
      .enum(['bottom_up', 'mint_shrink'])
      .default('bottom_up')
      .describe(
        'With a hierarchy: bottom_up sums the bottom series up; mint_shrink is MinT with a shrinkage covariance of the one-step residuals (falls back to bottom_up when they cannot give one; the _methods table says which was used).',
      ),
    levels: z
      .array(z.number().gt(0).lt(100))
      .default([80, 95])
      .describe('Prediction interval levels in percent.'),
    backtest: backtestSchema.prefault({}),
    fill_gaps: z
      .enum(['zero', 'none'])
      .default('zero')
      .describe(
        'zero: a period without rows is 0 (no sales); none: observed periods only, taken as consecutive.',
      ),
    season_periods: z
      .array(z.number().int().min(1))
      .optional()
      .describe(
        'Season lengths in periods (default by frequency: hour [24, 168], day [7] and 365 with two years of data, week [52], month [12]).',
      ),
    non_negative: z
      .boolean()
      .default(true)
      .describe('Clamp forecasts and bounds at zero (demand cannot be negative).'),
    outliers: z
      .enum(['clean', 'keep'])
      .optional()
      .describe(
        'clean (the default): one-off outliers (remainders of a robust seasonal + trend fit beyond 3 IQR) are replaced before every fit, backtest windows included; the actuals scored and written stay as they are, and <name>_methods lists the replaced values. keep: fits see the raw values.',
      ),
    keep_all_methods: z
      .boolean()
      .default(false)
      .describe('Write every method’s forecast, not only the chosen one.'),
    tags: z
      .array(z.string().min(1))
      .default([])
      .describe('Asset tags: a schedule selects tag:<tag> to run these forecasts.'),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.group_by !== undefined && f.hierarchy !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['hierarchy'],
        message: 'give group_by or hierarchy, not both',
      });
    checkTarget(f.target, ctx);
    if (typeof f.source === 'object') checkSourceSql(f.source.sql, ctx);
    const keyList = f.hierarchy ? 'hierarchy' : 'group_by';
    const keys = f.hierarchy ?? f.group_by ?? [];
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      const path = [keyList, i];
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path, message: `${k} is listed twice` });
      seen.add(k);
      if (k === TOTAL_LEVEL && !(keyList === 'hierarchy' && i === 0))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `${TOTAL_LEVEL} is the grand total: it can only be a hierarchy's first level`,
        });
      else if (OUTPUT_COLUMNS.has(k) || /^(lower|upper|coverage)_/.test(k))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `key column ${k} clashes with a column of the forecast tables; rename it in the source`,
        });
    });
    if (f.hierarchy && f.hierarchy.length === 1 && f.hierarchy[0] === TOTAL_LEVEL)
      ctx.addIssue({
        code: 'custom',
        path: ['hierarchy'],
        message: 'a hierarchy of the total alone is one series: leave hierarchy out',
      });
    const levels = new Set<number>();
    f.levels.forEach((l, i) => {
      if (levels.has(l))
        ctx.addIssue({
          code: 'custom',
          path: ['levels', i],
          message: `level ${l} is listed twice`,
        });
      levels.add(l);
    });
    if (f.reconcile !== 'bottom_up' && f.hierarchy === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['reconcile'],
        message: 'reconcile applies to a hierarchy: add hierarchy, or leave reconcile out',
      });
    if (f.combine_top !== undefined && !(f.methods.length === 1 && f.methods[0] === 'auto'))
      ctx.addIssue({
        code: 'custom',
        path: ['combine_top'],
        message: 'combine_top combines what auto chooses: it needs methods: [auto]',
      });
  });

export type ForecastDef = z.output<typeof forecastSchema>;

/** The JSON Schema of a forecast file, for editors (YAML language server, `$schema`). */
export function forecastJsonSchema(): unknown {
  return z.toJSONSchema(forecastSchema, { io: 'input' });
}

function checkTarget(target: string, ctx: z.RefinementCtx): void {
  const scan = scanSql(target);
  if (scan.unterminated)
    ctx.addIssue({
      code: 'custom',
      path: ['target'],
      message: `unterminated ${scan.unterminated.what} in target`,
    });
  else if (
    scan.named.length ||
    scan.positional.length ||
    scan.semicolons.length ||
    scan.comments.length
  )
    ctx.addIssue({
      code: 'custom',
      path: ['target'],
      message: 'target is one aggregate expression, without parameters, comments or ;',
    });
}

function checkSourceSql(sql: string, ctx: z.RefinementCtx): void {
  const scan = scanSql(sql);
  const path = ['source', 'sql'];
  if (scan.unterminated)
    ctx.addIssue({
      code: 'custom',
      path,
      message: `unterminated ${scan.unterminated.what} in sql`,
    });
  else if (scan.named.length || scan.positional.length)
    ctx.addIssue({ code: 'custom', path, message: 'the source sql takes no parameters' });
  else if (scan.semicolons.some((at) => sql.slice(at + 1).trim() !== ''))
    ctx.addIssue({
      code: 'custom',
      path,
      message: 'the source sql holds more than one statement; give one SELECT',
    });
}
