/**
 * The Python signatures of Jinja2 3.1.6's built-in filters and tests, so calling one with an
 * argument Python would not bind (an unknown or repeated keyword, too many or too few positional
 * arguments) raises the TypeError Jinja2 raises, word for word. Generated from
 * `inspect.signature` of each function in jinja2's filters and tests tables: `@name` is the
 * environment/context argument Jinja2 passes itself (Python counts it in "N were given"), `x=`
 * has a default, `!f` is a C builtin (abs, len, operator.eq…) with CPython's terser messages.
 */
import { TemplateRuntimeError } from './values.js';

const FILTERS: Record<string, string> = {
  abs: '!abs(x)',
  attr: 'do_attr(@environment, obj, name)',
  batch: 'do_batch(value, linecount, fill_with=)',
  capitalize: 'do_capitalize(s)',
  center: 'do_center(value, width=)',
  count: '!len(obj)',
  d: 'do_default(value, default_value=, boolean=)',
  default: 'do_default(value, default_value=, boolean=)',
  dictsort: 'do_dictsort(value, case_sensitive=, by=, reverse=)',
  e: 'escape(s)',
  escape: 'escape(s)',
  filesizeformat: 'do_filesizeformat(value, binary=)',
  first: 'sync_do_first(@environment, seq)',
  float: 'do_float(value, default=)',
  forceescape: 'do_forceescape(value)',
  format: 'do_format(value, *args, **kwargs)',
  groupby: 'sync_do_groupby(@environment, value, attribute, default=, case_sensitive=)',
  indent: 'do_indent(s, width=, first=, blank=)',
  int: 'do_int(value, default=, base=)',
  items: 'do_items(value)',
  join: 'sync_do_join(@eval_ctx, value, d=, attribute=)',
  last: 'do_last(@environment, seq)',
  length: '!len(obj)',
  list: 'sync_do_list(value)',
  lower: 'do_lower(s)',
  map: 'sync_do_map(@context, value, *args, **kwargs)',
  max: 'do_max(@environment, value, case_sensitive=, attribute=)',
  min: 'do_min(@environment, value, case_sensitive=, attribute=)',
  pprint: 'do_pprint(value)',
  random: 'do_random(@context, seq)',
  reject: 'sync_do_reject(@context, value, *args, **kwargs)',
  rejectattr: 'sync_do_rejectattr(@context, value, *args, **kwargs)',
  replace: 'do_replace(@eval_ctx, s, old, new, count=)',
  reverse: 'do_reverse(value)',
  round: 'do_round(value, precision=, method=)',
  safe: 'do_mark_safe(value)',
  select: 'sync_do_select(@context, value, *args, **kwargs)',
  selectattr: 'sync_do_selectattr(@context, value, *args, **kwargs)',
  slice: 'sync_do_slice(value, slices, fill_with=)',
  sort: 'do_sort(@environment, value, reverse=, case_sensitive=, attribute=)',
  string: 'soft_str(s)',
  striptags: 'do_striptags(value)',
  sum: 'sync_do_sum(@environment, iterable, attribute=, start=)',
  title: 'do_title(s)',
  tojson: 'do_tojson(@eval_ctx, value, indent=)',
  trim: 'do_trim(value, chars=)',
  truncate: 'do_truncate(@env, s, length=, killwords=, end=, leeway=)',
  unique: 'sync_do_unique(@environment, value, case_sensitive=, attribute=)',
  upper: 'do_upper(s)',
  urlencode: 'do_urlencode(value)',
  urlize: 'do_urlize(@eval_ctx, value, trim_url_limit=, nofollow=, target=, rel=, extra_schemes=)',
  wordcount: 'do_wordcount(s)',
  wordwrap:
    'do_wordwrap(@environment, s, width=, break_long_words=, wrapstring=, break_on_hyphens=)',
  xmlattr: 'do_xmlattr(@eval_ctx, d, autospace=)',
};

const TESTS: Record<string, string> = {
  '!=': '!ne(a, b)',
  '<': '!lt(a, b)',
  '<=': '!le(a, b)',
  '==': '!eq(a, b)',
  '>': '!gt(a, b)',
  '>=': '!ge(a, b)',
  boolean: 'test_boolean(value)',
  callable: '!callable(obj)',
  defined: 'test_defined(value)',
  divisibleby: 'test_divisibleby(value, num)',
  eq: '!eq(a, b)',
  equalto: '!eq(a, b)',
  escaped: 'test_escaped(value)',
  even: 'test_even(value)',
  false: 'test_false(value)',
  filter: 'test_filter(@env, value)',
  float: 'test_float(value)',
  ge: '!ge(a, b)',
  greaterthan: '!gt(a, b)',
  gt: '!gt(a, b)',
  in: 'test_in(value, seq)',
  integer: 'test_integer(value)',
  iterable: 'test_iterable(value)',
  le: '!le(a, b)',
  lessthan: '!lt(a, b)',
  lower: 'test_lower(value)',
  lt: '!lt(a, b)',
  mapping: 'test_mapping(value)',
  ne: '!ne(a, b)',
  none: 'test_none(value)',
  number: 'test_number(value)',
  odd: 'test_odd(value)',
  sameas: 'test_sameas(value, other)',
  sequence: 'test_sequence(value)',
  string: 'test_string(value)',
  test: 'test_test(@env, value)',
  true: 'test_true(value)',
  undefined: 'test_undefined(value)',
  upper: 'test_upper(value)',
};

