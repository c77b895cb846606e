/**
 * Jinja2's built-in filters (jinja2/filters.py) plus dbt's as_text/as_bool/as_number/as_native,
 * which are identities when rendering text as dbt does. Filters that return generators in
 * Jinja2 (map, select, reverse, batch…) return lists here, which iterate and join the same way.
 */
import { TEXT_FILTERS } from './filters-text.js';
import { attachSignatures, checkSignature } from './signatures.js';
import { getattr, getitem, rawAttr } from './runtime/access.js';
import type { FilterImpl, State } from './runtime/state.js';
import { undef } from './runtime/state.js';
import {
  pyCapitalize,
  pyCenter,
  pyReplace,
  pyRound,
  pySort,
  pySplitlines,
  pyStrip,
  percentFormat,
  hasPyMethod,
} from './python.js';
import {
  JinjaUndefined,
  Kwargs,
  PyFloat,
  TemplateRuntimeError,
  failUndefined,
  floatRepr,
  dictEntries,
  dictKeys,
  hashKey,
  isMapping,
  iteratorOf,
  markIterator,
  seqKind,
  isTuple,
  Markup,
  escapeValue,
  mkInt,
  PyDict,
  isFloat,
  isNumber,
  mkFloat,
  intToFloat,
  num,
  pyCompare,
  pyEq,
  pyIter,
  pyLen,
  pyRepr,
  pyStr,
  truthy,
  tuple,
  typeName,
} from './values.js';

type Getter = (item: unknown) => unknown;

const REVERSED: Record<string, string> = {
  list: 'list_reverseiterator',
  tuple: 'reversed',
  range: 'range_iterator',
  dict_keys: 'dict_reversekeyiterator',
  dict_values: 'dict_reversevalueiterator',
  dict_items: 'dict_reverseitemiterator',
};

/** The type of `reversed(v)`, or null when Python cannot reverse v. */
function reversedKind(v: unknown): string | null {
  if (Array.isArray(v)) return REVERSED[seqKind(v)] ?? null;
  if (isMapping(v)) return 'dict_reversekeyiterator';
  if (v instanceof JinjaUndefined) return 'reversed';
  return null;
}

function isIterableValue(v: unknown): boolean {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
  );
}

/** `for k, v in items`: each item must unpack into exactly two values. */
function unpackPair(p: unknown): [unknown, unknown] {
  if (!(typeof p === 'string' || Array.isArray(p) || isMapping(p)))
    throw new TemplateRuntimeError(`cannot unpack non-iterable ${typeName(p)} object`);
  const items = pyIter(p);
  if (items.length < 2)
    throw new TemplateRuntimeError(`not enough values to unpack (expected 2, got ${items.length})`);
  if (items.length > 2) throw new TemplateRuntimeError('too many values to unpack (expected 2)');
  return [items[0], items[1]];
}

/** Filters whose result stays Markup when the value is (Markup's own str methods). */
function keepsMarkup(impl: FilterImpl): FilterImpl {
  return (st, v, a, kw) => {
    const r = impl(st, v instanceof Markup ? v.s : v, a, kw);
    return v instanceof Markup && typeof r === 'string' ? new Markup(r) : r;
  };
}

/** Jinja2's filters that are generators: their result is a one-shot iterator. */
function generatorResult(impl: FilterImpl): FilterImpl {
  return (st, v, a, kw) => {
    const r = impl(st, v, a, kw);
    if (r instanceof Promise) return r.then((x: unknown[]) => markIterator(x, 'generator'));
    return markIterator(r as unknown[], 'generator');
  };
}

function ignoreCase(v: unknown): unknown {
  return typeof v === 'string' ? v.toLowerCase() : v;
}

function attrParts(attribute: unknown): unknown[] {
  if (attribute === null || attribute === undefined) return [];
  if (typeof attribute === 'string')
    return attribute.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return [attribute];
}

