/**
 * Jinja2's parser: tokens to the syntax tree, following jinja2/parser.py's grammar and operator
 * precedence (left-associative `**`, filters binding tighter than `~`, tests via `is`), plus the
 * tags dbt registers: do, break/continue, test, materialization, docs and snapshot.
 */
import type { Args, BlockNode, Expr, MacroNode, Stmt, Target } from './ast.js';
import { TemplateSyntaxError } from './errors.js';
import { normalizeSource, tokenize, type Token } from './lexer.js';
import { mkFloat } from './values.js';

/** What parsing a template yields. */
export interface ParsedTemplate {
  body: Stmt[];
  /** Top-level macros by their registered name (`test_x`, `materialization_x_default`). */
  macros: MacroNode[];
  docs: Map<string, string>;
  snapshots: Map<string, Stmt[]>;
  /** `{% block %}`s by name, for `self.name()`. */
  blocks: Map<string, BlockNode>;
  /**
   * Whether Jinja2's constant folding would show (runtime/fold.ts): a dict literal with a
   * computed constant key, or a slice of a constant.
   */
  foldable: boolean;
}

/** Filters Jinja2 cannot fold at compile time: they take the render context. */
export const CONTEXT_FILTERS = new Set([
  'map',
  'select',
  'reject',
  'selectattr',
  'rejectattr',
  'random',
]);

/**
 * Whether Jinja2's optimizer may fold an expression to a constant when compiling (nodes.py
 * `as_const`; runtime/fold.ts decides): literals, operators over them, filters and tests of them that do not take the
 * context. Calls and names never fold.
 */
function isConstant(e: Expr | null): boolean {
  if (!e) return true;
  switch (e.k) {
    case 'const':
      return true;
    case 'tuple':
    case 'list':
    case 'concat':
      return e.items.every(isConstant);
    case 'dict':
      return e.keys.every(isConstant) && e.values.every(isConstant);
    case 'getattr':
    case 'not':
    case 'neg':
    case 'pos':
      return isConstant(e.k === 'getattr' ? e.obj : e.node);
    case 'getitem':
      return isConstant(e.obj) && isConstant(e.index);
    case 'slice':
      return isConstant(e.start) && isConstant(e.stop) && isConstant(e.step);
    case 'bin':
      return isConstant(e.left) && isConstant(e.right);
    case 'and':
    case 'or':
      // A constant left side that decides the result folds without the right one.
      return isConstant(e.left);
    case 'compare':
      return isConstant(e.first) && e.ops.every((o) => isConstant(o.expr));
    case 'cond':
      // Only the branch the constant test picks has to fold.
      return isConstant(e.test) && (isConstant(e.then) || isConstant(e.else_));
    case 'filter':
    case 'test':
      return (
        !(e.k === 'filter' && CONTEXT_FILTERS.has(e.name)) &&
        isConstant(e.node) &&
        e.args.every(isConstant) &&
        e.kwargs.every((k) => isConstant(k.value)) &&
        !e.starArgs &&
        !e.starKwargs
      );
    default:
      return false;
  }
}

const COMPARE_OPS = new Set(['==', '!=', '<', '>', '<=', '>=']);
const END_TAGS: Record<string, string> = {
  for: 'endfor',
  if: 'endif',
  macro: 'endmacro',
  call: 'endcall',
  filter: 'endfilter',
  set: 'endset',
  with: 'endwith',
  autoescape: 'endautoescape',
  test: 'endtest',
  materialization: 'endmaterialization',
  docs: 'enddocs',
  snapshot: 'endsnapshot',
};
const LOADER_TAGS = new Set(['extends', 'include', 'import', 'from']);

/** Parses a template source into its syntax tree; throws TemplateSyntaxError with a line. */
export function parseTemplate(source: string, file: string): ParsedTemplate {
  const src = normalizeSource(source);
  const tokens = tokenize(src, file);
  return new Parser(tokens, src, file).parseTemplate();
}

class Parser {
  private i = 0;
  private cur: Token;
  private readonly nameSinks: Set<string>[] = [];
  private readonly macros: MacroNode[] = [];
  private readonly docs = new Map<string, string>();
  private readonly snapshots = new Map<string, Stmt[]>();
  private depth = 0;
  /** Loops enclosing the current statement within the current macro (break/continue need one). */
  private loopDepth = 0;
  private lastBlockBegin: Token | null = null;
  private readonly blocks = new Map<string, BlockNode>();
  private foldable = false;

