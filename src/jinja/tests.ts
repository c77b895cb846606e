/**
 * Jinja2's built-in tests (`x is defined`, `n is divisibleby 3`, `select('equalto', 1)`), with
 * the semantics of jinja2/tests.py applied to this renderer's value model.
 */
import type { FilterImpl } from './runtime/state.js';
import {
  JinjaUndefined,
  PyFloat,
  dunder,
  isDict,
  isFloat,
  isNumber,
  num,
  pyCompare,
  pyContains,
  pyEq,
  pyStr,
} from './values.js';

const isUndef = (v: unknown) => v instanceof JinjaUndefined;

function isIterable(v: unknown): boolean {
  if (typeof v === 'string' || Array.isArray(v) || isDict(v) || isUndef(v)) return true;
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
export const BUILTIN_TESTS: Record<string, FilterImpl> = {
  defined: (_st, v) => !isUndef(v),
  undefined: (_st, v) => isUndef(v),
  none: (_st, v) => v === null || v === undefined,
  boolean: (_st, v) => typeof v === 'boolean',
  true: (_st, v) => v === true,
  false: (_st, v) => v === false,
  integer: (_st, v) => typeof v === 'number' && Number.isInteger(v),
  float: (_st, v) => isFloat(v),
  number: (_st, v) => isNumber(v),
  string: (_st, v) => typeof v === 'string',
  // Host objects declare themselves Mappings (dbt's relations are) with `__mapping__()`.
  mapping: (_st, v) => isDict(v) || v instanceof Map || dunder(v, '__mapping__')?.() === true,
  iterable: (_st, v) => isIterable(v),
  sequence: (_st, v) => typeof v === 'string' || Array.isArray(v) || isDict(v) || v instanceof Map,
  callable: (_st, v) => typeof v === 'function',
  sameas: (_st, v, a) => {
    const o = a[0];
    if ((v === null || v === undefined) && (o === null || o === undefined)) return true;
    if (v instanceof PyFloat && o instanceof PyFloat) return v.value === o.value;
    return v === o;
  },
  escaped: (_st, v) => v !== null && typeof v === 'object' && '__html__' in v,
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
  odd: (_st, v) => num(v) % 2 !== 0,
  even: (_st, v) => num(v) % 2 === 0,
  divisibleby: (_st, v, a) => num(v) % num(a[0]) === 0,
  lower: (_st, v) => {
    const s = pyStr(v);
    return s !== s.toUpperCase() && s === s.toLowerCase();
  },
  upper: (_st, v) => {
    const s = pyStr(v);
    return s !== s.toLowerCase() && s === s.toUpperCase();
  },
  filter: (st, v) => typeof v === 'string' && st.env.filters.has(v),
  test: (st, v) => typeof v === 'string' && st.env.tests.has(v),
};
