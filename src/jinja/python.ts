/**
 * Python behaviour that templates reach through values: the methods of str, list and dict
 * (`'a,b'.split(',')`, `xs.append(x)`, `d.items()`), printf-style `%` formatting and
 * `str.format` with its format-spec mini-language. dbt macros lean on these heavily, so each
 * follows CPython's rules rather than JavaScript's.
 */
import type { PyFloat } from './values.js';
import { hasNumberMethod, isPyNumber, numberMethod } from './python-numbers.js';
import {
  TemplateRuntimeError,
  JinjaUndefined,
  Markup,
  PyDict,
  escapeValue,
  dictEntries,
  dictView,
  isMapping,
  failUndefined,
  floatRepr,
  isDict,
  isFloat,
  isNumber,
  isTuple,
  seqKind,
  mkFloat,
  num,
  pyCompare,
  pyEq,
  pyIter,
  pyRepr,
  pyStr,
  tuple,
  typeName,
} from './values.js';

/** Sentinel: the value has no Python method of that name. */
export const NO_METHOD = Symbol('jinja.noMethod');

const WS =
  ' \t\n\r\x0b\x0c\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\x1c\x1d\x1e\x1f\x85';

function isWs(ch: string): boolean {
  return WS.includes(ch);
}

/** Python str.strip/lstrip/rstrip with an optional set of characters. */
export function pyStrip(s: string, chars: unknown, left: boolean, right: boolean): string {
  const set = chars === undefined || chars === null ? null : String(chars);
  const drop = (ch: string) => (set === null ? isWs(ch) : set.includes(ch));
  let a = 0;
  let b = s.length;
  if (left) while (a < b && drop(s[a]!)) a++;
  if (right) while (b > a && drop(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** Python str.split(sep, maxsplit). */
function pySplit(s: string, sep: unknown, maxsplit: number): string[] {
  if (sep === null || sep === undefined) {
    const out: string[] = [];
    let i = 0;
    const n = s.length;
    while (i < n) {
      while (i < n && isWs(s[i]!)) i++;
      if (i >= n) break;
      if (maxsplit >= 0 && out.length === maxsplit) {
        out.push(s.slice(i)); // CPython keeps the remainder's trailing whitespace
        return out;
      }
      let j = i;
      while (j < n && !isWs(s[j]!)) j++;
      out.push(s.slice(i, j));
      i = j;
    }
    return out;
  }
  const sp = expectStr(sep, 'split');
  if (sp === '') throw new TemplateRuntimeError('empty separator');
  if (maxsplit < 0) return s.split(sp);
  const out: string[] = [];
  let start = 0;
  while (out.length < maxsplit) {
    const idx = s.indexOf(sp, start);
    if (idx < 0) break;
    out.push(s.slice(start, idx));
    start = idx + sp.length;
  }
  out.push(s.slice(start));
  return out;
}

/** Python str.rsplit(sep, maxsplit). */
function pyRsplit(s: string, sep: unknown, maxsplit: number): string[] {
  if (maxsplit < 0) return pySplit(s, sep, -1);
  if (sep === null || sep === undefined) {
    const out: string[] = [];
    let j = s.length;
    while (j > 0) {
      while (j > 0 && isWs(s[j - 1]!)) j--;
      if (j <= 0) break;
      if (out.length === maxsplit) {
        out.unshift(s.slice(0, j));
        return out;
      }
      let i = j;
      while (i > 0 && !isWs(s[i - 1]!)) i--;
      out.unshift(s.slice(i, j));
      j = i;
    }
    return out;
  }
  const sp = expectStr(sep, 'rsplit');
  if (sp === '') throw new TemplateRuntimeError('empty separator');
  const out: string[] = [];
  let end = s.length;
  while (out.length < maxsplit) {
    const idx = s.lastIndexOf(sp, end - sp.length);
    if (idx < 0 || end - sp.length < 0) break;
    out.unshift(s.slice(idx + sp.length, end));
    end = idx;
  }
  out.unshift(s.slice(0, end));
  return out;
}

/** Python str.replace, including the empty-`old` case that inserts between characters. */
export function pyReplace(s: string, old: string, rep: string, count = -1): string {
  if (count < 0) {
    if (old === '') return rep + Array.from(s).join(rep) + (s.length ? rep : '');
    return s.split(old).join(rep);
  }
  let out = '';
  let rest = s;
  for (let i = 0; i < count; i++) {
    if (old === '') {
      out += rep + (rest[0] ?? '');
      rest = rest.slice(1);
      if (!rest && i + 1 < count) {
        out += rep;
        break;
      }
      continue;
    }
    const idx = rest.indexOf(old);
    if (idx < 0) break;
    out += rest.slice(0, idx) + rep;
    rest = rest.slice(idx + old.length);
  }
  return out + rest;
}

/** Python str.title(): upper-case the first cased letter after a non-letter. */
function pyTitle(s: string): string {
  let out = '';
  let prevCased = false;
  for (const ch of s) {
    const cased = ch.toLowerCase() !== ch.toUpperCase();
    out += cased ? (prevCased ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevCased = cased;
  }
  return out;
}

/** Python str.capitalize(). */
export function pyCapitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1).toLowerCase() : s;
}

/** Python str.splitlines(keepends). */
export function pySplitlines(s: string, keepends = false): string[] {
  const out: string[] = [];
  // Python's line boundaries include VT, FF and the file/group/record separators.
  // eslint-disable-next-line no-control-regex
  const re = /\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]/g;
  let start = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    out.push(s.slice(start, keepends ? m.index + m[0].length : m.index));
    start = m.index + m[0].length;
  }
  if (start < s.length) out.push(s.slice(start));
  return out;
}

