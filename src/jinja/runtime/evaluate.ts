/**
 * The evaluator: an async tree-walker over the parsed template. Async because globals such as
 * dbt's run_query return Promises; everything else resolves synchronously, so values are only
 * awaited when they are thenables. Scoping follows Jinja2: each for-loop iteration, macro call
 * and with block gets a fresh frame; if blocks do not; namespace() objects carry state out.
 */
import type { Args, BlockNode, Expr, MacroNode, Stmt, Target } from '../ast.js';
import { locateError } from '../errors.js';
import { MARKUP_FILTERS } from '../filters.js';
import { NO_METHOD, percentFormat } from '../python.js';
import { predeclared } from '../scoping.js';
import { checkSignature } from '../signatures.js';
import type { PyFloat } from '../values.js';
import {
  JINJA_CALL,
  JINJA_GETATTR,
  JinjaUndefined,
  Kwargs,
  MacroReturn,
  Markup,
  Namespace,
  PyDict,
  TemplateRuntimeError,
  escapeValue,
  bigOf,
  intToFloat,
  mkInt,
  dictEntries,
  failUndefined,
  isDict,
  isFloat,
  isNumber,
  isTuple,
  iteratorOf,
  seqKind,
  mkFloat,
  num,
  pyCompare,
  pyContains,
  pyEq,
  pyIter,
  pyOperatorHook,
  pyStr,
  toJs,
  truthy,
  tuple,
  typeName,
} from '../values.js';
import {
  MACRO_IMPL,
  callValue,
  getattr,
  getitem,
  rawAttr,
  sliceable,
  sliceValue,
  tryPyMethod,
  type MacroImpl,
} from './access.js';
import { BUILTIN_GLOBALS } from './globals.js';
import { Frame, undef, type State } from './state.js';

const BREAK = 1;
const CONTINUE = 2;

/** A callable macro as templates and JS see it: a function with the macro's `name`. */
export interface JinjaCallable {
  (...args: unknown[]): Promise<unknown>;
  readonly name: string;
}

function isThenable(v: unknown): v is Promise<unknown> {
  return (
    v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function'
  );
}

// ---------------------------------------------------------------------------------------------
// Names

/** A new frame for `body`, with the names Jinja2 starts as undefined there (scoping.ts). */
export function frameFor(body: Stmt[], parent: Frame | null, st: State): Frame {
  const f = new Frame(parent);
  const names = predeclared(body);
  if (names) for (const n of names) f.vars.set(n, undef(st, n));
  return f;
}

/** Resolves a name: local frames, then this render's globals, then same-file macros, builtins. */
function lookup(name: string, frame: Frame, st: State): unknown {
  for (let f: Frame | null = frame; f; f = f.parent) {
    const v = f.vars.get(name);
    if (v !== undefined || f.vars.has(name)) return v;
  }
  const g = st.globals;
  const gv = g[name];
  if (gv !== undefined && (Object.prototype as unknown as Record<string, unknown>)[name] !== gv)
    return gv;
  if (st.fallback) {
    const fv = st.fallback.get(name);
    if (fv !== undefined) return fv;
  }
  const b = BUILTIN_GLOBALS[name];
  if (b !== undefined) return b;
  return undef(st, name);
}

// ---------------------------------------------------------------------------------------------
// Expressions

/**
 * Evaluates an expression, without a Promise for what never needs one: constants, names and
 * attributes of them (most of what templates evaluate). Everything else goes through `ev`. A
 * thenable comes back as it is, for the caller to await, as awaiting `ev` would.
 */
function evq(e: Expr, f: Frame, st: State): unknown {
  switch (e.k) {
    case 'const':
      return e.value;
    case 'name':
      return lookup(e.name, f, st);
    case 'getattr': {
      const obj = evq(e.obj, f, st);
      if (isThenable(obj))
        return obj.then((o) => {
          st.line = e.line;
          return getattr(st, o, e.attr);
        });
      st.line = e.line;
      return getattr(st, obj, e.attr);
    }
    case 'call':
      return evCall(e, f, st);
    default:
      return ev(e, f, st);
  }
}

/** Unary `-v` and `+v`. */
export function unary(op: 'neg' | 'pos', v: unknown): unknown {
  if (!isNumber(v)) {
    if (v instanceof JinjaUndefined) failUndefined(v);
    throw new TemplateRuntimeError(
      `bad operand type for unary ${op === 'neg' ? '-' : '+'}: '${typeName(v)}'`,
    );
  }
  if (op === 'pos') return typeof v === 'boolean' ? num(v) : v;
  if (typeof v === 'bigint') return mkInt(-v);
  return isFloat(v) ? mkFloat(-num(v)) : -num(v);
}

/** `obj[key]` and `obj[a:b:c]`, synchronously when the object and the key are at hand. */
function evGetitem(e: Extract<Expr, { k: 'getitem' }>, f: Frame, st: State): unknown {
  const obj = evq(e.obj, f, st);
  if (isThenable(obj) || e.index.k === 'slice') return evGetitemFrom(e, f, st, obj);
  const key = evq(e.index, f, st);
  if (isThenable(key))
    return key.then((k) => {
      st.line = e.line;
      return getitem(st, obj, k);
    });
  st.line = e.line;
  return getitem(st, obj, key);
}

/** evGetitem once the object is evaluated (`pending`, maybe a Promise): slices, awaits. */
async function evGetitemFrom(
  e: Extract<Expr, { k: 'getitem' }>,
  f: Frame,
  st: State,
  pending: unknown,
): Promise<unknown> {
  let obj = pending;
  if (isThenable(obj)) obj = await obj;
  if (e.index.k === 'slice') {
    const s = e.index;
    const a = s.start ? await evq(s.start, f, st) : null;
    const b = s.stop ? await evq(s.stop, f, st) : null;
    const c = s.step ? await evq(s.step, f, st) : null;
    st.line = e.line;
    if (s.lenient) return lenientSlice(st, obj, a, b, c);
    return sliceValue(obj, a, b, c);
  }
  let key = evq(e.index, f, st);
  if (isThenable(key)) key = await key;
  st.line = e.line;
  return getitem(st, obj, key);
}

/** A slice Jinja2 folds while compiling: what has no slices gives Undefined (runtime/fold.ts). */
function lenientSlice(st: State, obj: unknown, a: unknown, b: unknown, c: unknown): unknown {
  if (obj instanceof JinjaUndefined || sliceable(obj, a, b, c)) return sliceValue(obj, a, b, c);
  return undef(st, null);
}

/**
 * Evaluates an expression: a value, or a Promise of one. Each kind that may await has its own
 * function, so V8 optimizes (and, when a new path shows up, re-optimizes) each alone instead of
 * one large async function: recompiling that one was ~0.3 s of TurboFan CPU each time.
 */