  constructor(
    private readonly tokens: Token[],
    private readonly src: string,
    private readonly file: string,
  ) {
    this.cur = tokens[0]!;
  }

  parseTemplate(): ParsedTemplate {
    const body = this.parseBody([], null);
    return {
      body,
      macros: this.macros,
      docs: this.docs,
      snapshots: this.snapshots,
      blocks: this.blocks,
      foldable: this.foldable,
    };
  }

  // --- token stream helpers -----------------------------------------------------------------

  private next(): Token {
    const t = this.cur;
    if (this.i < this.tokens.length - 1) this.cur = this.tokens[++this.i]!;
    return t;
  }

  private fail(message: string, line = this.cur.line): never {
    throw new TemplateSyntaxError(message, this.file, line);
  }

  private isOp(value: string): boolean {
    return this.cur.type === 'op' && this.cur.value === value;
  }

  private isName(value: string): boolean {
    return this.cur.type === 'name' && this.cur.value === value;
  }

  private skipOp(value: string): boolean {
    if (!this.isOp(value)) return false;
    this.next();
    return true;
  }

  /** A token as jinja2's "expected token …, got …" messages name it. */
  private describeJinja(t: Token): string {
    if (t.type === 'op' || t.type === 'name') return `'${String(t.value)}'`;
    if (t.type === 'block_end') return "'end of statement block'";
    return `'${t.type}'`;
  }

  private describe(t: Token): string {
    switch (t.type) {
      case 'eof':
        return 'end of template';
      case 'block_end':
        return "end of statement block ('%}')";
      case 'var_end':
        return "end of print statement ('}}')";
      case 'string':
        return `string ${JSON.stringify(t.value)}`;
      default:
        return `'${String(t.value)}'`;
    }
  }

  private expectOp(value: string): Token {
    if (!this.isOp(value)) this.fail(`expected '${value}', got ${this.describe(this.cur)}`);
    return this.next();
  }

  private expectName(): string {
    if (this.cur.type !== 'name') this.fail(`expected a name, got ${this.describe(this.cur)}`);
    return this.next().value as string;
  }

  private expectBlockEnd(): Token {
    if (this.cur.type !== 'block_end')
      this.fail(`expected end of statement block ('%}'), got ${this.describe(this.cur)}`);
    return this.next();
  }

  // --- statements -----------------------------------------------------------------------------

  /**
   * Parses template content until a `{% name %}` tag whose name is in `ends`; leaves the stream on
   * that name. `opener` names the block being closed, for the unclosed-block message.
   */
  private parseBody(ends: string[], opener: { tag: string; line: number } | null): Stmt[] {
    const body: Stmt[] = [];
    for (;;) {
      const t = this.cur;
      switch (t.type) {
        case 'data':
          body.push({ k: 'data', text: t.value as string });
          this.next();
          break;
        case 'var_begin': {
          this.next();
          const expr = this.parseTuple(true);
          if (this.cur.type !== 'var_end')
            this.fail(`expected end of print statement ('}}'), got ${this.describe(this.cur)}`);
          this.next();
          body.push({ k: 'output', expr, line: t.line });
          break;
        }
        case 'block_begin': {
          this.lastBlockBegin = t;
          this.next();
          if (this.cur.type !== 'name')
            this.fail(`expected a tag name, got ${this.describe(this.cur)}`);
          const name = this.cur.value as string;
          if (ends.includes(name)) return body;
          body.push(this.parseStatement(ends, opener));
          break;
        }
        case 'eof':
          if (opener)
            this.fail(
              `unexpected end of template: the '${opener.tag}' block opened on line ${opener.line} is never closed (expected ${ends.map((e) => `'{% ${e} %}'`).join(' or ')})`,
              opener.line,
            );
          return body;
        default:
          this.fail(`unexpected ${this.describe(t)}`);
      }
    }
  }