/** Python str.center(width, fill), padding the extra column the way CPython does. */
export function pyCenter(s: string, width: number, fill = ' '): string {
  const len = Array.from(s).length;
  if (width <= len) return s;
  const marg = width - len;
  const left = Math.floor(marg / 2) + (marg & width & 1);
  return fill.repeat(left) + s + fill.repeat(marg - left);
}

function expectStr(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (v instanceof JinjaUndefined) failUndefined(v);
  throw new TemplateRuntimeError(`${what}() argument must be str, not ${typeName(v)}`);
}

function intArg(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  return Math.trunc(num(v));
}

/** Resolves Python's optional [start, end] slice arguments of find/count/startswith. */
function bounds(len: number, start: unknown, end: unknown): [number, number] {
  let a = intArg(start, 0);
  let b = intArg(end, len);
  if (a < 0) a = Math.max(0, len + a);
  if (b < 0) b = Math.max(0, len + b);
  return [Math.min(a, len), Math.min(b, len)];
}

function countSub(s: string, sub: string): number {
  if (sub === '') return s.length + 1;
  let n = 0;
  let i = 0;
  while ((i = s.indexOf(sub, i)) >= 0) {
    n++;
    i += sub.length;
  }
  return n;
}

function affix(s: string, arg: unknown, start: unknown, end: unknown, ends: boolean): boolean {
  const [a, b] = bounds(s.length, start, end);
  const part = s.slice(a, b);
  const opts = Array.isArray(arg) ? arg : [arg];
  for (const o of opts) {
    const p = expectStr(o, ends ? 'endswith' : 'startswith');
    if (ends ? part.endsWith(p) : part.startsWith(p)) return true;
  }
  return false;
}

/** Python str.expandtabs: tabs to spaces up to the next multiple of `size` columns. */
function pyExpandtabs(s: string, size: number): string {
  let col = 0;
  let out = '';
  for (const ch of s) {
    if (ch === '\t') {
      const n = size > 0 ? size - (col % size) : 0;
      out += ' '.repeat(n);
      col += n;
    } else {
      out += ch;
      col = ch === '\n' || ch === '\r' ? 0 : col + 1;
    }
  }
  return out;
}

/**
 * str.casefold(): upper-then-lower case gives Unicode's full case folding (ß -> ss, final
 * sigma -> σ) except for dotless ı, which does not fold, and Cherokee, which folds to upper case.
 */
function pyCasefold(s: string): string {
  if (!/[\u0080-\u{10ffff}]/u.test(s)) return s.toLowerCase();
  return Array.from(s, (c) => {
    if (c === 'ı') return c;
    if (/[\u13a0-\u13fd\uab70-\uabbf]/.test(c)) return c.toUpperCase();
    return c.toUpperCase().toLowerCase();
  }).join('');
}

/** str.isdigit() for one character: a decimal digit, or one that decomposes to one (², ①). */
function isDigitChar(c: string): boolean {
  if (/\p{Nd}/u.test(c)) return true;
  return /\p{No}/u.test(c) && /^\p{Nd}$/u.test(c.normalize('NFKD'));
}

/** The str predicates that follow Unicode categories (isdecimal, isidentifier…). */
function strCategoryTest(s: string, name: string): boolean | typeof NO_METHOD {
  switch (name) {
    case 'isdecimal':
      return /^\p{Nd}+$/u.test(s);
    case 'isdigit':
      return s !== '' && Array.from(s).every(isDigitChar);
    case 'isnumeric':
      return /^[\p{Nd}\p{Nl}\p{No}]+$/u.test(s);
    case 'isidentifier':
      return /^[\p{XID_Start}_]\p{XID_Continue}*$/u.test(s);
    case 'isascii':
      return !/[\u0080-\u{10ffff}]/u.test(s);
    case 'isprintable':
      return !/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u.test(
        s,
      );
    case 'isalpha':
      return /^\p{L}+$/u.test(s);
    case 'isalnum':
      return /^[\p{L}\p{N}]+$/u.test(s);
  }
  return NO_METHOD;
}