/** Jinja2's make_attrgetter: dotted paths, integer parts as indexes, optional default. */
function attrGetter(
  st: State,
  attribute: unknown,
  postprocess?: (v: unknown) => unknown,
  dflt?: unknown,
): Getter {
  const parts = attrParts(attribute);
  return (item) => {
    let v = item;
    for (const p of parts) v = getitem(st, v, p);
    if (dflt !== undefined && dflt !== null && v instanceof JinjaUndefined) v = dflt;
    return postprocess ? postprocess(v) : v;
  };
}

/** Jinja2's make_multi_attrgetter: comma-separated attributes give a list key. */
function multiAttrGetter(
  st: State,
  attribute: unknown,
  postprocess?: (v: unknown) => unknown,
): Getter {
  const split = typeof attribute === 'string' ? attribute.split(',') : [attribute];
  const getters = split.map((a) => attrGetter(st, a, postprocess));
  return (item) => getters.map((g) => g(item));
}

function opt(
  kw: Record<string, unknown>,
  a: unknown[],
  i: number,
  name: string,
  dflt: unknown,
): unknown {
  if (i < a.length) return a[i];
  if (Object.prototype.hasOwnProperty.call(kw, name)) return kw[name];
  return dflt;
}

function intOpt(
  kw: Record<string, unknown>,
  a: unknown[],
  i: number,
  name: string,
  dflt: number,
): number {
  const v = opt(kw, a, i, name, dflt);
  return Math.trunc(num(v));
}

/** Python's int() and float() read any Unicode decimal digit ('٣' is 3): as ASCII digits. */
function asciiDigits(s: string): string {
  if (!/[\u0080-\u{10ffff}]/u.test(s)) return s;
  return s.replace(/\p{Nd}/gu, (c) => {
    // Decimal digits come in runs that start at 0 (some runs hold several sets of ten).
    let start = c.codePointAt(0)!;
    while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
    return String(((c.codePointAt(0)! - start) % 10) as number);
  });
}

/** Python float('…') parsing; null when Python would raise ValueError. */
function parsePyFloat(s: string): number | null {
  const t = asciiDigits(s).trim().toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(t)) return NaN;
  if (!/^[+-]?((\d(_?\d)*)(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)(e[+-]?\d(_?\d)*)?$/.test(t)) return null;
  return Number(t.replace(/_/g, ''));
}

/** Python int('…', base) parsing; null when Python would raise ValueError. */
function parsePyInt(s: string, base: number): number | null {
  let t = asciiDigits(s).trim().toLowerCase().replace(/_/g, '');
  let sign = 1;
  if (t.startsWith('-') || t.startsWith('+')) {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  const prefixes: Record<number, string> = { 16: '0x', 8: '0o', 2: '0b' };
  if (prefixes[base] && t.startsWith(prefixes[base]!)) t = t.slice(2);
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, base);
  if (!t || [...t].some((c) => !digits.includes(c))) return null;
  return sign * parseInt(t, base);
}

function toInt(v: unknown, dflt: unknown, base: number): unknown {
  if (v instanceof JinjaUndefined) failUndefined(v); // int(Undefined) raises in Jinja2
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && base === 10 && /^\s*[+-]?\d[\d_]{15,}\s*$/.test(v))
    return mkInt(BigInt(v.trim().replace(/_/g, ''))); // exact past 2**53
  if (typeof v === 'string') {
    const i = parsePyInt(v, base);
    if (i !== null) return i;
    const f = parsePyFloat(v);
    if (f !== null && Number.isFinite(f)) return truncInt(f);
    return dflt;
  }
  if (isNumber(v)) {
    const n = num(v);
    return Number.isFinite(n) ? truncInt(n) : dflt;
  }
  return dflt;
}

/** int(float): no negative zero, exact past 2**53 (int(1e20) is 100000000000000000000). */
function truncInt(n: number): number | bigint {
  const t = Math.trunc(n);
  return Number.isSafeInteger(t) ? t + 0 : mkInt(BigInt(t));
}

function toFloat(v: unknown, dflt: unknown): unknown {
  if (v instanceof JinjaUndefined) failUndefined(v);
  if (typeof v === 'string') {
    const f = parsePyFloat(v);
    return f === null ? dflt : mkFloat(f);
  }
  if (typeof v === 'bigint') return mkFloat(intToFloat(v));
  if (isNumber(v)) return mkFloat(num(v));
  return dflt;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
  "'": '&#39;',
};

