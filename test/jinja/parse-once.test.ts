// parseOnce: a snippet rendered for node after node is parsed once per file and source, renders
// the same as a fresh parse with each render's own globals, and a syntax error is never kept.
import { describe, expect, it } from 'vitest';
import type { TributaryError } from '../../src/core/index.js';
import { JinjaEnvironment } from '../../src/jinja/index.js';

describe('JinjaEnvironment.parseOnce', () => {
  it('returns the same template for the same file and source, another for another file', () => {
    const env = new JinjaEnvironment();
    const a = env.parseOnce('{{ x }}', 'models/a.yml');
    expect(env.parseOnce('{{ x }}', 'models/a.yml')).toBe(a);
    expect(env.parseOnce('{{ x }}', 'models/b.yml')).not.toBe(a);
    expect(env.parseOnce('{{ y }}', 'models/a.yml')).not.toBe(a);
  });

  it('renders each time with that render’s globals, as a fresh parse does', async () => {
    const env = new JinjaEnvironment();
    const src = '{% set n = x * 2 %}{{ n }}{% for i in range(x) %}{{ i }}{% endfor %}';
    for (const x of [1, 3, 2])
      expect(await env.parseOnce(src, 'f.sql').render({ x })).toBe(
        await new JinjaEnvironment().parse(src, 'f.sql').render({ x }),
      );
  });

  it('throws a syntax error every time, naming the file', () => {
    const env = new JinjaEnvironment();
    for (let i = 0; i < 2; i++) {
      let err: unknown;
      try {
        env.parseOnce('{{ x ', 'models/bad.yml');
      } catch (e) {
        err = e;
      }
      expect((err as TributaryError).location?.file).toBe('models/bad.yml');
    }
  });
});