function strMethod(s: string, name: string, a: unknown[], kw: Record<string, unknown>): unknown {
  for (const k in kw)
    if (k && !STR_KW_METHODS.has(name) && STR_METHODS.has(name))
      throw new TemplateRuntimeError(`str.${name}() takes no keyword arguments`);
  switch (name) {
    case 'upper':
      return s.toUpperCase();
    case 'lower':
      return s.toLowerCase();
    case 'casefold':
      return pyCasefold(s);
    case 'swapcase':
      return Array.from(s, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(
        '',
      );
    case 'strip':
      return pyStrip(s, a[0] ?? kw.chars, true, true);
    case 'lstrip':
      return pyStrip(s, a[0] ?? kw.chars, true, false);
    case 'rstrip':
      return pyStrip(s, a[0] ?? kw.chars, false, true);
    case 'split':
      return pySplit(s, a[0] ?? kw.sep, intArg(a[1] ?? kw.maxsplit, -1));
    case 'rsplit':
      return pyRsplit(s, a[0] ?? kw.sep, intArg(a[1] ?? kw.maxsplit, -1));
    case 'startswith':
      return affix(s, a[0], a[1], a[2], false);
    case 'endswith':
      return affix(s, a[0], a[1], a[2], true);
    case 'replace':
      return pyReplace(
        s,
        expectStr(a[0], 'replace'),
        expectStr(a[1], 'replace'),
        intArg(a[2] ?? kw.count, -1),
      );
    case 'format':
      return strFormat(s, a, kw);
    case 'join': {
      const items = pyIter(a[0]);
      return items
        .map((x, i) => {
          if (typeof x !== 'string')
            throw new TemplateRuntimeError(
              `sequence item ${i}: expected str instance, ${typeName(x)} found`,
            );
          return x;
        })
        .join(s);
    }
    case 'find':
    case 'index':
    case 'rfind':
    case 'rindex': {
      const sub = expectStr(a[0], name);
      const [st, en] = bounds(s.length, a[1], a[2]);
      const part = s.slice(st, en);
      const i = name.startsWith('r') ? part.lastIndexOf(sub) : part.indexOf(sub);
      if (i < 0 && name.endsWith('index')) throw new TemplateRuntimeError('substring not found');
      return i < 0 ? -1 : i + st;
    }
    case 'count': {
      const [st, en] = bounds(s.length, a[1], a[2]);
      return countSub(s.slice(st, en), expectStr(a[0], 'count'));
    }
    case 'title':
      return pyTitle(s);
    case 'capitalize':
      return pyCapitalize(s);
    case 'isspace':
      return s.length > 0 && Array.from(s).every(isWs);
    case 'isupper':
      return s !== s.toLowerCase() && s === s.toUpperCase();
    case 'islower':
      return s !== s.toUpperCase() && s === s.toLowerCase();
    case 'istitle':
      return s !== s.toLowerCase() && pyTitle(s) === s;
    case 'expandtabs':
      return pyExpandtabs(s, a.length ? Math.trunc(num(a[0])) : 8);
    case 'zfill': {
      const w = intArg(a[0], 0);
      if (s.length >= w) return s;
      const sign = s[0] === '-' || s[0] === '+' ? s[0] : '';
      return sign + '0'.repeat(w - s.length) + s.slice(sign.length);
    }
    case 'splitlines':
      return pySplitlines(s, truthyArg(a[0] ?? kw.keepends));
    case 'partition':
    case 'rpartition': {
      const sep = expectStr(a[0], name);
      const i = name === 'partition' ? s.indexOf(sep) : s.lastIndexOf(sep);
      if (i < 0) return tuple(name === 'partition' ? [s, '', ''] : ['', '', s]);
      return tuple([s.slice(0, i), sep, s.slice(i + sep.length)]);
    }
    case 'center':
      return pyCenter(s, intArg(a[0], 0), (a[1] as string) ?? ' ');
    case 'ljust':
      return s.padEnd(intArg(a[0], 0), (a[1] as string) ?? ' ');
    case 'rjust':
      return s.padStart(intArg(a[0], 0), (a[1] as string) ?? ' ');
    case 'removeprefix':
      return s.startsWith(a[0] as string) ? s.slice((a[0] as string).length) : s;
    case 'removesuffix':
      return a[0] && s.endsWith(a[0] as string) ? s.slice(0, -(a[0] as string).length) : s;
    case 'encode':
      return s;
    case 'format_map':
      return strFormat(s, [], formatMapping(a[0]));
    case 'translate':
      return pyTranslate(s, a[0]);
  }
  return strCategoryTest(s, name);
}

/** str.format_map(mapping): the named fields read from the mapping. */
function formatMapping(m: unknown): Record<string, unknown> {
  if (!isMapping(m)) throw new TemplateRuntimeError(`'${typeName(m)}' object is not subscriptable`);
  const kw: Record<string, unknown> = {};
  for (const [k, v] of dictEntries(m)) if (typeof k === 'string') kw[k] = v;
  return kw;
}

/** str.translate(table): each code point looked up in the table (None deletes, int is chr). */
function pyTranslate(s: string, table: unknown): string {
  if (!isMapping(table)) {
    if (table instanceof JinjaUndefined) failUndefined(table);
    throw new TemplateRuntimeError(`'${typeName(table)}' object is not subscriptable`);
  }
  const map = new Map<number, unknown>();
  for (const [k, v] of dictEntries(table)) if (typeof k === 'number') map.set(k, v);
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (!map.has(code)) {
      out += ch;
      continue;
    }
    const r = map.get(code);
    if (r === null || r === undefined) continue;
    if (typeof r === 'string') out += r;
    else if (typeof r === 'number' && Number.isInteger(r)) out += String.fromCodePoint(r);
    else throw new TemplateRuntimeError('character mapping must return integer, None or str');
  }
  return out;
}

function truthyArg(v: unknown): boolean {
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== '';
}

function listIndex(xs: unknown[], x: unknown): number {
  for (let i = 0; i < xs.length; i++) if (pyEq(xs[i], x)) return i;
  return -1;
}

/** Sorts like Python's list.sort: stable, with `key` and `reverse`, raising on mixed types. */
export function pySort(xs: unknown[], reverse: boolean, key?: (x: unknown) => unknown): unknown[] {
  const keyed = xs.map((x) => ({ x, k: key ? key(x) : x }));
  keyed.sort((p, q) => pyCompare(p.k, q.k, '<'));
  if (reverse) {
    // Python keeps equal items in their original order even when reversing.
    keyed.reverse();
    let i = 0;
    while (i < keyed.length) {
      let j = i + 1;
      while (j < keyed.length && pyCompare(keyed[i]!.k, keyed[j]!.k, '<') === 0) j++;
      if (j - i > 1) keyed.splice(i, j - i, ...keyed.slice(i, j).reverse());
      i = j;
    }
  }
  return keyed.map((p) => p.x);
}

