/**
 * Jinja2 looks filter and test names up while it compiles, and fails the compile on an unknown
 * one, except inside an `{% if %}` statement or an inline `x if y else z` ("soft" frames in
 * compiler.py): there the lookup waits until the expression runs, so an unknown name in a
 * branch never taken passes. Frames nested inside (a loop body, a macro) are strict again.
 */
import type { Args, Expr, Stmt } from './ast.js';

/** The first filter or test whose name `known` rejects where Jinja2 checks when compiling. */
export interface Unknown {
  kind: 'filter' | 'test';
  name: string;
  line: number;
}

type Known = (kind: 'filter' | 'test', name: string) => boolean;

/**
 * The truth of what an expression folds to when Jinja2's optimizer makes it a constant, else
 * null. A subtree that folds is compiled as its value, so the names inside are never looked up:
 * `0 and x|nofilter` and `1 or x|nofilter` compile (And/Or/Compare.as_const short-circuit).
 */
export type ConstTruth = (e: Expr) => boolean | null;

/** What the walk asks of the environment: known names, and what folds. */
interface Checks {
  known: Known;
  truth: ConstTruth;
}

/** Whether `e` (an and/or, or a chained comparison) folds to a constant without its tail. */
function shortCircuits(e: Expr, constTruth: ConstTruth): boolean {
  if (e.k === 'and' || e.k === 'or') {
    const l = constTruth(e.left);
    return l !== null && l === (e.k === 'or');
  }
  return e.k === 'compare' && e.ops.length > 1 && constTruth(e) === false;
}

function inArgs(a: Args, soft: boolean, ctx: Checks): Unknown | null {
  for (const x of [...a.args, ...a.kwargs.map((k) => k.value), a.starArgs, a.starKwargs]) {
    const u = inExpr(x, soft, ctx);
    if (u) return u;
  }
  return null;
}

function inExprs(xs: (Expr | null)[], soft: boolean, ctx: Checks): Unknown | null {
  for (const x of xs) {
    const u = inExpr(x, soft, ctx);
    if (u) return u;
  }
  return null;
}

function inExpr(e: Expr | null, soft: boolean, ctx: Checks): Unknown | null {
  if (!e) return null;
  switch (e.k) {
    case 'filter':
    case 'test': {
      const kind = e.k;
      if (!soft && !ctx.known(kind, e.name)) return { kind, name: e.name, line: e.line };
      return inExpr(e.node, soft, ctx) ?? inArgs(e, soft, ctx);
    }
    case 'cond':
      return inExprs([e.then, e.test, e.else_], true, ctx);
    case 'tuple':
    case 'list':
    case 'concat':
      return inExprs(e.items, soft, ctx);
    case 'dict':
      return inExprs([...e.keys, ...e.values], soft, ctx);
    case 'getattr':
      return inExpr(e.obj, soft, ctx);
    case 'getitem':
      return inExprs([e.obj, e.index], soft, ctx);
    case 'slice':
      return inExprs([e.start, e.stop, e.step], soft, ctx);
    case 'call':
      return inExpr(e.fn, soft, ctx) ?? inArgs(e, soft, ctx);
    case 'and':
    case 'or':
      if (shortCircuits(e, ctx.truth)) return null;
      return inExprs([e.left, e.right], soft, ctx);
    case 'bin':
      return inExprs([e.left, e.right], soft, ctx);
    case 'not':
    case 'neg':
    case 'pos':
      return inExpr(e.node, soft, ctx);
    case 'compare':
      if (shortCircuits(e, ctx.truth)) return null;
      return inExprs([e.first, ...e.ops.map((o) => o.expr)], soft, ctx);
    default:
      return null;
  }
}

function inStmt(s: Stmt, soft: boolean, ctx: Checks): Unknown | null {
  switch (s.k) {
    case 'output':
    case 'do':
      return inExpr(s.expr, soft, ctx);
    case 'if':
      for (const b of s.branches)
        for (const u of [inExpr(b.test, true, ctx), inBody(b.body, true, ctx)]) if (u) return u;
      return inBody(s.else_ ?? [], true, ctx);
    case 'for':
      return (
        inExpr(s.iter, soft, ctx) ??
        inExpr(s.cond, false, ctx) ??
        inBody(s.body, false, ctx) ??
        inBody(s.else_ ?? [], false, ctx)
      );
    case 'set':
      return inExpr(s.expr, soft, ctx);
    case 'setblock':
    case 'filterblock':
      return inExprs(s.filters, soft, ctx) ?? inBody(s.body, false, ctx);
    case 'macro':
      return (
        inExprs(
          s.params.map((p) => p.default),
          false,
          ctx,
        ) ?? inBody(s.body, false, ctx)
      );
    case 'callblock':
      return inExpr(s.call, soft, ctx) ?? inBody(s.caller.body, false, ctx);
    case 'with':
      return inExprs(s.values, soft, ctx) ?? inBody(s.body, false, ctx);
    case 'block':
      return inBody(s.body, false, ctx);
    case 'autoescape':
      return inExpr(s.expr, soft, ctx) ?? inBody(s.body, soft, ctx);
    default:
      return null;
  }
}

function inBody(body: Stmt[], soft: boolean, ctx: Checks): Unknown | null {
  for (const s of body) {
    const u = inStmt(s, soft, ctx);
    if (u) return u;
  }
  return null;
}

/** The first filter or test name Jinja2 would reject while compiling `body`, or null. */
export function unknownAtCompile(
  body: Stmt[],
  known: Known,
  truth: ConstTruth = () => null,
): Unknown | null {
  return inBody(body, false, { known, truth });
}