  private parseStatement(ends: string[], opener: { tag: string; line: number } | null): Stmt {
    const tok = this.cur;
    const tag = tok.value as string;
    const line = tok.line;
    switch (tag) {
      case 'for':
        return this.parseFor(line);
      case 'if':
        return this.parseIf(line);
      case 'set':
        return this.parseSet(line);
      case 'macro':
      case 'test':
      case 'materialization':
        return this.parseMacroTag(tag, line);
      case 'call':
        return this.parseCallBlock(line);
      case 'filter':
        return this.parseFilterBlock(line);
      case 'with':
        return this.parseWith(line);
      case 'do': {
        this.next();
        const expr = this.parseTuple(true);
        this.expectBlockEnd();
        return { k: 'do', expr, line };
      }
      case 'break':
      case 'continue':
        // Jinja2 compiles these to Python's break/continue, which Python rejects outside a loop.
        if (this.loopDepth === 0)
          this.fail(tag === 'break' ? "'break' outside loop" : "'continue' not properly in loop");
        this.next();
        this.expectBlockEnd();
        return { k: tag, line };
      case 'block':
        return this.parseBlock(line);
      case 'autoescape': {
        this.next();
        const expr = this.parseExpression(true);
        this.expectBlockEnd();
        const body = this.parseBody(['endautoescape'], { tag: 'autoescape', line });
        this.endTag();
        return { k: 'autoescape', expr, body, line };
      }
      case 'docs':
        return this.parseDocs(line);
      case 'snapshot':
        return this.parseSnapshot(line);
    }
    if (LOADER_TAGS.has(tag)) {
      // Parsed (their expressions must be valid), then fail when rendered, as in dbt's Jinja2.
      this.next();
      while (this.cur.type !== 'block_end' && this.cur.type !== 'eof') this.next();
      this.expectBlockEnd();
      return { k: 'noloader', line };
    }
    if (opener)
      this.fail(
        `unexpected '{% ${tag} %}': the innermost open block is '${opener.tag}' from line ${opener.line}, which expects ${ends.map((e) => `'{% ${e} %}'`).join(' or ')}`,
      );
    const closes = Object.entries(END_TAGS).find(([, end]) => end === tag);
    if (closes) this.fail(`unexpected '{% ${tag} %}' with no open '${closes[0]}' block`);
    if (tag === 'else' || tag === 'elif')
      this.fail(`unexpected '{% ${tag} %}' outside an if or for block`);
    this.fail(`encountered unknown tag '${tag}'`);
  }

  /** Consumes `{% end… %}` after parseBody stopped on it. */
  private endTag(): void {
    this.next();
    this.expectBlockEnd();
  }

  private parseFor(line: number): Stmt {
    this.next();
    const target = this.parseAssignTarget(['in']);
    if (!this.isName('in')) this.fail(`expected 'in' in for loop, got ${this.describe(this.cur)}`);
    this.next();
    const iter = this.parseTuple(false, ['recursive']);
    let cond: Expr | null = null;
    if (this.isName('if')) {
      this.next();
      cond = this.parseExpression(true);
    }
    const recursive = this.isName('recursive');
    if (recursive) this.next();
    this.expectBlockEnd();
    const opener = { tag: 'for', line };
    this.loopDepth++;
    const body = this.parseBody(['endfor', 'else'], opener);
    this.loopDepth--;
    let else_: Stmt[] | null = null;
    if (this.isName('else')) {
      this.endTag();
      else_ = this.parseBody(['endfor'], opener);
    }
    this.endTag();
    return { k: 'for', target, iter, cond, body, else_, recursive, line };
  }

  private parseIf(line: number): Stmt {
    this.next();
    const branches: { test: Expr; body: Stmt[] }[] = [];
    let test = this.parseTuple(false);
    this.expectBlockEnd();
    const opener = { tag: 'if', line };
    for (;;) {
      const body = this.parseBody(['elif', 'else', 'endif'], opener);
      branches.push({ test, body });
      if (this.isName('elif')) {
        this.next();
        test = this.parseTuple(false);
        this.expectBlockEnd();
        continue;
      }
      if (this.isName('else')) {
        this.endTag();
        const else_ = this.parseBody(['endif'], opener);
        this.endTag();
        return { k: 'if', branches, else_, line };
      }
      this.endTag();
      return { k: 'if', branches, else_: null, line };
    }
  }