function listMethod(
  xs: unknown[],
  name: string,
  a: unknown[],
  kw: Record<string, unknown>,
): unknown {
  const tup = isTuple(xs);
  // CPython's METH_O methods take exactly one positional argument.
  if (a.length !== 1 && ONE_ARG_LIST_METHODS.has(name))
    throw new TemplateRuntimeError(
      `${typeName(xs)}.${name}() takes exactly one argument (${a.length} given)`,
    );
  switch (name) {
    case 'index': {
      const i = listIndex(xs, a[0]);
      if (i < 0) throw new TemplateRuntimeError(`${pyRepr(a[0])} is not in list`);
      return i;
    }
    case 'count':
      return xs.filter((x) => pyEq(x, a[0])).length;
  }
  if (tup) return NO_METHOD;
  switch (name) {
    case 'append':
      xs.push(a[0]);
      return null;
    case 'extend':
      xs.push(...pyIter(a[0]));
      return null;
    case 'insert': {
      let i = intArg(a[0], 0);
      if (i < 0) i = Math.max(0, xs.length + i);
      xs.splice(Math.min(i, xs.length), 0, a[1]);
      return null;
    }
    case 'pop': {
      if (!xs.length) throw new TemplateRuntimeError('pop from empty list');
      let i = intArg(a[0], -1);
      if (i < 0) i += xs.length;
      if (i < 0 || i >= xs.length) throw new TemplateRuntimeError('pop index out of range');
      return xs.splice(i, 1)[0];
    }
    case 'remove': {
      const i = listIndex(xs, a[0]);
      if (i < 0) throw new TemplateRuntimeError('list.remove(x): x not in list');
      xs.splice(i, 1);
      return null;
    }
    case 'reverse':
      xs.reverse();
      return null;
    case 'sort': {
      const sorted = pySort(xs, truthyArg(kw.reverse));
      xs.splice(0, xs.length, ...sorted);
      return null;
    }
    case 'copy':
      return xs.slice();
    case 'clear':
      xs.length = 0;
      return null;
  }
  return NO_METHOD;
}

const ONE_ARG_LIST_METHODS = new Set(['append', 'extend', 'remove', 'count']);

/** Converts a Python dict key to the string key of the plain object that stores it. */
export function dictKey(k: unknown): string {
  return typeof k === 'string' ? k : pyStr(k);
}

/** The methods of a template-made dict (PyDict), with Python's key identity. */
function pyDictMethod(d: PyDict, name: string, a: unknown[], kw: Record<string, unknown>): unknown {
  switch (name) {
    case 'get':
      return d.has(a[0]) ? d.get(a[0]) : a.length > 1 ? a[1] : null;
    case 'items':
      return dictView(
        'dict_items',
        d.pyEntries().map((e) => tuple(e)),
      );
    case 'keys':
      return dictView('dict_keys', d.pyKeys());
    case 'values':
      return dictView('dict_values', [...d.values()]);
    case 'update':
      if (a[0] !== undefined) updateFrom(d, a[0]);
      for (const k in kw) d.set(k, kw[k]);
      return null;
    case 'pop': {
      if (d.has(a[0])) {
        const v = d.get(a[0]);
        d.delete(a[0]);
        return v;
      }
      if (a.length > 1) return a[1];
      throw new TemplateRuntimeError(`KeyError: ${pyRepr(a[0])}`);
    }
    case 'setdefault':
      if (!d.has(a[0])) d.set(a[0], a.length > 1 ? a[1] : null);
      return d.get(a[0]);
    case 'copy':
      return d.copy();
    case 'clear':
      d.clear();
      return null;
    case 'popitem': {
      const last = d.pyEntries().pop();
      if (!last) throw new TemplateRuntimeError("KeyError: 'popitem(): dictionary is empty'");
      d.delete(last[0]);
      return tuple(last);
    }
    case 'fromkeys':
      return fromkeys(a[0], a.length > 1 ? a[1] : null);
  }
  return NO_METHOD;
}

/** dict.fromkeys(iterable, value=None). */
export function fromkeys(keys: unknown, value: unknown): PyDict {
  const out = new PyDict();
  for (const k of pyIter(keys)) out.set(k, value);
  return out;
}

/** dict.update(src) for a PyDict: from another dict or from key/value pairs. */
export function updateFrom(d: PyDict, src: unknown): void {
  if (isMapping(src)) {
    for (const [k, v] of dictEntries(src)) d.set(k, v);
    return;
  }
  for (const pair of pyIter(src)) {
    const kv = pyIter(pair);
    if (kv.length !== 2)
      throw new TemplateRuntimeError(
        `dictionary update sequence element has length ${kv.length}; 2 is required`,
      );
    d.set(kv[0], kv[1]);
  }
}

function dictMethod(
  d: Record<string, unknown>,
  name: string,
  a: unknown[],
  kw: Record<string, unknown>,
): unknown {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(d, k);
  switch (name) {
    case 'get': {
      const k = dictKey(a[0]);
      return has(k) ? d[k] : a.length > 1 ? a[1] : null;
    }
    case 'items':
      return dictView(
        'dict_items',
        Object.entries(d).map(([k, v]) => tuple([k, v])),
      );
    case 'keys':
      return dictView('dict_keys', Object.keys(d));
    case 'values':
      return dictView('dict_values', Object.values(d));
    case 'update': {
      if (a[0] !== undefined) {
        const src = a[0];
        if (isMapping(src)) for (const [k, v] of dictEntries(src)) d[dictKey(k)] = v;
        else
          for (const pair of pyIter(src)) {
            const [k, v] = pyIter(pair);
            d[dictKey(k)] = v;
          }
      }
      Object.assign(d, kw);
      return null;
    }
    case 'pop': {
      const k = dictKey(a[0]);
      if (has(k)) {
        const v = d[k];
        delete d[k];
        return v;
      }
      if (a.length > 1) return a[1];
      throw new TemplateRuntimeError(`KeyError: ${pyRepr(a[0])}`);
    }
    case 'setdefault': {
      const k = dictKey(a[0]);
      if (!has(k)) d[k] = a.length > 1 ? a[1] : null;
      return d[k];
    }
    case 'copy':
      return { ...d };
    case 'clear':
      for (const k of Object.keys(d)) delete d[k];
      return null;
    case 'popitem': {
      const keys = Object.keys(d);
      const k = keys[keys.length - 1];
      if (k === undefined)
        throw new TemplateRuntimeError("KeyError: 'popitem(): dictionary is empty'");
      const v = d[k];
      delete d[k];
      return tuple([k, v]);
    }
    case 'fromkeys':
      return fromkeys(a[0], a.length > 1 ? a[1] : null);
  }
  return NO_METHOD;
}

