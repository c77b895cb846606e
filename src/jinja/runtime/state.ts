/**
 * The render-time state shared by the evaluator, filters and tests: the environment's filter and
 * test tables, the current file/line/macro (for error messages), the globals of this render,
 * and lexical frames for Jinja's scoping rules.
 */
import { JinjaUndefined } from '../values.js';

/** A filter or test as users supply them: `(value, ...args, Kwargs?)`, may return a Promise. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JinjaFunction = (...args: any[]) => unknown;

/** A built-in filter: receives the render state so it can call other filters, tests and getattr. */
export type FilterImpl = (
  st: State,
  value: unknown,
  args: unknown[],
  kwargs: Record<string, unknown>,
) => unknown;

/** The tables one JinjaEnvironment renders with. */
export interface Env {
  strict: boolean;
  filters: Map<string, FilterImpl>;
  tests: Map<string, FilterImpl>;
}

/** Where rendering is right now, and what it can see beyond local frames. */
export interface State {
  env: Env;
  file: string;
  /** Name of the macro being rendered, for "in macro x:" error prefixes; null at top level. */
  macro: string | null;
  line: number;
  globals: Record<string, unknown>;
  /** Same-file macros a bound macro can fall back to when globals do not define the name. */
  fallback: { get(name: string): unknown } | null;
  /** How many macro calls are active in this chain of calls, to bound runaway recursion. */
  depth: number;
  /** Inside `{% autoescape true %}`: output and `~` escape what is not Markup. */
  autoescape: boolean;
}

/** One lexical scope: a for-loop iteration, a macro call, a with block, or the template root. */
export class Frame {
  readonly vars = new Map<string, unknown>();
  constructor(readonly parent: Frame | null) {}
}

/** An Undefined value with this environment's strictness. */
export function undef(st: State, name: string | null, hint: string | null = null): JinjaUndefined {
  return new JinjaUndefined(name, hint, st.env.strict);
}
