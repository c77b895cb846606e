/**
 * The value model of the Jinja renderer: how Python values (int vs float, tuple, None, dict,
 * Undefined) are represented in JavaScript, and the Python semantics every other part shares —
 * truthiness, equality, ordering, `in`, iteration, `str()` and `repr()`.
 *
 * Representation: int and float are JS numbers, except that a float with an integral value is
 * boxed in `PyFloat` so it still prints as `5.0`; a tuple is an array carrying the `TUPLE` mark;
 * None is `null`; a dict is a plain object; Jinja's Undefined is a `JinjaUndefined`. A JS
 * `undefined` (a void JS function's result) behaves as None but prints as the empty string.
 */

/** A Python float whose value happens to be integral (5.0), so it keeps printing as a float. */
export class PyFloat {
  constructor(readonly value: number) {}
  toString(): string {
    return floatRepr(this.value);
  }
  valueOf(): number {
    return this.value;
  }
}

const TUPLE = Symbol('jinja.tuple');

/** Marks an array as a Python tuple (prints with parentheses, compares unequal to a list). */
export function tuple<T>(items: T[]): T[] {
  (items as unknown as Record<symbol, boolean>)[TUPLE] = true;
  return items;
}

/** True when an array was made by `tuple()`. */
export function isTuple(v: unknown): boolean {
  return Array.isArray(v) && (v as unknown as Record<symbol, boolean>)[TUPLE] === true;
}

const DICT_VIEW = Symbol('jinja.dictView');
const RANGE = Symbol('jinja.range');

/** Marks an array as a dict view (`d.keys()`): prints as `dict_keys([...])`, is no sequence. */
export function dictView<T>(kind: 'dict_keys' | 'dict_values' | 'dict_items', items: T[]): T[] {
  (items as unknown as Record<symbol, string>)[DICT_VIEW] = kind;
  return items;
}

/** True for an array made by `dictView()`. */
export function isDictView(v: unknown): boolean {
  return Array.isArray(v) && (v as unknown as Record<symbol, unknown>)[DICT_VIEW] !== undefined;
}

const ITERATOR = Symbol('jinja.iterator');

/**
 * Marks an array as a one-shot Python iterator (`generator` from map/select/unique/batch…,
 * `list_reverseiterator` from reverse): always true, no len() and no [], equal only to itself,
 * and empty once iterated.
 */
export function markIterator<T>(items: T[], kind: string): T[] {
  (items as unknown as Record<symbol, string>)[ITERATOR] = kind;
  return items;
}

/** The Python type name of an array made by `markIterator()`, else undefined. */
export function iteratorOf(v: unknown): string | undefined {
  return Array.isArray(v) ? (v as unknown as Record<symbol, string>)[ITERATOR] : undefined;
}

/**
 * The Python type of an array: list, tuple, range, a dict view (dict_keys…) or an iterator
 * (generator…). Only list+list and tuple+tuple concatenate or repeat; each compares only with
 * its own kind.
 */
export function seqKind(v: unknown[]): string {
  const marks = v as unknown as Record<symbol, string | undefined>;
  return (
    marks[ITERATOR] ??
    marks[DICT_VIEW] ??
    ((v as unknown as Record<symbol, unknown>)[RANGE] ? 'range' : isTuple(v) ? 'tuple' : 'list')
  );
}

/** Marks an array as Python's `range(start, stop, step)`, which prints as such. */
export function markRange<T>(items: T[], start: number, stop: number, step: number): T[] {
  (items as unknown as Record<symbol, number[]>)[RANGE] = [start, stop, step];
  return items;
}

/** The (start, stop, step) of an array made by `markRange()`, else undefined. */
export function rangeOf(v: unknown): number[] | undefined {
  return Array.isArray(v) ? (v as unknown as Record<symbol, number[]>)[RANGE] : undefined;
}

/**
 * A dict made by a template (`{1: 'a'}`, `dict()`): insertion-ordered with Python key identity,
 * so 1 and '1' are different keys while 1, 1.0 and True are the same one. Map-backed; a key is
 * stored under its hash form (`hashKey`) and printed as first written. Dicts that JS code hands
 * in stay plain objects (string keys); `toJs` turns a PyDict back into one for JS callees.
 */
export class PyDict extends Map<unknown, unknown> {
  /** hash form -> the key as first written, only where they differ (True, 1.0, tuples). */
  private shown: Map<unknown, unknown> | undefined;

