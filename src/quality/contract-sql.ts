/**
 * Contracts compiled to SQL. A contract becomes three expressions over a batch of raw string
 * values: the typed value of each column, the first failed check of each row (as
 * `reason:column`), and a human message for it. The precedence is fixed and documented:
 * per column in contract order required → type → range → allowed_values; then foreign keys;
 * then duplicate keys (decided after the others, so a bad row never shadows a good one).
 */
import type { Dialect, LogicalType } from '../engines/index.js';
import type { ColumnContract, Contract } from '../project/index.js';

export type ReasonCode =
  'required' | 'type' | 'range' | 'allowed_values' | 'foreign_key' | 'duplicate_key' | 'malformed';

/** A foreign key resolved to the relation holding the parent's keys. */
export interface ForeignKeyInput {
  column: string;
  /** A SQL relation (subquery or table) with one column `k` of the parent's keys. */
  parentKeys: string;
}

/**
 * Where a column's original text is kept in the checked batch: string columns are their own
 * text; other columns keep it beside the typed value, for the quarantine.
 */
export function rawTextColumn(c: ColumnContract): string {
  return c.type === 'string' ? c.name : `_raw_${c.name}`;
}

export interface CompiledContract {
  /**
   * The typed relation, as a SELECT list over `raw` (the batch's strings) and the `joins`:
   * `TRY_CAST(raw."c" AS T) AS "c"` for every column, `raw."c" AS "_raw_c"` for non-strings, and
   * `"_fk_c".k AS "_fk_c"` for each foreign key (NULL when the parent has no such key).
   */
  typedColumns: string[];
  /** Over the typed relation: what the checked batch keeps (the text of failed rows only). */
  retainedColumns: string[];
  /** LEFT JOINs, over `raw`, that find each foreign key in its parent (`_fk_<column>`). */
  joins: string[];
  /**
   * CASE over the typed relation giving `reason:column` for the first failed check, or NULL:
   * each value is cast once, in typedColumns, whatever the number of checks reading it.
   */
  failure: string;
  /** CASE expression giving a human message from `_fail` and the raw text columns (alias `c`). */
  message: string;
  /** CASE expression giving the raw text that failed (alias `c`). */
  failedValue: string;
  /**
   * Each column's text in a rejected row (alias `c`), for the quarantine: the original text
   * where the checked batch kept it, else the typed value printed.
   */
  textColumns: string[];
}

const RAW = 'raw';

/**
 * Fields a connector that lands records it could not read (the stream flusher: events that are
 * not JSON objects) puts on such a record's line: the reason (quarantine's `_reason`), a message
 * and the record's original text. A row carrying them is rejected before any other check.
 */
export const REJECT_MARKS = ['_reject_reason', '_reject_message', '_reject_value'] as const;

export interface CompileOptions {
  /** The relation `raw` has the REJECT_MARKS columns (see batch-reader.ts `marksRejects`). */
  rejectMarks?: boolean;
}

/**
 * Compiles a contract against a relation aliased `raw` whose columns hold each contract column's
 * raw string. The typed relation casts them; the checks read it; the message and value
 * expressions read the checked batch (alias `c`, with `_fail`) where the text lives in
 * rawTextColumn().
 */
export function compileContract(
  contract: Contract,
  dialect: Dialect,
  foreignKeys: ForeignKeyInput[],
  options: CompileOptions = {},
): CompiledContract {
  const compiled = compileChecks(contract, dialect, foreignKeys);
  return options.rejectMarks ? withRejectMarks(compiled, dialect) : compiled;
}

/**
 * The checks of a marked record come first: it is rejected with the reason it carries (its other
 * columns are empty), its message and original text kept from its marks.
 */
function withRejectMarks(compiled: CompiledContract, dialect: Dialect): CompiledContract {
  const [reason, message, value] = REJECT_MARKS.map((m) => dialect.quoteIdentifier(m)) as [
    string,
    string,
    string,
  ];
  const marks = [reason, message, value];
  return {
    ...compiled,
    typedColumns: [...compiled.typedColumns, ...marks.map((m) => `${RAW}.${m} AS ${m}`)],
    retainedColumns: [...compiled.retainedColumns, ...marks],
    failure: `CASE WHEN ${reason} IS NOT NULL THEN ${reason} || ':' ELSE ${compiled.failure} END`,
    message: `CASE WHEN c.${reason} IS NOT NULL THEN c.${message} ELSE ${compiled.message} END`,
    failedValue: `CASE WHEN c.${reason} IS NOT NULL THEN c.${value} ELSE ${compiled.failedValue} END`,
  };
}

