/**
 * The arguments a generic test's macro is called with, as dbt renders them
 * (add_rendered_test_kwargs in core/dbt/clients/jinja.py): every string argument but
 * `column_name` is rendered with the native renderer, a value that looks like a call
 * (`ref('x')`, `source('s', 't')`, `var(...)`, `env_var(...)`, `doc(...)`) wrapped in `{{ }}` first,
 * so `compare_model: ref('x')` reaches the macro as a Relation, not as text. Lists and mappings
 * are rendered item by item.
 */
import type { CompileRuntime } from './context.js';

const LOOKS_LIKE_FUNCTION = /^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$/s;
/** A template that is one expression and nothing else: its value is what native rendering keeps. */
const SINGLE_EXPRESSION = /^\s*\{\{((?:(?!\}\}).)*)\}\}\s*$/s;
const KEEP = '__tributary_native_value';

/** Renders one argument natively: one expression keeps its value; other Jinja becomes text. */
async function renderNative(
  rt: CompileRuntime,
  g: Record<string, unknown>,
  file: string,
  text: string,
): Promise<unknown> {
  const template = LOOKS_LIKE_FUNCTION.test(text) ? `{{ ${text} }}` : text;
  if (!template.includes('{{') && !template.includes('{%')) return text;
  const single = SINGLE_EXPRESSION.exec(template);
  if (!single) return rt.renderString(template, file, g);
  let value: unknown;
  const scope = Object.create(g) as Record<string, unknown>;
  scope[KEEP] = (v: unknown) => {
    value = v;
    return '';
  };
  await rt.renderString(`{{ ${KEEP}(${single[1]}) }}`, file, scope);
  return value;
}

async function renderValue(
  rt: CompileRuntime,
  g: Record<string, unknown>,
  file: string,
  value: unknown,
): Promise<unknown> {
  if (typeof value === 'string') return renderNative(rt, g, file, value);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) out.push(await renderValue(rt, g, file, v));
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await renderValue(rt, g, file, v);
    return out;
  }
  return value;
}

/** The test's yml arguments rendered in the test's globals `g`, ready to pass to its macro. */
export async function renderTestKwargs(
  rt: CompileRuntime,
  g: Record<string, unknown>,
  file: string,
  kwargs: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs))
    out[k] = k === 'column_name' ? v : await renderValue(rt, g, file, v);
  return out;
}
