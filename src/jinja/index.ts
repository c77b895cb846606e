/**
 * jinja: a Jinja2-faithful template renderer, written here because no npm engine renders Jinja2's
 * semantics (Python values, scoping, filters, macros) faithfully and dbt projects depend on them.
 * Parse a template once into a syntax tree, render it many times with the caller's globals.
 *
 * It is configured as dbt configures its environment (dbt/clients/jinja.py): extensions `do` and
 * loopcontrols, autoescape off, trim_blocks and lstrip_blocks off, one trailing newline dropped,
 * plus the block tags dbt registers (`test`, `materialization`, `docs`, `snapshot`) and dbt's
 * text-mode `as_text` / `as_bool` / `as_number` / `as_native` filters. Those are grammar and
 * environment, so they live here; everything dbt puts in the render context (ref, config, var,
 * return, adapter…) is the caller's globals and lives in models/. Depends on core/ only.
 */
export {
  JinjaEnvironment,
  type JinjaEnvironmentOptions,
  type JinjaTemplate,
  type MacroDefinition,
} from './environment.js';
export type { JinjaCallable } from './runtime/evaluate.js';
export {
  Kwargs,
  MacroReturn,
  PyFloat,
  isDict,
  pyEq,
  pyIter,
  pyRepr,
  pyStr,
  splitArgs,
  tuple,
} from './values.js';
