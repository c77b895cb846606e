/**
 * Attribute and item access and calls, with Jinja2's rules: `a.b` tries the attribute (Python
 * methods of str/list/dict included) then the item; `a[b]` tries the item then the attribute;
 * what is missing becomes Undefined rather than an error. Calls reach JS functions with the
 * Kwargs convention and macros through their internal entry point.
 */
import type { Expr } from '../ast.js';
import { NO_METHOD, callPyMethod, dictKey, hasPyMethod } from '../python.js';
import { hasNumberMethod, isPyNumber, numberAttr } from '../python-numbers.js';
import {
  JINJA_CALL,
  JINJA_GETATTR,
  JinjaUndefined,
  Kwargs,
  Markup,
  Namespace,
  PyDict,
  PyFloat,
  TemplateRuntimeError,
  dunder,
  dictView,
  markRange,
  rangeOf,
  failUndefined,
  isDict,
  isTuple,
  seqKind,
  num,
  toJs,
  tuple,
  typeName,
} from '../values.js';
import { undef, type State } from './state.js';

/** Marks a JS function as a macro and holds its direct entry point (no Kwargs wrapping). */
export const MACRO_IMPL = Symbol('jinja.macro');

/** How a macro is invoked from templates: its value, or a Promise when the call awaited. */
export type MacroImpl = (
  args: unknown[],
  kwargs: Record<string, unknown>,
  callerDepth?: number,
) => unknown;

function noAttr(st: State, obj: unknown, attr: string): JinjaUndefined {
  const what = obj === null || obj === undefined ? "'None'" : `'${typeName(obj)} object'`;
  return undef(st, attr, `${what} has no attribute '${attr}'`);
}

/** A Python method of a str/list/dict taken as a value (`{% set f = s.upper %}`). */
function boundPyMethod(obj: unknown, name: string): (...raw: unknown[]) => unknown {
  const fn = (...raw: unknown[]) => {
    const last = raw[raw.length - 1];
    const kw = last instanceof Kwargs ? last.values : {};
    const args = last instanceof Kwargs ? raw.slice(0, -1) : raw;
    return callPyMethod(obj, name, args, kw);
  };
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

function ownValue(obj: object, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key)
    ? (obj as Record<string, unknown>)[key]
    : undefined;
}

/** Reads a property of a JS object (own, inherited or getter), excluding Object.prototype's. */
function objectProp(obj: object, key: string): unknown {
  // A strict-mode function's `arguments`/`caller` throw when read: they are simply absent here.
  if (typeof obj === 'function' && (key === 'arguments' || key === 'caller' || key === 'callee'))
    return undefined;
  const v = (obj as Record<string, unknown>)[key];
  if (v === undefined) return undefined;
  if ((Object.prototype as unknown as Record<string, unknown>)[key] === v) return undefined;
  return v;
}

/** `obj.attr` with Jinja2's getattr-then-getitem lookup; functions come back bound to obj. */
export function getattr(st: State, obj: unknown, attr: string): unknown {
  const v = rawAttr(st, obj, attr);
  // A dict's values are not methods: binding would also hide a callable's own attributes
  // (`modules.datetime.datetime.now`, `api.Column.create`).
  if (
    typeof v === 'function' &&
    obj !== null &&
    typeof obj === 'object' &&
    !isDict(obj) &&
    !(MACRO_IMPL in v)
  )
    return v.bind(obj) as unknown;
  return v;
}