/** Calls a Python built-in method on a str, list, tuple or dict; `NO_METHOD` if there is none. */
/** Markup's methods: str's, with str arguments escaped and str results kept Markup. */
function markupMethod(m: Markup, name: string, a: unknown[], kw: Record<string, unknown>): unknown {
  if (name === 'unescape') return htmlUnescapeText(m.s);
  if (name === 'striptags') {
    const text = m.s.replace(/<!--[\s\S]*?-->/g, '').replace(/<[^>]*>/g, '');
    return htmlUnescapeText(
      text
        .split(/\s+/)
        .filter((x) => x)
        .join(' '),
    );
  }
  const esc = (x: unknown) => (typeof x === 'string' || x instanceof Markup ? escapeValue(x) : x);
  const args = name === 'join' ? [pyIter(a[0]).map((x) => escapeValue(x).s)] : a.map(esc);
  const kwargs: Record<string, unknown> = {};
  for (const k in kw) kwargs[k] = esc(kw[k]);
  const r = strMethod(m.s, name, args, kwargs);
  if (typeof r === 'string') return new Markup(r);
  if (Array.isArray(r)) return r.map((x) => (typeof x === 'string' ? new Markup(x) : x));
  return r;
}

/** Reverses markupsafe's escaping and the common HTML entities. */
function htmlUnescapeText(s: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
    if (e[0] === '#')
      return String.fromCodePoint(
        e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)),
      );
    return named[e.toLowerCase()] ?? all;
  });
}

export function callPyMethod(
  obj: unknown,
  name: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
): unknown {
  if (typeof obj === 'string') return strMethod(obj, name, args, kwargs);
  if (obj instanceof Markup) return markupMethod(obj, name, args, kwargs);
  if (Array.isArray(obj))
    return hasPyMethod(obj, name) ? listMethod(obj, name, args, kwargs) : NO_METHOD;
  if (obj instanceof PyDict) return pyDictMethod(obj, name, args, kwargs);
  if (isDict(obj)) return dictMethod(obj, name, args, kwargs);
  if (isPyNumber(obj) && hasNumberMethod(obj, name)) return numberMethod(obj, name, args, kwargs);
  return NO_METHOD;
}

const STR_METHODS = new Set(
  'upper lower casefold swapcase strip lstrip rstrip split rsplit startswith endswith replace format join find index rfind rindex count title capitalize isdigit isnumeric isdecimal isalpha isalnum isspace isupper islower istitle isidentifier isascii isprintable zfill splitlines partition rpartition center ljust rjust removeprefix removesuffix encode expandtabs format_map translate'.split(
    ' ',
  ),
);
const LIST_METHODS = new Set(
  'append extend insert pop remove index count reverse sort copy clear'.split(' '),
);
const DICT_METHODS = new Set(
  'get items keys values update pop setdefault copy clear popitem fromkeys'.split(' '),
);
/** The str methods CPython 3.11 lets take keyword arguments; the others raise TypeError. */
const STR_KW_METHODS = new Set('split rsplit splitlines expandtabs encode format'.split(' '));

/** True when `obj.name` is a Python built-in method of a str, list or dict. */
export function hasPyMethod(obj: unknown, name: string): boolean {
  if (typeof obj === 'string') return STR_METHODS.has(name);
  if (obj instanceof Markup)
    return STR_METHODS.has(name) || name === 'unescape' || name === 'striptags';
  if (Array.isArray(obj)) {
    const kind = seqKind(obj);
    if (kind === 'list') return LIST_METHODS.has(name);
    // tuple and range have index() and count(); dict views and iterators no list methods.
    return (kind === 'tuple' || kind === 'range') && (name === 'index' || name === 'count');
  }
  if (isDict(obj) || obj instanceof PyDict) return DICT_METHODS.has(name);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Number formatting shared by `%` and str.format.

/** toFixed with Python's round-half-even on exact binary ties (`'%.0f' % 2.5` is '2'). */
export function pyToFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return floatRepr(x);
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  if (ax >= 1e21) {
    const frac = digits > 0 ? `.${'0'.repeat(digits)}` : '';
    return (neg ? '-' : '') + BigInt(Math.round(ax)).toString() + frac;
  }
  let s = ax.toFixed(digits);
  const extra = Math.min(100, digits + 30);
  const long = ax.toFixed(extra);
  const tail = long.slice(long.length - (extra - digits));
  if (/^50*$/.test(tail)) {
    // An exact tie: JS rounded up; Python rounds to the even neighbour.
    const trunc = long.slice(0, long.length - (extra - digits)).replace(/\.$/, '');
    const last = Number(trunc[trunc.length - 1]);
    if (last % 2 === 0) s = trunc;
  }
  return (neg && Number(s) !== 0 ? '-' : neg && Object.is(x, -0) ? '-' : '') + s;
}

