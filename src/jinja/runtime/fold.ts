/**
 * Jinja2's constant folding, where it shows. While compiling, Jinja2 (optimizer.py, nodes.py
 * `as_const`) evaluates every expression whose operands are all literals. Folding mostly gives
 * what running the expression would give, with two visible exceptions this module reproduces:
 *
 * - A dict literal whose constant key is unhashable (`{[1]: 2}|length`) raises its TypeError
 *   while compiling, so the whole template fails before anything renders (Dict.as_const is the
 *   one as_const that lets errors through). Only inside an expression the optimizer visits: a
 *   dict on its own in `{{ }}`, `{% set %}` or a list is compiled as a dict display and fails
 *   when it runs.
 * - A slice of a constant goes through `environment.getitem` when folded, which returns
 *   Undefined where the compiled `obj[a:b]` raises (`{{ 1e20[1:] }}` prints ''): such slices are
 *   marked `lenient`.
 *
 * The parser only asks for this pass when a template has one of these two shapes.
 */
import type { Expr, MacroNode, Stmt } from '../ast.js';
import { BUILTIN_FILTERS } from '../filters.js';
import { CONTEXT_FILTERS } from '../parser.js';
import { BUILTIN_TESTS } from '../tests.js';
import {
  JinjaUndefined,
  Markup,
  PyDict,
  PyFloat,
  TemplateRuntimeError,
  hashKey,
  isDict,
  pyStr,
  seqKind,
  truthy,
  tuple,
} from '../values.js';
import { getattr, getitem, sliceable, sliceValue } from './access.js';
import { applyWith, binop, compare, unary } from './evaluate.js';
import type { Env, State } from './state.js';

/** What a folded expression yields when Jinja2 cannot fold it (nodes.Impossible). */
const IMPOSSIBLE = Symbol('jinja.impossible');

/** The TypeError Jinja2's optimizer raises while compiling. */
export interface CompileTimeError {
  message: string;
  line: number;
}

class Unhashable extends Error {}

type ExprOf<K extends Expr['k']> = Extract<Expr, { k: K }>;

/** Python's `has_safe_repr`: only such results become constants in the compiled code. */
function safeRepr(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return v !== undefined && typeof v !== 'function';
  if (v instanceof PyFloat || v instanceof Markup) return true;
  if (Array.isArray(v)) {
    const kind = seqKind(v);
    if (kind === 'range') return true;
    return (kind === 'list' || kind === 'tuple') && v.every(safeRepr);
  }
  if (v instanceof PyDict) return v.pyEntries().every(([k, x]) => safeRepr(k) && safeRepr(x));
  if (isDict(v)) return Object.values(v).every(safeRepr);
  return false;
}

class Folder {
  /** The value each visited node folded to (or IMPOSSIBLE). */
  private readonly values = new Map<Expr, unknown>();
  private readonly st: State;
  line = 0;

  constructor(env: Env) {
    this.st = {
      env,
      file: '',
      macro: null,
      line: 0,
      globals: {},
      fallback: null,
      depth: 0,
      autoescape: false,
    };
  }

  /** An expression the compiler visits: Jinja2's `visit` with its @optimizeconst visitors. */
  visit(e: Expr | null): void {
    if (!e) return;
    switch (e.k) {
      case 'const':
      case 'name':
        return;
      case 'list':
      case 'tuple':
        for (const x of e.items) this.visit(x);
        return;
      case 'dict':
        for (let i = 0; i < e.keys.length; i++) {
          this.visit(e.keys[i]!);
          this.visit(e.values[i]!);
        }
        return;
      default:
        this.fold(e, true);
        this.markFolded(e, false);
    }
  }

  /** A child of `{{ }}`: Jinja2 first tries `as_const` on it, any error meaning "at runtime". */
  visitOutput(e: Expr): void {
    let v: unknown;
    try {
      v = this.fold(e, false);
    } catch (err) {
      if (!(err instanceof Unhashable)) throw err;
      v = IMPOSSIBLE;
    }
    if (v !== IMPOSSIBLE) this.markFolded(e, true);
    else this.visit(e);
  }

  /** Marks the slices inside what folded (or inside `e` when `all`) as lenient. */
  private markFolded(e: Expr | null, all: boolean): void {
    if (!e) return;
    const v = this.values.get(e);
    const folded = all || (v !== undefined && v !== IMPOSSIBLE && safeRepr(v));
    if (folded && e.k === 'getitem' && e.index.k === 'slice') e.index.lenient = true;
    for (const c of children(e)) this.markFolded(c, folded);
  }

