/**
 * The renderer's entry point: a JinjaEnvironment parses template sources once into templates that
 * render many times, and exposes each file's top-level macros, docs and snapshot blocks.
 */
import type { MacroNode, Stmt } from './ast.js';
import { BUILTIN_FILTERS, wrapUserFunction } from './filters.js';
import { TemplateSyntaxError } from './errors.js';
import { parseTemplate, type ParsedTemplate } from './parser.js';
import { analyzeScopes } from './scoping.js';
import { unknownAtCompile } from './compile-checks.js';
import { constTruthOf, foldConstants } from './runtime/fold.js';
import {
  TemplateReference,
  frameFor,
  makeMacro,
  renderBody,
  type JinjaCallable,
} from './runtime/evaluate.js';
import {
  Frame,
  type Env,
  type FilterImpl,
  type JinjaFunction,
  type State,
} from './runtime/state.js';
import { BUILTIN_TESTS } from './tests.js';

/** Options of a JinjaEnvironment. */
export interface JinjaEnvironmentOptions {
  /** 'default' is Jinja2's Undefined (prints ''); 'strict' is StrictUndefined (any use raises). */
  undefinedMode?: 'default' | 'strict';
  /** Extra filters, called as `(value, ...args, Kwargs?)`; they override built-ins of that name. */
  filters?: Record<string, JinjaFunction>;
  /** Extra tests, called like filters; a truthy result passes. */
  tests?: Record<string, JinjaFunction>;
}

/** A parsed template, renderable many times. */
export interface JinjaTemplate {
  readonly file: string;
  /** Renders with these globals; async because globals may return Promises (run_query). */
  render(globals: Record<string, unknown>): Promise<string>;
  /** Top-level {% macro %}, {% test %} (as `test_x`) and {% materialization %} definitions. */
  readonly macros: ReadonlyMap<string, MacroDefinition>;
  /** {% docs name %}…{% enddocs %} blocks: name -> raw text. */
  readonly docs: ReadonlyMap<string, string>;
  /** {% snapshot name %}…{% endsnapshot %} blocks: name -> body renderable like a template. */
  readonly snapshots: ReadonlyMap<string, JinjaTemplate>;
}

/** A macro defined at the top level of a template file. */
export interface MacroDefinition {
  name: string;
  file: string;
  line: number;
  params: { name: string; hasDefault: boolean }[];
  /** A callable whose body runs with `globals` as its outer scope (the calling node's context). */
  bind(globals: Record<string, unknown>): JinjaCallable;
}

/** Parses templates with one set of filters, tests and undefined behaviour. */
export class JinjaEnvironment {
  private readonly env: Env;

  constructor(options: JinjaEnvironmentOptions = {}) {
    const filters = new Map<string, FilterImpl>(Object.entries(BUILTIN_FILTERS));
    for (const [name, fn] of Object.entries(options.filters ?? {}))
      filters.set(name, wrapUserFunction(fn));
    const tests = new Map<string, FilterImpl>(Object.entries(BUILTIN_TESTS));
    for (const [name, fn] of Object.entries(options.tests ?? {}))
      tests.set(name, wrapUserFunction(fn));
    this.env = { strict: options.undefinedMode === 'strict', filters, tests };
  }

  /** Parses once; throws TributaryError (code CONFIG) with location {file, line} on syntax errors. */
  parse(source: string, file: string): JinjaTemplate {
    const parsed = parseTemplate(source, file);
    analyzeScopes(parsed.body);
    // Jinja2 resolves filter and test names when it compiles (outside if-branches), so an
    // unknown one fails the parse; in a branch it fails when it runs (applyWith).
    const unknown = unknownAtCompile(
      parsed.body,
      (kind, name) => (kind === 'filter' ? this.env.filters : this.env.tests).has(name),
      constTruthOf(this.env),
    );
    if (unknown)
      throw new TemplateSyntaxError(
        `No ${unknown.kind} named '${unknown.name}'.`,
        file,
        unknown.line,
      );
    if (parsed.foldable) {
      // Folding a constant dict with an unhashable key fails Jinja2's compile.
      const err = foldConstants([parsed.body, ...parsed.snapshots.values()], this.env);
      if (err) throw new TemplateSyntaxError(err.message, file, err.line);
    }
    const macroNodes = new Map<string, MacroNode>();
    for (const m of parsed.macros) macroNodes.set(m.name, m);
    const snapshots = new Map<string, JinjaTemplate>();
    const tpl = new Template(this.env, file, parsed, parsed.body, macroNodes, snapshots);
    for (const [name, body] of parsed.snapshots)
      snapshots.set(name, new Template(this.env, file, parsed, body, macroNodes, new Map(), true));
    return tpl;
  }

