/**
 * The dashboard file format (`dashboards/<name>.yml`), defined once with zod: validation with
 * every problem at its YAML path and line, the TypeScript types, and the JSON Schema editors read.
 * Checks that need the whole file (a tile's parameters against the filters) are refinements, so
 * their problems carry a path and line too.
 */
import { z } from 'zod';
import { lineColumnOf, scanSql } from './params.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const identifier = z
  .string()
  .regex(IDENTIFIER, 'expected a name of letters, digits and underscores');

/** A calendar date as written in YAML and in filter values. */
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD')
  .refine((s) => isRealDate(s), 'not a calendar date');

/** True for a YYYY-MM-DD text that names a day that exists (no 2025-02-30). */
export function isRealDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

export const FILTER_TYPES = ['date_range', 'select'] as const;
export const TILE_TYPES = [
  'kpi',
  'line',
  'area',
  'bar',
  'stacked_bar',
  'table',
  'ranked',
  'heatmap',
  'map',
] as const;
export const FORMATS = ['currency', 'number', 'percent'] as const;

const dateRangeDefaultSchema = z
  .object({
    from: isoDate.optional().describe('First day of the range (inclusive).'),
    to: isoDate.optional().describe('Last day of the range (inclusive).'),
  })
  .strict();

const filterSchema = z
  .object({
    name: identifier.describe(
      'Parameter name: tiles read a select filter as $<name>, a date range as $<name>_from and $<name>_to.',
    ),
    type: z
      .enum(FILTER_TYPES)
      .describe('date_range: two dates (inclusive); select: one value from a list, or none.'),
    label: z.string().optional().describe('Shown next to the control (default: the name).'),
    default: z
      .union([z.string(), dateRangeDefaultSchema])
      .optional()
      .describe(
        'select: the value chosen at first (default: none, meaning all); date_range: { from, to }.',
      ),
    options: z
      .array(z.string())
      .optional()
      .describe('select: a fixed list of values (or give options_sql).'),
    options_sql: z
      .string()
      .optional()
      .describe('select: a query returning one column, the values to choose from (no parameters).'),
    column: identifier
      .optional()
      .describe(
        'For model + measure tiles: the column of the model this filter applies to (a date or timestamp column for a date range).',
      ),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.type === 'date_range') {
      if (typeof f.default === 'string')
        ctx.addIssue({
          code: 'custom',
          path: ['default'],
          message: 'a date_range default is { from: YYYY-MM-DD, to: YYYY-MM-DD }',
        });
      else if (f.default?.from && f.default.to && f.default.from > f.default.to)
        ctx.addIssue({
          code: 'custom',
          path: ['default'],
          message: `the default range ends (${f.default.to}) before it starts (${f.default.from})`,
        });
      for (const key of ['options', 'options_sql'] as const)
        if (f[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `${key} belongs to select filters`,
          });
    } else {
      if (f.default !== undefined && typeof f.default !== 'string')
        ctx.addIssue({
          code: 'custom',
          path: ['default'],
          message: 'a select default is one value (a string)',
        });
      if (f.options !== undefined && f.options_sql !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['options_sql'],
          message: 'give options or options_sql, not both',
        });
      if (f.options_sql !== undefined) {
        const scan = scanSql(f.options_sql);
        if (scan.named.length || scan.positional.length)
          ctx.addIssue({
            code: 'custom',
            path: ['options_sql'],
            message: `filter ${f.name}: options_sql takes no parameters`,
          });
      }
    }
  });

const columnName = z.string().min(1).describe('A column of the tile’s result.');