  /**
   * `as_const` of `e`. `eager`: as the optimizer runs it, after folding every child first (so a
   * child's error surfaces even where `e` would not evaluate it); otherwise as a direct
   * `as_const` call, evaluating only what it needs.
   */
  fold(e: Expr | null, eager: boolean): unknown {
    if (!e) return null;
    const cs = children(e);
    const kids = eager ? cs.map((c) => this.fold(c, true)) : null;
    const kid = (i: number): unknown => (kids ? kids[i] : this.fold(cs[i] ?? null, false));
    let v: unknown;
    try {
      v = this.own(e, cs.length, kid);
    } catch (err) {
      if (err instanceof Unhashable) throw err;
      v = IMPOSSIBLE;
    }
    if (v !== null && typeof v === 'object' && typeof (v as Promise<unknown>).then === 'function') {
      (v as Promise<unknown>).catch(() => undefined);
      v = IMPOSSIBLE;
    }
    this.values.set(e, v);
    return v;
  }

  /** The node's own `as_const`, given its `n` children's values in `children()` order. */
  private own(e: Expr, n: number, kid: (i: number) => unknown): unknown {
    switch (e.k) {
      case 'const':
        return e.value;
      case 'name':
      case 'call':
        return IMPOSSIBLE;
      case 'dict':
        return this.dict(n, kid);
      case 'and':
      case 'or':
        return andOr(e.k, kid);
      case 'compare':
        return chained(e, kid);
      case 'cond': {
        const test = kid(0);
        if (test === IMPOSSIBLE) return IMPOSSIBLE;
        if (truthy(test)) return kid(1);
        return e.else_ ? kid(2) : IMPOSSIBLE;
      }
    }
    const kids: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const v = kid(i);
      if (v === IMPOSSIBLE) return IMPOSSIBLE;
      kids.push(v);
    }
    return this.strict(e, kids);
  }

  /** `as_const` of a node that needs all its children. */
  private strict(e: Expr, kids: unknown[]): unknown {
    const st = this.st;
    switch (e.k) {
      case 'list':
        return kids;
      case 'tuple':
        return tuple(kids);
      case 'getattr':
        return getattr(st, kids[0], e.attr);
      case 'getitem':
        return e.index.k === 'slice'
          ? lenientSlice(kids[0], kids[1])
          : getitem(st, kids[0], kids[1]);
      case 'slice':
        return tuple(kids);
      case 'filter':
      case 'test':
        return this.applied(e, kids);
      case 'bin':
        return binop(e.op, kids[0], kids[1]);
      case 'not':
        return !truthy(kids[0]);
      case 'neg':
      case 'pos':
        return unary(e.k, kids[0]);
      case 'concat':
        return kids.map((x) => (typeof x === 'string' ? x : pyStr(x))).join('');
      default:
        return IMPOSSIBLE;
    }
  }

  /** Dict.as_const: pairs in order, each key hashed as it is inserted. */
  private dict(n: number, kid: (i: number) => unknown): unknown {
    const out = new PyDict();
    for (let i = 0; i < n; i += 2) {
      const k = kid(i);
      if (k === IMPOSSIBLE) return IMPOSSIBLE;
      const v = kid(i + 1);
      if (v === IMPOSSIBLE) return IMPOSSIBLE;
      try {
        hashKey(k);
      } catch (err) {
        if (err instanceof TemplateRuntimeError) throw new Unhashable(err.message);
        throw err;
      }
      out.set(k, v);
    }
    return out;
  }

  /** A built-in filter or test that takes no context, applied as Filter.as_const does. */
  private applied(e: ExprOf<'filter' | 'test'>, kids: unknown[]): unknown {
    const table = e.k === 'filter' ? BUILTIN_FILTERS : BUILTIN_TESTS;
    const env = e.k === 'filter' ? this.st.env.filters : this.st.env.tests;
    if (!e.node || e.starArgs || e.starKwargs) return IMPOSSIBLE;
    if (e.k === 'filter' && CONTEXT_FILTERS.has(e.name)) return IMPOSSIBLE;
    // A filter the embedding application supplied may have effects: it runs when rendering.
    const impl = env.get(e.name);
    if (!impl || impl !== table[e.name]) return IMPOSSIBLE;
    const args = kids.slice(1, 1 + e.args.length);
    let kwargs: Record<string, unknown> | null = null;
    if (e.kwargs.length) {
      const kw: Record<string, unknown> = {};
      e.kwargs.forEach((k, i) => (kw[k.name] = kids[1 + e.args.length + i]));
      kwargs = kw;
    }
    const r = applyWith(e, kids[0], { args, kwargs }, this.st);
    if (e.k === 'filter') return r;
    return truthy(r) !== e.negate;
  }
}

function andOr(k: 'and' | 'or', kid: (i: number) => unknown): unknown {
  const l = kid(0);
  if (l === IMPOSSIBLE) return IMPOSSIBLE;
  return truthy(l) === (k === 'and') ? kid(1) : l;
}

