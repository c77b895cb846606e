/**
 * PostgreSQL type OIDs → names, JSON kinds and text parsers, so rows leave the PostgreSQL engine
 * exactly as DuckDB's do: 64-bit integers and numerics as strings, dates and timestamps as the
 * text PostgreSQL prints (ISO DateStyle, UTC session), JSON parsed, arrays as lists.
 * Parsers are handed to each pool through pg's `types` option, never set globally.
 */
import type { CustomTypesConfig } from 'pg';
import type { JsonKind, JsonValue, LogicalType } from '../types.js';

type Parser = (text: string) => JsonValue;

interface PgType {
  name: string;
  kind: JsonKind;
  parse: Parser;
  /** OID of the array of this type, so `int4[]` parses its elements as numbers. */
  array?: number;
}

const text: Parser = (v) => v;
/** Finite numbers as numbers; NaN and ±Infinity stay text because JSON has no number for them. */
const number: Parser = (v) => {
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
};
const boolean: Parser = (v) => v === 't' || v === 'true';
const json: Parser = (v) => JSON.parse(v) as JsonValue;

const t = (name: string, kind: JsonKind, parse: Parser, array?: number): PgType => ({
  name,
  kind,
  parse,
  array,
});

/** Built-in types by OID (pg_type.dat); user-defined types fall back to text. */
const pgTypes: ReadonlyMap<number, PgType> = new Map([
  [16, t('boolean', 'boolean', boolean, 1000)],
  [17, t('bytea', 'string', text, 1001)],
  [18, t('"char"', 'string', text, 1002)],
  [19, t('name', 'string', text, 1003)],
  // 64-bit integers and numerics leave as strings: JSON numbers lose precision past 2^53.
  [20, t('bigint', 'string', text, 1016)],
  [21, t('smallint', 'number', number, 1005)],
  [22, t('int2vector', 'string', text, 1006)],
  [23, t('integer', 'number', number, 1007)],
  [24, t('regproc', 'string', text, 1008)],
  [25, t('text', 'string', text, 1009)],
  [26, t('oid', 'number', number, 1028)],
  [27, t('tid', 'string', text, 1010)],
  [28, t('xid', 'string', text, 1011)],
  [29, t('cid', 'string', text, 1012)],
  [30, t('oidvector', 'string', text, 1013)],
  [114, t('json', 'object', json, 199)],
  [142, t('xml', 'string', text, 143)],
  [194, t('pg_node_tree', 'string', text)],
  [600, t('point', 'string', text, 1017)],
  [601, t('lseg', 'string', text, 1018)],
  [602, t('path', 'string', text, 1019)],
  [603, t('box', 'string', text, 1020)],
  [604, t('polygon', 'string', text, 1027)],
  [628, t('line', 'string', text, 629)],
  [650, t('cidr', 'string', text, 651)],
  [700, t('real', 'number', number, 1021)],
  [701, t('double precision', 'number', number, 1022)],
  [705, t('unknown', 'string', text)],
  [718, t('circle', 'string', text, 719)],
  [774, t('macaddr8', 'string', text, 775)],
  [790, t('money', 'string', text, 791)],
  [829, t('macaddr', 'string', text, 1040)],
  [869, t('inet', 'string', text, 1041)],
  [1033, t('aclitem', 'string', text, 1034)],
  [1042, t('character', 'string', text, 1014)],
  [1043, t('character varying', 'string', text, 1015)],
  [1082, t('date', 'string', text, 1182)],
  [1083, t('time without time zone', 'string', text, 1183)],
  [1114, t('timestamp without time zone', 'string', text, 1115)],
  [1184, t('timestamp with time zone', 'string', text, 1185)],
  [1186, t('interval', 'string', text, 1187)],
  [1266, t('time with time zone', 'string', text, 1270)],
  [1560, t('bit', 'string', text, 1561)],
  [1562, t('bit varying', 'string', text, 1563)],
  [1700, t('numeric', 'string', text, 1231)],
  [1790, t('refcursor', 'string', text, 2201)],
  [2202, t('regprocedure', 'string', text, 2207)],
  [2203, t('regoper', 'string', text, 2208)],
  [2204, t('regoperator', 'string', text, 2209)],
  [2205, t('regclass', 'string', text, 2210)],
  [2206, t('regtype', 'string', text, 2211)],
  [2249, t('record', 'string', text, 2287)],
  [2275, t('cstring', 'string', text, 1263)],
  [2278, t('void', 'string', text)],
  [2950, t('uuid', 'string', text, 2951)],
  [2970, t('txid_snapshot', 'string', text, 2949)],
  [3220, t('pg_lsn', 'string', text, 3221)],
  [3614, t('tsvector', 'string', text, 3643)],
  [3615, t('tsquery', 'string', text, 3645)],
  [3734, t('regconfig', 'string', text, 3735)],
  [3769, t('regdictionary', 'string', text, 3770)],
  [3802, t('jsonb', 'object', json, 3807)],
  [3904, t('int4range', 'string', text, 3905)],
  [3906, t('numrange', 'string', text, 3907)],
  [3908, t('tsrange', 'string', text, 3909)],
  [3910, t('tstzrange', 'string', text, 3911)],
  [3912, t('daterange', 'string', text, 3913)],
  [3926, t('int8range', 'string', text, 3927)],
  [4072, t('jsonpath', 'string', text, 4073)],
  [4089, t('regnamespace', 'string', text, 4090)],
  [4096, t('regrole', 'string', text, 4097)],
  [5038, t('pg_snapshot', 'string', text, 5039)],
]);