/** Attribute lookup without binding methods; used when the result is called at once. */
export function rawAttr(st: State, obj: unknown, attr: string): unknown {
  if (obj instanceof JinjaUndefined) failUndefined(obj);
  if (obj === null || obj === undefined) return noAttr(st, obj, attr);
  if (typeof obj === 'string' || Array.isArray(obj) || obj instanceof Markup) {
    if (hasPyMethod(obj, attr)) return boundPyMethod(obj, attr);
    // groupby's tuples carry named fields (grouper, list) as own properties.
    if (Array.isArray(obj) && attr !== 'length' && Object.hasOwn(obj, attr) && !/^\d+$/.test(attr))
      return (obj as unknown as Record<string, unknown>)[attr];
    const range = Array.isArray(obj) ? rangeOf(obj) : undefined;
    if (range) {
      const at = ['start', 'stop', 'step'].indexOf(attr);
      if (at >= 0) return range[at];
    }
    return noAttr(st, obj, attr);
  }
  if (isDict(obj)) {
    const own = ownValue(obj, attr);
    if (typeof own === 'function') return own;
    if (hasPyMethod(obj, attr)) return boundPyMethod(obj, attr);
    if (own !== undefined) return own;
    return noAttr(st, obj, attr);
  }
  if (typeof obj === 'object' || typeof obj === 'function') {
    const hook = (obj as { [JINJA_GETATTR]?: (name: string) => unknown })[JINJA_GETATTR];
    if (hook) {
      const v = hook.call(obj, attr);
      return v === undefined ? noAttr(st, obj, attr) : v;
    }
  }
  if (obj instanceof Namespace) {
    const v = obj.attrs[attr];
    return v === undefined && !(attr in obj.attrs) ? noAttr(st, obj, attr) : v;
  }
  if (obj instanceof PyDict) {
    if (hasPyMethod(obj, attr)) return boundPyMethod(obj, attr);
    return obj.has(attr) ? obj.get(attr) : noAttr(st, obj, attr);
  }
  if (obj instanceof Map) {
    if (attr === 'items')
      return () =>
        dictView(
          'dict_items',
          [...obj.entries()].map((e) => tuple(e)),
        );
    if (attr === 'keys') return () => dictView('dict_keys', [...obj.keys()]);
    if (attr === 'values') return () => dictView('dict_values', [...obj.values()]);
    if (attr === 'get') return (k: unknown, d: unknown = null) => (obj.has(k) ? obj.get(k) : d);
    return obj.has(attr) ? obj.get(attr) : noAttr(st, obj, attr);
  }
  if (obj instanceof PyFloat) return numberAttribute(st, obj, attr);
  if (typeof obj === 'object' || typeof obj === 'function') {
    let v = objectProp(obj, attr);
    if (v === undefined) v = dunder(obj, '__getitem__')?.(attr);
    return v === undefined ? noAttr(st, obj, attr) : v;
  }
  if (isPyNumber(obj)) return numberAttribute(st, obj, attr);
  return noAttr(st, obj, attr);
}

/** An attribute of an int, bool or float: `real`, `numerator`…, or a method. */
function numberAttribute(st: State, obj: unknown, attr: string): unknown {
  if (hasNumberMethod(obj, attr)) return boundPyMethod(obj, attr);
  const v = numberAttr(obj, attr);
  return v === undefined ? noAttr(st, obj, attr) : v;
}

function normIndex(i: number, len: number): number {
  return i < 0 ? i + len : i;
}

/** Whether `v` can bound a slice: an int (bool included) or None. */
function sliceBound(v: unknown): boolean {
  return (
    v === null ||
    v === undefined ||
    typeof v === 'boolean' ||
    typeof v === 'bigint' ||
    (typeof v === 'number' && Number.isInteger(v))
  );
}

/** Whether `obj[a:b:c]` slices rather than raising a TypeError (a zero step still raises). */
export function sliceable(obj: unknown, a: unknown, b: unknown, c: unknown): boolean {
  return (
    (typeof obj === 'string' ||
      obj instanceof Markup ||
      (Array.isArray(obj) && SUBSCRIPTABLE.has(seqKind(obj)))) &&
    sliceBound(a) &&
    sliceBound(b) &&
    sliceBound(c)
  );
}