function ev(e: Expr, f: Frame, st: State): unknown {
  switch (e.k) {
    case 'const':
      return e.value;
    case 'name':
      return lookup(e.name, f, st);
    case 'getattr':
      return evGetattr(e, f, st);
    case 'getitem':
      return evGetitem(e, f, st);
    case 'call':
      return evCall(e, f, st);
    case 'filter':
      return evFilter(e, f, st);
    case 'test':
      return evTest(e, f, st);
    case 'and':
    case 'or':
      return evAndOr(e, f, st);
    case 'not':
      return evNot(e, f, st);
    case 'neg':
    case 'pos':
      return evUnary(e, f, st);
    case 'bin':
      return evBin(e, f, st);
    case 'concat':
      return evConcat(e, f, st);
    case 'compare':
      return evCompare(e, f, st);
    case 'cond':
      return evCond(e, f, st);
    case 'list':
      return evList(e, f, st);
    case 'tuple':
      return evTuple(e, f, st);
    case 'dict':
      return evDict(e, f, st);
    case 'slice':
      throw new TemplateRuntimeError('a slice can only appear inside [ ]');
  }
}

type ExprOf<K extends Expr['k']> = Extract<Expr, { k: K }>;

/*
 * Each kind below evaluates synchronously as far as its operands allow, as evq does: an operand
 * that is a Promise (a macro that awaited, an async global) hands the rest to a continuation.
 * Async functions for every filter, test, comparison and operator were a Promise and a
 * microtask each, and made every macro using one asynchronous up to the template's root.
 */

function evGetattr(e: ExprOf<'getattr'>, f: Frame, st: State): unknown {
  const obj = evq(e.obj, f, st);
  if (isThenable(obj))
    return obj.then((o) => {
      st.line = e.line;
      return getattr(st, o, e.attr);
    });
  st.line = e.line;
  return getattr(st, obj, e.attr);
}

function evFilter(e: ExprOf<'filter'>, f: Frame, st: State): unknown {
  const value = e.node ? evq(e.node, f, st) : undefined;
  if (isThenable(value)) return value.then((v) => applyNamed(e, v, f, st));
  return applyNamed(e, value, f, st);
}

function evTest(e: ExprOf<'test'>, f: Frame, st: State): unknown {
  const value = evq(e.node, f, st);
  if (isThenable(value)) return value.then((v) => testOutcome(e, applyNamed(e, v, f, st)));
  return testOutcome(e, applyNamed(e, value, f, st));
}

function testOutcome(e: ExprOf<'test'>, r: unknown): unknown {
  if (isThenable(r)) return r.then((x) => truthy(x) !== e.negate);
  return truthy(r) !== e.negate;
}

function evAndOr(e: ExprOf<'and' | 'or'>, f: Frame, st: State): unknown {
  // Short-circuit: `and` goes on past a true left side, `or` past a false one.
  const l = evq(e.left, f, st);
  if (isThenable(l)) return l.then((x) => (truthy(x) === (e.k === 'and') ? ev(e.right, f, st) : x));
  return truthy(l) === (e.k === 'and') ? ev(e.right, f, st) : l;
}

function evNot(e: ExprOf<'not'>, f: Frame, st: State): unknown {
  const v = evq(e.node, f, st);
  if (isThenable(v)) return v.then((x) => !truthy(x));
  return !truthy(v);
}

function evUnary(e: ExprOf<'neg' | 'pos'>, f: Frame, st: State): unknown {
  const v = evq(e.node, f, st);
  if (isThenable(v))
    return v.then((x) => {
      st.line = e.line;
      return unary(e.k, x);
    });
  st.line = e.line;
  return unary(e.k, v);
}

function evBin(e: ExprOf<'bin'>, f: Frame, st: State): unknown {
  const l = evq(e.left, f, st);
  if (isThenable(l)) return l.then((x) => binRight(e, x, f, st));
  return binRight(e, l, f, st);
}

function binRight(e: ExprOf<'bin'>, l: unknown, f: Frame, st: State): unknown {
  const r = evq(e.right, f, st);
  if (isThenable(r))
    return r.then((x) => {
      st.line = e.line;
      return binop(e.op, l, x);
    });
  st.line = e.line;
  return binop(e.op, l, r);
}

function evConcat(e: ExprOf<'concat'>, f: Frame, st: State): unknown {
  if (st.autoescape && !e.constant) return evMarkupConcat(e, f, st);
  let s = '';
  const items = e.items;
  for (let i = 0; i < items.length; i++) {
    const v = evq(items[i]!, f, st);
    if (isThenable(v)) return concatFrom(e, f, st, s, i, v);
    s += typeof v === 'string' ? v : pyStr(v);
  }
  return s;
}

/** The rest of a `~` chain once item `from` came back as `pending`. */
async function concatFrom(
  e: ExprOf<'concat'>,
  f: Frame,
  st: State,
  s: string,
  from: number,
  pending: Promise<unknown>,
): Promise<unknown> {
  for (let i = from; i < e.items.length; i++) {
    let v = i === from ? pending : evq(e.items[i]!, f, st);
    if (isThenable(v)) v = await v;
    s += typeof v === 'string' ? v : pyStr(v);
  }
  return s;
}

/** markup_join: under autoescape `~` escapes what is not Markup and yields Markup. */
async function evMarkupConcat(e: ExprOf<'concat'>, f: Frame, st: State): Promise<unknown> {
  let m = '';
  for (const item of e.items) m += escapeValue(await evq(item, f, st)).s;
  return new Markup(m);
}

function evCompare(e: ExprOf<'compare'>, f: Frame, st: State): unknown {
  const left = evq(e.first, f, st);
  if (isThenable(left)) return left.then((l) => compareFrom(e, f, st, l, 0));
  return compareFrom(e, f, st, left, 0);
}

/** A comparison chain from operator `from` on, `left` being the value before it. */
function compareFrom(
  e: ExprOf<'compare'>,
  f: Frame,
  st: State,
  left: unknown,
  from: number,
): unknown {
  const ops = e.ops;
  for (let i = from; i < ops.length; i++) {
    const { op, expr } = ops[i]!;
    const right = evq(expr, f, st);
    if (isThenable(right))
      return right.then((r) => {
        st.line = e.line;
        return compare(op, left, r) ? compareFrom(e, f, st, r, i + 1) : false;
      });
    st.line = e.line;
    if (!compare(op, left, right)) return false;
    left = right;
  }
  return true;
}

function evCond(e: ExprOf<'cond'>, f: Frame, st: State): unknown {
  const test = evq(e.test, f, st);
  if (isThenable(test)) return test.then((t) => condBranch(e, t, f, st));
  return condBranch(e, test, f, st);
}

function condBranch(e: ExprOf<'cond'>, test: unknown, f: Frame, st: State): unknown {
  if (truthy(test)) return ev(e.then, f, st);
  if (e.else_) return ev(e.else_, f, st);
  return undef(
    st,
    null,
    `the inline if-expression on line ${e.line} evaluated to false and no else section was defined.`,
  );
}