  private parseSet(line: number): Stmt {
    this.next();
    const target = this.parseAssignTarget([], true);
    if (this.loopDepth > 0 && target.k === 'name' && target.name === 'loop')
      this.fail("Can't assign to special loop variable in for-loop target");
    if (this.skipOp('=')) {
      const expr = this.parseTuple(true);
      this.expectBlockEnd();
      return { k: 'set', target, expr, line };
    }
    const filters: Expr[] = [];
    while (this.isOp('|')) filters.push(this.parseFilter(null));
    this.expectBlockEnd();
    const body = this.parseBody(['endset'], { tag: 'set', line });
    this.endTag();
    return { k: 'setblock', target, filters, body, line };
  }

  private parseMacroTag(tag: string, line: number): Stmt {
    this.next();
    let name = this.expectName();
    let params: MacroNode['params'];
    const sink = new Set<string>();
    this.nameSinks.push(sink);
    if (tag === 'materialization') {
      // {% materialization name, default | adapter='x' [, supported_languages=[...]] %}
      let adapter = 'default';
      let languages: Expr = { k: 'list', items: [{ k: 'const', value: 'sql' }] };
      while (this.skipOp(',')) {
        const key = this.expectName();
        if (key === 'default') continue;
        this.expectOp('=');
        const value = this.parseExpression(true);
        if (key === 'adapter') {
          if (value.k !== 'const' || typeof value.value !== 'string')
            this.fail('the adapter of a materialization must be a string literal');
          adapter = value.value;
        } else if (key === 'supported_languages') languages = value;
        else this.fail(`unexpected argument '${key}' to materialization '${name}'`);
      }
      name = `materialization_${name}_${adapter}`;
      params = [{ name: 'supported_languages', default: languages }];
    } else {
      params = this.parseSignature();
      if (tag === 'test') name = `test_${name}`;
    }
    this.expectBlockEnd();
    this.depth++;
    const outerLoops = this.loopDepth;
    this.loopDepth = 0;
    const body = this.parseBody([END_TAGS[tag]!], { tag, line });
    this.loopDepth = outerLoops;
    this.depth--;
    this.endTag();
    this.nameSinks.pop();
    const node: MacroNode = {
      k: 'macro',
      name,
      params,
      body,
      line,
      catchVarargs: sink.has('varargs'),
      catchKwargs: sink.has('kwargs'),
      callerRef: sink.has('caller'),
    };
    if (this.depth === 0) this.macros.push(node);
    return node;
  }

  /** `(a, b=1, c=none)` — names with optional defaults. */
  private parseSignature(): MacroNode['params'] {
    const params: MacroNode['params'] = [];
    this.expectOp('(');
    // As jinja2's parse_signature: a comma must be followed by another name (no trailing comma).
    while (!this.isOp(')')) {
      if (params.length) this.expectOp(',');
      if (this.cur.type !== 'name')
        this.fail(`expected token 'name', got ${this.describeJinja(this.cur)}`);
      const name = this.expectName();
      let dflt: Expr | null = null;
      if (this.skipOp('=')) dflt = this.parseExpression(true);
      else if (params.some((p) => p.default))
        this.fail('non-default argument follows default argument');
      if (params.some((p) => p.name === name)) this.fail(`duplicate argument '${name}'`);
      if (name === 'caller' && !dflt)
        this.fail(
          'When defining macros or call blocks the special "caller" argument must be omitted or be given a default.',
        );
      params.push({ name, default: dflt });
    }
    this.expectOp(')');
    return params;
  }

  private parseCallBlock(line: number): Stmt {
    this.next();
    const sink = new Set<string>();
    const params = this.isOp('(') ? this.parseSignature() : [];
    const call = this.parseExpression(true);
    if (call.k !== 'call') this.fail('expected a call after {% call %}');
    this.expectBlockEnd();
    this.nameSinks.push(sink);
    this.depth++;
    const outerLoops = this.loopDepth;
    this.loopDepth = 0;
    const body = this.parseBody(['endcall'], { tag: 'call', line });
    this.loopDepth = outerLoops;
    this.depth--;
    this.nameSinks.pop();
    this.endTag();
    const caller: MacroNode = {
      k: 'macro',
      name: 'caller',
      params,
      body,
      line,
      catchVarargs: sink.has('varargs'),
      catchKwargs: sink.has('kwargs'),
      callerRef: sink.has('caller'),
    };
    return { k: 'callblock', call, caller, line };
  }

