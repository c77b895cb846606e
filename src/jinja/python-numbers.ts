/**
 * The attributes and methods of Python's int, bool and float that templates reach
 * (`n.numerator`, `f.is_integer()`, `(5).bit_length()`), as CPython 3.11 has them. Reached only
 * when an attribute of a number is asked for, never on the common paths.
 */
import {
  PyFloat,
  TemplateRuntimeError,
  bigOf,
  isFloat,
  mkFloat,
  mkInt,
  num,
  tuple,
} from './values.js';

/** Methods of int and bool (3.11: no is_integer on int). */
const INT_METHODS = new Set([
  'bit_length',
  'bit_count',
  'conjugate',
  'as_integer_ratio',
  'to_bytes',
  'from_bytes',
]);
const FLOAT_METHODS = new Set(['is_integer', 'conjugate', 'as_integer_ratio', 'hex', 'fromhex']);
/** Methods that exist (so `n.to_bytes` is a callable, not Undefined) but are not implemented. */
const BYTES_METHODS = new Set(['to_bytes', 'from_bytes', 'fromhex']);

/** True for a Python int, bool or float. */
export function isPyNumber(v: unknown): boolean {
  return (
    typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v instanceof PyFloat
  );
}

/** Whether `name` is a method of the number `v`. */
export function hasNumberMethod(v: unknown, name: string): boolean {
  return (isFloat(v) ? FLOAT_METHODS : INT_METHODS).has(name);
}

/**
 * A data attribute of a number (`real`, `imag`, and an int's `numerator`/`denominator`), or
 * undefined when it has none.
 */
export function numberAttr(v: unknown, name: string): unknown {
  if (isFloat(v)) {
    if (name === 'real') return v;
    if (name === 'imag') return mkFloat(0);
    return undefined;
  }
  switch (name) {
    case 'real':
    case 'numerator':
      return typeof v === 'boolean' ? num(v) : v;
    case 'imag':
      return 0;
    case 'denominator':
      return 1;
  }
  return undefined;
}

function bitLength(b: bigint): number {
  if (b < 0n) b = -b;
  return b === 0n ? 0 : b.toString(2).length;
}

/** The exact sign, mantissa (53-bit int) and power of two of a finite double. */
function decompose(x: number): { neg: boolean; mant: bigint; exp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const neg = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased !== 0) mant |= 1n << 52n;
  return { neg, mant, exp: (biased === 0 ? 1 : biased) - 1075 };
}

/** float.hex(): `0x1.4000000000000p+1`. */
function floatHex(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const { neg, mant, exp } = decompose(x);
  const sign = neg ? '-' : '';
  if (mant === 0n) return `${sign}0x0.0p+0`;
  const lead = mant >> 52n;
  const frac = (mant & ((1n << 52n) - 1n)).toString(16).padStart(13, '0');
  const e = lead === 0n ? -1022 : exp + 52;
  return `${sign}0x${lead}.${frac}p${e < 0 ? '-' : '+'}${Math.abs(e)}`;
}

/** float.as_integer_ratio(): the exact fraction in lowest terms. */
function floatRatio(x: number): unknown[] {
  if (Number.isNaN(x)) throw new TemplateRuntimeError('cannot convert NaN to integer ratio');
  if (!Number.isFinite(x))
    throw new TemplateRuntimeError('cannot convert Infinity to integer ratio');
  const d0 = decompose(x);
  const neg = d0.neg;
  let { mant, exp } = d0;
  while (mant !== 0n && (mant & 1n) === 0n && exp < 0) {
    mant >>= 1n;
    exp++;
  }
  if (mant === 0n) return tuple([0, 1]);
  const n = exp >= 0 ? mant << BigInt(exp) : mant;
  const d = exp >= 0 ? 1n : 1n << BigInt(-exp);
  return tuple([mkInt(neg ? -n : n), mkInt(d)]);
}

function noArgs(type: string, name: string, a: unknown[], kw: Record<string, unknown>): void {
  if (Object.keys(kw).length)
    throw new TemplateRuntimeError(`${type}.${name}() takes no keyword arguments`);
  if (a.length)
    throw new TemplateRuntimeError(`${type}.${name}() takes no arguments (${a.length} given)`);
}

/** Calls a method of an int, bool or float (`hasNumberMethod` said it has one). */
export function numberMethod(
  v: unknown,
  name: string,
  a: unknown[],
  kw: Record<string, unknown>,
): unknown {
  const float = isFloat(v);
  if (BYTES_METHODS.has(name))
    throw new TemplateRuntimeError(
      `${float ? 'float' : 'int'}.${name}() is not supported (no bytes type)`,
    );
  noArgs(float ? 'float' : 'int', name, a, kw);
  if (float) {
    const x = num(v);
    switch (name) {
      case 'is_integer':
        return Number.isInteger(x);
      case 'conjugate':
        return v;
      case 'as_integer_ratio':
        return floatRatio(x);
      default:
        return floatHex(x);
    }
  }
  const b = bigOf(v);
  switch (name) {
    case 'bit_length':
      return bitLength(b);
    case 'bit_count':
      return [...(b < 0n ? -b : b).toString(2)].filter((c) => c === '1').length;
    case 'conjugate':
      return mkInt(b);
    default:
      return tuple([mkInt(b), 1]);
  }
}