/** The values of `items` in order: an array, or a Promise of one when an item is one. */
function evItems(items: Expr[], f: Frame, st: State): unknown[] | Promise<unknown[]> {
  const out = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) {
    const v = evq(items[i]!, f, st);
    if (isThenable(v)) return itemsFrom(items, f, st, out, i, v);
    out[i] = v;
  }
  return out;
}

async function itemsFrom(
  items: Expr[],
  f: Frame,
  st: State,
  out: unknown[],
  from: number,
  pending: Promise<unknown>,
): Promise<unknown[]> {
  out[from] = await pending;
  for (let i = from + 1; i < items.length; i++) out[i] = await evq(items[i]!, f, st);
  return out;
}

function evList(e: ExprOf<'list'>, f: Frame, st: State): unknown {
  return evItems(e.items, f, st);
}

function evTuple(e: ExprOf<'tuple'>, f: Frame, st: State): unknown {
  const out = evItems(e.items, f, st);
  return isThenable(out) ? out.then(tuple) : tuple(out);
}

/** Marks a dict entry whose value is not evaluated yet (dictFrom). */
const NOT_YET = Symbol('not yet');

function evDict(e: ExprOf<'dict'>, f: Frame, st: State): unknown {
  const out = new PyDict();
  for (let i = 0; i < e.keys.length; i++) {
    const k = evq(e.keys[i]!, f, st);
    if (isThenable(k)) return dictFrom(e, f, st, out, i, k, NOT_YET);
    const v = evq(e.values[i]!, f, st);
    if (isThenable(v)) return dictFrom(e, f, st, out, i, k, v);
    out.set(k, v);
  }
  return out;
}

/** The rest of a dict display from entry `from` on, whose key (and maybe value) are at hand. */
async function dictFrom(
  e: ExprOf<'dict'>,
  f: Frame,
  st: State,
  out: PyDict,
  from: number,
  key: unknown,
  value: unknown,
): Promise<unknown> {
  const k = await key;
  out.set(k, await (value === NOT_YET ? evq(e.values[from]!, f, st) : value));
  for (let i = from + 1; i < e.keys.length; i++) {
    let k2 = evq(e.keys[i]!, f, st);
    if (isThenable(k2)) k2 = await k2;
    out.set(k2, await evq(e.values[i]!, f, st));
  }
  return out;
}
export interface Evaluated {
  args: unknown[];
  kwargs: Record<string, unknown> | null;
}

/**
 * A call's arguments, evaluated in order: positional, then keyword. A Promise only when one of
 * them is one, so a call whose arguments are all at hand costs no microtask.
 */
function evArgs(a: Args, f: Frame, st: State): Evaluated | Promise<Evaluated> {
  if (a.starArgs || a.starKwargs) return evArgsStarred(a, f, st);
  const n = a.args.length;
  const args: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const v = evq(a.args[i]!, f, st);
    if (isThenable(v)) return evArgsFrom(a, f, st, args, {}, i, v);
    args.push(v);
  }
  if (!a.kwargs.length) return { args, kwargs: null };
  const kwargs: Record<string, unknown> = {};
  for (let j = 0; j < a.kwargs.length; j++) {
    const { name, value } = a.kwargs[j]!;
    const v = evq(value, f, st);
    if (isThenable(v)) return evArgsFrom(a, f, st, args, kwargs, n + j, v);
    kwargs[name] = v;
  }
  return { args, kwargs };
}

/**
 * The rest of evArgs once argument `from` (counting positional then keyword ones) came back as
 * `pending`: awaits it, then evaluates the ones after it in order.
 */
async function evArgsFrom(
  a: Args,
  f: Frame,
  st: State,
  args: unknown[],
  kwargs: Record<string, unknown>,
  from: number,
  pending: Promise<unknown>,
): Promise<Evaluated> {
  const n = a.args.length;
  for (let k = from; k < n + a.kwargs.length; k++) {
    let v: unknown = k === from ? pending : evq(k < n ? a.args[k]! : a.kwargs[k - n]!.value, f, st);
    if (isThenable(v)) v = await v;
    if (k < n) args.push(v);
    else kwargs[a.kwargs[k - n]!.name] = v;
  }
  return { args, kwargs: a.kwargs.length ? kwargs : null };
}

/** The general case of evArgs (`*args`, `**kwargs`), one await at a time. */
async function evArgsStarred(a: Args, f: Frame, st: State): Promise<Evaluated> {
  const args: unknown[] = [];
  for (const x of a.args) {
    const v = evq(x, f, st);
    args.push(isThenable(v) ? await v : v);
  }
  if (a.starArgs) args.push(...pyIter(await evq(a.starArgs, f, st)));
  let kwargs: Record<string, unknown> | null = null;
  if (a.kwargs.length) {
    kwargs = {};
    for (const { name, value } of a.kwargs) {
      const v = evq(value, f, st);
      kwargs[name] = isThenable(v) ? await v : v;
    }
  }
  if (a.starKwargs) {
    let extra = await evq(a.starKwargs, f, st);
    if (extra instanceof Map)
      extra = Object.fromEntries(dictEntries(extra).map(([k, v]) => [pyStr(k), v]));
    if (!isDict(extra)) {
      if (extra instanceof JinjaUndefined) {
        if (extra.strict) failUndefined(extra);
      } else
        throw new TemplateRuntimeError(
          `argument after ** must be a mapping, not ${typeName(extra)}`,
        );
    } else kwargs = { ...(kwargs ?? {}), ...extra };
  }
  return { args, kwargs };
}

/**
 * A call: the callee (or the object of a method call), then its arguments, then the call. Like
 * evq, a Promise only when something on the way is one (a macro, an async global).
 */
function evCall(
  e: Extract<Expr, { k: 'call' }>,
  f: Frame,
  st: State,
  extraKwargs?: Record<string, unknown>,
): unknown {
  const head = evq(e.fn.k === 'getattr' ? e.fn.obj : e.fn, f, st);
  if (isThenable(head)) return head.then((h) => callWithArgs(e, h, f, st, extraKwargs));
  return callWithArgs(e, head, f, st, extraKwargs);
}

function callWithArgs(
  e: Extract<Expr, { k: 'call' }>,
  head: unknown,
  f: Frame,
  st: State,
  extraKwargs: Record<string, unknown> | undefined,
): unknown {
  const evaluated = evArgs(e, f, st);
  if (isThenable(evaluated)) return evaluated.then((a) => invoke(e, head, a, st, extraKwargs));
  return invoke(e, head, evaluated, st, extraKwargs);
}