const tileSchema = z
  .object({
    id: identifier.describe('Unique within the dashboard; used in URLs and CSV file names.'),
    title: z.string().min(1),
    description: z.string().optional(),
    type: z
      .enum(TILE_TYPES)
      .describe(
        'kpi: one number (value column, first row) with change vs the previous period; line/area/bar/stacked_bar: x against y (or one series per value of series); table: the rows; ranked: labels (x) by value (y), largest first; map: ranked regions (no geometry is shipped offline); heatmap: x by y coloured by value.',
      ),
    sql: z
      .string()
      .optional()
      .describe(
        'One SELECT. Filters arrive as parameters: $<select filter>, $<date range>_from, $<date range>_to. Never paste values into SQL.',
      ),
    model: z
      .string()
      .regex(
        /^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/,
        'expected a model or relation name, optionally schema.name',
      )
      .optional()
      .describe('Instead of sql: the model (relation) to aggregate, with measure.'),
    measure: z
      .string()
      .optional()
      .describe('With model: an aggregate SQL expression, e.g. sum(net_amount).'),
    by: identifier
      .optional()
      .describe('With model: the column to group by (the x axis); none gives one value.'),
    series: identifier
      .optional()
      .describe(
        'The column whose values become separate series (with model: a second group-by column).',
      ),
    filters: z
      .array(identifier)
      .optional()
      .describe(
        'With model: the filters that apply (default: every filter with a column). SQL tiles use the parameters they name.',
      ),
    limit: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('With model: keep the first n groups (ranked and map: the n largest).'),
    x: columnName.optional().describe('Column of the x axis (ranked/map: the label).'),
    y: z
      .union([columnName, z.array(columnName).min(1)])
      .optional()
      .describe('Value column(s); heatmap: the column of the rows.'),
    value: columnName
      .optional()
      .describe('kpi and heatmap: the column holding the value (default: value, else the first).'),
    format: z.enum(FORMATS).optional().describe('percent values are ratios (0.25 shows as 25%).'),
    band: z
      .object({
        lower: columnName.describe('Column of the band’s lower edge.'),
        upper: columnName.describe('Column of the band’s upper edge.'),
        label: z.string().optional().describe('Legend name of the band (default: interval).'),
      })
      .strict()
      .optional()
      .describe(
        'line/area without series: a shaded band between two columns, e.g. a forecast’s prediction interval (lower_80, upper_80).',
      ),
    compare: z
      .literal('previous_period')
      .optional()
      .describe(
        'kpi: also run the query for the period just before the selected date range (same length) and show the change.',
      ),
    width: z.number().int().min(1).max(4).optional().describe('Grid columns (1-4).'),
  })
  .strict()
  .superRefine((t, ctx) => {
    const hasSql = t.sql !== undefined;
    const hasModel = t.model !== undefined || t.measure !== undefined;
    if (hasSql === hasModel)
      ctx.addIssue({
        code: 'custom',
        message: `tile ${t.id}: give either sql or model + measure`,
      });
    else if (hasModel) {
      if (t.model === undefined)
        ctx.addIssue({ code: 'custom', path: ['measure'], message: 'measure needs a model' });
      if (t.measure === undefined)
        ctx.addIssue({ code: 'custom', path: ['model'], message: 'model needs a measure' });
    } else {
      for (const key of ['by', 'filters', 'limit'] as const)
        if (t[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `tile ${t.id}: ${key} belongs to model + measure tiles`,
          });
    }
    if (
      t.band !== undefined &&
      ((t.type !== 'line' && t.type !== 'area') || t.series !== undefined)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['band'],
        message: `tile ${t.id}: band applies to line and area tiles without series`,
      });
    if (t.compare !== undefined && t.type !== 'kpi')
      ctx.addIssue({
        code: 'custom',
        path: ['compare'],
        message: `tile ${t.id}: compare applies to kpi tiles`,
      });
  });

export const dashboardSchema = z
  .object({
    title: z.string().min(1),
    description: z.string().optional(),
    filters: z.array(filterSchema).default([]),
    tiles: z.array(tileSchema).min(1, 'a dashboard needs at least one tile'),
  })
  .strict()
  .superRefine((d, ctx) => {
    const filterNames = new Set<string>();
    d.filters.forEach((f, i) => {
      if (filterNames.has(f.name))
        ctx.addIssue({
          code: 'custom',
          path: ['filters', i, 'name'],
          message: `filter ${f.name} is defined twice`,
        });
      filterNames.add(f.name);
    });
    const allowed = allowedParameters(d.filters);
    // A derived name (period_from) may not also be a filter's own name.
    for (const f of d.filters)
      if (f.type === 'date_range')
        for (const derived of [`${f.name}_from`, `${f.name}_to`])
          if (filterNames.has(derived))
            ctx.addIssue({
              code: 'custom',
              path: ['filters', d.filters.findIndex((g) => g.name === derived), 'name'],
              message: `filter ${derived} clashes with the ${f.name} date range's parameter $${derived}`,
            });
    const tileIds = new Set<string>();
    d.tiles.forEach((t, i) => {
      if (tileIds.has(t.id))
        ctx.addIssue({
          code: 'custom',
          path: ['tiles', i, 'id'],
          message: `tile ${t.id} is defined twice`,
        });
      tileIds.add(t.id);
      if (t.sql !== undefined) checkTileSql(t.id, t.sql, allowed, ['tiles', i, 'sql'], ctx);
      if (t.measure !== undefined) checkMeasure(t.id, t.measure, ['tiles', i, 'measure'], ctx);
      if (t.model !== undefined) {
        const applied = t.filters ?? d.filters.filter((f) => f.column).map((f) => f.name);
        applied.forEach((name) => {
          const f = d.filters.find((g) => g.name === name);
          const path = t.filters ? ['tiles', i, 'filters', t.filters.indexOf(name)] : ['tiles', i];
          if (!f)
            ctx.addIssue({
              code: 'custom',
              path,
              message: `tile ${t.id}: ${name} is not a filter of this dashboard`,
            });
          else if (!f.column)
            ctx.addIssue({
              code: 'custom',
              path,
              message: `tile ${t.id}: filter ${name} has no column, so it cannot filter a model tile`,
            });
        });
      }
      if (t.compare === 'previous_period' && !usesDateRange(t, d.filters))
        ctx.addIssue({
          code: 'custom',
          path: ['tiles', i, 'compare'],
          message: `tile ${t.id}: compare: previous_period needs a date range filter the tile uses`,
        });
    });
  });