/** Compare.as_const: stops at the first comparison that is false. */
function chained(e: ExprOf<'compare'>, kid: (i: number) => unknown): unknown {
  let left = kid(0);
  if (left === IMPOSSIBLE) return IMPOSSIBLE;
  for (let i = 0; i < e.ops.length; i++) {
    const right = kid(i + 1);
    if (right === IMPOSSIBLE) return IMPOSSIBLE;
    if (!compare(e.ops[i]!.op, left, right)) return false;
    left = right;
  }
  return true;
}

/**
 * The sandbox's getitem with a slice: an object that has no slices gives Undefined (the
 * TypeError is caught); a zero step still raises, so that slice does not fold.
 */
function lenientSlice(obj: unknown, bounds: unknown): unknown {
  if (obj instanceof JinjaUndefined) return IMPOSSIBLE;
  const [a, b, c] = bounds as unknown[];
  if (!sliceable(obj, a, b, c)) return new JinjaUndefined(null, null, false);
  return sliceValue(obj, a, b, c);
}

/** The child expressions of a node, in Jinja2's field order (slice bounds may be null). */
function children(e: Expr): (Expr | null)[] {
  switch (e.k) {
    case 'list':
    case 'tuple':
    case 'concat':
      return e.items;
    case 'dict':
      return e.keys.flatMap((k, i) => [k, e.values[i]!]);
    case 'getattr':
      return [e.obj];
    case 'getitem':
      return [e.obj, e.index];
    case 'slice':
      return [e.start, e.stop, e.step];
    case 'call':
    case 'filter':
    case 'test':
      return [
        e.k === 'call' ? e.fn : e.node,
        ...e.args,
        ...e.kwargs.map((k) => k.value),
        e.starArgs,
        e.starKwargs,
      ];
    case 'bin':
    case 'and':
    case 'or':
      return [e.left, e.right];
    case 'not':
    case 'neg':
    case 'pos':
      return [e.node];
    case 'compare':
      return [e.first, ...e.ops.map((o) => o.expr)];
    case 'cond':
      return [e.test, e.then, e.else_];
    default:
      return [];
  }
}

function visitMacro(m: MacroNode, fo: Folder, later: Stmt[][]): void {
  for (const p of m.params) fo.visit(p.default);
  visitBody(m.body, fo, later);
}

function visitStmt(s: Stmt, fo: Folder, later: Stmt[][]): void {
  if ('line' in s) fo.line = s.line;
  switch (s.k) {
    case 'output':
      return fo.visitOutput(s.expr);
    case 'do':
    case 'set':
      return fo.visit(s.expr);
    case 'if':
      for (const b of s.branches) {
        fo.visit(b.test);
        visitBody(b.body, fo, later);
      }
      return visitBody(s.else_ ?? [], fo, later);
    case 'for':
      fo.visit(s.iter);
      fo.visit(s.cond);
      visitBody(s.body, fo, later);
      return visitBody(s.else_ ?? [], fo, later);
    case 'setblock':
    case 'filterblock':
      visitBody(s.body, fo, later);
      for (const f of s.filters) fo.visit(f);
      return;
    case 'macro':
      return visitMacro(s, fo, later);
    case 'callblock':
      visitMacro(s.caller, fo, later);
      return fo.visit(s.call);
    case 'with':
      for (const v of s.values) fo.visit(v);
      return visitBody(s.body, fo, later);
    case 'block':
      // Jinja2 compiles block bodies after the template's own code.
      later.push(s.body);
      return;
    case 'autoescape': {
      // The option is taken with as_const; one that does not fold makes the body "volatile",
      // where nothing folds.
      const v = fo.fold(s.expr, false);
      if (v !== IMPOSSIBLE) visitBody(s.body, fo, later);
      return;
    }
    default:
      return;
  }
}

function visitBody(body: Stmt[], fo: Folder, later: Stmt[][]): void {
  for (const s of body) visitStmt(s, fo, later);
}

/**
 * The truth of the constant `e` folds to (Jinja2's optimizer replaces it with a Const), or null
 * when it does not fold or the value has no safe repr; for the compile-time name checks.
 */
export function constTruthOf(env: Env): (e: Expr) => boolean | null {
  let fo: Folder | undefined;
  return (e) => {
    fo ??= new Folder(env);
    let v: unknown;
    try {
      v = fo.fold(e, false);
    } catch {
      return null;
    }
    return v === IMPOSSIBLE || !safeRepr(v) ? null : truthy(v);
  };
}

/**
 * Folds the constants of a parsed template as Jinja2's compiler does: marks the slices that fold
 * lenient, and returns the TypeError folding raises (an unhashable constant dict key), if any.
 */
export function foldConstants(bodies: Stmt[][], env: Env): CompileTimeError | null {
  const fo = new Folder(env);
  const later: Stmt[][] = [];
  try {
    for (const body of bodies) visitBody(body, fo, later);
    for (let i = 0; i < later.length; i++) visitBody(later[i]!, fo, later);
  } catch (err) {
    if (err instanceof Unhashable) return { message: err.message, line: fo.line };
    throw err;
  }
  return null;
}