  private parseFilterBlock(line: number): Stmt {
    this.next();
    const filters: Expr[] = [this.parseFilter(null, false)];
    while (this.isOp('|')) filters.push(this.parseFilter(null));
    this.expectBlockEnd();
    const body = this.parseBody(['endfilter'], { tag: 'filter', line });
    this.endTag();
    return { k: 'filterblock', filters, body, line };
  }

  private parseWith(line: number): Stmt {
    this.next();
    const targets: Target[] = [];
    const values: Expr[] = [];
    while (this.cur.type !== 'block_end') {
      if (targets.length) this.expectOp(',');
      targets.push(this.parseAssignTarget([]));
      this.expectOp('=');
      values.push(this.parseExpression(true));
    }
    this.expectBlockEnd();
    const body = this.parseBody(['endwith'], { tag: 'with', line });
    this.endTag();
    return { k: 'with', targets, values, body, line };
  }

  private parseDocs(line: number): Stmt {
    this.next();
    const name = this.expectName();
    const open = this.expectBlockEnd();
    this.depth++;
    this.parseBody(['enddocs'], { tag: 'docs', line });
    this.depth--;
    const closeAt = this.lastBlockBegin!.pos;
    this.endTag();
    this.docs.set(name, this.src.slice(open.end, closeAt));
    return { k: 'noop' };
  }

  /**
   * `{% block name [scoped] [required] %}…{% endblock [name] %}`. Rendered standalone (no
   * `extends`), a block renders in place, and `self.name()` renders it again.
   */
  private parseBlock(line: number): Stmt {
    this.next();
    const name = this.expectName();
    let scoped = false;
    let required = false;
    while (this.isName('scoped') || this.isName('required')) {
      if (this.isName('scoped')) scoped = true;
      else required = true;
      this.next();
    }
    this.expectBlockEnd();
    if (this.blocks.has(name)) this.fail(`block '${name}' defined twice`);
    const outerLoops = this.loopDepth;
    this.loopDepth = 0;
    const body = this.parseBody(['endblock'], { tag: 'block', line });
    this.loopDepth = outerLoops;
    this.next();
    if (this.cur.type === 'name') {
      const end = this.next().value as string;
      if (end !== name) this.fail(`mismatching name in endblock: expected '${name}', got '${end}'`);
    }
    this.expectBlockEnd();
    if (required && body.some((s) => s.k !== 'data' || s.text.trim()))
      this.fail('Required blocks can only contain comments or whitespace');
    const node: BlockNode = { k: 'block', name, scoped, required, body, line };
    this.blocks.set(name, node);
    return node;
  }

  private parseSnapshot(line: number): Stmt {
    this.next();
    const name = this.expectName();
    this.expectBlockEnd();
    this.depth++;
    const body = this.parseBody(['endsnapshot'], { tag: 'snapshot', line });
    this.depth--;
    this.endTag();
    this.snapshots.set(name, body);
    return { k: 'noop' };
  }