export type FilterDef = z.output<typeof filterSchema>;
export type TileDef = z.output<typeof tileSchema>;
export type TileType = (typeof TILE_TYPES)[number];
export type FilterType = (typeof FILTER_TYPES)[number];
export type TileFormat = (typeof FORMATS)[number];

/** The JSON Schema of a dashboard file, for editors (YAML language server, `$schema`). */
export function dashboardJsonSchema(): unknown {
  return z.toJSONSchema(dashboardSchema, { io: 'input' });
}

/** The parameter names a dashboard's filters provide, each with the filter it comes from. */
function allowedParameters(filters: readonly FilterDef[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of filters) {
    if (f.type === 'date_range') {
      out.set(`${f.name}_from`, f.name);
      out.set(`${f.name}_to`, f.name);
    } else out.set(f.name, f.name);
  }
  return out;
}

/** The filters a tile reads: from its SQL's parameters, or the filters applied to its model. */
export function filtersUsedBy(tile: TileDef, filters: readonly FilterDef[]): string[] {
  if (tile.sql !== undefined) {
    const allowed = allowedParameters(filters);
    const used = new Set<string>();
    for (const p of scanSql(tile.sql).named) {
      const f = allowed.get(p.name);
      if (f) used.add(f);
    }
    return filters.map((f) => f.name).filter((n) => used.has(n));
  }
  return tile.filters ?? filters.filter((f) => f.column).map((f) => f.name);
}

function usesDateRange(tile: TileDef, filters: readonly FilterDef[]): boolean {
  const used = new Set(filtersUsedBy(tile, filters));
  return filters.some((f) => f.type === 'date_range' && used.has(f.name));
}

type Ctx = z.RefinementCtx;

function checkTileSql(
  tileId: string,
  sql: string,
  allowed: Map<string, string>,
  path: (string | number)[],
  ctx: Ctx,
): void {
  const scan = scanSql(sql);
  if (scan.unterminated) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: `tile ${tileId}: unterminated ${scan.unterminated.what} in sql`,
    });
    return;
  }
  if (scan.positional.length)
    ctx.addIssue({
      code: 'custom',
      path,
      message: `tile ${tileId}: positional parameters ($1, ?) are not supported; name a filter, e.g. $${[...allowed.keys()][0] ?? 'region'}`,
    });
  const reported = new Set<string>();
  for (const p of scan.named) {
    if (allowed.has(p.name) || reported.has(p.name)) continue;
    reported.add(p.name);
    const { line } = lineColumnOf(sql, p.offset);
    ctx.addIssue({
      code: 'custom',
      path,
      message: `tile ${tileId}: $${p.name} (sql line ${line}) is not a filter parameter of this dashboard (${
        allowed.size
          ? `parameters: ${[...allowed.keys()].map((k) => `$${k}`).join(', ')}`
          : 'it has no filters'
      })`,
    });
  }
  const trailing = scan.semicolons.filter((at) => sql.slice(at + 1).trim() !== '');
  if (trailing.length)
    ctx.addIssue({
      code: 'custom',
      path,
      message: `tile ${tileId}: sql holds more than one statement; a tile runs one SELECT`,
    });
}

function checkMeasure(tileId: string, measure: string, path: (string | number)[], ctx: Ctx): void {
  const scan = scanSql(measure);
  if (scan.unterminated)
    ctx.addIssue({
      code: 'custom',
      path,
      message: `tile ${tileId}: unterminated ${scan.unterminated.what} in measure`,
    });
  else if (
    scan.named.length ||
    scan.positional.length ||
    scan.semicolons.length ||
    scan.comments.length
  )
    ctx.addIssue({
      code: 'custom',
      path,
      message: `tile ${tileId}: a measure is one expression, without parameters, comments or ;`,
    });
}