/** Array OID → element type, built from the table above. */
const arrayElements: ReadonlyMap<number, PgType> = new Map(
  [...pgTypes.values()].filter((e) => e.array !== undefined).map((e) => [e.array!, e]),
);

/**
 * Parses PostgreSQL's array text form (`{1,2}`, `{"a b",NULL}`, `{{1,2},{3,4}}`) into nested
 * lists, each element through `element`. Bounds decorations (`[0:1]={…}`) are skipped.
 */
function parseArray(source: string, element: Parser, delimiter = ','): JsonValue[] {
  let i = source.indexOf('{');
  const parseList = (): JsonValue[] => {
    const out: JsonValue[] = [];
    i++; // past '{'
    if (source[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      if (source[i] === '{') {
        out.push(parseList());
      } else if (source[i] === '"') {
        let value = '';
        i++;
        while (source[i] !== '"') {
          if (source[i] === '\\') i++;
          value += source[i];
          i++;
        }
        i++;
        out.push(element(value));
      } else {
        let end = i;
        while (source[end] !== delimiter && source[end] !== '}') end++;
        const raw = source.slice(i, end).trim();
        i = end;
        out.push(raw === 'NULL' ? null : element(raw));
      }
      if (source[i] === delimiter) {
        i++;
        continue;
      }
      i++; // past '}'
      return out;
    }
  };
  return i < 0 ? [] : parseList();
}

/** How a column of this type arrives in JSON; unknown types (enums, domains) arrive as text. */
export function pgJsonKind(oid: number): JsonKind {
  if (arrayElements.has(oid)) return 'list';
  return pgTypes.get(oid)?.kind ?? 'string';
}

/**
 * The type name as `format_type` prints it, from the OID and the column's type modifier, or
 * undefined for a type not in the table (the engine then asks the server once).
 */
export function pgTypeName(oid: number, typmod: number): string | undefined {
  const element = arrayElements.get(oid);
  if (element) return `${element.name}[]`;
  const type = pgTypes.get(oid);
  if (!type) return undefined;
  if (typmod < 0) return type.name;
  switch (oid) {
    case 1700:
      return `numeric(${((typmod - 4) >> 16) & 0xffff},${(typmod - 4) & 0xffff})`;
    case 1042:
    case 1043:
      return `${type.name}(${typmod - 4})`;
    case 1083:
    case 1114:
    case 1184:
    case 1266: {
      const [head, ...tail] = type.name.split(' ');
      return [`${head}(${typmod})`, ...tail].join(' ');
    }
    default:
      return type.name;
  }
}

/** The `types` option for one pg Pool: our parsers by OID, text for everything else. */
export const pgTypeParsers: CustomTypesConfig = {
  getTypeParser: ((oid: number) => {
    const element = arrayElements.get(oid);
    if (element) {
      // box[] is the one built-in array delimited by ';' (its values contain commas).
      const delimiter = oid === 1020 ? ';' : ',';
      return (v: string) => parseArray(v, element.parse, delimiter);
    }
    return pgTypes.get(oid)?.parse ?? text;
  }) as CustomTypesConfig['getTypeParser'],
};

/** PostgreSQL's name for a portable logical type. */
export function postgresTypeName(type: LogicalType): string {
  switch (type) {
    case 'string':
      return 'text';
    case 'integer':
      return 'integer';
    case 'bigint':
      return 'bigint';
    case 'double':
      return 'double precision';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp';
    default:
      return type.replace(/^decimal/, 'numeric');
  }
}