/** markupsafe's escape(). */
function htmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

function htmlUnescape(s: string): string {
  const named: Record<string, string> = {
    amp: '&',
    lt: '<',
    gt: '>',
    quot: '"',
    apos: "'",
    nbsp: '\u00a0',
  };
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ent: string) => {
    if (ent[0] === '#')
      return String.fromCodePoint(
        ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : Number(ent.slice(1)),
      );
    return named[ent.toLowerCase()] ?? whole;
  });
}

/** Python's urllib.parse.quote with the given safe characters. */
function urlQuote(s: string, safe: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9_.\-~]/.test(c) || (byte < 128 && safe.includes(c))) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Python json.dumps with Jinja's tojson policy (sort_keys) and separators. */
function jsonDumps(
  value: unknown,
  sortKeys: boolean,
  indent: number | string | null,
  level = 0,
): string {
  const nl = indent === null ? '' : '\n';
  const ind = indent === null ? '' : typeof indent === 'number' ? ' '.repeat(indent) : indent;
  const itemSep = indent === null ? ', ' : ',';
  const pad = (n: number) => (indent === null ? '' : nl + ind.repeat(n));
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return jsonString(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' || value instanceof PyFloat) {
    const n = num(value);
    if (Number.isNaN(n)) return 'NaN';
    if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
    return isFloat(value) ? floatRepr(n) : pyStr(n);
  }
  if (value instanceof JinjaUndefined) failUndefined(value);
  if (Array.isArray(value) && (seqKind(value) === 'list' || seqKind(value) === 'tuple')) {
    if (!value.length) return '[]';
    const parts = value.map((v) => jsonDumps(v, sortKeys, indent, level + 1));
    return `[${pad(level + 1)}${parts.join(itemSep + pad(level + 1))}${pad(level)}]`;
  }
  if (isMapping(value)) {
    // json.dumps turns keys into strings as JSON does (True -> "true", None -> "null").
    let entries: [string, unknown][] = dictEntries(value).map(
      ([k, v]) => [typeof k === 'string' ? k : jsonKey(k), v] as [string, unknown],
    );
    if (!entries.length) return '{}';
    if (sortKeys) {
      // sorted(d.items()): by the keys as they are (2 before 10; str and int do not order).
      const keys = dictKeys(value);
      const order = pySort(
        keys.map((_, i) => i),
        false,
        (i) => keys[i as number],
      ) as number[];
      entries = order.map((i) => entries[i]!);
    }
    const parts = entries.map(
      ([k, v]) => `${jsonString(k)}: ${jsonDumps(v, sortKeys, indent, level + 1)}`,
    );
    return `{${pad(level + 1)}${parts.join(itemSep + pad(level + 1))}${pad(level)}}`;
  }
  throw new TemplateRuntimeError(`Object of type ${typeName(value)} is not JSON serializable`);
}

function jsonKey(k: unknown): string {
  if (k === null || k === undefined) return 'null';
  if (typeof k === 'boolean') return k ? 'true' : 'false';
  if (isNumber(k)) return jsonDumps(k, false, null);
  throw new TemplateRuntimeError(`keys must be str, int, float, bool or None, not ${typeName(k)}`);
}

function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

async function callFilterByName(
  st: State,
  name: unknown,
  value: unknown,
  args: unknown[],
  kwargs: Record<string, unknown>,
): Promise<unknown> {
  const f = st.env.filters.get(String(name));
  if (!f) throw new TemplateRuntimeError(`No filter named '${String(name)}'.`);
  checkSignature(f, args, kwargs);
  return await f(st, value, args, kwargs);
}

async function callTestByName(
  st: State,
  name: unknown,
  value: unknown,
  args: unknown[],
  kwargs: Record<string, unknown>,
): Promise<boolean> {
  const t = st.env.tests.get(String(name));
  if (!t) throw new TemplateRuntimeError(`No test named '${String(name)}'.`);
  checkSignature(t, args, kwargs);
  return truthy(await t(st, value, args, kwargs));
}