  override get(key: unknown): unknown {
    return super.get(hashKey(key));
  }
  override has(key: unknown): boolean {
    return super.has(hashKey(key));
  }
  override set(key: unknown, value: unknown): this {
    const h = hashKey(key);
    if (h !== key && !super.has(h)) (this.shown ??= new Map()).set(h, key);
    return super.set(h, value);
  }
  override delete(key: unknown): boolean {
    const h = hashKey(key);
    this.shown?.delete(h);
    return super.delete(h);
  }
  override clear(): void {
    this.shown = undefined;
    super.clear();
  }
  /** The keys as the template wrote them, in insertion order. */
  pyKeys(): unknown[] {
    const keys = [...super.keys()];
    const shown = this.shown;
    return shown ? keys.map((k) => (shown.has(k) ? shown.get(k) : k)) : keys;
  }
  /** [key as written, value] pairs in insertion order. */
  pyEntries(): [unknown, unknown][] {
    const shown = this.shown;
    const out: [unknown, unknown][] = [];
    for (const [k, v] of super.entries()) out.push([shown?.has(k) ? shown.get(k) : k, v]);
    return out;
  }
  copy(): PyDict {
    const d = new PyDict();
    for (const [k, v] of this.pyEntries()) d.set(k, v);
    return d;
  }
}

/** The form a dict key is stored under: Python's equal-and-same-hash keys map to one value. */
export function hashKey(k: unknown): unknown {
  switch (typeof k) {
    case 'string':
    case 'number':
    case 'bigint':
      return k;
    case 'boolean':
      return k ? 1 : 0;
    case 'undefined':
      return null;
  }
  if (k === null) return null;
  if (k instanceof PyFloat) return k.value;
  if (k instanceof Markup) return k.s;
  if (Array.isArray(k)) {
    const kind = seqKind(k);
    if (kind === 'range') return `\u0000${pyRepr(k)}`;
    // Iterators and dict_values (no __eq__ of their own) hash by identity.
    if (iteratorOf(k) !== undefined || kind === 'dict_values') return k;
    if (kind !== 'tuple') throw new TemplateRuntimeError(`unhashable type: '${kind}'`);
    return `\u0000tuple${pyRepr(k.map((x) => hashKey(x)))}`;
  }
  if (k instanceof Map || isDict(k)) throw new TemplateRuntimeError("unhashable type: 'dict'");
  return k;
}

/** Keys of any dict (PyDict, other Map, or plain object) in order. */
export function dictKeys(d: object): unknown[] {
  if (d instanceof PyDict) return d.pyKeys();
  if (d instanceof Map) return [...d.keys()];
  return Object.keys(d);
}

/** [key, value] pairs of any dict in order. */
export function dictEntries(d: object): [unknown, unknown][] {
  if (d instanceof PyDict) return d.pyEntries();
  if (d instanceof Map) return [...d.entries()];
  return Object.entries(d);
}

/** True for any dict: a PyDict or other Map, or a plain JS object. */
export function isMapping(v: unknown): v is object {
  return v instanceof Map || isDict(v);
}

/**
 * A template value as JS code expects it: PyDicts become plain objects (keys as Python's str()),
 * recursively through lists and dicts; everything else is passed as is (same identity when
 * nothing inside needed converting). Plain objects are only looked into two levels deep: JS
 * hands those in, and only a template could have put a PyDict inside.
 */
export function toJs(v: unknown, depth = 0): unknown {
  if (typeof v === 'bigint') return Number(v); // JS code (JSON, SQL text) expects numbers
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Markup) return v.s;
  if (v instanceof PyDict) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v.pyEntries()) out[typeof k === 'string' ? k : pyStr(k)] = toJs(x, depth);
    return out;
  }
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as unknown;
      if (x === null || (typeof x !== 'object' && typeof x !== 'bigint')) continue;
      const c = toJs(x, depth);
      if (c !== x) (out ??= v.slice())[i] = c;
    }
    return out ? (isTuple(v) ? tuple(out) : out) : v;
  }
  if (depth < 2 && isDict(v)) {
    let out: Record<string, unknown> | null = null;
    for (const k in v) {
      const x = v[k];
      if (x === null || typeof x !== 'object') continue;
      const c = toJs(x, depth + 1);
      if (c !== x) (out ??= { ...v })[k] = c;
    }
    return out ?? v;
  }
  return v;
}

