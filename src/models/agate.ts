/**
 * Query results as dbt hands them to templates: agate tables (run_query, load_result().table).
 * Columns and rows are agate MappedSequences (indexable by position and by name, iterable);
 * values are typed as dbt's type tester types them: integers as ints, decimals and floats as
 * numbers, DATE and TIMESTAMP as datetime.date/datetime, containers as JSON text. Values an
 * engine sends as text because a JS number could not hold them exactly (BIGINT, DECIMAL) become
 * numbers; only an integer past 2^53 stays as its exact digits.
 */
import type { QueryResult } from '../engines/index.js';
import { PyFloat, pyRepr, pyStr, splitArgs, tuple } from '../jinja/index.js';
import { fromIsoFormat } from './pymodules/datetime.js';

export type AgateTypeName = 'Integer' | 'Number' | 'Boolean' | 'Date' | 'DateTime' | 'Text';

/** An agate data type, as `table.column_types` lists them. */
export class AgateType {
  constructor(readonly name: AgateTypeName) {}
  __repr__(): string {
    return `<agate.data_types.${this.name.toLowerCase()}.${this.name} object>`;
  }
}

const TYPES: Record<AgateTypeName, AgateType> = {
  Integer: new AgateType('Integer'),
  Number: new AgateType('Number'),
  Boolean: new AgateType('Boolean'),
  Date: new AgateType('Date'),
  DateTime: new AgateType('DateTime'),
  Text: new AgateType('Text'),
};

/** The agate type of an engine column type (DuckDB's or PostgreSQL's name for it). */
export function agateTypeOf(engineType: string): AgateType {
  const t = engineType.toLowerCase().replace(/\(.*$/, '').trim();
  if (/^(u?(tiny|small|big|huge)?int(eger)?\d*|u?hugeint|int[248]|long|short|signed|oid)$/.test(t))
    return TYPES.Integer;
  if (/^(decimal|numeric|double|double precision|real|float\d*)$/.test(t)) return TYPES.Number;
  if (t === 'boolean' || t === 'bool') return TYPES.Boolean;
  if (t === 'date') return TYPES.Date;
  if (/^timestamp/.test(t) || t === 'datetime') return TYPES.DateTime;
  return TYPES.Text;
}

/** Python's json.dumps of a container (dbt turns lists and dicts in results into JSON text). */
function jsonDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(jsonDumps).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}: ${jsonDumps(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

/** An integer when it fits a JS number exactly (its digits otherwise); a fraction as a number. */
function exactNumber(text: string, integral: boolean): unknown {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  if (integral || !text.includes('.')) return Number.isSafeInteger(n) ? n : text;
  // A fraction is a number even past 15 digits (PostgreSQL's avg() has 16 or more): templates do
  // arithmetic and comparisons on such values, which the exact digits would not allow.
  return Number.isInteger(n) ? new PyFloat(n) : n;
}

function convert(type: AgateType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v) || typeof v === 'object') return jsonDumps(v);
  switch (type.name) {
    case 'Integer':
      return typeof v === 'string' ? exactNumber(v, true) : v;
    case 'Number':
      if (typeof v === 'number') return Number.isInteger(v) ? new PyFloat(v) : v;
      return typeof v === 'string' ? exactNumber(v, false) : v;
    case 'Date':
    case 'DateTime':
      try {
        return typeof v === 'string' ? fromIsoFormat(v, type.name === 'DateTime') : v;
      } catch {
        return v; // 'infinity' and other values Python's datetime cannot hold
      }
    default:
      return v;
  }
}

/** agate's MappedSequence: a tuple of values that may also be looked up by key. */
export class MappedSequence<T> {
  constructor(
    protected readonly seq: T[],
    protected readonly names: string[] | null,
  ) {}
  __getitem__(key: unknown): T | undefined {
    if (typeof key === 'number' && Number.isInteger(key))
      return this.seq[key < 0 ? key + this.seq.length : key];
    if (typeof key === 'string' && this.names) {
      const i = this.names.indexOf(key);
      return i < 0 ? undefined : this.seq[i];
    }
    return undefined;
  }
  __len__(): number {
    return this.seq.length;
  }
  [Symbol.iterator](): Iterator<T> {
    return this.seq[Symbol.iterator]();
  }
  keys(): string[] | null {
    return this.names ? tuple([...this.names]) : null;
  }
  values(): T[] {
    return tuple([...this.seq]);
  }
  items(): unknown[] {
    return (this.names ?? []).map((n, i) => tuple([n, this.seq[i]]));
  }
  get(key: unknown, fallback: unknown = null): unknown {
    const v = this.__getitem__(key);
    return v === undefined ? fallback : v;
  }
  dict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    (this.names ?? []).forEach((n, i) => (out[n] = this.seq[i]));
    return out;
  }
  __repr__(): string {
    return `<agate.MappedSequence: (${this.seq.map((x) => pyRepr(x)).join(', ')})>`;
  }
}

