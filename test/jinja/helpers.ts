// Shared helpers for the Jinja renderer specs: render a source string in one call.
import { JinjaEnvironment, type JinjaEnvironmentOptions } from '../../src/jinja/index.js';

/** Parses and renders `source` with `globals` in a default (dbt-like) environment. */
export async function render(
  source: string,
  globals: Record<string, unknown> = {},
  options: JinjaEnvironmentOptions = {},
): Promise<string> {
  return new JinjaEnvironment(options).parse(source, 'models/example.sql').render(globals);
}

/** Renders and returns the thrown error (fails the test if nothing is thrown). */
export async function renderError(
  source: string,
  globals: Record<string, unknown> = {},
  options: JinjaEnvironmentOptions = {},
): Promise<Error & { location?: { file?: string; line?: number }; code?: string }> {
  try {
    await render(source, globals, options);
  } catch (err) {
    return err as Error & { location?: { file?: string; line?: number }; code?: string };
  }
  throw new Error(`expected rendering to fail: ${source}`);
}
