/**
 * dbt's Column (dbt-adapters `base/column.py`) and the few ways dbt-duckdb and dbt-postgres
 * change it, as data keyed by profile type (like open.ts's ADAPTERS): which type names count as
 * integers and floats, whether unsized strings keep their name in `data_type`, and how names are
 * matched when looking relations up.
 */
import { TributaryError } from '../core/index.js';
import { pyRepr, splitArgs } from '../jinja/index.js';

export interface AdapterFlavour {
  relationClass: string;
  columnClass: string;
  integerTypes: ReadonlySet<string>;
  floatTypes: ReadonlySet<string>;
  /** dbt-postgres prints `text` and unsized `character varying` as they are, not varchar(256). */
  keepsUnsizedStrings: boolean;
  /** Extra dataclass fields repr() shows after the five of Column. */
  reprExtra: string;
  /** load_result().response prints the server's status (`SELECT 3`) rather than `OK`. */
  statusMessages: boolean;
  /** Column.TYPE_LABELS: what translate_type() and create() turn an agate label into. */
  typeLabels: Readonly<Record<string, string>>;
}

const BASE_INTEGERS = [
  'smallint',
  'integer',
  'bigint',
  'smallserial',
  'serial',
  'bigserial',
  'int2',
  'int4',
  'int8',
  'serial2',
  'serial4',
  'serial8',
];
const BASE_FLOATS = ['real', 'float4', 'float', 'double precision', 'float8', 'double'];

const BASE: AdapterFlavour = {
  relationClass: 'BaseRelation',
  columnClass: 'Column',
  integerTypes: new Set(BASE_INTEGERS),
  floatTypes: new Set(BASE_FLOATS),
  keepsUnsizedStrings: false,
  reprExtra: '',
  statusMessages: false,
  typeLabels: { STRING: 'TEXT' },
};

const FLAVOURS: Record<string, AdapterFlavour> = {
  duckdb: {
    relationClass: 'DuckDBRelation',
    columnClass: 'DuckDBColumn',
    integerTypes: new Set([
      'tinyint',
      'smallint',
      'integer',
      'bigint',
      'hugeint',
      'utinyint',
      'usmallint',
      'uinteger',
      'ubigint',
      'int1',
      'int2',
      'int4',
      'int8',
      'short',
      'int',
      'signed',
      'long',
    ]),
    floatTypes: new Set(['real', 'float', 'float4', 'float8', 'double']),
    keepsUnsizedStrings: false,
    reprExtra: ', fields=[]',
    statusMessages: false,
    typeLabels: BASE.typeLabels,
  },
  postgres: {
    ...BASE,
    relationClass: 'PostgresRelation',
    columnClass: 'PostgresColumn',
    keepsUnsizedStrings: true,
    statusMessages: true,
    typeLabels: {
      STRING: 'TEXT',
      DATETIME: 'TIMESTAMP',
      DATETIMETZ: 'TIMESTAMPTZ',
      STRINGARRAY: 'TEXT[]',
      INTEGERARRAY: 'INT[]',
      DECIMALARRAY: 'DECIMAL[]',
      BOOLEANARRAY: 'BOOL[]',
      DATEARRAY: 'DATE[]',
      DATETIMEARRAY: 'TIMESTAMP[]',
      DATETIMETZARRAY: 'TIMESTAMPTZ[]',
    },
  },
};

/** The dbt adapter behaviour of a profile type (the base adapter's for unknown types). */
export function adapterFlavour(type: string): AdapterFlavour {
  return FLAVOURS[type] ?? BASE;
}

const STRING_TYPES = new Set(['text', 'character varying', 'character', 'varchar']);