/**
 * markupsafe.Markup: a string known to be HTML-safe (`|e`, `|safe`, `|tojson`, macro output under
 * autoescape). Concatenating with `+`, `%` or its methods escapes the other operand; printing
 * under `{% autoescape true %}` leaves it as is. Filters that do not know it see its text.
 */
export class Markup {
  constructor(readonly s: string) {}
  toString(): string {
    return this.s;
  }
}

/** markupsafe.escape: a Markup stays as it is; anything else is str() then HTML-escaped. */
export function escapeValue(v: unknown): Markup {
  if (v instanceof Markup) return v;
  return new Markup(htmlEscapeText(pyStr(v)));
}

/** HTML-escapes text as markupsafe does (&, <, >, " and '). */
export function htmlEscapeText(s: string): string {
  if (!/[&<>"']/.test(s)) return s;
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&#34;')
    .replace(/'/g, '&#39;');
}

/** Keyword arguments appended as the last argument when Jinja calls a JS function with `k=v`. */
export class Kwargs {
  constructor(readonly values: Record<string, unknown>) {}
}

/** Splits a JS function's arguments into positional ones and the trailing `Kwargs`, if any. */
export function splitArgs(args: unknown[]): { args: unknown[]; kwargs: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (last instanceof Kwargs) return { args: args.slice(0, -1), kwargs: last.values };
  return { args, kwargs: {} };
}

/** The object made by `namespace()`: the one thing `{% set ns.attr = v %}` can assign to. */
export class Namespace {
  readonly attrs: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  constructor(initial?: Record<string, unknown>) {
    if (initial) Object.assign(this.attrs, initial);
  }
}

/**
 * A value can answer attribute lookups itself (`self.block_name`, a macro's `.arguments`)
 * through a method under this key; returning `undefined` means "no such attribute".
 */
export const JINJA_GETATTR = Symbol('jinja.getattr');
/** A value callable from templates without being a JS function (`loop(items)`). */
export const JINJA_CALL = Symbol('jinja.call');

/** Thrown by dbt's `return(x)`; a macro call catches it and returns `.value`. */
export class MacroReturn {
  constructor(readonly value: unknown) {}
}

/** Jinja2's Undefined: printed as '' and falsy by default; every use raises when `strict`. */
export class JinjaUndefined {
  constructor(
    readonly name: string | null,
    readonly hint: string | null,
    readonly strict: boolean,
  ) {}
  /** The message Jinja2 raises when this value is used in a way Undefined forbids. */
  message(): string {
    if (this.hint) return this.hint;
    return `'${this.name ?? 'value'}' is undefined`;
  }
  toString(): string {
    return '';
  }
}

/** An error raised while rendering, before the file, line and macro name are attached. */
export class TemplateRuntimeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateRuntimeError';
  }
}

/** Raises the error an Undefined value stands for. */
export function failUndefined(u: JinjaUndefined): never {
  throw new TemplateRuntimeError(u.message());
}

/** float(int) for an int past 2**53: OverflowError past the largest double. */
export function intToFloat(a: bigint): number {
  const x = Number(a);
  if (!Number.isFinite(x)) throw new TemplateRuntimeError('int too large to convert to float');
  return x;
}

/**
 * A Python int past 2**53 is a JS `bigint` (exact); within that range it is a plain number, so
 * common arithmetic never touches BigInt. Results go back to numbers when they fit.
 */
export function mkInt(b: bigint): number | bigint {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

/** A Python int (number, bigint or bool) as a BigInt. */
export function bigOf(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return BigInt(v as number);
}

export function isFloat(v: unknown): boolean {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}

/** True for any Python number, bool included (bool is an int subclass in Python). */
export function isNumber(v: unknown): boolean {
  return (
    typeof v === 'number' || v instanceof PyFloat || typeof v === 'boolean' || typeof v === 'bigint'
  );
}

/** The JS number behind a Python number or bool. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  throw new TemplateRuntimeError(`expected a number, got ${typeName(v)}`);
}

/** Makes a Python float from a JS number, boxing integral values so they print as `5.0`. */
export function mkFloat(n: number): number | PyFloat {
  return Number.isInteger(n) ? new PyFloat(n) : n;
}

/** True for a dict: a plain JS object (not a class instance, array or special value). */
export function isDict(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Python's type name of a value, used in error messages as Python would word them. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (isFloat(v)) return 'float';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (Array.isArray(v)) return seqKind(v);
  if (v instanceof JinjaUndefined) return 'Undefined';
  if (v instanceof Namespace) return 'Namespace';
  if (v instanceof Markup) return 'Markup';
  if (typeof v === 'function') return 'function';
  if (isDict(v)) return 'dict';
  if (v instanceof Map) return 'dict';
  const ctor = (v as { constructor?: { name?: string } }).constructor;
  return ctor?.name || 'object';
}

/** Python truthiness; raises for a strict Undefined. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (v === true) return true;
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'number':
      return v !== 0; // NaN is truthy in Python too
    case 'bigint':
      return true; // only ints past 2**53 are bigints
    case 'function':
      return true;
  }
  if (v instanceof JinjaUndefined) {
    if (v.strict) failUndefined(v);
    return false;
  }
  if (Array.isArray(v)) return v.length > 0 || iteratorOf(v) !== undefined;
  if (v instanceof PyFloat) return v.value !== 0;
  if (v instanceof Markup) return v.s.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (isDict(v)) {
    for (const _ in v) return true;
    return false;
  }
  return true;
}

/** Python's repr() of a float: shortest round-trip digits, exponent outside 1e-4 ≤ |x| < 1e16. */
export function floatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const exp = n.toExponential(); // shortest round-trip digits, e.g. "1.5e+300"
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp);
  if (!m) return String(n);
  const sign = m[1]!;
  const digits = m[2]! + (m[3] ?? '');
  const e = Number(m[4]);
  if (e < -4 || e >= 16) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const es = Math.abs(e) < 10 ? `0${Math.abs(e)}` : String(Math.abs(e));
    return `${sign}${mant}e${e < 0 ? '-' : '+'}${es}`;
  }
  let out: string;
  if (e < 0) out = `0.${'0'.repeat(-e - 1)}${digits}`;
  else if (digits.length <= e + 1) out = `${digits}${'0'.repeat(e + 1 - digits.length)}.0`;
  else out = `${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`;
  return sign + out;
}

