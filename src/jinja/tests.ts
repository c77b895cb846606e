/**
 * Jinja2's built-in tests (`x is defined`, `n is divisibleby 3`, `select('equalto', 1)`), with
 * the semantics of jinja2/tests.py applied to this renderer's value model.
 */
import type { FilterImpl } from './runtime/state.js';
import { attachSignatures } from './signatures.js';
import {
  JinjaUndefined,
  Markup,
  PyFloat,
  dunder,
  TemplateRuntimeError,
  failUndefined,
  hashKey,
  isDict,
  isDictView,
  isFloat,
  isNumber,
  iteratorOf,
  num,
  pyCompare,
  pyContains,
  pyEq,
  pyStr,
} from './values.js';

const isUndef = (v: unknown) => v instanceof JinjaUndefined;

/** Python's `a % b` for numbers (the sign follows the divisor), raising as Python does. */
function pyMod(a: unknown, b: unknown): number {
  if (a instanceof JinjaUndefined) failUndefined(a);
  if ((typeof a === 'bigint' || typeof b === 'bigint') && !isFloat(a) && !isFloat(b)) {
    // ints past 2**53: exact, and only the remainder's 0/1 matters to the callers
    const bx = BigInt(a as bigint | number);
    const by = BigInt(b as bigint | number);
    if (by === 0n) throw new TemplateRuntimeError('integer modulo by zero');
    const r = bx % by;
    return Number(r !== 0n && r < 0n !== by < 0n ? r + by : r);
  }
  const x = num(a);
  const y = num(b);
  if (y === 0)
    throw new TemplateRuntimeError(
      isFloat(a) || isFloat(b) ? 'float modulo' : 'integer modulo by zero',
    );
  const m = x % y;
  return m !== 0 && m < 0 !== y < 0 ? m + y : m;
}

function isIterable(v: unknown): boolean {
  if (typeof v === 'string' || Array.isArray(v) || isDict(v) || v instanceof Map || isUndef(v))
    return true;
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
  );
}

const eq: FilterImpl = (_st, v, a) => pyEq(v, a[0]);
const ne: FilterImpl = (_st, v, a) => !pyEq(v, a[0]);
const lt: FilterImpl = (_st, v, a) => pyCompare(v, a[0], '<') < 0;
const le: FilterImpl = (_st, v, a) => pyCompare(v, a[0], '<=') <= 0;
const gt: FilterImpl = (_st, v, a) => pyCompare(v, a[0], '>') > 0;
const ge: FilterImpl = (_st, v, a) => pyCompare(v, a[0], '>=') >= 0;

/** The built-in tests by name. */
/** Python's `value in table` for a dict of names: hashes `value` first. */
function nameIn(table: Map<string, unknown>, v: unknown): boolean {
  hashKey(v);
  const name = v instanceof Markup ? v.s : v;
  return typeof name === 'string' && table.has(name);
}

export const BUILTIN_TESTS: Record<string, FilterImpl> = {
  defined: (_st, v) => !isUndef(v),
  undefined: (_st, v) => isUndef(v),
  none: (_st, v) => v === null || v === undefined,
  boolean: (_st, v) => typeof v === 'boolean',
  true: (_st, v) => v === true,
  false: (_st, v) => v === false,
  integer: (_st, v) => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint',
  float: (_st, v) => isFloat(v),
  number: (_st, v) => isNumber(v),
  // Markup is a str subclass.
  string: (_st, v) => typeof v === 'string' || v instanceof Markup,
  // Host objects declare themselves Mappings (dbt's relations are) with `__mapping__()`.
  mapping: (_st, v) => isDict(v) || v instanceof Map || dunder(v, '__mapping__')?.() === true,
  iterable: (_st, v) => isIterable(v),
  // Jinja2: has len() and [] — Undefined has both; dict views have no [].
  sequence: (_st, v) =>
    typeof v === 'string' ||
    v instanceof Markup ||
    (Array.isArray(v) && !isDictView(v) && iteratorOf(v) === undefined) ||
    isDict(v) ||
    v instanceof Map ||
    isUndef(v),
  callable: (_st, v) => typeof v === 'function' || isUndef(v),
  sameas: (_st, v, a) => {
    const o = a[0];
    if ((v === null || v === undefined) && (o === null || o === undefined)) return true;
    if (v instanceof PyFloat && o instanceof PyFloat) return v.value === o.value;
    return v === o;
  },
  escaped: (_st, v) =>
    v instanceof Markup || (v !== null && typeof v === 'object' && '__html__' in v),
  eq,
  equalto: eq,
  '==': eq,
  ne,
  '!=': ne,
  lt,
  lessthan: lt,
  '<': lt,
  le,
  '<=': le,
  gt,
  greaterthan: gt,
  '>': gt,
  ge,
  '>=': ge,
  in: (_st, v, a) => pyContains(a[0], v),
  // Python's `value % 2 == 1`: a float is never odd unless its remainder is exactly 1.
  odd: (_st, v) => pyMod(v, 2) === 1,
  even: (_st, v) => pyMod(v, 2) === 0,
  divisibleby: (_st, v, a) => pyMod(v, a[0]) === 0,
  lower: (_st, v) => {
    const s = pyStr(v);
    return s !== s.toUpperCase() && s === s.toLowerCase();
  },
  upper: (_st, v) => {
    const s = pyStr(v);
    return s !== s.toLowerCase() && s === s.toUpperCase();
  },
  // `value in env.filters`: a dict lookup, so an unhashable value raises.
  filter: (st, v) => nameIn(st.env.filters, v),
  test: (st, v) => nameIn(st.env.tests, v),
};
attachSignatures(BUILTIN_TESTS, 'test');