export class AgateRow extends MappedSequence<unknown> {
  override __repr__(): string {
    return `<agate.Row: (${this.seq.map((x) => pyRepr(x)).join(', ')})>`;
  }
}

export class AgateColumn extends MappedSequence<unknown> {
  constructor(
    readonly index: number,
    readonly name: string,
    readonly data_type: AgateType,
    values: unknown[],
  ) {
    super(values, null);
  }
  values_distinct(): unknown[] {
    const seen: unknown[] = [];
    for (const v of this.seq) if (!seen.some((s) => s === v || pyStr(s) === pyStr(v))) seen.push(v);
    return tuple(seen);
  }
  values_without_nulls(): unknown[] {
    return tuple(this.seq.filter((v) => v !== null));
  }
  values_sorted(): unknown[] {
    return tuple([...this.seq].sort((a, b) => (pyStr(a) < pyStr(b) ? -1 : 1)));
  }
  override __repr__(): string {
    return `<agate.Column: (${this.seq.map((x) => pyRepr(x)).join(', ')})>`;
  }
}

/** The table run_query and load_result(...).table return. */
export class AgateTable {
  readonly column_names: string[];
  readonly column_types: AgateType[];
  readonly rows: MappedSequence<AgateRow>;
  readonly columns: MappedSequence<AgateColumn>;

  constructor(
    names: string[],
    types: AgateType[],
    data: unknown[][],
    private readonly printer: (text: string) => void = () => undefined,
  ) {
    this.column_names = tuple([...names]);
    this.column_types = tuple([...types]);
    this.rows = new MappedSequence(
      data.map((r) => new AgateRow(r, names)),
      null,
    );
    this.columns = new MappedSequence(
      names.map(
        (n, i) =>
          new AgateColumn(
            i,
            n,
            types[i]!,
            data.map((r) => r[i]),
          ),
      ),
      names,
    );
  }

  /** A table of a query result, values typed as dbt's agate tables type them. */
  static fromResult(result: QueryResult, printer?: (text: string) => void): AgateTable {
    const names = result.columns.map((c) => c.name);
    const types = result.columns.map((c) => agateTypeOf(c.type));
    const data = result.rows.map((r) => names.map((n, i) => convert(types[i]!, r[n])));
    return new AgateTable(names, types, data, printer);
  }

  static empty(): AgateTable {
    return new AgateTable([], [], []);
  }

  __len__(): number {
    return this.rows.__len__();
  }
  [Symbol.iterator](): Iterator<AgateRow> {
    return this.rows[Symbol.iterator]();
  }
  /** The rows as lists, as load_result('x').data gives them. */
  matrix(): unknown[][] {
    return [...this.rows].map((r) => [...r]);
  }
  __repr__(): string {
    return '<agate.table.Table object>';
  }

  private withRows(names: string[], rows: unknown[][]): AgateTable {
    const types = names.map((n) => this.column_types[this.column_names.indexOf(n)]!);
    return new AgateTable(names, types, rows, this.printer);
  }

  /** table.select(['a', 'b']): those columns, in that order. */
  select(...raw: unknown[]): AgateTable {
    const wanted = [splitArgs(raw).args[0]].flat().map(String);
    const idx = wanted.map((n) => this.column_names.indexOf(n));
    return this.withRows(
      wanted,
      this.matrix().map((r) => idx.map((i) => r[i])),
    );
  }

  /** table.exclude(['a']): every other column. */
  exclude(...raw: unknown[]): AgateTable {
    const drop = new Set([splitArgs(raw).args[0]].flat().map(String));
    return this.select(this.column_names.filter((n) => !drop.has(n)));
  }

  /** table.limit(n) or limit(start, end): a slice of the rows. */
  limit(...raw: unknown[]): AgateTable {
    const { args, kwargs } = splitArgs(raw);
    const start = args.length > 1 ? Number(args[0] ?? 0) : 0;
    const end = Number((args.length > 1 ? args[1] : (kwargs.end_or_stop ?? args[0])) ?? Infinity);
    return this.withRows([...this.column_names], this.matrix().slice(start, end));
  }