/** Python's str() of an int held in a JS number (no exponent notation for big values). */
function intStr(n: number): string {
  return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
}

/**
 * Python's data model for host objects (dbt's relations, agate tables, datetime values): a class
 * instance may define `__str__`, `__repr__`, `__eq__`, `__lt__`, `__len__`, `__getitem__`,
 * `__add__`/`__sub__` and their reflected `__radd__`/`__rsub__`, and the renderer calls them
 * where Python would. A hook returning `undefined` means NotImplemented.
 */
export function dunder(v: unknown, name: string): ((...a: unknown[]) => unknown) | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const fn = (v as Record<string, unknown>)[name];
  return typeof fn === 'function' ? (fn as (...a: unknown[]) => unknown).bind(v) : undefined;
}

const OPERATOR_HOOKS: Record<string, [string, string]> = {
  '+': ['__add__', '__radd__'],
  '-': ['__sub__', '__rsub__'],
};

/** `l op r` through the operands' hooks; `undefined` when neither implements it. */
export function pyOperatorHook(op: string, l: unknown, r: unknown): unknown {
  const names = OPERATOR_HOOKS[op];
  if (!names) return undefined;
  const direct = dunder(l, names[0])?.(r);
  if (direct !== undefined) return direct;
  return dunder(r, names[1])?.(l);
}

/** Python's str() of a value, as `{{ value }}` prints it. */
export function pyStr(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Number.isInteger(v) ? intStr(v) : floatRepr(v);
    case 'boolean':
      return v ? 'True' : 'False';
    case 'bigint':
      return v.toString();
    case 'undefined':
      return '';
  }
  if (v === null) return 'None';
  if (v instanceof JinjaUndefined) {
    if (v.strict) failUndefined(v);
    return '';
  }
  if (v instanceof Markup) return v.s;
  const str = dunder(v, '__str__');
  if (str) return String(str());
  return pyRepr(v);
}

const reprEscapes: Record<string, string> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** Characters Python's repr() escapes: controls, separators and other non-printables. */
const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

function escapeNonPrintable(ch: string, code: number): string {
  if (ch === ' ' || !NON_PRINTABLE.test(ch)) return ch;
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

/** Python's repr() of a string: single quotes unless it holds ' and no ", escapes as Python does. */
export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const esc = reprEscapes[ch];
    if (esc) out += esc;
    else if (ch === quote) out += `\\${ch}`;
    else {
      const code = ch.codePointAt(0)!;
      if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
      else if (code < 0x7f) out += ch;
      else out += escapeNonPrintable(ch, code);
    }
  }
  return out + quote;
}