function selectOrReject(lookupAttr: boolean, keep: boolean): FilterImpl {
  return async (st, value, a, kw) => {
    // As in Jinja2's select_or_reject (`if value:`): a falsy value selects nothing, unchecked.
    if (!truthy(value)) return [];
    let trans: Getter = (x) => x;
    let off = 0;
    if (lookupAttr) {
      if (!a.length) throw new TemplateRuntimeError('Missing parameter for attribute name');
      trans = attrGetter(st, a[0]);
      off = 1;
    }
    const out: unknown[] = [];
    for (const item of truthy(value) ? pyIter(value) : []) {
      const v = trans(item);
      const ok =
        a.length > off ? await callTestByName(st, a[off], v, a.slice(off + 1), kw) : truthy(v);
      if (ok === keep) out.push(item);
    }
    return out;
  };
}

function minMax(sign: number): FilterImpl {
  return (st, value, a, kw) => {
    const items = pyIter(value);
    if (!items.length) return undef(st, null, 'No aggregated item, sequence was empty.');
    const cs = truthy(opt(kw, a, 0, 'case_sensitive', false));
    const key = attrGetter(st, opt(kw, a, 1, 'attribute', null), cs ? undefined : ignoreCase);
    let best = items[0];
    let bestKey = key(best);
    for (const item of items.slice(1)) {
      const k = key(item);
      if (pyCompare(k, bestKey, sign > 0 ? '>' : '<') * sign > 0) {
        best = item;
        bestKey = k;
      }
    }
    return best;
  };
}

function indent(value: unknown, width: unknown, first: boolean, blank: boolean): string {
  // Jinja2 does `s += "\n"` then `s.splitlines()`: only strings get through.
  if (value instanceof JinjaUndefined) failUndefined(value);
  if (Array.isArray(value))
    throw new TemplateRuntimeError(`'${typeName(value)}' object has no attribute 'splitlines'`);
  if (typeof value !== 'string')
    throw new TemplateRuntimeError(
      `unsupported operand type(s) for +=: '${typeName(value)}' and 'str'`,
    );
  const indention = typeof width === 'string' ? width : ' '.repeat(Math.trunc(num(width)));
  const s = pyStr(value) + '\n'; // Jinja's quirk so splitlines keeps a trailing empty line
  let rv: string;
  if (blank) rv = pySplitlines(s).join('\n' + indention);
  else {
    const lines = pySplitlines(s);
    rv = lines.shift() ?? '';
    if (lines.length) rv += '\n' + lines.map((l) => (l ? indention + l : l)).join('\n');
  }
  return first ? indention + rv : rv;
}

function truncate(
  s: string,
  length: number,
  killwords: boolean,
  end: string,
  leeway: number,
): string {
  if (length < end.length)
    throw new TemplateRuntimeError(`expected length >= ${end.length}, got ${length}`);
  if (leeway < 0) throw new TemplateRuntimeError(`expected leeway >= 0, got ${leeway}`);
  const chars = Array.from(s);
  if (chars.length <= length + leeway) return s;
  const head = chars.slice(0, length - end.length).join('');
  if (killwords) return head + end;
  const idx = head.lastIndexOf(' ');
  return (idx >= 0 ? head.slice(0, idx) : head) + end;
}

/** pprint.pformat prints dicts with their keys sorted (when they are comparable). */
function sortedForPprint(v: unknown): unknown {
  if (Array.isArray(v)) {
    if (seqKind(v) !== 'list' && seqKind(v) !== 'tuple') return v; // range(0, 3), views
    const items = v.map(sortedForPprint);
    return isTuple(v) ? tuple(items) : items;
  }
  if (!isMapping(v)) return v;
  const entries = dictEntries(v).map(([k, x]) => [k, sortedForPprint(x)] as [unknown, unknown]);
  try {
    entries.sort((x, y) => pyCompare(x[0], y[0], '<'));
  } catch {
    // incomparable keys keep their order, as pprint falls back to
  }
  const out = new PyDict();
  for (const [k, x] of entries) out.set(k, x);
  return out;
}