/** Python slice indices for a sequence of length `len`. */
function sliceIndices(
  len: number,
  start: unknown,
  stop: unknown,
  step: unknown,
): { start: number; stop: number; step: number } {
  const st = step === null || step === undefined ? 1 : Math.trunc(num(step));
  if (st === 0) throw new TemplateRuntimeError('slice step cannot be zero');
  const clamp = (v: unknown, dflt: number, lo: number, hi: number) => {
    if (v === null || v === undefined) return dflt;
    let i = Math.trunc(num(v));
    if (i < 0) i += len;
    return Math.min(Math.max(i, lo), hi);
  };
  if (st > 0) return { start: clamp(start, 0, 0, len), stop: clamp(stop, len, 0, len), step: st };
  return {
    start: clamp(start, len - 1, -1, len - 1),
    stop: clamp(stop, -1, -1, len - 1),
    step: st,
  };
}

const SUBSCRIPTABLE = new Set(['list', 'tuple', 'range']);

/** `obj[start:stop:step]` for strings, lists and tuples. */
export function sliceValue(obj: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  if (obj instanceof JinjaUndefined) failUndefined(obj);
  // markupsafe wraps Markup's __getitem__: a slice of Markup is Markup.
  if (obj instanceof Markup) return new Markup(sliceValue(obj.s, start, stop, step) as string);
  const isStr = typeof obj === 'string';
  if (!sliceable(obj, start, stop, step)) {
    if (isStr || (Array.isArray(obj) && SUBSCRIPTABLE.has(seqKind(obj))))
      throw new TemplateRuntimeError(
        'slice indices must be integers or None or have an __index__ method',
      );
    throw new TemplateRuntimeError(`'${typeName(obj)}' object is not subscriptable`);
  }
  const seq: unknown[] = isStr ? Array.from(obj as string) : (obj as unknown[]);
  const r = sliceIndices(seq.length, start, stop, step);
  let out: unknown[];
  if (r.step === 1) out = seq.slice(r.start, Math.max(r.start, r.stop));
  else {
    out = [];
    if (r.step > 0) for (let i = r.start; i < r.stop; i += r.step) out.push(seq[i]);
    else for (let i = r.start; i > r.stop; i += r.step) out.push(seq[i]);
  }
  if (isStr) return out.join('');
  const range = rangeOf(obj);
  if (range) {
    // A slice of a range is a range, its bounds mapped through the range as Python does.
    return markRange(
      out,
      range[0]! + r.start * range[2]!,
      range[0]! + r.stop * range[2]!,
      range[2]! * r.step,
    );
  }
  return isTuple(obj) ? tuple(out) : out;
}

/** `obj[key]` with Jinja2's getitem-then-getattr lookup. */
export function getitem(st: State, obj: unknown, key: unknown): unknown {
  if (obj instanceof JinjaUndefined) failUndefined(obj);
  if (key instanceof JinjaUndefined && key.strict) failUndefined(key);
  const item = dunder(obj, '__getitem__')?.(key);
  if (item !== undefined) return item;
  if (Array.isArray(obj)) {
    // Dict views and iterators have no []: Jinja2's getitem then gives Undefined.
    if ((typeof key === 'number' || typeof key === 'boolean') && SUBSCRIPTABLE.has(seqKind(obj))) {
      const i = normIndex(num(key), obj.length);
      if (Number.isInteger(i) && i >= 0 && i < obj.length) return obj[i];
      return undef(st, null, `'${typeName(obj)} object' has no element ${String(key)}`);
    }
  } else if (typeof obj === 'string') {
    if (typeof key === 'number') {
      const chars = Array.from(obj);
      const i = normIndex(key, chars.length);
      if (i >= 0 && i < chars.length) return chars[i];
      return undef(st, null, `'str object' has no element ${key}`);
    }
  } else if (obj instanceof Markup && typeof key === 'number') {
    const ch = getitem(st, obj.s, key);
    return typeof ch === 'string' ? new Markup(ch) : ch;
  } else if (isDict(obj)) {
    const k = typeof key === 'string' ? key : dictKey(key);
    if (Object.prototype.hasOwnProperty.call(obj, k)) return obj[k];
  } else if (obj instanceof Map) {
    if (obj.has(key)) return obj.get(key);
  } else if (obj instanceof Namespace) {
    if (typeof key === 'string' && key in obj.attrs) return obj.attrs[key];
  } else if (
    obj !== null &&
    obj !== undefined &&
    (typeof obj === 'object' || typeof obj === 'function')
  ) {
    if (typeof key === 'string' || typeof key === 'number') {
      const v = objectProp(obj, String(key));
      if (v !== undefined) return typeof v === 'function' ? (v.bind(obj) as unknown) : v;
    }
  }
  if (typeof key === 'string') {
    const v = getattr(st, obj, key);
    return v;
  }
  if (obj === null || obj === undefined)
    return undef(st, null, `'None' has no element ${String(key)}`);
  return undef(st, null, `'${typeName(obj)} object' has no element ${String(key)}`);
}

