// Specs for macros: parameters, defaults, varargs/kwargs, caller and call blocks, recursion.
import { describe, expect, it } from 'vitest';
import { render, renderError } from './helpers.js';

describe('macros', () => {
  it('fills missing parameters from their defaults', async () => {
    expect(
      await render('{% macro m(a, b=2) %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ m(1, 3) }}'),
    ).toBe('1213');
  });

  it('evaluates defaults in the macro scope, so they can use earlier parameters', async () => {
    expect(await render("{% macro m(a, b=a ~ '!') %}{{ b }}{% endmacro %}{{ m('x') }}")).toBe('x!');
  });

  it('accepts parameters by keyword', async () => {
    expect(await render('{% macro m(a, b) %}{{ a }}{{ b }}{% endmacro %}{{ m(b=1, a=2) }}')).toBe(
      '21',
    );
  });

  it('collects extra positional arguments in varargs when the body uses it', async () => {
    expect(await render('{% macro m(a) %}{{ a }}{{ varargs }}{% endmacro %}{{ m(1, 2, 3) }}')).toBe(
      '1(2, 3)',
    );
  });

  it('collects extra keyword arguments in kwargs when the body uses it', async () => {
    expect(await render('{% macro m() %}{{ kwargs }}{% endmacro %}{{ m(x=1) }}')).toBe("{'x': 1}");
  });

  it('leaves a parameter undefined when it was not provided and has no default', async () => {
    expect(await render('{% macro m(a) %}[{{ a }}]{{ a is defined }}{% endmacro %}{{ m() }}')).toBe(
      '[]False',
    );
  });

  it('rejects surplus positional arguments when the body does not use varargs', async () => {
    const err = await renderError('{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}');
    expect(err.message).toContain("macro 'm' takes not more than 1 argument(s)");
  });

  it('rejects unknown keyword arguments when the body does not use kwargs', async () => {
    const err = await renderError('{% macro m(a) %}{% endmacro %}{{ m(b=2) }}');
    expect(err.message).toContain("macro 'm' takes no keyword argument 'b'");
  });

  it('returns its output as a string', async () => {
    expect(await render('{% macro m() %}x{% endmacro %}{% set s = m() %}{{ s is string }}')).toBe(
      'True',
    );
  });

  it('exposes its name as .name', async () => {
    expect(await render('{% macro hello() %}{% endmacro %}{{ hello.name }}')).toBe('hello');
  });

  it('can call itself recursively', async () => {
    const src =
      '{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}';
    expect(await render(src)).toBe('321');
  });

  it('is assigned where it is defined, as in Jinja2 (a call above it is undefined)', async () => {
    const err = await renderError('{{ later() }}{% macro later() %}L{% endmacro %}');
    expect(err.message).toContain("'later' is undefined");
    const src = '{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}B{% endmacro %}{{ a() }}';
    expect(await render(src)).toBe('B');
  });

  it('sees top-level variables of its template at call time', async () => {
    expect(await render('{% macro m() %}{{ x }}{% endmacro %}{% set x = 7 %}{{ m() }}')).toBe('7');
  });
});

describe('call blocks', () => {
  it('passes the block body to the macro as caller()', async () => {
    expect(
      await render(
        '{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}in{% endcall %}',
      ),
    ).toBe('[in]');
  });

  it('passes arguments from the macro to the block with {% call(x) %}', async () => {
    const src =
      '{% macro each(xs) %}{% for x in xs %}{{ caller(x, loop.index) }}{% endfor %}{% endmacro %}{% call(v, i) each(["a", "b"]) %}{{ i }}{{ v }} {% endcall %}';
    expect(await render(src)).toBe('1a 2b ');
  });

  it('lets the caller body see the variables around the call', async () => {
    const src =
      '{% macro wrap() %}{{ caller() }}{% endmacro %}{% set y = "outer" %}{% call wrap() %}{{ y }}{% endcall %}';
    expect(await render(src)).toBe('outer');
  });
});

describe('macro calls that await nothing', () => {
  it('render without waiting: the whole template has run when render() returns', async () => {
    const seen: string[] = [];
    const template =
      "{% macro m(x, sep='-') %}{% if x | length > 1 and x[0] is number %}{{ x | join(sep) }}{% endif %}{% endmacro %}" +
      "{% for i in [1, 2] %}{{ m([i, i * 10]) ~ ('!' if not loop.last else '.') }}{% endfor %}{{ mark() }}";
    const pending = render(template, {
      mark: () => {
        seen.push('rendered');
        return '';
      },
    });
    seen.push('render() returned');
    expect(seen).toEqual(['rendered', 'render() returned']);
    expect(await pending).toBe('1-10!2-20.');
  });

  it('go on after a value that is a Promise, in order, wherever it appears', async () => {
    const later = (v: unknown) => Promise.resolve(v);
    const cases: [string, string][] = [
      ['{% if later(1) > 0 %}a{% else %}b{% endif %}c', 'ac'],
      ['{% if later(0) %}a{% elif later(1) %}b{% endif %}c', 'bc'],
      ['{% for x in later([1, 2]) %}{{ x }}{{ later(x * 2) }}{% endfor %}.', '1224.'],
      [
        '{{ 1 ~ later(2) ~ 3 }}|{{ [1, later(2), 3] }}|{{ {"a": later(1), "b": 2} }}',
        "123|[1, 2, 3]|{'a': 1, 'b': 2}",
      ],
      [
        '{{ 1 < later(2) < 3 }}{{ 1 < later(0) < 3 }}{{ later(1) + 2 }}{{ not later(0) }}',
        'TrueFalse3True',
      ],
      [
        '{{ later([3, 1]) | sort | join(",") }}{{ later(2) is even }}{{ {"k": 5}[later("k")] }}',
        '1,3True5',
      ],
      ['{{ later(0) or later("y") }}{{ "t" if later(1) else "f" }}{{ -later(4) }}', 'yt-4'],
      [
        '{% macro m(a, b=later(2)) %}{{ a }}{{ b }}{% set c = later(3) %}{{ c }}{% endmacro %}{{ m(1) }}{{ m(later(4), 5) }}',
        '123453',
      ],
      [
        '{% set ns = namespace(v=[]) %}{% do ns.v.append(later(1)) %}{% for i in [1, 2] %}{% if later(i) == 2 %}{% break %}{% endif %}{{ i }}{% endfor %}{{ ns.v }}',
        '1[1]',
      ],
      [
        '{% macro w() %}[{{ caller() }}]{% endmacro %}{% call w() %}{{ later("in") }}{% endcall %}',
        '[in]',
      ],
    ];
    for (const [template, expected] of cases)
      expect(await render(template, { later }), template).toBe(expected);
  });
});