function title(s: string): string {
  return s
    .split(/([-\s({[<]+)/)
    .filter((x) => x)
    .map((w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase())
    .join('');
}

/** The built-in filters by name. */
export const BUILTIN_FILTERS: Record<string, FilterImpl> = {
  ...TEXT_FILTERS,
  default: (_st, v, a, kw) => {
    const dflt = opt(kw, a, 0, 'default_value', '');
    const boolean = truthy(opt(kw, a, 1, 'boolean', false));
    if (v instanceof JinjaUndefined || (boolean && !truthy(v))) return dflt;
    return v;
  },
  join: (st, v, a, kw) => {
    const sep = pyStr(opt(kw, a, 0, 'd', ''));
    const attribute = opt(kw, a, 1, 'attribute', null);
    let items = pyIter(v);
    if (attribute !== null) items = items.map(attrGetter(st, attribute));
    return items.map(pyStr).join(sep);
  },
  lower: (_st, v) => pyStr(v).toLowerCase(),
  upper: (_st, v) => pyStr(v).toUpperCase(),
  capitalize: (_st, v) => pyCapitalize(pyStr(v)),
  title: (_st, v) => title(pyStr(v)),
  replace: (_st, v, a, kw) => {
    const count = opt(kw, a, 2, 'count', null);
    return pyReplace(
      pyStr(v),
      pyStr(a[0]),
      pyStr(a[1]),
      count === null ? -1 : Math.trunc(num(count)),
    );
  },
  trim: (_st, v, a, kw) => pyStrip(pyStr(v), opt(kw, a, 0, 'chars', null), true, true),
  length: (_st, v) => pyLen(v),
  list: (_st, v) => pyIter(v).slice(),
  map: async (st, v, a, kw) => {
    // Jinja2's map starts with `if value:`: a falsy value (none, '', []) maps to nothing, unchecked.
    if (!truthy(v)) return [];
    const items = pyIter(v);
    if (!a.length && 'attribute' in kw) {
      const { attribute, default: dflt, ...rest } = kw;
      const extra = Object.keys(rest);
      if (extra.length) throw new TemplateRuntimeError(`Unexpected keyword argument '${extra[0]}'`);
      return items.map(attrGetter(st, attribute, undefined, dflt));
    }
    if (!a.length) throw new TemplateRuntimeError('map requires a filter argument');
    const out: unknown[] = [];
    for (const item of items) out.push(await callFilterByName(st, a[0], item, a.slice(1), kw));
    return out;
  },
  select: selectOrReject(false, true),
  reject: selectOrReject(false, false),
  selectattr: selectOrReject(true, true),
  rejectattr: selectOrReject(true, false),
  tojson: (_st, v, a, kw) => {
    const ind = opt(kw, a, 0, 'indent', null);
    const out = jsonDumps(v, true, ind === null ? null : typeof ind === 'string' ? ind : num(ind));
    return new Markup(
      out
        .replace(/</g, '\\u003c')
        .replace(/>/g, '\\u003e')
        .replace(/&/g, '\\u0026')
        .replace(/'/g, '\\u0027'),
    );
  },
  round: (_st, v, a, kw) => {
    const precision = intOpt(kw, a, 0, 'precision', 0);
    const method = opt(kw, a, 1, 'method', 'common');
    if (method !== 'common' && method !== 'ceil' && method !== 'floor')
      throw new TemplateRuntimeError('method must be common, ceil or floor');
    if (method === 'common') {
      // Python's round(int, n) stays an int, rounding to tens with a negative n.
      if (!isFloat(v) && isNumber(v)) {
        if (precision >= 0) return typeof v === 'bigint' ? v : num(v);
        const r = pyRound(num(v), precision);
        return r instanceof PyFloat ? r.value : r;
      }
      return pyRound(num(v), precision);
    }
    const f = 10 ** precision;
    const fn = method === 'ceil' ? Math.ceil : Math.floor;
    return mkFloat(fn(num(v) * f) / f);
  },
  int: (_st, v, a, kw) => toInt(v, opt(kw, a, 0, 'default', 0), intOpt(kw, a, 1, 'base', 10)),
  float: (_st, v, a, kw) => toFloat(v, opt(kw, a, 0, 'default', new PyFloat(0))),
  string: (_st, v) => pyStr(v),
  indent: (_st, v, a, kw) =>
    indent(
      v,
      opt(kw, a, 0, 'width', 4),
      truthy(opt(kw, a, 1, 'first', kw.indentfirst ?? false)),
      truthy(opt(kw, a, 2, 'blank', false)),
    ),
  first: (st, v) => {
    const items = pyIter(v);
    return items.length ? items[0] : undef(st, null, 'No first item, sequence was empty.');
  },
  last: (st, v) => {
    // next(iter(reversed(seq))): iterators are not reversible.
    const it = iteratorOf(v);
    if (it !== undefined) throw new TemplateRuntimeError(`'${it}' object is not reversible`);
    const items = pyIter(v);
    return items.length
      ? items[items.length - 1]
      : undef(st, null, 'No last item, sequence was empty.');
  },
  sort: (st, v, a, kw) => {
    const reverse = truthy(opt(kw, a, 0, 'reverse', false));
    const cs = truthy(opt(kw, a, 1, 'case_sensitive', false));
    const key = multiAttrGetter(st, opt(kw, a, 2, 'attribute', null), cs ? undefined : ignoreCase);
    return pySort(pyIter(v), reverse, key);
  },
  unique: (st, v, a, kw) => {
    const cs = truthy(opt(kw, a, 0, 'case_sensitive', false));
    const key = attrGetter(st, opt(kw, a, 1, 'attribute', null), cs ? undefined : ignoreCase);
    const seen: unknown[] = [];
    const out: unknown[] = [];
    for (const item of pyIter(v)) {
      const k = key(item);
      hashKey(k); // a set: unhashable type: 'list'
      if (!seen.some((s) => pyEq(s, k))) {
        seen.push(k);
        out.push(item);
      }
    }
    return out;
  },
  reverse: (_st, v) => {
    if (typeof v === 'string') return Array.from(v).reverse().join('');
    // reversed(value): an iterator of its own type; what is not reversible becomes a list.
    const kind = reversedKind(v);
    if (kind === null) {
      if (!isIterableValue(v)) throw new TemplateRuntimeError('argument must be iterable');
      return pyIter(v).slice().reverse();
    }
    return markIterator(pyIter(v).slice().reverse(), kind);
  },
  abs: (_st, v) => {
    if (!isNumber(v))
      throw new TemplateRuntimeError(`bad operand type for abs(): '${typeName(v)}'`);
    if (typeof v === 'bigint') return v < 0n ? -v : v;
    return isFloat(v) ? mkFloat(Math.abs(num(v))) : Math.abs(num(v));
  },
  sum: (st, v, a, kw) => {
    const attribute = opt(kw, a, 0, 'attribute', null);
    let total: unknown = opt(kw, a, 1, 'start', 0);
    let items = pyIter(v);
    if (attribute !== null) items = items.map(attrGetter(st, attribute));
    if (Array.isArray(total)) {
      // sum(xs, start=[]) concatenates, as Python's + does on lists.
      let out: unknown[] = total;
      for (const x of items) {
        if (!Array.isArray(x) || isTuple(x) !== isTuple(total))
          throw new TemplateRuntimeError(
            `can only concatenate ${typeName(total)} (not "${typeName(x)}") to ${typeName(total)}`,
          );
        out = out.concat(x);
      }
      return isTuple(total) ? tuple(out) : out;
    }
    let float = isFloat(total);
    let acc = num(total);
    for (const x of items) {
      if (!isNumber(x))
        throw new TemplateRuntimeError(
          `unsupported operand type(s) for +: '${typeName(total)}' and '${typeName(x)}'`,
        );
      float ||= isFloat(x);
      acc += num(x);
      total = x;
    }
    return float ? mkFloat(acc) : acc;
  },
  min: minMax(-1),
  max: minMax(1),
  items: (_st, v) => {
    if (v instanceof JinjaUndefined) {
      if (v.strict) failUndefined(v);
      return [];
    }
    if (!isMapping(v))
      throw new TemplateRuntimeError(`Can only get item pairs from a mapping, not ${typeName(v)}`);
    return dictEntries(v).map((e) => tuple(e));
  },
  dictsort: (_st, v, a, kw) => {
    if (!isMapping(v))
      throw new TemplateRuntimeError('You can only sort by either "key" or "value"');
    const cs = truthy(opt(kw, a, 0, 'case_sensitive', false));
    const by = opt(kw, a, 1, 'by', 'key');
    const reverse = truthy(opt(kw, a, 2, 'reverse', false));
    if (by !== 'key' && by !== 'value')
      throw new TemplateRuntimeError('You can only sort by either "key" or "value"');
    const pos = by === 'key' ? 0 : 1;
    const pairs = dictEntries(v).map((e) => tuple(e));
    return pySort(pairs, reverse, (p) => {
      const x = (p as unknown[])[pos];
      return cs ? x : ignoreCase(x);
    });
  },
  batch: (_st, v, a, kw) => {
    if (!a.length && !('linecount' in kw))
      throw new TemplateRuntimeError(
        "do_batch() missing 1 required positional argument: 'linecount'",
      );
    const n = intOpt(kw, a, 0, 'linecount', 1);
    const fill = opt(kw, a, 1, 'fill_with', null);
    const out: unknown[][] = [];
    let tmp: unknown[] = [];
    for (const item of pyIter(v)) {
      if (tmp.length === n) {
        out.push(tmp);
        tmp = [];
      }
      tmp.push(item);
    }
    if (tmp.length) {
      if (fill !== null) while (tmp.length < n) tmp.push(fill);
      out.push(tmp);
    }
    return out;
  },
  slice: (_st, v, a, kw) => {
    const slices = intOpt(kw, a, 0, 'slices', 1);
    const fill = opt(kw, a, 1, 'fill_with', null);
    const seq = pyIter(v);
    const per = Math.floor(seq.length / slices);
    const withExtra = seq.length % slices;
    let offset = 0;
    const out: unknown[][] = [];
    for (let i = 0; i < slices; i++) {
      const start = offset + i * per;
      if (i < withExtra) offset += 1;
      const end = offset + (i + 1) * per;
      const tmp = seq.slice(start, end);
      if (fill !== null && i >= withExtra) tmp.push(fill);
      out.push(tmp);
    }
    return out;
  },
  wordcount: (_st, v) => (pyStr(v).match(/[\p{L}\p{N}_]+/gu) ?? []).length,
  truncate: (_st, v, a, kw) => {
    // Jinja2 compares len(s) first, so short sequences come back as they are.
    if (typeof v !== 'string') {
      if (v instanceof JinjaUndefined || Array.isArray(v) || isMapping(v)) return v;
      throw new TemplateRuntimeError(`object of type '${typeName(v)}' has no len()`);
    }
    return truncate(
      v,
      intOpt(kw, a, 0, 'length', 255),
      truthy(opt(kw, a, 1, 'killwords', false)),
      pyStr(opt(kw, a, 2, 'end', '...')),
      intOpt(kw, a, 3, 'leeway', 5),
    );
  },
  center: (_st, v, a, kw) => {
    if (a.length > 1)
      throw new TemplateRuntimeError(
        `do_center() takes from 1 to 2 positional arguments but ${a.length + 1} were given`,
      );
    return pyCenter(pyStr(v), intOpt(kw, a, 0, 'width', 80));
  },
  format: (_st, v, a, kw) => {
    const hasKw = Object.keys(kw).length > 0;
    if (a.length && hasKw)
      throw new TemplateRuntimeError(
        "can't handle positional and keyword arguments at the same time",
      );
    return percentFormat(pyStr(v), hasKw ? kw : tuple(a));
  },
  attr: (st, v, a) => {
    const name = pyStr(a[0]);
    if (isMapping(v) || typeof v === 'string' || Array.isArray(v)) {
      return hasPyMethod(v, name)
        ? getattr(st, v, name)
        : undef(st, name, `'${typeName(v)} object' has no attribute '${name}'`);
    }
    const r = rawAttr(st, v, name);
    return typeof r === 'function' ? getattr(st, v, name) : r;
  },
  escape: (_st, v) => escapeValue(v),
  forceescape: (_st, v) => new Markup(htmlEscape(pyStr(v))),
  safe: (_st, v) => (v instanceof Markup ? v : new Markup(pyStr(v))),
  striptags: (_st, v) => {
    const s = pyStr(v)
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/<[^>]*>/g, '');
    return htmlUnescape(
      s
        .split(/\s+/)
        .filter((x) => x)
        .join(' '),
    );
  },
  urlencode: (_st, v) => {
    if (typeof v === 'string') return urlQuote(v, '/');
    if (!(Array.isArray(v) || isMapping(v) || v instanceof JinjaUndefined))
      return urlQuote(pyStr(v), '/');
    const pairs = isMapping(v) ? dictEntries(v) : pyIter(v).map(unpackPair);
    return pairs
      .map(
        ([k, x]) =>
          `${urlQuote(pyStr(k), '').replace(/%20/g, '+')}=${urlQuote(pyStr(x), '').replace(/%20/g, '+')}`,
      )
      .join('&');
  },
  pprint: (_st, v) => pyRepr(sortedForPprint(v)),
  groupby: (st, v, a, kw) => {
    const attribute = opt(kw, a, 0, 'attribute', null);
    const dflt = opt(kw, a, 1, 'default', null);
    const cs = truthy(opt(kw, a, 2, 'case_sensitive', false));
    const key = attrGetter(st, attribute, cs ? undefined : ignoreCase, dflt);
    const outKey = attrGetter(st, attribute, undefined, dflt);
    const sorted = pySort(pyIter(v), false, key);
    const groups: unknown[][] = [];
    let cur: unknown[] | null = null;
    let curKey: unknown;
    for (const item of sorted) {
      const k = key(item);
      if (!cur || !pyEq(k, curKey)) {
        cur = [];
        curKey = k;
        groups.push(cur);
      }
      cur.push(item);
    }
    return groups.map((items) => {
      const t = tuple([outKey(items[0]), items]);
      Object.defineProperty(t, 'grouper', { value: t[0] });
      Object.defineProperty(t, 'list', { value: items });
      return t;
    });
  },
  as_text: (_st, v) => v,
  as_bool: (_st, v) => v,
  as_number: (_st, v) => v,
  as_native: (_st, v) => v,
};
BUILTIN_FILTERS.d = BUILTIN_FILTERS.default!;
BUILTIN_FILTERS.e = BUILTIN_FILTERS.escape!;

/** Filters that take a Markup as such; every other filter sees its text (as soft_str would). */
export const MARKUP_FILTERS = new Set([
  'escape',
  'e',
  'forceescape',
  'safe',
  'string',
  'default',
  'd',
  'list',
  'first',
  'last',
  'length',
  'count',
]);
BUILTIN_FILTERS.count = BUILTIN_FILTERS.length!;
for (const name of ['upper', 'lower', 'capitalize', 'trim', 'center']) {
  BUILTIN_FILTERS[name] = keepsMarkup(BUILTIN_FILTERS[name]!);
  MARKUP_FILTERS.add(name);
}
for (const name of [
  'map',
  'select',
  'reject',
  'selectattr',
  'rejectattr',
  'unique',
  'batch',
  'slice',
])
  BUILTIN_FILTERS[name] = generatorResult(BUILTIN_FILTERS[name]!);
attachSignatures(BUILTIN_FILTERS, 'filter');

/** Wraps a user-supplied filter or test (`(value, ...args, Kwargs?)`) as a built-in one. */
export function wrapUserFunction(fn: (...args: unknown[]) => unknown): FilterImpl {
  return (_st, value, args, kwargs) => {
    const plainArgs = args.map((x) => (x instanceof PyFloat ? x.value : x));
    if (Object.keys(kwargs).length) plainArgs.push(new Kwargs(kwargs));
    return fn(value instanceof PyFloat ? value.value : value, ...plainArgs);
  };
}