/** Calls `head` (a function, or the object whose method `e` names) with evaluated arguments. */
function invoke(
  e: Extract<Expr, { k: 'call' }>,
  head: unknown,
  { args, kwargs }: Evaluated,
  st: State,
  extraKwargs: Record<string, unknown> | undefined,
): unknown {
  st.line = e.line;
  const allKwargs = extraKwargs ? { ...kwargs, ...extraKwargs } : kwargs;
  if (e.fn.k === 'getattr') {
    const r = tryPyMethod(head, e.fn.attr, args, kwargs);
    if (r !== NO_METHOD) return r;
    return callValue(st, rawAttr(st, head, e.fn.attr), head, args, allKwargs, e.fn);
  }
  return callValue(st, head, undefined, args, allKwargs, e.fn);
}

/** A body run with autoescape switched on or off (`{% autoescape %}`), sharing the line. */
async function execAutoescape(
  body: Stmt[],
  f: Frame,
  st: State,
  buf: string[],
  on: boolean,
): Promise<number> {
  if (st.autoescape === on) return exec(body, f, st, buf);
  const inner: State = { ...st, autoescape: on };
  try {
    return await exec(body, f, inner, buf);
  } catch (err) {
    if (err instanceof MacroReturn) throw err;
    throw locateError(err, inner.file, inner.line, inner.macro);
  }
}

/** A block's body rendered, then passed through its filters ({% set x | f %}, {% filter f %}). */
async function renderFiltered(
  s: { body: Stmt[]; filters: Expr[]; line: number },
  f: Frame,
  st: State,
): Promise<unknown> {
  const inner: string[] = [];
  // The body is its own scope: what it sets does not leak out (Jinja2 renders it as a function).
  await exec(s.body, frameFor(s.body, f, st), st, inner);
  let v: unknown = st.autoescape ? new Markup(inner.join('')) : inner.join('');
  st.line = s.line;
  for (const flt of s.filters)
    v = await applyNamed(flt as Extract<Expr, { k: 'filter' }>, v, f, st);
  return v;
}

/**
 * Applies a filter (`x|name(args)`) or a test (`x is name(args)`) from the environment's table;
 * a Promise only when an argument or the filter's result is one.
 */
function applyNamed(
  e: Extract<Expr, { k: 'filter' | 'test' }>,
  value: unknown,
  f: Frame,
  st: State,
): unknown {
  const evaluated = evArgs(e, f, st);
  if (isThenable(evaluated)) return evaluated.then((a) => applyWith(e, value, a, st));
  return applyWith(e, value, evaluated, st);
}

export function applyWith(
  e: Extract<Expr, { k: 'filter' | 'test' }>,
  value: unknown,
  { args, kwargs }: Evaluated,
  st: State,
): unknown {
  const kind = e.k === 'filter' ? 'filter' : 'test';
  const impl = (kind === 'filter' ? st.env.filters : st.env.tests).get(e.name);
  st.line = e.line;
  if (!impl) throw new TemplateRuntimeError(`No ${kind} named '${e.name}' found.`);
  checkSignature(impl, args, kwargs);
  // Filters that do not know Markup get its text, as Jinja2's soft_str hands them a str.
  if (value instanceof Markup && kind === 'filter' && !MARKUP_FILTERS.has(e.name)) value = value.s;
  return impl(st, value, args, kwargs ?? {});
}

// ---------------------------------------------------------------------------------------------
// Operators

function arith(l: unknown, r: unknown, op: string): never {
  if (l instanceof JinjaUndefined) failUndefined(l);
  if (r instanceof JinjaUndefined) failUndefined(r);
  if (op === '+' && typeof l === 'string')
    throw new TemplateRuntimeError(`can only concatenate str (not "${typeName(r)}") to str`);
  if (op === '+' && Array.isArray(l) && listOrTuple(l))
    throw new TemplateRuntimeError(
      `can only concatenate ${typeName(l)} (not "${typeName(r)}") to ${typeName(l)}`,
    );
  throw new TemplateRuntimeError(
    `unsupported operand type(s) for ${op}: '${typeName(l)}' and '${typeName(r)}'`,
  );
}

/** Only lists and tuples concatenate and repeat (not ranges, dict views or iterators). */
function listOrTuple(v: unknown[]): boolean {
  const k = seqKind(v);
  return k === 'list' || k === 'tuple';
}

function numResult(x: number, float: boolean): number | PyFloat {
  return float ? mkFloat(x) : x;
}