/** Python's repr() of a value: `'a'`, `True`, `None`, `[1, 'b']`, `(1,)`, `{'k': 1.0}`. */
export function pyRepr(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return strRepr(v);
    case 'number':
    case 'boolean':
    case 'bigint':
      return pyStr(v);
    case 'undefined':
      return 'None';
    case 'function': {
      const name = (v as { name?: string }).name;
      if (JINJA_GETATTR in v) return `<Macro '${name}'>`;
      return `<function ${name || 'anonymous'}>`;
    }
  }
  if (v === null) return 'None';
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (v instanceof Markup) return `Markup(${strRepr(v.s)})`;
  if (v instanceof JinjaUndefined) {
    if (v.strict) failUndefined(v);
    return 'Undefined';
  }
  if (Array.isArray(v)) {
    const it = iteratorOf(v);
    if (it !== undefined) return `<${it} object at 0x7f0000000000>`; // Jinja2 prints an address
    const range = rangeOf(v);
    if (range) {
      const [a, b, c] = range;
      return c === 1 ? `range(${a}, ${b})` : `range(${a}, ${b}, ${c})`;
    }
    const inner = v.map(pyRepr).join(', ');
    if (isTuple(v)) return v.length === 1 ? `(${inner},)` : `(${inner})`;
    const view = (v as unknown as Record<symbol, string | undefined>)[DICT_VIEW];
    if (view) return `${view}([${inner}])`;
    return `[${inner}]`;
  }
  if (v instanceof Namespace) {
    const parts = Object.entries(v.attrs).map(([k, x]) => `${strRepr(k)}: ${pyRepr(x)}`);
    return `<Namespace {${parts.join(', ')}}>`;
  }
  if (v instanceof Map) {
    return `{${dictEntries(v)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  if (isDict(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${strRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  const repr = dunder(v, '__repr__');
  if (repr) return String(repr());
  // Class instances (relations, adapters) print through their own toString when they have one.
  const ts = (v as { toString?: unknown }).toString;
  if (typeof ts === 'function' && ts !== Object.prototype.toString) return String(v);
  return `<${typeName(v)} object>`;
}

/** Orders two Python numbers, exactly when either is an int past 2**53. */
function numCompare(a: unknown, b: unknown): number {
  if ((typeof a === 'bigint' || typeof b === 'bigint') && !isFloat(a) && !isFloat(b)) {
    const x = bigOf(a);
    const y = bigOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = num(a);
  const y = num(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Python `==`: by value for numbers, strings, lists, tuples and dicts; identity otherwise. */
export function pyEq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  if (a instanceof Markup) a = a.s;
  if (b instanceof Markup) b = b.s;
  if (a === b) return true;
  if (isNumber(a) && isNumber(b)) {
    if (typeof a === 'bigint' || typeof b === 'bigint') return numCompare(a, b) === 0;
    return num(a) === num(b);
  }
  if (typeof a === 'string' || typeof b === 'string') return false;
  if (a instanceof JinjaUndefined || b instanceof JinjaUndefined) {
    if (a instanceof JinjaUndefined && a.strict) failUndefined(a);
    if (b instanceof JinjaUndefined && b.strict) failUndefined(b);
    return a instanceof JinjaUndefined && b instanceof JinjaUndefined;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const kind = seqKind(a);
    if (kind !== seqKind(b) || a.length !== b.length) return false;
    // Iterators and dict_values compare by identity; keys and items views as sets.
    if (iteratorOf(a) !== undefined || kind === 'dict_values') return false;
    if (kind === 'dict_keys' || kind === 'dict_items')
      return a.every((x) => b.some((y) => pyEq(x, y)));
    for (let i = 0; i < a.length; i++) if (!pyEq(a[i], b[i])) return false;
    return true;
  }
  const eq = dunder(a, '__eq__') ?? dunder(b, '__eq__');
  if (eq) return Boolean(eq(dunder(a, '__eq__') ? b : a));
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!(k in b) || !pyEq(a[k], b[k])) return false;
    return true;
  }
  if (isMapping(a) && isMapping(b)) {
    const ea = dictEntries(a);
    const mb = b instanceof Map ? b : null;
    if (ea.length !== (mb ? mb.size : Object.keys(b).length)) return false;
    for (const [k, x] of ea) {
      const has = mb ? mb.has(k) : typeof k === 'string' && Object.hasOwn(b, k);
      if (!has) return false;
      const y = mb ? mb.get(k) : (b as Record<string, unknown>)[k as string];
      if (!pyEq(x, y)) return false;
    }
    return true;
  }
  return false;
}

/** Python ordering (`<`): numbers, strings, and lists/tuples lexicographically; else TypeError. */
export function pyCompare(a: unknown, b: unknown, op: string): number {
  if (isNumber(a) && isNumber(b)) return numCompare(a, b);
  if (a instanceof Markup) a = a.s;
  if (b instanceof Markup) b = b.s;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b) && orderedKind(a) && seqKind(a) === seqKind(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (!pyEq(a[i], b[i])) return pyCompare(a[i], b[i], op);
    }
    return a.length - b.length;
  }
  if (a instanceof JinjaUndefined) failUndefined(a);
  if (b instanceof JinjaUndefined) failUndefined(b);
  const lt = dunder(a, '__lt__');
  if (lt && dunder(b, '__lt__')) return lt(b) ? -1 : pyEq(a, b) ? 0 : 1;
  throw new TemplateRuntimeError(
    `'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`,
  );
}