  /** table.order_by('col' or ['a', 'b'], reverse=False): rows sorted, None first as in agate. */
  order_by(...raw: unknown[]): AgateTable {
    const { args, kwargs } = splitArgs(raw);
    const keys = [args[0]].flat().map((k) => this.column_names.indexOf(String(k)));
    const reverse = (kwargs.reverse ?? args[1]) === true;
    const cmp = (a: unknown, b: unknown): number => {
      if (a === b) return 0;
      if (a === null) return -1;
      if (b === null) return 1;
      const [x, y] = [a instanceof PyFloat ? a.value : a, b instanceof PyFloat ? b.value : b];
      if (typeof x === 'number' && typeof y === 'number') return x - y;
      return pyStr(x) < pyStr(y) ? -1 : pyStr(x) > pyStr(y) ? 1 : 0;
    };
    const rows = this.matrix().sort((r, q) => {
      for (const k of keys) {
        const c = cmp(r[k], q[k]);
        if (c) return c;
      }
      return 0;
    });
    return this.withRows([...this.column_names], reverse ? rows.reverse() : rows);
  }

  /** agate's print_table: a GitHub-flavoured Markdown table, to the log. */
  print_table(...raw: unknown[]): string {
    const { args, kwargs } = splitArgs(raw);
    const opt = (k: string, i: number, d: number) => {
      const v = kwargs[k] ?? args[i];
      return v === undefined ? d : v === null ? Infinity : Number(v);
    };
    this.printer(
      formatTable(this, {
        maxRows: opt('max_rows', 0, 20),
        maxColumns: opt('max_columns', 1, 6),
        maxColumnWidth: opt('max_column_width', 3, 20),
        maxPrecision: opt('max_precision', 5, 3),
      }),
    );
    return '';
  }
}

interface PrintOptions {
  maxRows: number;
  maxColumns: number;
  maxColumnWidth: number;
  maxPrecision: number;
}

/** Decimal places of a number's shortest form with trailing zeros dropped (Decimal.normalize). */
function places(v: unknown): number {
  const n = v instanceof PyFloat ? v.value : Number(v);
  if (!Number.isFinite(n)) return 0;
  const s = typeof v === 'string' ? v : n.toString();
  const m = /\.(\d*?)0*(?:e|$)/i.exec(s);
  const exp = /e([+-]\d+)$/i.exec(s);
  return Math.max(0, (m?.[1]?.length ?? 0) - (exp ? Number(exp[1]) : 0));
}

/** babel's format_decimal with `#,##0.<places zeros>`: grouped thousands, fixed places. */
function formatNumber(v: unknown, decimals: number, ellipsis: boolean): string {
  const n = v instanceof PyFloat ? v.value : Number(v);
  if (!Number.isFinite(n)) return pyStr(v);
  const [whole, frac] = Math.abs(n).toFixed(decimals).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 ? '-' : ''}${grouped}${frac ? `.${frac}` : ''}${ellipsis ? '…' : ''}`;
}

function formatTable(t: AgateTable, o: PrintOptions): string {
  const allNames = t.column_names;
  const shown = Math.min(allNames.length, o.maxColumns);
  const truncate = (s: string) =>
    s.length > o.maxColumnWidth ? `${s.slice(0, o.maxColumnWidth - 3)}...` : s;
  const names = allNames.slice(0, shown).map(truncate);
  if (shown < allNames.length) names.push('...');
  const rows = [...t.rows].slice(0, o.maxRows);
  const formatters = t.column_types.slice(0, shown).map((type, i) => {
    if (type.name !== 'Number') return null;
    let p = 0;
    for (const r of rows) if (r.__getitem__(i) !== null) p = Math.max(p, places(r.__getitem__(i)));
    return { decimals: Math.min(p, o.maxPrecision), ellipsis: p > o.maxPrecision };
  });
  const cells = rows.map((r) => {
    const out: string[] = [];
    for (let j = 0; j < names.length; j++) {
      if (j >= shown) {
        out.push('...');
        break;
      }
      const v = r.__getitem__(j);
      const f = formatters[j];
      out.push(truncate(v === null ? '' : f ? formatNumber(v, f.decimals, f.ellipsis) : pyStr(v)));
    }
    return out;
  });
  const widths = names.map((n, j) => Math.max(n.length, ...cells.map((c) => c[j]?.length ?? 0)));
  const line = (cols: string[]) =>
    `|${cols
      .map(
        (c, j) =>
          ` ${t.column_types[j]?.name === 'Text' ? c.padEnd(widths[j]!) : c.padStart(widths[j]!)} `,
      )
      .join('|')}|`;
  const out = [
    line(names),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...cells.map(line),
  ];
  if (rows.length < t.rows.__len__()) out.push(line(names.map(() => '...')));
  return out.join('\n');
}