/** An int result that left the exact range of doubles is recomputed with BigInt. */
function intOrBig(x: number, float: boolean, op: string, l: unknown, r: unknown): unknown {
  if (float) return mkFloat(x);
  return Number.isSafeInteger(x) ? x : bigBinop(op, l, r);
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * Python's int / int, correctly rounded: a quotient of at least 64 bits with a sticky bit for
 * the remainder, rounded once by Number(), then scaled back by a power of two.
 */
function bigTrueDiv(a: bigint, b: bigint): number {
  const neg = a < 0n !== b < 0n;
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  const shift = Math.max(0, 64 + bitLength(b) - bitLength(a));
  const scaled = a << BigInt(shift);
  let q = scaled / b;
  if (scaled % b !== 0n) q |= 1n;
  let r = Number(q);
  for (let left = shift; left > 0; left -= 1000) r /= 2 ** Math.min(left, 1000);
  return neg ? -r : r;
}

/**
 * CPython's float ** float: 0 to a negative power raises ZeroDivisionError, and a finite
 * result too large for a double raises OverflowError (errno ERANGE) where JS gives Infinity.
 */
function floatPow(a: number, b: number): number {
  if (Number.isNaN(b)) return a === 1 ? 1 : b;
  // C's pow: 1 ** ±inf and -1 ** ±inf are 1, where JS gives NaN.
  if (!Number.isFinite(b)) return Math.abs(a) === 1 ? 1 : a ** b;
  if (a === 0 && b < 0) throw new TemplateRuntimeError('0.0 cannot be raised to a negative power');
  const x = a ** b;
  if (!Number.isFinite(x) && Number.isFinite(a))
    throw new TemplateRuntimeError("(34, 'Numerical result out of range')");
  return x;
}

/** Python int arithmetic on ints past 2**53, exact. */
function bigBinop(op: string, l: unknown, r: unknown): unknown {
  const a = bigOf(l);
  const b = bigOf(r);
  switch (op) {
    case '+':
      return mkInt(a + b);
    case '-':
      return mkInt(a - b);
    case '*':
      return mkInt(a * b);
    case '/':
      if (b === 0n) throw new TemplateRuntimeError('division by zero');
      return mkFloat(bigTrueDiv(a, b));
    case '//':
    case '%': {
      if (b === 0n) throw new TemplateRuntimeError('integer division or modulo by zero');
      let q = a / b;
      if (a % b !== 0n && a < 0n !== b < 0n) q -= 1n;
      return mkInt(op === '//' ? q : a - q * b);
    }
    case '**':
      if (b < 0n) return mkFloat(floatPow(intToFloat(a), Number(b)));
      if (b > 100_000n) throw new TemplateRuntimeError('exponent too large');
      return mkInt(a ** b);
  }
  throw new TemplateRuntimeError(`unsupported operand type(s) for ${op}: 'int' and 'int'`);
}

/** Markup's operators: the other operand is escaped, the result is Markup. */
function markupBinop(op: string, l: unknown, r: unknown): unknown {
  if (op === '+' && (typeof l === 'string' || typeof r === 'string' || l instanceof Markup))
    if (r instanceof Markup || typeof r === 'string')
      return new Markup(escapeValue(l).s + escapeValue(r).s);
  if (op === '%' && l instanceof Markup) {
    const esc = (x: unknown) => (typeof x === 'string' ? escapeValue(x) : x);
    const args = Array.isArray(r) && isTuple(r) ? tuple(r.map(esc)) : esc(r);
    return new Markup(percentFormat(l.s, args));
  }
  if (op === '*' && l instanceof Markup && isNumber(r) && !isFloat(r))
    return new Markup(l.s.repeat(Math.max(0, num(r))));
  return undefined;
}

/** Python's binary arithmetic operators. */
export function binop(op: string, l: unknown, r: unknown): unknown {
  if (l instanceof Markup || r instanceof Markup) {
    const m = markupBinop(op, l, r);
    if (m !== undefined) return m;
    if (l instanceof Markup) l = l.s;
    if (r instanceof Markup) r = r.s;
  }
  const ln = isNumber(l);
  const rn = isNumber(r);
  if (ln && rn) {
    const a = num(l);
    const b = num(r);
    const float = isFloat(l) || isFloat(r);
    if (typeof l === 'bigint' || typeof r === 'bigint') {
      if (!float) return bigBinop(op, l, r);
      // int op float converts the int first: OverflowError past the largest double.
      if (!Number.isFinite(typeof l === 'bigint' ? a : b))
        throw new TemplateRuntimeError('int too large to convert to float');
    }
    switch (op) {
      case '+':
        return intOrBig(a + b, float, op, l, r);
      case '-':
        return intOrBig(a - b, float, op, l, r);
      case '*':
        return intOrBig(a * b, float, op, l, r);
      case '/':
        if (b === 0) throw new TemplateRuntimeError('division by zero');
        return mkFloat(a / b);
      case '//':
        if (b === 0)
          throw new TemplateRuntimeError(
            float ? 'float floor division by zero' : 'integer division or modulo by zero',
          );
        return numResult(Math.floor(a / b), float);
      case '%': {
        if (b === 0)
          throw new TemplateRuntimeError(
            float ? 'float modulo' : 'integer division or modulo by zero',
          );
        const m = a % b;
        return numResult(m !== 0 && m < 0 !== b < 0 ? m + b : m, float);
      }
      case '**':
        // int ** negative int is 1 / a ** -b in CPython (JS's pow rounds differently).
        if (!float && b < 0) return mkFloat(a === 0 ? floatPow(a, b) : 1 / a ** -b);
        return float ? mkFloat(floatPow(a, b)) : intOrBig(a ** b, float, op, l, r);
    }
  }
  if (op === '%' && typeof l === 'string') return percentFormat(l, r);
  if (op === '+') {
    if (typeof l === 'string' && typeof r === 'string') return l + r;
    if (Array.isArray(l) && Array.isArray(r) && listOrTuple(l) && seqKind(l) === seqKind(r)) {
      const out = l.concat(r);
      return isTuple(l) ? tuple(out) : out;
    }
  }
  if (op === '*') {
    const seq = ln ? r : l;
    const times = ln ? l : r;
    if (isNumber(times) && !isFloat(times)) {
      const n = Math.max(0, num(times));
      if (typeof seq === 'string') return seq.repeat(n);
      if (Array.isArray(seq) && listOrTuple(seq)) {
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(...seq);
        return isTuple(seq) ? tuple(out) : out;
      }
    }
  }
  const hooked = pyOperatorHook(op, l, r);
  if (hooked !== undefined) return hooked;
  return arith(l, r, op);
}

export function compare(op: string, l: unknown, r: unknown): boolean {
  switch (op) {
    case '==':
      return pyEq(l, r);
    case '!=':
      return !pyEq(l, r);
    case '<':
      return pyCompare(l, r, op) < 0;
    case '<=':
      return pyCompare(l, r, op) <= 0;
    case '>':
      return pyCompare(l, r, op) > 0;
    case '>=':
      return pyCompare(l, r, op) >= 0;
    case 'in':
      return pyContains(r, l);
    case 'notin':
      return !pyContains(r, l);
  }
  throw new TemplateRuntimeError(`unknown operator ${op}`);
}

// ---------------------------------------------------------------------------------------------
// Statements

/** What an exhausted loop iterator yields. */
const END: unique symbol = Symbol('jinja.loopEnd');

/**
 * Jinja's `loop` variable, iterating as Jinja2's LoopContext does: a list is read live through
 * an index (Python's list iterator), so a body that sorts, appends to or empties the list it
 * loops over sees the change; `last`/`nextitem` peek one item ahead, and `length` is the
 * list's length when first asked. Private fields stay out of templates' reach.
 */
export class LoopContext {
  index0 = -1;
  /** Set in recursive loops: renders the loop body over nested items. */
  recurse: ((items: unknown) => Promise<string>) | null = null;
  #lastChanged: unknown[] | undefined;
  readonly #items: unknown[];
  readonly #strict: boolean;
  #pos = 0;
  #done = false;
  #after: unknown = END;
  #current: unknown = END;
  #before: unknown = END;
  #length = -1;
  constructor(
    items: unknown[],
    strict: boolean,
    readonly depth0: number,
  ) {
    this.#items = items;
    this.#strict = strict;
  }
  #next(): unknown {
    if (this.#done) return END;
    if (this.#pos < this.#items.length) return this.#items[this.#pos++];
    this.#done = true; // CPython's exhausted list iterator never yields again
    return END;
  }
  /** The next item (END at the end), made current. */
  advance(): unknown {
    let rv = this.#after;
    if (rv !== END) this.#after = END;
    else rv = this.#next();
    if (rv === END) return rv;
    this.index0++;
    this.#before = this.#current;
    this.#current = rv;
    return rv;
  }
  #peek(): unknown {
    if (this.#after === END) this.#after = this.#next();
    return this.#after;
  }
  get index(): number {
    return this.index0 + 1;
  }
  get revindex(): number {
    return this.length - this.index0;
  }
  get revindex0(): number {
    return this.length - this.index0 - 1;
  }
  get first(): boolean {
    return this.index0 === 0;
  }
  get last(): boolean {
    return this.#peek() === END;
  }
  get length(): number {
    if (this.#length < 0) this.#length = this.#items.length;
    return this.#length;
  }
  get depth(): number {
    return this.depth0 + 1;
  }
  get previtem(): unknown {
    return this.index0 > 0
      ? this.#before
      : new JinjaUndefined('previtem', 'there is no previous item', this.#strict);
  }
  get nextitem(): unknown {
    const rv = this.#peek();
    return rv !== END ? rv : new JinjaUndefined('nextitem', 'there is no next item', this.#strict);
  }
  /** Cycles through its arguments, one per iteration. */
  cycle(...args: unknown[]): unknown {
    if (!args.length) throw new TemplateRuntimeError('no items for cycling given');
    return args[this.index0 % args.length];
  }
  /** True on the first call and whenever the arguments differ from the previous call's. */
  changed(...args: unknown[]): boolean {
    if (this.#lastChanged === undefined || !pyEq(tuple(this.#lastChanged), tuple(args))) {
      this.#lastChanged = args;
      return true;
    }
    return false;
  }
  [JINJA_CALL](args: unknown[]): Promise<string> {
    if (!this.recurse)
      throw new TemplateRuntimeError(
        "Tried to call non recursive loop. Maybe you forgot the 'recursive' modifier.",
      );
    return this.recurse(args[0]);
  }
  toString(): string {
    return `<LoopContext ${this.index}/${this.length}>`;
  }
}

function assign(t: Target, value: unknown, f: Frame, st: State): void {
  switch (t.k) {
    case 'name':
      f.vars.set(t.name, value);
      return;
    case 'tuple': {
      const items = pyIter(value);
      if (items.length !== t.items.length) {
        if (items.length > t.items.length)
          throw new TemplateRuntimeError(`too many values to unpack (expected ${t.items.length})`);
        throw new TemplateRuntimeError(
          `not enough values to unpack (expected ${t.items.length}, got ${items.length})`,
        );
      }
      for (let i = 0; i < items.length; i++) assign(t.items[i]!, items[i], f, st);
      return;
    }
    case 'nsattr': {
      const ns = lookup(t.name, f, st);
      if (!(ns instanceof Namespace))
        throw new TemplateRuntimeError(
          `cannot assign attribute on non-namespace object '${t.name}'`,
        );
      ns.attrs[t.attr] = value;
      return;
    }
  }
}

/** Renders a value as `{{ }}` prints it. */
function out(v: unknown): string {
  return typeof v === 'string' ? v : pyStr(v);
}

/** A loop-control signal (BREAK, CONTINUE, or 0 to go on), or a Promise of one. */
type Sig = number | Promise<number>;

/**
 * Executes statements from `from` on, appending output; returns BREAK/CONTINUE signals from
 * loop controls. Synchronous as far as the values allow, like evq: most bodies (a macro's, an
 * if's, a loop iteration's) never meet a Promise, and an async function per body was a Promise
 * and a microtask per body. Once a statement gives a Promise, the rest runs after it.
 */
function exec(body: Stmt[], f: Frame, st: State, buf: string[], from = 0): Sig {
  for (let i = from; i < body.length; i++) {
    const sig = execStmt(body[i]!, f, st, buf);
    if (sig === 0) continue;
    if (typeof sig === 'number') return sig;
    if (i + 1 === body.length) return sig;
    return sig.then((s) => (s ? s : exec(body, f, st, buf, i + 1)));
  }
  return 0;
}

/** One statement: the common kinds inline, a Promise only when a value is one. */
function execStmt(s: Stmt, f: Frame, st: State, buf: string[]): Sig {
  switch (s.k) {
    case 'data':
      buf.push(s.text);
      return 0;
    case 'output': {
      st.line = s.line;
      const v = evq(s.expr, f, st);
      if (isThenable(v))
        return v.then((x) => {
          pushOutput(x, st, buf);
          return 0;
        });
      pushOutput(v, st, buf);
      return 0;
    }
    case 'if':
      st.line = s.line;
      return execIf(s, 0, f, st, buf);
    case 'for': {
      st.line = s.line;
      const iterable = evq(s.iter, f, st);
      if (isThenable(iterable)) return iterable.then((it) => loopOver(s, it, f, st, buf, 0));
      return loopOver(s, iterable, f, st, buf, 0);
    }
    case 'set': {
      st.line = s.line;
      const v = evq(s.expr, f, st);
      if (isThenable(v))
        return v.then((x) => {
          assign(s.target, x, f, st);
          return 0;
        });
      assign(s.target, v, f, st);
      return 0;
    }
    case 'macro':
      f.vars.set(s.name, makeMacro(s, f, st, false));
      return 0;
    case 'do': {
      st.line = s.line;
      const v = evq(s.expr, f, st);
      return isThenable(v) ? v.then(() => 0) : 0;
    }
    case 'callblock': {
      st.line = s.line;
      const caller = makeMacro(s.caller, f, st, true);
      const v = evCall(s.call as Extract<Expr, { k: 'call' }>, f, st, { caller });
      if (isThenable(v))
        return v.then((x) => {
          buf.push(out(x));
          return 0;
        });
      buf.push(out(v));
      return 0;
    }
    case 'noloader':
      st.line = s.line;
      throw new TemplateRuntimeError('no loader for this environment specified');
    case 'break':
      return BREAK;
    case 'continue':
      return CONTINUE;
    case 'noop':
      return 0;
    default:
      return execOther(s, f, st, buf);
  }
}

/** What `{{ v }}` appends. */
function pushOutput(v: unknown, st: State, buf: string[]): void {
  if (st.autoescape) buf.push(escapeValue(v).s);
  else buf.push(typeof v === 'string' ? v : out(v));
}

/** An if statement from branch `from` on: the first true test's body, else the else body. */
function execIf(
  s: Extract<Stmt, { k: 'if' }>,
  from: number,
  f: Frame,
  st: State,
  buf: string[],
): Sig {
  const branches = s.branches;
  for (let j = from; j < branches.length; j++) {
    const br = branches[j]!;
    const test = evq(br.test, f, st);
    if (isThenable(test))
      return test.then((t) =>
        truthy(t) ? exec(br.body, f, st, buf) : execIf(s, j + 1, f, st, buf),
      );
    if (truthy(test)) return exec(br.body, f, st, buf);
  }
  return s.else_ ? exec(s.else_, f, st, buf) : 0;
}

/** The statements that are rare in templates, as an async function. */
async function execOther(
  s: Extract<Stmt, { k: 'autoescape' | 'setblock' | 'filterblock' | 'with' | 'block' }>,
  f: Frame,
  st: State,
  buf: string[],
): Promise<number> {
  switch (s.k) {
    case 'autoescape': {
      st.line = s.line;
      const on = truthy(await evq(s.expr, f, st));
      // Jinja2 wraps the body in a Scope: names it sets stay inside.
      return execAutoescape(s.body, frameFor(s.body, f, st), st, buf, on);
    }
    case 'setblock':
      assign(s.target, await renderFiltered(s, f, st), f, st);
      return 0;
    case 'filterblock':
      buf.push(out(await renderFiltered(s, f, st)));
      return 0;
    case 'with': {
      st.line = s.line;
      const wf = frameFor(s.body, f, st);
      const values: unknown[] = [];
      for (const v of s.values) values.push(await evq(v, f, st));
      for (let j = 0; j < s.targets.length; j++) assign(s.targets[j]!, values[j], wf, st);
      return exec(s.body, wf, st, buf);
    }
    case 'block':
      st.line = s.line;
      if (s.required) throw new TemplateRuntimeError(`Required block '${s.name}' not found`);
      buf.push(await renderBlock(s, f, st));
      return 0;
  }
}

/** The state of one running for loop (loopOver), for its iterations to go on after a Promise. */
interface LoopRun {
  s: Extract<Stmt, { k: 'for' }>;
  loop: LoopContext;
  pre: readonly string[] | undefined;
  f: Frame;
  st: State;
  buf: string[];
  /** Jinja2 runs the else block unless one iteration ran to its end. */
  completed: boolean;
}

/** Runs a for loop over `iterable`; `depth0` grows when a recursive loop calls `loop(items)`. */
function loopOver(
  s: Extract<Stmt, { k: 'for' }>,
  iterable: unknown,
  f: Frame,
  st: State,
  buf: string[],
  depth0: number,
): Sig {
  if (iterable === null || iterable === undefined)
    throw new TemplateRuntimeError("'NoneType' object is not iterable");
  // A list is iterated live (see LoopContext); anything else as a snapshot of its items.
  const items =
    Array.isArray(iterable) && iteratorOf(iterable) === undefined && !s.cond
      ? iterable
      : pyIter(iterable);
  if (s.cond)
    return filterItems(s, items, f, st).then((kept) => startLoop(s, kept, f, st, buf, depth0));
  return startLoop(s, items, f, st, buf, depth0);
}

/** A for loop's `if` filter: the items it keeps. */
async function filterItems(
  s: Extract<Stmt, { k: 'for' }>,
  items: unknown[],
  f: Frame,
  st: State,
): Promise<unknown[]> {
  const kept: unknown[] = [];
  for (const item of items) {
    const cf = new Frame(f);
    assign(s.target, item, cf, st);
    if (truthy(await evq(s.cond!, cf, st))) kept.push(item);
  }
  return kept;
}

function startLoop(
  s: Extract<Stmt, { k: 'for' }>,
  items: unknown[],
  f: Frame,
  st: State,
  buf: string[],
  depth0: number,
): Sig {
  const loop = new LoopContext(items, st.env.strict, depth0);
  if (s.recursive) loop.recurse = (inner) => renderRecursion(s, inner, f, st, depth0 + 1);
  const run: LoopRun = { s, loop, pre: predeclared(s.body), f, st, buf, completed: false };
  return iterate(run);
}

/** The remaining iterations, then the else block; `{% break %}` in the first still renders it. */
function iterate(run: LoopRun): Sig {
  const { s, loop, pre, f, st, buf } = run;
  for (let item = loop.advance(); item !== END; item = loop.advance()) {
    // A fresh frame per iteration: Jinja2 re-reads outer values at the top of every iteration.
    const lf = new Frame(f);
    if (pre) for (const n of pre) lf.vars.set(n, undef(st, n));
    lf.vars.set('loop', loop);
    assign(s.target, item, lf, st);
    const sig = exec(s.body, lf, st, buf);
    if (typeof sig !== 'number')
      return sig.then((x) => (afterIteration(run, x) ? loopEnd(run) : iterate(run)));
    if (afterIteration(run, sig)) break;
  }
  return loopEnd(run);
}

/** Records how an iteration ended; true when it broke out of the loop. */
function afterIteration(run: LoopRun, sig: number): boolean {
  if (sig === BREAK) return true;
  if (sig !== CONTINUE) run.completed = true;
  return false;
}

function loopEnd(run: LoopRun): Sig {
  const { s, f, st, buf } = run;
  if (!run.completed && s.else_) return exec(s.else_, frameFor(s.else_, f, st), st, buf);
  return 0;
}
/** `loop(items)` in a recursive for loop: the loop rendered again over `items`, one level deeper. */
async function renderRecursion(
  s: Extract<Stmt, { k: 'for' }>,
  items: unknown,
  f: Frame,
  st: State,
  depth0: number,
): Promise<string> {
  const depth = st.depth + 1;
  const unwind = enterMacro(depth);
  try {
    if (unwind) await unwind;
    const inner: string[] = [];
    await loopOver(s, items, f, { ...st, depth }, inner, depth0);
    return inner.join('');
  } finally {
    activeMacroCalls--;
  }
}

/** A `{% block %}` rendered standalone: scoped blocks see the enclosing scope, others the top level. */
async function renderBlock(b: BlockNode, f: Frame, st: State): Promise<string> {
  const depth = st.depth + 1;
  const unwind = enterMacro(depth);
  try {
    if (unwind) await unwind;
    const inner: string[] = [];
    const frame = frameFor(b.body, b.scoped ? f : rootOf(f), st);
    await exec(b.body, frame, { ...st, depth }, inner);
    return inner.join('');
  } finally {
    activeMacroCalls--;
  }
}

function rootOf(f: Frame): Frame {
  let r = f;
  while (r.parent) r = r.parent;
  return r;
}

/** Jinja2's `self`: the template's blocks, callable by name (`self.title()`). */
export class TemplateReference {
  constructor(
    private readonly blocks: ReadonlyMap<string, BlockNode>,
    private readonly st: State,
    private readonly root: Frame,
  ) {}
  block(name: string): (() => Promise<string>) | undefined {
    const b = this.blocks.get(name);
    if (!b) return undefined;
    return () => renderBlock(b, this.root, this.st);
  }
  [JINJA_GETATTR](name: string): unknown {
    return this.block(name);
  }
  toString(): string {
    return '<TemplateReference None>';
  }
}

// ---------------------------------------------------------------------------------------------
// Macros

const MISSING = Symbol('missing');

/**
 * How deep one chain of macro calls may go: Jinja2 under Python's default recursion limit (1000
 * frames) raises RecursionError after about 198 nested macro calls, so a macro calling itself
 * forever fails within milliseconds instead of growing the heap until the process dies.
 */
export const MAX_MACRO_DEPTH = 198;
/** A safety net across chains the depth cannot follow (a macro called through a JS function). */
const MAX_ACTIVE_MACRO_CALLS = 20_000;
let activeMacroCalls = 0;

/**
 * Calls run synchronously as far as their values allow, so a chain of nested calls grows the JS
 * stack; one call in this many waits a microtask first, unwinding it, so a chain only the safety
 * net stops (blocks calling themselves, macros called through JS) ends in RecursionError, not in
 * a stack overflow.
 */
const UNWIND_EVERY = 64;

/** Counts a macro (or block) call in; a Promise when this call should unwind the stack first. */
function enterMacro(depth: number): Promise<void> | undefined {
  activeMacroCalls++;
  if (depth > MAX_MACRO_DEPTH || activeMacroCalls > MAX_ACTIVE_MACRO_CALLS)
    // Worded as Python's RecursionError; locateError prefixes the macro, file and line.
    throw new TemplateRuntimeError('maximum recursion depth exceeded');
  return activeMacroCalls % UNWIND_EVERY === 0 ? Promise.resolve() : undefined;
}

/**
 * Makes the callable for a macro definition. `closure` is the frame it was defined in; `st`
 * supplies the file, globals and environment. A caller block (`isCaller`) shares the calling
 * macro's state and lets `return()` pass through to the real macro, as in dbt.
 */
export function makeMacro(
  node: MacroNode,
  closure: Frame,
  st: State,
  isCaller: boolean,
): JinjaCallable {
  // Synchronous unless something in the call gives a Promise (macros rarely await anything).
  const impl: MacroImpl = (args, kwargs, callerDepth = 0) => {
    const depth = callerDepth + 1;
    const mst: State = isCaller ? st : { ...st, macro: node.name, line: node.line, depth };
    const frame = frameFor(node.body, closure, st);
    const failed = (err: unknown): unknown => {
      if (isCaller) {
        // return() in a call block returns from the enclosing dbt macro, as in dbt.
        if (err instanceof MacroReturn) throw err;
        throw locateError(err, mst.file, mst.line, mst.macro);
      }
      if (err instanceof MacroReturn) return err.value;
      throw locateError(err, mst.file, mst.line, mst.macro);
    };
    let pending = false;
    try {
      const unwind = enterMacro(depth);
      const r = unwind
        ? unwind.then(() => runMacro(node, frame, mst, args, kwargs))
        : runMacro(node, frame, mst, args, kwargs);
      if (!isThenable(r)) return r;
      pending = true;
      return r.then(
        (v) => {
          activeMacroCalls--;
          return v;
        },
        (err: unknown) => {
          activeMacroCalls--;
          return failed(err);
        },
      );
    } catch (err) {
      return failed(err);
    } finally {
      if (!pending) activeMacroCalls--;
    }
  };
  // JS callers (dbt's context, adapter.dispatch) get JS values back: plain objects for dicts.
  const fn = (async (...raw: unknown[]) => {
    const last = raw[raw.length - 1];
    if (last instanceof Kwargs) return toJs(await impl(raw.slice(0, -1), last.values));
    return toJs(await impl(raw, {}));
  }) as unknown as JinjaCallable;
  Object.defineProperty(fn, 'name', { value: node.name });
  Object.defineProperty(fn, MACRO_IMPL, { value: impl });
  Object.defineProperty(fn, JINJA_GETATTR, { value: (attr: string) => macroAttr(node, attr) });
  return fn;
}

/** A macro call's parameters bound, then its body run: its output, or a Promise of it. */
function runMacro(
  node: MacroNode,
  frame: Frame,
  mst: State,
  args: unknown[],
  kwargs: Record<string, unknown>,
): unknown {
  bindParams(node, frame, mst, args, { ...kwargs });
  const defaults = bindDefaults(node, frame, mst, 0);
  if (defaults) return defaults.then(() => macroBody(node, frame, mst));
  return macroBody(node, frame, mst);
}

/** The defaults of parameters not given, from parameter `from` on; a Promise when one is. */
function bindDefaults(
  node: MacroNode,
  frame: Frame,
  mst: State,
  from: number,
): Promise<void> | undefined {
  const params = node.params;
  for (let i = from; i < params.length; i++) {
    const p = params[i]!;
    if (frame.vars.get(p.name) !== MISSING) continue;
    // Undefined first, so a default naming its own parameter sees Undefined as in Jinja2.
    frame.vars.set(p.name, undef(mst, p.name, `parameter '${p.name}' was not provided`));
    if (!p.default) continue;
    const v = evq(p.default, frame, mst);
    if (isThenable(v))
      return v.then((x) => {
        frame.vars.set(p.name, x);
        return bindDefaults(node, frame, mst, i + 1);
      });
    frame.vars.set(p.name, v);
  }
  return undefined;
}

function macroBody(node: MacroNode, frame: Frame, mst: State): unknown {
  const buf: string[] = [];
  const sig = exec(node.body, frame, mst, buf);
  if (typeof sig === 'number') return macroOutput(mst, buf);
  return sig.then(() => macroOutput(mst, buf));
}

/** A macro's output: Markup when it was defined under autoescape, as Jinja2's Macro returns. */
function macroOutput(mst: State, buf: string[]): unknown {
  return mst.autoescape ? new Markup(buf.join('')) : buf.join('');
}

/** The attributes of a jinja2.runtime.Macro that templates can read. */
function macroAttr(node: MacroNode, attr: string): unknown {
  switch (attr) {
    case 'name':
      return node.name;
    case 'arguments':
      return tuple(node.params.map((p) => p.name));
    case 'catch_kwargs':
      return node.catchKwargs;
    case 'catch_varargs':
      return node.catchVarargs;
    case 'caller':
      return node.callerRef;
  }
  return undefined;
}

function bindParams(
  node: MacroNode,
  frame: Frame,
  st: State,
  args: unknown[],
  kwargs: Record<string, unknown>,
): void {
  const params = node.params;
  const n = params.length;
  let foundCaller = false;
  for (let i = 0; i < n; i++) {
    const p = params[i]!.name;
    if (i < args.length) {
      frame.vars.set(p, args[i]);
      if (p === 'caller') foundCaller = true;
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(kwargs, p)) {
      frame.vars.set(p, kwargs[p]);
      delete kwargs[p];
    } else frame.vars.set(p, MISSING);
    if (p === 'caller') foundCaller = true;
  }
  if (node.callerRef && !foundCaller) {
    const c = kwargs.caller;
    delete kwargs.caller;
    frame.vars.set(
      'caller',
      c === undefined || c === null ? undef(st, 'caller', 'No caller defined') : c,
    );
  }
  const extra = Object.keys(kwargs);
  if (node.catchKwargs) frame.vars.set('kwargs', kwargs);
  else if (extra.length) {
    if (extra[0] === 'caller')
      throw new TemplateRuntimeError(
        `macro '${node.name}' was invoked with two values for the special caller argument`,
      );
    throw new TemplateRuntimeError(`macro '${node.name}' takes no keyword argument '${extra[0]}'`);
  }
  if (node.catchVarargs) frame.vars.set('varargs', tuple(args.slice(n)));
  else if (args.length > n)
    throw new TemplateRuntimeError(`macro '${node.name}' takes not more than ${n} argument(s)`);
}

/** Renders a statement list as a whole template: errors get this file and line attached. */
export async function renderBody(body: Stmt[], root: Frame, st: State): Promise<string> {
  const buf: string[] = [];
  try {
    await exec(body, root, st, buf);
  } catch (err) {
    if (err instanceof MacroReturn)
      throw locateError(
        new TemplateRuntimeError('return() was called outside a macro'),
        st.file,
        st.line,
        null,
      );
    throw locateError(err, st.file, st.line, st.macro);
  }
  return buf.join('');
}
