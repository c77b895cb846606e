/**
 * The syntax tree a template parses into once and renders many times. Nodes are plain
 * immutable objects tagged by `k`, so the evaluator can switch on them without dispatch.
 */

export type Expr =
  | { k: 'const'; value: unknown }
  | { k: 'name'; name: string; line: number }
  | { k: 'tuple'; items: Expr[] }
  | { k: 'list'; items: Expr[] }
  | { k: 'dict'; keys: Expr[]; values: Expr[] }
  | { k: 'getattr'; obj: Expr; attr: string; line: number }
  | { k: 'getitem'; obj: Expr; index: Expr; line: number }
  /**
   * `lenient`: a slice of a constant that Jinja2 folds while compiling, where the sandbox's
   * getitem gives Undefined for what has no slices (runtime/fold.ts); set after parsing.
   */
  | { k: 'slice'; start: Expr | null; stop: Expr | null; step: Expr | null; lenient: boolean }
  | ({ k: 'call'; fn: Expr; line: number } & Args)
  | ({ k: 'filter'; node: Expr | null; name: string; line: number } & Args)
  | ({ k: 'test'; node: Expr; name: string; negate: boolean; line: number } & Args)
  | { k: 'bin'; op: string; left: Expr; right: Expr; line: number }
  | { k: 'and' | 'or'; left: Expr; right: Expr }
  | { k: 'not'; node: Expr }
  | { k: 'neg' | 'pos'; node: Expr; line: number }
  | { k: 'compare'; first: Expr; ops: { op: string; expr: Expr }[]; line: number }
  | { k: 'cond'; test: Expr; then: Expr; else_: Expr | null; line: number }
  /** `constant`: every operand is known when parsing, so Jinja2 folds it to a plain str. */
  | { k: 'concat'; items: Expr[]; line: number; constant?: boolean };

/** Call arguments: positional, keyword, and the optional `*args` / `**kwargs` spreads. */
export interface Args {
  args: Expr[];
  kwargs: { name: string; value: Expr }[];
  starArgs: Expr | null;
  starKwargs: Expr | null;
}

/** An assignment target: `x`, `a, b`, or `ns.attr`. */
export type Target =
  | { k: 'name'; name: string }
  | { k: 'tuple'; items: Target[] }
  | { k: 'nsattr'; name: string; attr: string };

/** A macro, test, materialization or call-block signature and body. */
export interface MacroNode {
  k: 'macro';
  name: string;
  params: { name: string; default: Expr | null }[];
  body: Stmt[];
  line: number;
  /** Whether the body mentions `varargs`, `kwargs`, `caller` (Jinja2 decides this statically). */
  catchVarargs: boolean;
  catchKwargs: boolean;
  callerRef: boolean;
}

export type Stmt =
  | { k: 'data'; text: string }
  | { k: 'output'; expr: Expr; line: number }
  | { k: 'if'; branches: { test: Expr; body: Stmt[] }[]; else_: Stmt[] | null; line: number }
  | {
      k: 'for';
      target: Target;
      iter: Expr;
      cond: Expr | null;
      body: Stmt[];
      else_: Stmt[] | null;
      /** `{% for … recursive %}`: the body can call `loop(items)` to render nested items. */
      recursive: boolean;
      line: number;
    }
  | { k: 'set'; target: Target; expr: Expr; line: number }
  | { k: 'setblock'; target: Target; filters: Expr[]; body: Stmt[]; line: number }
  | MacroNode
  | BlockNode
  | { k: 'callblock'; call: Expr; caller: MacroNode; line: number }
  | { k: 'filterblock'; filters: Expr[]; body: Stmt[]; line: number }
  | { k: 'with'; targets: Target[]; values: Expr[]; body: Stmt[]; line: number }
  | { k: 'do'; expr: Expr; line: number }
  | { k: 'break' | 'continue'; line: number }
  /** extends/include/import/from: dbt's environment has no loader, so rendering them fails. */
  | { k: 'noloader'; line: number }
  | { k: 'autoescape'; expr: Expr; body: Stmt[]; line: number }
  | { k: 'noop' };

/** `{% block name %}`: renders in place; `self.name()` renders it again. */
export interface BlockNode {
  k: 'block';
  name: string;
  /** Without `scoped` the block sees only the template's top-level variables, as in Jinja2. */
  scoped: boolean;
  required: boolean;
  body: Stmt[];
  line: number;
}