/** One parsed signature. `minArgs`/`maxArgs` bound the arguments after the filtered value. */
export interface PySignature {
  name: string;
  builtin: boolean;
  /** Every named parameter in order: the implicit one (if any), the value, then the rest. */
  params: string[];
  /** How many of `params` lead without a default (the implicit one included). */
  required: number;
  implicit: number;
  varargs: boolean;
  varkw: boolean;
  minArgs: number;
  maxArgs: number;
}

function parse(text: string): PySignature {
  const m = /^(!?)([\w.]+)\((.*)\)$/.exec(text)!;
  const sig: PySignature = {
    name: m[2]!,
    builtin: m[1] === '!',
    params: [],
    required: 0,
    implicit: 0,
    varargs: false,
    varkw: false,
    minArgs: 0,
    maxArgs: 0,
  };
  for (const raw of m[3]!.split(', ')) {
    if (raw.startsWith('**')) sig.varkw = true;
    else if (raw.startsWith('*')) sig.varargs = true;
    else {
      if (raw.startsWith('@')) sig.implicit++;
      if (!raw.endsWith('=')) sig.required++;
      sig.params.push(raw.replace(/^@|=$/g, ''));
    }
  }
  sig.minArgs = sig.required - sig.implicit - 1;
  sig.maxArgs = sig.varargs ? Infinity : sig.params.length - sig.implicit - 1;
  return sig;
}

/** "'a'", "'a' and 'b'", "'a', 'b', and 'c'", as CPython lists missing arguments. */
function nameList(names: string[]): string {
  const q = names.map((n) => `'${n}'`);
  if (q.length < 3) return q.join(' and ');
  return `${q.slice(0, -1).join(', ')}, and ${q[q.length - 1]!}`;
}

function builtinCheck(sig: PySignature, given: number, kwargs: Record<string, unknown> | null) {
  const comparison = sig.params.length === 2;
  if (kwargs && Object.keys(kwargs).length)
    throw new TemplateRuntimeError(
      `${comparison ? '_operator.' : ''}${sig.name}() takes no keyword arguments`,
    );
  if (given === sig.params.length) return;
  throw new TemplateRuntimeError(
    comparison
      ? `${sig.name} expected 2 arguments, got ${given}`
      : `${sig.name}() takes exactly one argument (${given} given)`,
  );
}

/**
 * Binds a call as CPython does (keywords first, then the positional count, then what is
 * missing) and raises its TypeError when the call would not bind. `nargs` counts the
 * arguments after the value.
 */
export function checkCall(
  sig: PySignature,
  nargs: number,
  kwargs: Record<string, unknown> | null,
): void {
  const given = sig.implicit + 1 + nargs;
  if (sig.builtin) return builtinCheck(sig, given - sig.implicit, kwargs);
  const bound = new Set<number>();
  for (let i = 0; i < Math.min(given, sig.params.length); i++) bound.add(i);
  for (const key of Object.keys(kwargs ?? {})) {
    const j = sig.params.indexOf(key);
    if (j < 0) {
      if (sig.varkw) continue;
      throw new TemplateRuntimeError(`${sig.name}() got an unexpected keyword argument '${key}'`);
    }
    if (bound.has(j))
      throw new TemplateRuntimeError(`${sig.name}() got multiple values for argument '${key}'`);
    bound.add(j);
  }
  const total = sig.params.length;
  if (given > total && !sig.varargs) {
    const defaults = total - sig.required;
    const takes = defaults ? `from ${sig.required} to ${total}` : `${total}`;
    const plural = defaults || total !== 1 ? 's' : '';
    throw new TemplateRuntimeError(
      `${sig.name}() takes ${takes} positional argument${plural} but ${given} ${given === 1 ? 'was' : 'were'} given`,
    );
  }
  const missing = sig.params.slice(0, sig.required).filter((_, i) => !bound.has(i));
  if (missing.length)
    throw new TemplateRuntimeError(
      `${sig.name}() missing ${missing.length} required positional argument${missing.length > 1 ? 's' : ''}: ${nameList(missing)}`,
    );
}

/** Something a signature can be attached to: the filter and test implementations. */
export interface Signed {
  pySignature?: PySignature;
}

/** Gives each built-in filter (or test) in `table` its Jinja2 signature. */
export function attachSignatures(table: Record<string, object>, kind: 'filter' | 'test'): void {
  const sigs = kind === 'filter' ? FILTERS : TESTS;
  for (const [name, text] of Object.entries(sigs)) {
    const impl = table[name] as Signed | undefined;
    if (impl) impl.pySignature = parse(text);
  }
}

/** Raises Python's TypeError when a built-in filter or test could not bind these arguments. */
export function checkSignature(
  impl: unknown,
  args: unknown[],
  kwargs: Record<string, unknown> | null,
): void {
  const sig = (impl as Signed).pySignature;
  if (sig === undefined) return;
  if (kwargs === null && args.length >= sig.minArgs && args.length <= sig.maxArgs) return;
  checkCall(sig, args.length, kwargs);
}
