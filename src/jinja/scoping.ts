/**
 * Jinja2's compile-time scoping rule (idtracking.py) that a dynamic lookup misses: a name a
 * frame assigns (`{% set n %}`, a macro) without having read it first, at that frame's own
 * level, starts that frame as undefined rather than as the context's value, so a nested frame
 * (a loop body, a macro) that reads it before the assignment runs sees Undefined:
 * `{% for i in [1] %}{{ n }}{% endfor %}{% set n = 1 %}` prints nothing even when the context
 * has `n`. Assignments inside an if-branch resolve from the context instead, and a name some
 * enclosing frame refers to is that frame's variable. `predeclared(body)` lists such names for
 * the body of each frame (template, for body and else, macro, call, with, set and filter block).
 */
import type { Args, Expr, MacroNode, Stmt, Target } from './ast.js';

const PREDECLARED = new WeakMap<Stmt[], string[]>();

/** The names a frame running `body` starts as undefined; undefined (no array) when none. */
export function predeclared(body: Stmt[]): string[] | undefined {
  return PREDECLARED.get(body);
}

function argsNames(a: Args, out: Set<string>): void {
  for (const x of a.args) exprNames(x, out);
  for (const k of a.kwargs) exprNames(k.value, out);
  if (a.starArgs) exprNames(a.starArgs, out);
  if (a.starKwargs) exprNames(a.starKwargs, out);
}

/** Every name an expression reads. */
function exprNames(e: Expr | null, out: Set<string>): void {
  if (!e) return;
  switch (e.k) {
    case 'const':
      return;
    case 'name':
      out.add(e.name);
      return;
    case 'tuple':
    case 'list':
    case 'concat':
      for (const x of e.items) exprNames(x, out);
      return;
    case 'dict':
      for (const x of [...e.keys, ...e.values]) exprNames(x, out);
      return;
    case 'getattr':
      return exprNames(e.obj, out);
    case 'getitem':
      exprNames(e.obj, out);
      return exprNames(e.index, out);
    case 'slice':
      exprNames(e.start, out);
      exprNames(e.stop, out);
      return exprNames(e.step, out);
    case 'call':
      exprNames(e.fn, out);
      return argsNames(e, out);
    case 'filter':
      exprNames(e.node, out);
      return argsNames(e, out);
    case 'test':
      exprNames(e.node, out);
      return argsNames(e, out);
    case 'bin':
    case 'and':
    case 'or':
      exprNames(e.left, out);
      return exprNames(e.right, out);
    case 'not':
    case 'neg':
    case 'pos':
      return exprNames(e.node, out);
    case 'compare':
      exprNames(e.first, out);
      for (const o of e.ops) exprNames(o.expr, out);
      return;
    case 'cond':
      exprNames(e.test, out);
      exprNames(e.then, out);
      return exprNames(e.else_, out);
  }
}

function targetNames(t: Target, out: string[]): void {
  if (t.k === 'name') out.push(t.name);
  else if (t.k === 'tuple') for (const x of t.items) targetNames(x, out);
}

function macroParams(m: MacroNode): string[] {
  return [...m.params.map((p) => p.name), 'varargs', 'kwargs', 'caller'];
}

interface Level {
  refs: Set<string>;
  candidates: string[];
  nested: { body: Stmt[]; params: string[] }[];
}

function load(level: Level, e: Expr | null): void {
  exprNames(e, level.refs);
}

function store(level: Level, names: string[], inBranch: boolean): void {
  for (const n of names) {
    if (!level.refs.has(n) && !inBranch) level.candidates.push(n);
    level.refs.add(n);
  }
}

/** One statement at a frame's own level; nested frames are queued for later. */
function visit(s: Stmt, level: Level, inBranch: boolean): void {
  switch (s.k) {
    case 'output':
    case 'do':
      return load(level, s.expr);
    case 'if':
      load(level, s.branches[0]!.test);
      s.branches.forEach((b, i) => {
        if (i > 0) load(level, b.test);
        for (const x of b.body) visit(x, level, true);
      });
      for (const x of s.else_ ?? []) visit(x, level, true);
      return;
    case 'for': {
      load(level, s.iter);
      const params: string[] = ['loop'];
      targetNames(s.target, params);
      level.nested.push({ body: s.body, params });
      if (s.else_) level.nested.push({ body: s.else_, params: [] });
      return;
    }
    case 'set': {
      load(level, s.expr);
      if (s.target.k === 'nsattr') return void level.refs.add(s.target.name);
      const names: string[] = [];
      targetNames(s.target, names);
      return store(level, names, inBranch);
    }
    case 'setblock': {
      level.nested.push({ body: s.body, params: [] });
      if (s.target.k === 'nsattr') return void level.refs.add(s.target.name);
      const names: string[] = [];
      targetNames(s.target, names);
      return store(level, names, inBranch);
    }
    case 'macro':
      level.nested.push({ body: s.body, params: macroParams(s) });
      return store(level, [s.name], inBranch);
    case 'callblock':
      load(level, s.call);
      level.nested.push({ body: s.caller.body, params: macroParams(s.caller) });
      return;
    case 'filterblock':
      for (const f of s.filters) load(level, f);
      level.nested.push({ body: s.body, params: [] });
      return;
    case 'with': {
      for (const v of s.values) load(level, v);
      const params: string[] = [];
      for (const t of s.targets) targetNames(t, params);
      level.nested.push({ body: s.body, params });
      return;
    }
    case 'block':
      level.nested.push({ body: s.body, params: [] });
      return;
    case 'autoescape':
      // Jinja2 wraps the body in a Scope: an inner frame, as `with` makes.
      load(level, s.expr);
      level.nested.push({ body: s.body, params: [] });
      return;
  }
}

/** Analyses a template's body and, through it, every frame nested in it. */
export function analyzeScopes(body: Stmt[]): void {
  const queue: { body: Stmt[]; params: string[]; outer: Set<string>[] }[] = [
    { body, params: [], outer: [] },
  ];
  for (let item = queue.pop(); item; item = queue.pop()) {
    const level: Level = { refs: new Set(item.params), candidates: [], nested: [] };
    for (const s of item.body) visit(s, level, false);
    const outer = item.outer;
    const names = level.candidates.filter((n) => !outer.some((refs) => refs.has(n)));
    if (names.length) PREDECLARED.set(item.body, names);
    for (const n of level.nested) queue.push({ ...n, outer: [...outer, level.refs] });
  }
}
