/**
 * dbt's cross-database macros as SQL-text builders, written once in SQL that DuckDB and
 * PostgreSQL both accept; each adapter supplies only the few builders where the engines differ
 * (any_value, safe_cast, int_divide). Semantics follow dbt-core's `macros/utils/*.sql` and the
 * dbt-postgres / dbt-duckdb overrides; where those disagree in type, one portable type is chosen.
 */
import type { CrossDbMacros, LogicalType } from './types.js';

/** The builders an adapter must write itself because the engines' SQL differs. */
export type EngineSpecificMacros = Pick<CrossDbMacros, 'any_value' | 'safe_cast' | 'int_divide'>;

const DATE_PARTS = [
  'year',
  'quarter',
  'month',
  'week',
  'day',
  'hour',
  'minute',
  'second',
  'millisecond',
  'microsecond',
] as const;
type DatePart = (typeof DATE_PARTS)[number];

/** Accepts `day`, `'day'`, `DAY` or a plural (`days`), as dbt projects write them. */
function datePart(part: string): DatePart {
  let p = part
    .trim()
    .replace(/^'(.*)'$/, '$1')
    .toLowerCase();
  if (p.endsWith('s') && DATE_PARTS.includes(p.slice(0, -1) as DatePart)) p = p.slice(0, -1);
  if (!DATE_PARTS.includes(p as DatePart)) {
    throw new Error(`unsupported date part '${part}': use one of ${DATE_PARTS.join(', ')}`);
  }
  return p as DatePart;
}

/**
 * The portable logical type a SQL type name stands for, or undefined for anything else, so a
 * `safe_cast` to `int`, `float8` or `numeric(12,2)` can reuse the engine's `tryCast`.
 */
export function logicalTypeOf(sqlType: string): LogicalType | undefined {
  const t = sqlType.trim().toLowerCase().replace(/\s+/g, ' ');
  const decimal = /^(?:numeric|decimal)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (decimal) return `decimal(${Number(decimal[1])},${Number(decimal[2])})`;
  switch (t) {
    case 'text':
    case 'varchar':
    case 'string':
    case 'character varying':
      return 'string';
    case 'int':
    case 'int4':
    case 'integer':
      return 'integer';
    case 'int8':
    case 'bigint':
      return 'bigint';
    case 'float':
    case 'float8':
    case 'double':
    case 'double precision':
      return 'double';
    case 'bool':
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp':
    case 'timestamp without time zone':
      return 'timestamp';
    default:
      return undefined;
  }
}

/** An INTERVAL of one `part`; PostgreSQL has no `quarter` interval unit, so it is 3 months. */
function oneInterval(part: DatePart): string {
  return part === 'quarter' ? `INTERVAL '3 month'` : `INTERVAL '1 ${part}'`;
}