function optionalInt(v: unknown): number | null {
  if (v === undefined || v === null || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

export class Column {
  readonly char_size: number | null;
  readonly numeric_precision: number | null;
  readonly numeric_scale: number | null;

  constructor(
    readonly flavour: AdapterFlavour,
    readonly column: string,
    readonly dtype: string,
    charSize: unknown = null,
    numericPrecision: unknown = null,
    numericScale: unknown = null,
  ) {
    this.char_size = optionalInt(charSize);
    this.numeric_precision = optionalInt(numericPrecision);
    this.numeric_scale = optionalInt(numericScale);
  }

  get name(): string {
    return this.column;
  }
  /** dbt quotes without escaping; an embedded quote is doubled here so the SQL stays valid. */
  get quoted(): string {
    return `"${this.column.replaceAll('"', '""')}"`;
  }
  get data_type(): string {
    const lower = this.dtype.toLowerCase();
    if (
      this.flavour.keepsUnsizedStrings &&
      (lower === 'text' || (lower === 'character varying' && this.char_size === null))
    )
      return this.dtype;
    if (this.is_string()) return Column.string_type(this.string_size());
    if (this.is_numeric())
      return Column.numeric_type(this.dtype, this.numeric_precision, this.numeric_scale);
    return this.dtype;
  }

  is_string(): boolean {
    return STRING_TYPES.has(this.dtype.toLowerCase());
  }
  is_number(): boolean {
    return this.is_integer() || this.is_numeric() || this.is_float();
  }
  is_float(): boolean {
    return this.flavour.floatTypes.has(this.dtype.toLowerCase());
  }
  is_integer(): boolean {
    return this.flavour.integerTypes.has(this.dtype.toLowerCase());
  }
  is_numeric(): boolean {
    const lower = this.dtype.toLowerCase();
    return lower === 'numeric' || lower === 'decimal';
  }
  is_struct(): boolean {
    return this.dtype.toLowerCase().startsWith('struct');
  }
  string_size(): number {
    if (!this.is_string())
      throw new TributaryError('Called string_size() on non-string field!', { code: 'CONFIG' });
    if (this.dtype === 'text' || this.char_size === null) return 256;
    return this.char_size;
  }
  can_expand_to(other: Column): boolean {
    if (!this.is_string() || !other.is_string()) return false;
    return other.string_size() > this.string_size();
  }
  literal(value: unknown): string {
    return `${String(value)}::${this.data_type}`;
  }

  static string_type(size: unknown): string {
    return `character varying(${String(size)})`;
  }
  static numeric_type(dtype: string, precision: unknown, scale: unknown): string {
    if (precision === null || precision === undefined || scale === null || scale === undefined)
      return dtype;
    return `${dtype}(${String(precision)},${String(scale)})`;
  }

  __repr__(): string {
    const f = (v: unknown) => pyRepr(v);
    return (
      `${this.flavour.columnClass}(column=${f(this.column)}, dtype=${f(this.dtype)}, ` +
      `char_size=${f(this.char_size)}, numeric_precision=${f(this.numeric_precision)}, ` +
      `numeric_scale=${f(this.numeric_scale)}${this.flavour.reprExtra})`
    );
  }
  __eq__(other: unknown): boolean {
    return (
      other instanceof Column &&
      other.column === this.column &&
      other.dtype === this.dtype &&
      other.char_size === this.char_size &&
      other.numeric_precision === this.numeric_precision &&
      other.numeric_scale === this.numeric_scale
    );
  }
}

/** dbt's Column.from_description: `varchar(20)` → char_size 20, `numeric(10,2)` → precision, scale. */
export function columnFromDescription(flavour: AdapterFlavour, name: string, raw: string): Column {
  const m = /^([^(]+)(\([^)]+\))?/.exec(raw);
  if (!m) throw new TributaryError(`Could not interpret data type "${raw}"`, { code: 'CONFIG' });
  const [, dataType, sizeInfo] = m;
  let charSize: number | null = null;
  let precision: number | null = null;
  let scale: number | null = null;
  if (sizeInfo && !/[A-Z]+\(/.test(sizeInfo.slice(1, -1))) {
    const parts = sizeInfo.slice(1, -1).split(',');
    const int = (s: string) => {
      const n = Number(s.trim());
      if (!Number.isInteger(n))
        throw new TributaryError(
          `Could not interpret data_type "${raw}": could not convert "${s}" to an integer`,
          { code: 'CONFIG' },
        );
      return n;
    };
    if (parts.length === 1) charSize = int(parts[0]!);
    else if (parts.length === 2) [precision, scale] = [int(parts[0]!), int(parts[1]!)];
  }
  return new Column(flavour, name, dataType!, charSize, precision, scale);
}

/** `api.Column`: callable as Column(name, dtype, char_size, precision, scale), with dbt's class methods. */
export function columnApi(flavour: AdapterFlavour): unknown {
  const translate = (dtype: string) => flavour.typeLabels[dtype.toUpperCase()] ?? dtype;
  const make = (...raw: unknown[]) => {
    const { args, kwargs } = splitArgs(raw);
    const field = (k: string, i: number) => kwargs[k] ?? args[i] ?? null;
    return new Column(
      flavour,
      String(field('column', 0)),
      String(field('dtype', 1)),
      field('char_size', 2),
      field('numeric_precision', 3),
      field('numeric_scale', 4),
    );
  };
  return Object.assign(make, {
    create: (name: unknown, labelOrDtype: unknown) =>
      new Column(flavour, String(name), translate(String(labelOrDtype))),
    from_description: (name: unknown, raw: unknown) =>
      columnFromDescription(flavour, String(name), String(raw)),
    string_type: (size: unknown) => Column.string_type(size),
    numeric_type: (dtype: unknown, p: unknown, s: unknown) =>
      Column.numeric_type(String(dtype), p, s),
    translate_type: (dtype: unknown) => translate(String(dtype)),
  });
}