  private readonly snippets = new Map<string, JinjaTemplate>();

  /**
   * parse(), remembered by file and source: a snippet rendered for node after node (a test's
   * arguments, a hook) is parsed once. Templates are never changed by rendering. A failed parse
   * is not remembered; past 10,000 snippets the memory starts over.
   */
  parseOnce(source: string, file: string): JinjaTemplate {
    const key = `${file}\u0000${source}`;
    let tpl = this.snippets.get(key);
    if (!tpl) {
      if (this.snippets.size >= 10_000) this.snippets.clear();
      tpl = this.parse(source, file);
      this.snippets.set(key, tpl);
    }
    return tpl;
  }
}

class Template implements JinjaTemplate {
  readonly macros: ReadonlyMap<string, MacroDefinition>;
  readonly docs: ReadonlyMap<string, string>;
  private readonly macroNodes: ReadonlyMap<string, MacroNode>;
  /** Set when the template is plain text, so rendering needs no evaluation. */
  private readonly constant: string | null;

  constructor(
    private readonly env: Env,
    readonly file: string,
    private readonly parsed: ParsedTemplate,
    private readonly body: Stmt[],
    macroNodes: ReadonlyMap<string, MacroNode>,
    readonly snapshots: ReadonlyMap<string, JinjaTemplate>,
    /** A snapshot body sees its file's macros wherever they are defined, as dbt provides them. */
    private readonly hoistMacros = false,
  ) {
    this.docs = parsed.docs;
    this.macroNodes = macroNodes;
    const defs = new Map<string, MacroDefinition>();
    for (const node of macroNodes.values())
      defs.set(node.name, new Definition(env, file, node, macroNodes));
    this.macros = defs;
    this.constant = body.every((s) => s.k === 'data')
      ? body.map((s) => (s as { text: string }).text).join('')
      : null;
  }

  render(globals: Record<string, unknown>): Promise<string> {
    if (this.constant !== null) return Promise.resolve(this.constant);
    const st: State = {
      env: this.env,
      file: this.file,
      macro: null,
      line: 1,
      globals,
      fallback: null,
      depth: 0,
      autoescape: false,
    };
    const root = frameFor(this.body, null, st);
    // Macros are assigned where they are defined, as in Jinja2; `self` reaches the blocks.
    root.vars.set('self', new TemplateReference(this.parsed.blocks, st, root));
    if (this.hoistMacros)
      for (const node of this.macroNodes.values())
        root.vars.set(node.name, makeMacro(node, root, st, false));
    return renderBody(this.body, root, st);
  }
}

class Definition implements MacroDefinition {
  readonly name: string;
  readonly line: number;
  readonly params: { name: string; hasDefault: boolean }[];

  constructor(
    private readonly env: Env,
    readonly file: string,
    private readonly node: MacroNode,
    private readonly siblings: ReadonlyMap<string, MacroNode>,
  ) {
    this.name = node.name;
    this.line = node.line;
    this.params = node.params.map((p) => ({ name: p.name, hasDefault: p.default !== null }));
  }

  bind(globals: Record<string, unknown>): JinjaCallable {
    const root = new Frame(null);
    const st: State = {
      env: this.env,
      file: this.file,
      macro: null,
      line: this.line,
      globals,
      fallback: null,
      depth: 0,
      autoescape: false,
    };
    // Same-file macros are made on first use only: dbt binds every macro for every node, and
    // the globals normally define them all anyway (dbt lets the context win, as here).
    const made = new Map<string, JinjaCallable>();
    const siblings = this.siblings;
    st.fallback = {
      get(name: string): unknown {
        let fn = made.get(name);
        if (!fn) {
          const node = siblings.get(name);
          if (!node) return undefined;
          fn = makeMacro(node, root, st, false);
          made.set(name, fn);
        }
        return fn;
      },
    };
    return makeMacro(this.node, root, st, false);
  }
}