  /** `x`, `a, b`, `(a, b)`, or with `withNamespace`, `ns.attr`. */
  private parseAssignTarget(extraEnd: string[], withNamespace = false): Target {
    const parseOne = (): Target => {
      if (this.skipOp('(')) {
        const t = this.parseTargetList(extraEnd, ')');
        this.expectOp(')');
        return t;
      }
      const line = this.cur.line;
      const name = this.expectName();
      if (withNamespace && this.skipOp('.')) return { k: 'nsattr', name, attr: this.expectName() };
      if (['true', 'false', 'none', 'True', 'False', 'None'].includes(name))
        this.fail(`can't assign to keyword '${name}'`, line);
      return { k: 'name', name };
    };
    const first = parseOne();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.skipOp(',')) {
      if (
        this.cur.type === 'block_end' ||
        this.isOp('=') ||
        (this.cur.type === 'name' && extraEnd.includes(this.cur.value as string))
      )
        break;
      items.push(parseOne());
    }
    return { k: 'tuple', items };
  }

  private parseTargetList(extraEnd: string[], close: string): Target {
    const items: Target[] = [];
    while (!this.isOp(close)) {
      if (items.length) this.expectOp(',');
      if (this.isOp(close)) break;
      items.push(this.parseAssignTarget([...extraEnd, close]));
    }
    return items.length === 1 ? items[0]! : { k: 'tuple', items };
  }

  // --- expressions ---------------------------------------------------------------------------

  /** An expression or an unparenthesised tuple (`1, 2`), as `{{ }}` and `set` accept. */
  private parseTuple(withCondexpr: boolean, extraEnd: string[] = [], explicitParens = false): Expr {
    const items: Expr[] = [];
    let isTuple = false;
    for (;;) {
      if (items.length) this.expectOp(',');
      if (this.isTupleEnd(extraEnd)) break;
      items.push(withCondexpr ? this.parseExpression(true) : this.parseOr());
      if (this.isOp(',')) isTuple = true;
      else break;
    }
    if (!isTuple) {
      if (items.length) return items[0]!;
      if (!explicitParens) this.fail(`expected an expression, got ${this.describe(this.cur)}`);
    }
    return { k: 'tuple', items };
  }

  private isTupleEnd(extraEnd: string[]): boolean {
    const t = this.cur;
    if (t.type === 'var_end' || t.type === 'block_end' || t.type === 'eof') return true;
    if (
      t.type === 'op' &&
      (t.value === ')' || t.value === ']' || t.value === '}' || t.value === '=')
    )
      return true;
    return t.type === 'name' && extraEnd.includes(t.value as string);
  }

  private parseExpression(withCondexpr: boolean): Expr {
    return withCondexpr ? this.parseCondexpr() : this.parseOr();
  }

  private parseCondexpr(): Expr {
    const line = this.cur.line;
    let expr = this.parseOr();
    while (this.isName('if')) {
      this.next();
      const test = this.parseOr();
      let else_: Expr | null = null;
      if (this.isName('else')) {
        this.next();
        else_ = this.parseCondexpr();
      }
      expr = { k: 'cond', test, then: expr, else_, line };
    }
    return expr;
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isName('or')) {
      this.next();
      left = { k: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isName('and')) {
      this.next();
      left = { k: 'and', left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isName('not')) {
      this.next();
      return { k: 'not', node: this.parseNot() };
    }
    return this.parseCompare();
  }

  private parseCompare(): Expr {
    const line = this.cur.line;
    const first = this.parseMath1();
    const ops: { op: string; expr: Expr }[] = [];
    for (;;) {
      const t = this.cur;
      if (t.type === 'op' && COMPARE_OPS.has(t.value as string)) {
        this.next();
        ops.push({ op: t.value as string, expr: this.parseMath1() });
      } else if (this.isName('in')) {
        this.next();
        ops.push({ op: 'in', expr: this.parseMath1() });
      } else if (
        this.isName('not') &&
        this.tokens[this.i + 1]?.type === 'name' &&
        this.tokens[this.i + 1]?.value === 'in'
      ) {
        this.next();
        this.next();
        ops.push({ op: 'notin', expr: this.parseMath1() });
      } else break;
    }
    return ops.length ? { k: 'compare', first, ops, line } : first;
  }

  private parseMath1(): Expr {
    let left = this.parseConcat();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = { k: 'bin', op: t.value as string, left, right: this.parseConcat(), line: t.line };
    }
    return left;
  }

  private parseConcat(): Expr {
    const line = this.cur.line;
    const items = [this.parseMath2()];
    while (this.skipOp('~')) items.push(this.parseMath2());
    if (items.length === 1) return items[0]!;
    return { k: 'concat', items, line, constant: items.every(isConstant) };
  }

  private parseMath2(): Expr {
    let left = this.parsePow();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const t = this.next();
      left = { k: 'bin', op: t.value as string, left, right: this.parsePow(), line: t.line };
    }
    return left;
  }

  private parsePow(): Expr {
    let left = this.parseUnary(true);
    while (this.isOp('**')) {
      const t = this.next();
      left = { k: 'bin', op: '**', left, right: this.parseUnary(true), line: t.line };
    }
    return left;
  }

  private parseUnary(withFilter: boolean): Expr {
    const t = this.cur;
    let node: Expr;
    if (this.isOp('-')) {
      this.next();
      node = { k: 'neg', node: this.parseUnary(false), line: t.line };
    } else if (this.isOp('+')) {
      this.next();
      node = { k: 'pos', node: this.parseUnary(false), line: t.line };
    } else node = this.parsePrimary();
    node = this.parsePostfix(node);
    if (withFilter) node = this.parseFilterExpr(node);
    return node;
  }

  private parsePrimary(): Expr {
    const t = this.cur;
    switch (t.type) {
      case 'name': {
        this.next();
        const v = t.value as string;
        if (v === 'true' || v === 'True') return { k: 'const', value: true };
        if (v === 'false' || v === 'False') return { k: 'const', value: false };
        if (v === 'none' || v === 'None') return { k: 'const', value: null };
        for (const sink of this.nameSinks) sink.add(v);
        return { k: 'name', name: v, line: t.line };
      }
      case 'string': {
        this.next();
        let s = t.value as string;
        // Adjacent string literals concatenate, as in Python.
        while (this.cur.type === 'string') s += this.next().value as string;
        return { k: 'const', value: s };
      }
      case 'int':
        this.next();
        return { k: 'const', value: t.value };
      case 'float':
        this.next();
        return { k: 'const', value: mkFloat(t.value as number) };
      case 'op':
        if (t.value === '(') {
          this.next();
          const e = this.parseTuple(true, [], true);
          this.expectOp(')');
          return e;
        }
        if (t.value === '[') return this.parseList();
        if (t.value === '{') return this.parseDict();
    }
    this.fail(`unexpected ${this.describe(t)}`);
  }

  private parseList(): Expr {
    this.expectOp('[');
    const items: Expr[] = [];
    while (!this.isOp(']')) {
      if (items.length) this.expectOp(',');
      if (this.isOp(']')) break;
      items.push(this.parseExpression(true));
    }
    this.expectOp(']');
    return { k: 'list', items };
  }

  private parseDict(): Expr {
    this.expectOp('{');
    const keys: Expr[] = [];
    const values: Expr[] = [];
    while (!this.isOp('}')) {
      if (keys.length) this.expectOp(',');
      if (this.isOp('}')) break;
      const key = this.parseExpression(true);
      if (key.k !== 'const' && !this.foldable && isConstant(key)) this.foldable = true;
      keys.push(key);
      this.expectOp(':');
      values.push(this.parseExpression(true));
    }
    this.expectOp('}');
    return { k: 'dict', keys, values };
  }

  private parsePostfix(node: Expr): Expr {
    for (;;) {
      const t = this.cur;
      if (this.isOp('.')) {
        this.next();
        const a = this.cur;
        if (a.type === 'name') {
          this.next();
          node = { k: 'getattr', obj: node, attr: a.value as string, line: t.line };
        } else if (a.type === 'int') {
          this.next();
          node = { k: 'getitem', obj: node, index: { k: 'const', value: a.value }, line: t.line };
        } else this.fail(`expected a name after '.', got ${this.describe(a)}`);
      } else if (this.isOp('[')) {
        this.next();
        const items: Expr[] = [];
        while (!this.isOp(']')) {
          if (items.length) this.expectOp(',');
          items.push(this.parseSubscribed());
        }
        this.expectOp(']');
        const index = items.length === 1 ? items[0]! : { k: 'tuple' as const, items };
        if (index.k === 'slice' && !this.foldable && isConstant(node) && isConstant(index))
          this.foldable = true;
        node = { k: 'getitem', obj: node, index, line: t.line };
      } else if (this.isOp('(')) {
        node = { k: 'call', fn: node, line: t.line, ...this.parseCallArgs() };
      } else return node;
    }
  }

  private parseSubscribed(): Expr {
    let start: Expr | null = null;
    if (!this.isOp(':')) {
      start = this.parseExpression(true);
      if (!this.isOp(':')) return start;
    }
    this.next();
    let stop: Expr | null = null;
    let step: Expr | null = null;
    if (!this.isOp(']') && !this.isOp(',') && !this.isOp(':')) stop = this.parseExpression(true);
    if (this.skipOp(':')) {
      if (!this.isOp(']') && !this.isOp(',')) step = this.parseExpression(true);
    }
    return { k: 'slice', start, stop, step, lenient: false };
  }

  /**
   * Call arguments with Jinja2's ordering rules (parse_call_args: nothing after `**kw`, no
   * positional argument after a keyword or `*args`, one `*args`), and Python's: a keyword given
   * twice fails when Jinja2 compiles the template to Python, so it is a syntax error here too.
   */
  private parseCallArgs(): Args {
    const line = this.cur.line;
    this.expectOp('(');
    const ensure = (ok: boolean) => {
      if (!ok) this.fail('invalid syntax for function call expression', line);
    };
    const args: Expr[] = [];
    const kwargs: { name: string; value: Expr }[] = [];
    let starArgs: Expr | null = null;
    let starKwargs: Expr | null = null;
    let first = true;
    while (!this.isOp(')')) {
      if (!first) {
        this.expectOp(',');
        if (this.isOp(')')) break;
      }
      first = false;
      if (this.isOp('**')) {
        ensure(starKwargs === null);
        this.next();
        starKwargs = this.parseExpression(true);
      } else if (this.isOp('*')) {
        ensure(starArgs === null && starKwargs === null);
        this.next();
        starArgs = this.parseExpression(true);
      } else if (
        this.cur.type === 'name' &&
        this.tokens[this.i + 1]?.type === 'op' &&
        this.tokens[this.i + 1]?.value === '='
      ) {
        ensure(starKwargs === null);
        const name = this.next().value as string;
        this.next();
        if (kwargs.some((k) => k.name === name)) this.fail(`keyword argument repeated: ${name}`);
        kwargs.push({ name, value: this.parseExpression(true) });
      } else {
        ensure(starArgs === null && starKwargs === null && !kwargs.length);
        args.push(this.parseExpression(true));
      }
    }
    this.expectOp(')');
    return { args, kwargs, starArgs, starKwargs };
  }

  private parseFilterExpr(node: Expr): Expr {
    for (;;) {
      if (this.isOp('|')) node = this.parseFilter(node);
      else if (this.isName('is')) node = this.parseTest(node);
      else if (this.isOp('('))
        node = { k: 'call', fn: node, line: this.cur.line, ...this.parseCallArgs() };
      else return node;
    }
  }

  /** `|name(args)`; with `startInline` false the leading `|` is absent ({% filter upper %}). */
  private parseFilter(node: Expr | null, startInline = true): Expr {
    if (startInline) this.expectOp('|');
    const line = this.cur.line;
    let name = this.expectName();
    while (this.isOp('.')) {
      this.next();
      name += `.${this.expectName()}`;
    }
    const args: Args = this.isOp('(')
      ? this.parseCallArgs()
      : { args: [], kwargs: [], starArgs: null, starKwargs: null };
    return { k: 'filter', node, name, line, ...args };
  }

  private parseTest(node: Expr): Expr {
    const line = this.cur.line;
    this.next();
    let negate = false;
    if (this.isName('not')) {
      this.next();
      negate = true;
    }
    let name = this.expectName();
    while (this.isOp('.')) {
      this.next();
      name += `.${this.expectName()}`;
    }
    let args: Args = { args: [], kwargs: [], starArgs: null, starKwargs: null };
    const t = this.cur;
    if (this.isOp('(')) args = this.parseCallArgs();
    else if (
      t.type === 'string' ||
      t.type === 'int' ||
      t.type === 'float' ||
      (t.type === 'op' && (t.value === '[' || t.value === '{')) ||
      // As Jinja2's parse_test: any other name starts a bare argument, even `if`, `in`, `not`
      // or `recursive` (`x is defined if y else z` fails on `y`), and `is` cannot chain.
      (t.type === 'name' && !['else', 'or', 'and'].includes(t.value as string))
    ) {
      if (this.isName('is')) this.fail('You cannot chain multiple tests with is');
      const arg = this.parsePostfix(this.parsePrimary());
      args = { args: [arg], kwargs: [], starArgs: null, starKwargs: null };
    }
    return { k: 'test', node, name, negate, line, ...args };
  }
}