/** How the not-callable message names a callee expression (`'x'`, `'a.b'`). */
function describeCallee(e: Expr): string {
  if (e.k === 'name') return `'${e.name}'`;
  if (e.k === 'getattr') return `'${describeCallee(e.obj).replace(/'/g, '')}.${e.attr}'`;
  return 'the expression';
}

/**
 * Calls a value from a template; `callee` is the expression it came from, named in the
 * not-callable message (only built when that message is).
 */
export function callValue(
  st: State,
  fn: unknown,
  thisArg: unknown,
  args: unknown[],
  kwargs: Record<string, unknown> | null,
  callee: Expr,
): unknown {
  if (typeof fn !== 'function') {
    if (fn instanceof JinjaUndefined) failUndefined(fn);
    const call = (fn as { [JINJA_CALL]?: (args: unknown[]) => unknown } | null)?.[JINJA_CALL];
    if (call) return call.call(fn, args);
    throw new TemplateRuntimeError(
      `${describeCallee(callee)} is not callable (it is ${article(typeName(fn))})`,
    );
  }
  const impl = (fn as { [MACRO_IMPL]?: MacroImpl })[MACRO_IMPL];
  if (impl) return impl(args, kwargs ?? {}, st.depth);
  // JS functions get JS values: plain numbers for boxed floats, plain objects for dicts.
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a !== null && (typeof a === 'object' || typeof a === 'bigint'))
      args[i] = a instanceof PyFloat ? a.value : toJs(a);
  }
  if (kwargs) {
    for (const k in kwargs) {
      const a = kwargs[k];
      if (a !== null && (typeof a === 'object' || typeof a === 'bigint'))
        kwargs[k] = a instanceof PyFloat ? a.value : toJs(a);
    }
    args.push(new Kwargs(kwargs));
  }
  // A Promise (an async global, a macro called as a JS function) is the caller's to await.
  return (fn as (...a: unknown[]) => unknown).apply(thisArg, args);
}

function article(name: string): string {
  return /^[aeiou]/i.test(name) ? `an ${name}` : `a ${name}`;
}

/** Calls a Python method directly when `obj.name(...)` names one; `NO_METHOD` otherwise. */
export function tryPyMethod(
  obj: unknown,
  name: string,
  args: unknown[],
  kwargs: Record<string, unknown> | null,
): unknown {
  if (typeof obj === 'string' || Array.isArray(obj) || obj instanceof Markup)
    return callPyMethod(obj, name, args, kwargs ?? {});
  if (isDict(obj)) {
    if (typeof ownValue(obj, name) === 'function') return NO_METHOD;
    return callPyMethod(obj, name, args, kwargs ?? {});
  }
  if (obj instanceof PyDict) return callPyMethod(obj, name, args, kwargs ?? {});
  return NO_METHOD;
}