function expForm(x: number, prec: number, upper: boolean): string {
  const s = Math.abs(x).toExponential(prec);
  const m = /^([\d.]+)e([+-])(\d+)$/.exec(s)!;
  const e = m[3]!.length < 2 ? `0${m[3]}` : m[3]!;
  const out = `${x < 0 ? '-' : ''}${m[1]}e${m[2]}${e}`;
  return upper ? out.toUpperCase() : out;
}

function generalForm(x: number, prec: number, upper: boolean, alt: boolean): string {
  if (!Number.isFinite(x)) return upper ? floatRepr(x).toUpperCase() : floatRepr(x);
  const p = prec === 0 ? 1 : prec;
  if (x === 0) return alt ? `0.${'0'.repeat(p - 1)}` : Object.is(x, -0) ? '-0' : '0';
  const exp = Number(/e([+-]\d+)$/.exec(Math.abs(x).toExponential(p - 1))![1]);
  let out: string;
  if (exp >= -4 && exp < p) {
    out = pyToFixed(x, p - 1 - exp);
    if (!alt && out.includes('.')) out = out.replace(/\.?0+$/, '');
  } else {
    out = expForm(x, p - 1, upper);
    if (!alt) out = out.replace(/\.?0+e/, 'e').replace(/\.?0+E/, 'E');
  }
  return out;
}

function withGrouping(intPart: string, sep: string, every = 3): string {
  let out = '';
  let n = 0;
  for (let i = intPart.length - 1; i >= 0; i--) {
    out = intPart[i] + out;
    if (++n % every === 0 && i > 0) out = sep + out;
  }
  return out;
}

/** Formats a number for `%`/format type letters (d x o e f g %); returns digits without sign. */
function formatNumberBody(
  v: unknown,
  type: string,
  prec: number | null,
  alt: boolean,
): { neg: boolean; body: string; prefix: string } {
  if (typeof v === 'bigint' && 'diunxXob'.includes(type)) {
    // Exact digits for ints past 2**53.
    const a = v < 0n ? -v : v;
    const radix = type === 'x' || type === 'X' ? 16 : type === 'o' ? 8 : type === 'b' ? 2 : 10;
    const body = a.toString(radix);
    const prefix = alt && radix !== 10 ? `0${type === 'X' ? 'X' : type}` : '';
    return { neg: v < 0n, body: type === 'X' ? body.toUpperCase() : body, prefix };
  }
  const x = num(v);
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  switch (type) {
    case 'd':
    case 'i':
    case 'u':
    case 'n':
      return { neg: Math.trunc(x) < 0, body: String(Math.trunc(ax)), prefix: '' };
    case 'x':
    case 'X': {
      const b = Math.trunc(ax).toString(16);
      return {
        neg,
        body: type === 'X' ? b.toUpperCase() : b,
        prefix: alt ? (type === 'X' ? '0X' : '0x') : '',
      };
    }
    case 'o':
      return { neg, body: Math.trunc(ax).toString(8), prefix: alt ? '0o' : '' };
    case 'b':
      return { neg, body: Math.trunc(ax).toString(2), prefix: alt ? '0b' : '' };
    case 'e':
    case 'E':
      return { neg, body: expForm(ax, prec ?? 6, type === 'E'), prefix: '' };
    case 'f':
    case 'F': {
      let body = pyToFixed(ax, prec ?? 6);
      if (alt && !body.includes('.')) body += '.';
      return { neg, body: type === 'F' ? body.toUpperCase() : body, prefix: '' };
    }
    case 'g':
    case 'G':
      return { neg, body: generalForm(ax, prec ?? 6, type === 'G', alt), prefix: '' };
    case '%':
      return { neg, body: `${pyToFixed(ax * 100, prec ?? 6)}%`, prefix: '' };
  }
  throw new TemplateRuntimeError(`unsupported format character '${type}'`);
}

// ---------------------------------------------------------------------------------------------
// printf-style formatting: 'a %s b' % x

const PERCENT_RE =
  /%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])?/g;

/** `'%c' % value`: a one-character str, or an int code point. */
function percentChar(value: unknown): string {
  if (typeof value === 'string' && [...value].length === 1) return value;
  if (isNumber(value) && !isFloat(value)) {
    const n = num(value);
    if (n < 0 || n >= 0x110000 || typeof value === 'bigint')
      throw new TemplateRuntimeError('%c arg not in range(0x110000)');
    return String.fromCodePoint(n);
  }
  throw new TemplateRuntimeError('%c requires int or char');
}

