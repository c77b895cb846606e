// Specs for what Jinja2's compile-time constant folding shows (src/jinja/runtime/fold.ts): a
// constant dict key that is unhashable fails the compile inside expressions the optimizer
// visits, and a folded slice of a constant gives Undefined where running it would raise.
import { describe, expect, it } from 'vitest';
import { JinjaEnvironment } from '../../src/jinja/index.js';
import { TemplateSyntaxError } from '../../src/jinja/errors.js';
import { render, renderError } from './helpers.js';

function parseError(source: string): Error | null {
  try {
    new JinjaEnvironment().parse(source, 'models/fold.sql');
  } catch (err) {
    return err as Error;
  }
  return null;
}

describe('unhashable constant dict keys', () => {
  it('fail the parse where the optimizer folds the dict, even in a branch never taken', () => {
    for (const src of [
      '{{ {[1]: 2}|length }}',
      '{% if false %}{{ ({[1]: 2}|length) }}{% endif %}',
      '{% macro m() %}{{ {{"a": 1}: 2}|length }}{% endmacro %}',
      '{% set y = 1 if true else {[1]: 2}|length %}',
      '{{ {"a": 1, (1, [2]): 3}|length }}',
      '{{ foo({[1]: 2}) }}',
      '{% for i in {[1]: 2}|list %}{% endfor %}',
      '{% filter center({[1]: 2}) %}{% endfilter %}',
      '{% call foo({[1]: 2}) %}{% endcall %}',
      '{{ x if {[1]: 2} else 1 }}',
    ]) {
      const err = parseError(src);
      expect(err, src).toBeInstanceOf(TemplateSyntaxError);
      expect(err?.message).toMatch(/^unhashable type: '(list|dict)'$/);
    }
    expect(parseError('{% macro m() %}{{ {{"a": 1}: 2}|length }}{% endmacro %}')?.message).toBe(
      "unhashable type: 'dict'",
    );
  });

  it('fail when rendering where Jinja2 compiles a plain dict display', async () => {
    for (const src of [
      '{{ {[1]: 2} }}',
      '{% set y = {[1]: 2} %}',
      '{{ [{[1]: 2}] }}',
      '{{ {[1]: x}|length }}',
      '{{ {"a": x, [1]: 2}|length }}',
      '{% autoescape x %}{{ {[1]: 2}|length }}{% endautoescape %}',
    ]) {
      expect(parseError(src), src).toBeNull();
      expect((await renderError(src, { x: 1 })).message).toBe("unhashable type: 'list'");
    }
  });

  it('pass where folding stops first or the key is hashable', async () => {
    expect(await render('{{ 1 if true else {[1]: 2}|length }}')).toBe('1');
    expect(await render('{{ {(1, 2): 3, range(2): 4}|length }}')).toBe('2');
    expect(await render('{{ {d.values(): 1}|length }}', { d: { a: 1 } })).toBe('1');
  });
});

describe('slices of constants', () => {
  it('give Undefined where Jinja2 folds them', async () => {
    expect(await render('[{{ 1e20[1:] }}]')).toBe('[]');
    expect(await render('{{ none[::2] }}|{{ {"k": 1}[::-1] }}')).toBe('|');
    expect(await render('{% set v = not 1e20[1:] %}{{ v }}')).toBe('True');
    expect(await render('{{ (1e20[1:], 2) }}')).toBe('(Undefined, 2)');
    expect(await render('{% set v = 1e20[1:] ~ "" %}[{{ v }}]')).toBe('[]');
  });

  it('raise where the slice runs', async () => {
    for (const src of [
      '{% set v = 1e20[1:] %}',
      '{% set v = 1e20 %}{{ v[1:] }}',
      '{{ 1e20[1:] ~ x }}',
      '{% set v = [1e20[1:]] %}',
    ])
      expect((await renderError(src, { x: 1 })).message).toBe(
        "'float' object is not subscriptable",
      );
    expect(await render('{{ "abc"[1:] ~ x }}', { x: 1 })).toBe('bc1');
    // A zero step is a ValueError, which folding does not swallow.
    expect((await renderError('{{ [1, 2][1:2:0] }}')).message).toBe('slice step cannot be zero');
  });

  it('take only ints and None as bounds', async () => {
    const bad = 'slice indices must be integers or None or have an __index__ method';
    expect((await renderError("{% set s = 'abc' %}{{ s['a':] }}")).message).toBe(bad);
    expect((await renderError('{% set s = [1, 2, 3] %}{{ s[::2.0] }}')).message).toBe(bad);
    expect(await render("{% set s = 'abc' %}{{ s[true:] }}{{ s[none:1] }}")).toBe('bca');
    expect(await render("[{{ 'abc'[1.5:] }}]")).toBe('[]');
  });
});