/** Lists and tuples order lexicographically; ranges, views and iterators do not order. */
function orderedKind(a: unknown[]): boolean {
  const k = seqKind(a);
  return k === 'list' || k === 'tuple';
}

/** Python `needle in haystack` for strings, lists, tuples, dicts and Undefined. */
export function pyContains(haystack: unknown, needle: unknown): boolean {
  if (haystack instanceof Markup) haystack = haystack.s;
  if (needle instanceof Markup) needle = needle.s;
  if (typeof haystack === 'string') {
    if (typeof needle !== 'string') {
      if (needle instanceof JinjaUndefined) failUndefined(needle);
      throw new TemplateRuntimeError(
        `'in <string>' requires string as left operand, not ${typeName(needle)}`,
      );
    }
    return haystack.includes(needle);
  }
  if (Array.isArray(haystack)) {
    const kind = seqKind(haystack);
    if (kind === 'dict_keys' || kind === 'dict_items') hashKey(needle);
    for (const x of iteratorOf(haystack) !== undefined ? pyIter(haystack) : haystack)
      if (pyEq(x, needle)) return true;
    return false;
  }
  if (haystack instanceof Map) {
    hashKey(needle); // unhashable type: 'list'
    return haystack.has(needle);
  }
  if (haystack instanceof Set) return haystack.has(needle);
  if (isDict(haystack)) {
    if (typeof needle === 'string') return Object.prototype.hasOwnProperty.call(haystack, needle);
    hashKey(needle);
    if (isNumber(needle)) return Object.prototype.hasOwnProperty.call(haystack, pyStr(needle));
    return false;
  }
  if (haystack instanceof JinjaUndefined) {
    if (haystack.strict) failUndefined(haystack);
    return false;
  }
  return pyIter(haystack).some((x) => pyEq(x, needle));
}

/** Python iteration as an array: list items, string characters, dict keys; Undefined is empty. */
export function pyIter(v: unknown): unknown[] {
  if (Array.isArray(v)) {
    if (iteratorOf(v) === undefined) return v;
    const items = v.slice(); // an iterator runs once
    v.length = 0;
    return items;
  }
  if (typeof v === 'string') return Array.from(v);
  if (v instanceof Markup) return Array.from(v.s);
  if (v instanceof JinjaUndefined) {
    if (v.strict) failUndefined(v);
    return [];
  }
  if (v instanceof Map) return dictKeys(v);
  if (isDict(v)) return Object.keys(v);
  if (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
  ) {
    return Array.from(v as Iterable<unknown>);
  }
  throw new TemplateRuntimeError(`'${typeName(v)}' object is not iterable`);
}

/** Python len(). */
export function pyLen(v: unknown): number {
  if (typeof v === 'string') return Array.from(v).length;
  if (v instanceof Markup) return Array.from(v.s).length;
  if (Array.isArray(v)) {
    const it = iteratorOf(v);
    if (it !== undefined) throw new TemplateRuntimeError(`object of type '${it}' has no len()`);
    return v.length;
  }
  if (v instanceof JinjaUndefined) {
    if (v.strict) failUndefined(v);
    return 0;
  }
  if (v instanceof Map || v instanceof Set) return v.size;
  if (isDict(v)) return Object.keys(v).length;
  const len = dunder(v, '__len__');
  if (len) return Number(len());
  throw new TemplateRuntimeError(`object of type '${typeName(v)}' has no len()`);
}