/** Python's `format % values` for strings. */
export function percentFormat(fmt: string, values: unknown): string {
  const mapping = isDict(values)
    ? values
    : values instanceof Map
      ? Object.fromEntries(dictEntries(values).map(([k, v]) => [pyStr(k), v]))
      : null;
  const args = Array.isArray(values) && isTuple(values) ? values : [values];
  let ai = 0;
  let usedMapping = false;
  const next = (): unknown => {
    if (ai >= args.length) throw new TemplateRuntimeError('not enough arguments for format string');
    return args[ai++];
  };
  const out = fmt.replace(PERCENT_RE, (whole, key, flags, width, precision, type) => {
    if (type === undefined) throw new TemplateRuntimeError(`incomplete format: '${whole}'`);
    if (type === '%' && whole === '%%') return '%';
    let value: unknown;
    if (key !== undefined) {
      if (!mapping) throw new TemplateRuntimeError('format requires a mapping');
      usedMapping = true;
      if (!Object.prototype.hasOwnProperty.call(mapping, key))
        throw new TemplateRuntimeError(`KeyError: ${pyRepr(key)}`);
      value = mapping[key];
    }
    const w = width === '*' ? Math.trunc(num(next())) : width ? Number(width) : 0;
    const p = precision === '*' ? Math.trunc(num(next())) : precision ? Number(precision) : null;
    if (key === undefined) value = next();
    const f = flags as string;
    let s: string;
    let numeric = false;
    let neg = false;
    let prefix = '';
    if (type === 's' || type === 'r' || type === 'a') {
      s = type === 's' ? pyStr(value) : pyRepr(value);
      if (p !== null) s = s.slice(0, p);
    } else if (type === 'c') {
      s = percentChar(value);
    } else {
      if (value instanceof JinjaUndefined) failUndefined(value);
      // %x, %o and %X take only ints; the others any real number.
      const intOnly = 'xXo'.includes(type as string);
      if (!isNumber(value) || (intOnly && isFloat(value)))
        throw new TemplateRuntimeError(
          `%${type} format: ${intOnly ? 'an integer' : 'a real number'} is required, not ${typeName(value)}`,
        );
      const r = formatNumberBody(value, type, p, f.includes('#'));
      numeric = true;
      neg = r.neg;
      s = r.body;
      prefix = r.prefix;
    }
    if (numeric) {
      const sign = neg ? '-' : f.includes('+') ? '+' : f.includes(' ') ? ' ' : '';
      const head = sign + prefix;
      if (f.includes('-')) return (head + s).padEnd(w);
      if (f.includes('0')) return head + s.padStart(Math.max(0, w - head.length), '0');
      return (head + s).padStart(w);
    }
    return f.includes('-') ? s.padEnd(w) : s.padStart(w);
  });
  // CPython skips this check when the lone argument has [] (a list, dict, range…).
  const subscriptable =
    (Array.isArray(values) && ['list', 'range'].includes(seqKind(values))) ||
    values instanceof Map ||
    isDict(values) ||
    values instanceof JinjaUndefined;
  if (!mapping && ai < args.length && !usedMapping && !subscriptable)
    throw new TemplateRuntimeError('not all arguments converted during string formatting');
  return out;
}

// ---------------------------------------------------------------------------------------------
// str.format and the format-spec mini-language

