// Renders every template of the differential fixture with our engine and classifies the result
// against what Jinja2 3.1.6 produced (scripts/jinja-differential/generate.py wrote the fixture).
import { readFileSync } from 'node:fs';
import { JinjaEnvironment } from '../../src/jinja/index.js';
import { TemplateSyntaxError } from '../../src/jinja/errors.js';

export interface Case {
  id: string;
  src: string;
  out?: string;
  error?: { kind: 'syntax' | 'runtime'; type: string; message: string };
}

export interface Fixture {
  jinja2: string;
  seed: number;
  context: Record<string, unknown>;
  cases: Case[];
}

export interface Outcome {
  id: string;
  /** Same output, or both raise an error of the same kind (syntax at parse time vs runtime). */
  identical: boolean;
  /** For error cases: our message (minus the "in macro x: " prefix) equals Jinja2's. */
  sameMessage: boolean;
  expected: string;
  actual: string;
}

/** The committed fixture (test/jinja/differential/fixture.json), or a held-out one at `path`. */
export function loadFixture(path?: string): Fixture {
  const file = path ?? new URL('../../test/jinja/differential/fixture.json', import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')) as Fixture;
}

const TIMEOUT_MS = 2000;

async function renderOurs(
  src: string,
  context: Record<string, unknown>,
): Promise<{ out: string } | { kind: 'syntax' | 'runtime'; message: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const tpl = new JinjaEnvironment().parse(src, 'differential.sql');
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    });
    return { out: await Promise.race([tpl.render(structuredClone(context)), timeout]) };
  } catch (err) {
    const kind = err instanceof TemplateSyntaxError ? 'syntax' : 'runtime';
    const message =
      err instanceof Error ? err.message.replace(/^in macro [^:]+: /, '') : String(err);
    return { kind, message };
  } finally {
    clearTimeout(timer);
  }
}

export async function compareCase(c: Case, context: Record<string, unknown>): Promise<Outcome> {
  const ours = await renderOurs(c.src, context);
  const expected = c.error
    ? `${c.error.kind} ${c.error.type}: ${c.error.message}`
    : JSON.stringify(c.out);
  const actual = 'out' in ours ? JSON.stringify(ours.out) : `${ours.kind}: ${ours.message}`;
  if (c.error) {
    const raised = !('out' in ours);
    const identical = raised && ours.kind === c.error.kind;
    return {
      id: c.id,
      identical,
      sameMessage: raised && ours.message === c.error.message,
      expected,
      actual,
    };
  }
  const identical = 'out' in ours && ours.out === c.out;
  return { id: c.id, identical, sameMessage: identical, expected, actual };
}