function compileChecks(
  contract: Contract,
  dialect: Dialect,
  foreignKeys: ForeignKeyInput[],
): CompiledContract {
  const q = dialect.quoteIdentifier;
  const s = dialect.quoteString;
  const rawCol = (c: ColumnContract) => `${RAW}.${q(c.name)}`;
  const typed = (c: ColumnContract) =>
    c.type === 'string' ? rawCol(c) : dialect.tryCast(rawCol(c), c.type as LogicalType);
  const fkAlias = (column: string) => q(`_fk_${column}`);

  const typedColumns = [
    ...contract.columns.flatMap((c) =>
      c.type === 'string'
        ? [`${rawCol(c)} AS ${q(c.name)}`]
        : [`${typed(c)} AS ${q(c.name)}`, `${rawCol(c)} AS ${q(rawTextColumn(c))}`],
    ),
    ...foreignKeys.map((fk) => `${fkAlias(fk.column)}.k AS ${fkAlias(fk.column)}`),
  ];
  // In the typed relation: a column's original text, and its typed value.
  const textOf = (c: ColumnContract) => q(rawTextColumn(c));
  const valueOf = (c: ColumnContract) => q(c.name);
  // Only failed rows keep the original text of non-string columns (copying it for every row
  // doubled the cost of the pass); rows failed later as duplicates parsed fine, so their
  // typed value printed as text stands in.
  const retainedColumns = contract.columns.flatMap((c) =>
    c.type === 'string'
      ? [q(c.name)]
      : [
          q(c.name),
          `CASE WHEN _fail IS NOT NULL THEN ${q(rawTextColumn(c))} END AS ${q(rawTextColumn(c))}`,
        ],
  );
  const text = (c: ColumnContract) =>
    c.type === 'string'
      ? `c.${q(c.name)}`
      : `coalesce(c.${q(rawTextColumn(c))}, CAST(c.${q(c.name)} AS VARCHAR))`;
  const branches: string[] = [];
  const messages: string[] = [];
  for (const c of contract.columns) {
    const raw = textOf(c);
    const code = (reason: ReasonCode) => s(`${reason}:${c.name}`);
    if (c.required) {
      branches.push(`WHEN ${raw} IS NULL OR ${raw} = '' THEN ${code('required')}`);
      messages.push(`WHEN ${code('required')} THEN ${s(`${c.name} is required but empty`)}`);
    }
    if (c.type !== 'string') {
      branches.push(`WHEN ${raw} <> '' AND ${valueOf(c)} IS NULL THEN ${code('type')}`);
      messages.push(
        `WHEN ${code('type')} THEN ${s(`${c.name}: '`)} || ${text(c)} || ${s(`' is not a valid ${c.type}`)}`,
      );
    }
    const bounds: string[] = [];
    if (c.min !== undefined) bounds.push(`${valueOf(c)} < ${c.min}`);
    if (c.max !== undefined) bounds.push(`${valueOf(c)} > ${c.max}`);
    if (bounds.length) {
      branches.push(`WHEN ${bounds.join(' OR ')} THEN ${code('range')}`);
      const range = [
        c.min !== undefined ? `>= ${c.min}` : '',
        c.max !== undefined ? `<= ${c.max}` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      messages.push(
        `WHEN ${code('range')} THEN ${s(`${c.name}: `)} || ${text(c)} || ${s(` is out of range (must be ${range})`)}`,
      );
    }
    if (c.allowed?.length) {
      const list = c.allowed.map((v) => s(String(v))).join(', ');
      branches.push(`WHEN ${raw} <> '' AND ${raw} NOT IN (${list}) THEN ${code('allowed_values')}`);
      messages.push(
        `WHEN ${code('allowed_values')} THEN ${s(`${c.name}: '`)} || ${text(c)} || ${s(`' is not one of ${c.allowed.join(', ')}`)}`,
      );
    }
  }
  const joins: string[] = [];
  for (const fk of foreignKeys) {
    const c = contract.columns.find((col) => col.name === fk.column)!;
    const alias = fkAlias(fk.column);
    joins.push(`LEFT JOIN ${fk.parentKeys} AS ${alias} ON ${typed(c)} = ${alias}.k`);
    const code = s(`foreign_key:${c.name}`);
    branches.push(`WHEN ${valueOf(c)} IS NOT NULL AND ${alias} IS NULL THEN ${code}`);
    messages.push(
      `WHEN ${code} THEN ${s(`${c.name}: `)} || ${text(c)} || ${s(` does not exist in ${c.references}`)}`,
    );
  }
  const pk = contract.primary_key ?? [];
  if (pk.length) {
    const code = s(`duplicate_key:${pk.join('+')}`);
    const pkText = (k: string) => text(contract.columns.find((col) => col.name === k)!);
    const values = pk.map((k) => `coalesce(${pkText(k)}, '')`).join(` || ', ' || `);
    messages.push(
      `WHEN ${code} THEN ${s(`duplicate ${pk.join(', ')}: `)} || ${values} || ' was already loaded'`,
    );
  }
  const valueBranches = contract.columns.map((c) => `WHEN ${s(c.name)} THEN ${text(c)}`);
  if (pk.length > 1) {
    const pkText = (k: string) => text(contract.columns.find((col) => col.name === k)!);
    valueBranches.push(
      `WHEN ${s(pk.join('+'))} THEN ${pk.map((k) => `coalesce(${pkText(k)}, '')`).join(` || ', ' || `)}`,
    );
  }
  return {
    typedColumns,
    retainedColumns,
    joins,
    failure: branches.length ? `CASE ${branches.join(' ')} END` : 'CAST(NULL AS VARCHAR)',
    message: messages.length ? `CASE c._fail ${messages.join(' ')} ELSE c._fail END` : 'c._fail',
    failedValue: `CASE split_part(c._fail, ':', 2) ${valueBranches.join(' ')} END`,
    textColumns: contract.columns.map((c) => `${text(c)} AS ${q(c.name)}`),
  };
}
