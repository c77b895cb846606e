/**
 * Rendering generic test arguments and configs as dbt does (add_rendered_test_kwargs and
 * TestBuilder._render_values, both "native"): a string holding Jinja is rendered, and when it is
 * exactly one `{{ expression }}` the result is that expression's value (a Relation for ref(),
 * whatever a macro returns), not its text; a string that looks like `ref(...)`, `source(...)`,
 * `var(...)`, `env_var(...)` or `doc(...)` renders as if wrapped in `{{ }}`; `column_name` is
 * never rendered; anything else is left as it is.
 */
import { TributaryError } from '../core/index.js';
import type { CompileRuntime } from './context.js';

const RENDER_CHARS = /(\{[{%#]|[#}%]\})/;
const LOOKS_LIKE_FUNC = /^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$/s;
const ONE_EXPRESSION = /^\{\{-?((?:(?!\}\}).)*?)-?\}\}$/s;

/** One value rendered natively: text without Jinja stays text. */
export async function renderNative(
  rt: CompileRuntime,
  text: string,
  file: string,
  globals: Record<string, unknown>,
): Promise<unknown> {
  if (!RENDER_CHARS.test(text)) return text;
  const one = ONE_EXPRESSION.exec(text);
  if (!one) return rt.renderString(text, file, globals);
  let value: unknown;
  const g = Object.create(globals) as Record<string, unknown>;
  g.__tributary_native_value = (v: unknown) => {
    value = v;
    return '';
  };
  await rt.renderString(`{{ __tributary_native_value(${one[1]!}) }}`, file, g);
  return value;
}

/** A generic test's kwargs, rendered in order (so ref() calls are recorded in order). */
export async function renderTestKwargs(
  rt: CompileRuntime,
  kwargs: Record<string, unknown>,
  file: string,
  globals: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const walk = async (v: unknown, top: string | null): Promise<unknown> => {
    if (typeof v === 'string') {
      if (top === 'column_name') return v;
      return renderNative(rt, LOOKS_LIKE_FUNC.test(v) ? `{{ ${v} }}` : v, file, globals);
    }
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const item of v) out.push(await walk(item, null));
      return out;
    }
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = await walk(item, null);
      return out;
    }
    return v;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs)) out[k] = await walk(v, k);
  return out;
}

/** Test configs from yml: string values holding Jinja rendered natively (var(), env_var()…). */
export async function renderTestConfig(
  rt: CompileRuntime,
  config: Record<string, unknown>,
  file: string,
  globals: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    const value = typeof v === 'string' ? await renderNative(rt, v, file, globals) : v;
    if (value !== undefined && value !== null) out[k] = value;
  }
  return out;
}

/** A generic test's macro: `test_<name>`, from its package's namespace when it names one. */
export function testMacro(
  g: Record<string, unknown>,
  namespace: string | null,
  name: string,
): (...a: unknown[]) => Promise<unknown> {
  const macro = `test_${name}`;
  const ns = namespace ? g[namespace] : undefined;
  const found =
    ns && typeof ns === 'object' && macro in ns ? (ns as Record<string, unknown>)[macro] : g[macro];
  if (typeof found !== 'function')
    throw new TributaryError(`no generic test macro ${namespace ? `${namespace}.` : ''}${macro}`, {
      code: 'CONFIG',
    });
  return found as (...a: unknown[]) => Promise<unknown>;
}