/** Builds the full macro set from an adapter's engine-specific builders. */
export function crossDbMacros(specific: EngineSpecificMacros): CrossDbMacros {
  const asDate = (e: string) => `CAST((${e}) AS DATE)`;
  const asTs = (e: string) => `CAST((${e}) AS TIMESTAMP)`;
  const part = (p: string, e: string) => `date_part('${p}', ${e})`;

  // dbt-postgres's datediff (dbt-duckdb copies it): whole boundaries crossed, built up from days.
  const diff = (first: string, second: string, p: DatePart): string => {
    switch (p) {
      case 'year':
        return `(${part('year', asDate(second))} - ${part('year', asDate(first))})`;
      case 'quarter':
        return `(${diff(first, second, 'year')} * 4 + ${part('quarter', asDate(second))} - ${part('quarter', asDate(first))})`;
      case 'month':
        return `(${diff(first, second, 'year')} * 12 + ${part('month', asDate(second))} - ${part('month', asDate(first))})`;
      case 'day':
        return `(${asDate(second)} - ${asDate(first)})`;
      case 'week':
        return `(${specific.int_divide(diff(first, second, 'day'), '7')} + CASE
          WHEN ${part('dow', asTs(first))} <= ${part('dow', asTs(second))}
            THEN CASE WHEN ${asTs(first)} <= ${asTs(second)} THEN 0 ELSE -1 END
          ELSE CASE WHEN ${asTs(first)} <= ${asTs(second)} THEN 1 ELSE 0 END END)`;
      case 'hour':
        return `(${diff(first, second, 'day')} * 24 + ${part('hour', asTs(second))} - ${part('hour', asTs(first))})`;
      case 'minute':
        return `(${diff(first, second, 'hour')} * 60 + ${part('minute', asTs(second))} - ${part('minute', asTs(first))})`;
      case 'second':
        return `(${diff(first, second, 'minute')} * 60 + floor(${part('second', asTs(second))}) - floor(${part('second', asTs(first))}))`;
      case 'millisecond':
        return `(${diff(first, second, 'minute')} * 60000 + floor(${part('millisecond', asTs(second))}) - floor(${part('millisecond', asTs(first))}))`;
      case 'microsecond':
        return `(${diff(first, second, 'minute')} * 60000000 + floor(${part('microsecond', asTs(second))}) - floor(${part('microsecond', asTs(first))}))`;
    }
  };

  const macros: CrossDbMacros = {
    ...specific,
    type_string: () => 'TEXT',
    type_int: () => 'INTEGER',
    type_bigint: () => 'BIGINT',
    type_float: () => 'DOUBLE PRECISION',
    type_numeric: () => 'NUMERIC(28,6)',
    type_timestamp: () => 'TIMESTAMP',
    type_boolean: () => 'BOOLEAN',
    // A naive UTC timestamp: timestamptz text depends on the session's time zone on both engines.
    current_timestamp: () => `CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP)`,
    // PostgreSQL truncates a date to a timestamptz, DuckDB to a timestamp: cast first so both agree.
    date_trunc: (p, expr) => `date_trunc('${datePart(p)}', ${asTs(expr)})`,
    dateadd: (p, interval, expr) => `((${expr}) + ${oneInterval(datePart(p))} * (${interval}))`,
    // date_part is a double on PostgreSQL and a BIGINT on DuckDB: one type for both.
    datediff: (first, second, p) => `CAST(${diff(first, second, datePart(p))} AS BIGINT)`,
    concat: (exprs) => `concat(${exprs.join(', ')})`,
    hash: (expr) => `md5(CAST((${expr}) AS TEXT))`,
    split_part: (str, delim, n) => `split_part(${str}, ${delim}, ${n})`,
    bool_or: (expr) => `bool_or(${expr})`,
    listagg: (expr, delim, orderBy, limit) => {
      const order = orderBy
        ? /^\s*order\s+by\b/i.test(orderBy)
          ? orderBy
          : `ORDER BY ${orderBy}`
        : '';
      return limit === undefined
        ? `string_agg(${expr}, ${delim} ${order})`
        : // NULLs are left out first, as string_agg leaves them out: array_to_string would not agree.
          `array_to_string((array_agg(${expr} ${order}) FILTER (WHERE (${expr}) IS NOT NULL))[1:${Math.trunc(limit)}], ${delim})`;
    },
    cast_bool_to_text: (expr) => `CAST((${expr}) AS TEXT)`,
    last_day: (date, p) => {
      const dp = datePart(p);
      return `CAST(${macros.dateadd('day', -1, macros.dateadd(dp, 1, macros.date_trunc(dp, date)))} AS DATE)`;
    },
    position: (sub, str) => `CAST(position((${sub}) IN (${str})) AS INTEGER)`,
    length: (expr) => `CAST(length(${expr}) AS INTEGER)`,
    right: (str, n) => `right(${str}, ${n})`,
    replace: (str, a, b) => `replace(${str}, ${a}, ${b})`,
  };
  return macros;
}