const SPEC_RE =
  /^(?:(.)?([<>=^]))?([-+ ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/su;

/** Python's format(value, spec). */
function formatSpec(value: unknown, spec: string): string {
  if (value instanceof JinjaUndefined) failUndefined(value);
  const m = SPEC_RE.exec(spec);
  if (!m) throw new TemplateRuntimeError(`Invalid format specifier '${spec}'`);
  const [, fillCh, alignCh, signCh, , altCh, zeroCh, widthS, group, precS, typeCh] = m;
  let fill = fillCh ?? ' ';
  let align = alignCh;
  const width = widthS ? Number(widthS) : 0;
  const prec = precS !== undefined ? Number(precS) : null;
  let type = typeCh;
  const isNum = isNumber(value) && typeof value !== 'boolean';
  // A leading 0 pads with zeros (unless a fill is given), sign-aware when no alignment is.
  if (zeroCh) {
    if (fillCh === undefined) fill = '0';
    if (!alignCh) align = '=';
  }
  let body: string;
  let sign = '';
  let prefix = '';
  // bool formats as 'True' only with an empty spec; with any spec it is the int 1 or 0.
  if (typeof value === 'boolean' && spec === '') {
    body = value ? 'True' : 'False';
  } else if (isNum || typeof value === 'boolean') {
    if (type && 'bcdoxX'.includes(type) && isFloat(value))
      throw new TemplateRuntimeError(
        `Unknown format code '${type}' for object of type '${typeName(value)}'`,
      );
    if (!type) {
      if (isFloat(value)) {
        type = prec === null ? 'r' : 'g';
      } else type = 'd';
    }
    const x = num(value);
    if (type === 'r') {
      body = floatRepr(Math.abs(x));
    } else {
      if (type === 's')
        throw new TemplateRuntimeError(
          `Unknown format code 's' for object of type '${typeName(value)}'`,
        );
      if (type === 'c') body = String.fromCodePoint(x);
      else {
        const r = formatNumberBody(value, type, prec, !!altCh);
        body = r.body;
        prefix = r.prefix;
      }
    }
    const neg = x < 0 || Object.is(x, -0);
    sign = neg ? '-' : signCh === '+' ? '+' : signCh === ' ' ? ' ' : '';
    if (group) {
      const [ip, fp] = body.split('.');
      if (/^\d+$/.test(ip!)) body = withGrouping(ip!, group) + (fp !== undefined ? `.${fp}` : '');
    }
    align = align ?? '>';
  } else {
    // object.__format__ takes no spec: only str (Markup is one) and numbers have a
    // mini-language.
    if (typeof value !== 'string' && !(value instanceof Markup) && spec !== '')
      throw new TemplateRuntimeError(
        `unsupported format string passed to ${typeName(value)}.__format__`,
      );
    if (type && type !== 's')
      throw new TemplateRuntimeError(
        `Unknown format code '${type}' for object of type '${typeName(value)}'`,
      );
    if (signCh) throw new TemplateRuntimeError('Sign not allowed in string format specifier');
    if (altCh)
      throw new TemplateRuntimeError('Alternate form (#) not allowed in string format specifier');
    if (group) throw new TemplateRuntimeError(`Cannot specify '${group}' with 's'.`);
    if (alignCh === '=')
      throw new TemplateRuntimeError("'=' alignment not allowed in string format specifier");
    body = pyStr(value);
    if (prec !== null) body = Array.from(body).slice(0, prec).join('');
    // A leading 0 pads a str with zeros on the right (its default alignment).
    align = alignCh ?? '<';
  }
  const content = sign + prefix + body;
  const len = Array.from(content).length;
  if (len >= width) return content;
  const pad = width - len;
  switch (align) {
    case '<':
      return content + fill.repeat(pad);
    case '^': {
      const left = Math.floor(pad / 2);
      return fill.repeat(left) + content + fill.repeat(pad - left);
    }
    case '=':
      return sign + prefix + fill.repeat(pad) + body;
    default:
      return fill.repeat(pad) + content;
  }
}

/** One `.attr` or `[key]` step of a str.format field, as Python's formatter takes it. */
function formatFieldPart(
  value: unknown,
  attr: string | undefined,
  item: string | undefined,
): unknown {
  if (attr !== undefined) {
    if (isNumber(value) && (attr === 'real' || attr === 'imag')) return attr === 'real' ? value : 0;
    const v =
      value instanceof PyDict || value === null || typeof value !== 'object' || isDict(value)
        ? undefined
        : (value as Record<string, unknown>)[attr];
    if (v === undefined)
      throw new TemplateRuntimeError(`'${typeName(value)}' object has no attribute '${attr}'`);
    return v;
  }
  const key: string | number = /^\d+$/.test(item!) ? Number(item) : item!;
  let v: unknown;
  if (Array.isArray(value) && typeof key === 'number') v = value[key];
  else if (value instanceof Map) v = value.has(key) ? value.get(key) : undefined;
  else if (isDict(value)) v = Object.hasOwn(value, String(key)) ? value[String(key)] : undefined;
  else if (typeof value === 'string' && typeof key === 'number') v = value[key];
  else throw new TemplateRuntimeError(`'${typeName(value)}' object is not subscriptable`);
  if (v === undefined)
    throw new TemplateRuntimeError(
      typeof key === 'number' && !(value instanceof Map) && !isDict(value)
        ? `${typeName(value)} index out of range`
        : `KeyError: ${pyRepr(key)}`,
    );
  return v;
}

function lookupField(
  field: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  auto: { n: number },
): unknown {
  const m = /^([^.[]*)(.*)$/s.exec(field)!;
  const head = m[1]!;
  let value: unknown;
  if (head === '') {
    if (auto.n < 0)
      throw new TemplateRuntimeError(
        'cannot switch from manual field specification to automatic field numbering',
      );
    value = args[auto.n++];
    if (auto.n > args.length)
      throw new TemplateRuntimeError(
        `Replacement index ${auto.n - 1} out of range for positional args tuple`,
      );
  } else if (/^\d+$/.test(head)) {
    if (auto.n > 0)
      throw new TemplateRuntimeError(
        'cannot switch from automatic field numbering to manual field specification',
      );
    auto.n = -1;
    const i = Number(head);
    if (i >= args.length)
      throw new TemplateRuntimeError(
        `Replacement index ${i} out of range for positional args tuple`,
      );
    value = args[i];
  } else {
    if (!Object.prototype.hasOwnProperty.call(kwargs, head))
      throw new TemplateRuntimeError(`KeyError: ${pyRepr(head)}`);
    value = kwargs[head];
  }
  const rest = m[2]!;
  const re = /\.(\w+)|\[([^\]]*)\]/gy;
  let mm: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (mm = re.exec(rest))) {
    value = formatFieldPart(value, mm[1], mm[2]);
  }
  return value;
}

/** Python's str.format(*args, **kwargs). */
function strFormat(fmt: string, args: unknown[], kwargs: Record<string, unknown>): string {
  const auto = { n: 0 };
  let out = '';
  let i = 0;
  while (i < fmt.length) {
    const ch = fmt[i]!;
    if (ch === '{') {
      if (fmt[i + 1] === '{') {
        out += '{';
        i += 2;
        continue;
      }
      // find the matching close brace, allowing one level of nested {} in the spec
      let depth = 1;
      let j = i + 1;
      while (j < fmt.length && depth > 0) {
        if (fmt[j] === '{') depth++;
        else if (fmt[j] === '}') depth--;
        j++;
      }
      if (depth) throw new TemplateRuntimeError("expected '}' before end of string");
      const inner = fmt.slice(i + 1, j - 1);
      const fm = /^([^!:]*)(?:!([rsa]))?(?::(.*))?$/s.exec(inner)!;
      let value = lookupField(fm[1]!, args, kwargs, auto);
      if (fm[2] === 'r' || fm[2] === 'a') value = pyRepr(value);
      else if (fm[2] === 's') value = pyStr(value);
      let spec = fm[3] ?? '';
      if (spec.includes('{')) spec = strFormat(spec, args, kwargs);
      out += spec === '' ? pyStr(value) : formatSpec(value, spec);
      i = j;
      continue;
    }
    if (ch === '}') {
      if (fmt[i + 1] === '}') {
        out += '}';
        i += 2;
        continue;
      }
      throw new TemplateRuntimeError("Single '}' encountered in format string");
    }
    out += ch;
    i++;
  }
  return out;
}

/** Python round(x, ndigits) with round-half-even, returning a float as Python does. */
export function pyRound(x: number, ndigits: number): number | PyFloat {
  if (ndigits >= 0) return mkFloat(Number(pyToFixed(x, ndigits)));
  const f = 10 ** -ndigits;
  return mkFloat(Number(pyToFixed(x / f, 0)) * f);
}
