// Specs for expressions: literals, Python operators and number semantics, string formatting,
// subscripts and slices, calls with *args/**kwargs.
import { describe, expect, it } from 'vitest';
import { render, renderError } from './helpers.js';

describe('literals', () => {
  it('decodes Python string escapes and keeps unknown ones such as \\d', async () => {
    expect(await render(String.raw`{{ 'a\tb' }}|{{ "it\'s" }}|{{ '\d+' }}|{{ '\x41' }}`)).toBe(
      "a\tb|it's|\\d+|A",
    );
  });

  it('concatenates adjacent string literals', async () => {
    expect(await render("{{ 'a' 'b' }}")).toBe('ab');
  });

  it('reads ints with underscores and hex, and floats with exponents', async () => {
    expect(await render('{{ 1_000 }} {{ 0x1F }} {{ 1.5e3 }} {{ 2.50 }}')).toBe(
      '1000 31 1500.0 2.5',
    );
  });

  it('accepts True/False/None in both cases', async () => {
    expect(await render('{{ true }} {{ True }} {{ false }} {{ none }} {{ None }}')).toBe(
      'True True False None None',
    );
  });

  it('prints lists, tuples and dicts as Python reprs', async () => {
    expect(await render("{{ [1, 'a', none, (1,), {'k': 1.0}] }}")).toBe(
      "[1, 'a', None, (1,), {'k': 1.0}]",
    );
  });

  it('prints a bare comma expression as a tuple', async () => {
    expect(await render("{{ 1, 'a' }}")).toBe("(1, 'a')");
  });
});

describe('numbers behave as in Python', () => {
  it('makes true division a float: 10/2 prints 5.0', async () => {
    expect(await render('{{ 10 / 2 }} {{ 10 / 4 }}')).toBe('5.0 2.5');
  });

  it('floors with //, keeping ints int and floats float', async () => {
    expect(await render('{{ 7 // 2 }} {{ -7 // 2 }} {{ 7.5 // 2 }}')).toBe('3 -4 3.0');
  });

  it('takes the sign of the divisor in %', async () => {
    expect(await render('{{ 3 % 2 }} {{ -7 % 3 }} {{ 7 % -3 }}')).toBe('1 2 -2');
  });

  it('keeps float-ness through arithmetic', async () => {
    expect(await render('{{ 1.0 }} {{ 2.0 * 3 }} {{ 1 + 1.5 }} {{ 0.1 + 0.2 }}')).toBe(
      '1.0 6.0 2.5 0.30000000000000004',
    );
  });

  it('prints large and small floats with Python exponent notation', async () => {
    expect(await render('{{ 1e20 }} {{ 1e16 }} {{ 1e15 }} {{ 0.00001 }} {{ 0.0001 }}')).toBe(
      '1e+20 1e+16 1000000000000000.0 1e-05 0.0001',
    );
  });

  it('evaluates ** left to right and binds unary minus first, as Jinja2 parses them', async () => {
    expect(await render('{{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 2 ** -1 }}')).toBe('64 4 0.5');
  });
});

describe('operators', () => {
  it('concatenates strings and lists with +', async () => {
    expect(await render("{{ 'a' + 'b' }} {{ [1] + [2] }}")).toBe('ab [1, 2]');
  });

  it('repeats strings and lists with *', async () => {
    expect(await render("{{ 'ab' * 3 }} {{ [0] * 2 }}")).toBe('ababab [0, 0]');
  });

  it('converts both sides to strings with ~', async () => {
    expect(await render("{{ 'a' ~ 1 ~ none ~ 1.0 }}")).toBe('a1None1.0');
  });

  it('chains comparisons', async () => {
    expect(await render('{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}')).toBe('True False');
  });

  it('tests membership with in and not in on strings, lists and dicts', async () => {
    expect(
      await render("{{ 'a' in 'cat' }} {{ 1 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }}"),
    ).toBe('True True True True');
  });

  it('returns operands from and/or, as Python does', async () => {
    expect(await render("{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ [] and 1 }} {{ none or [] }}")).toBe(
      'x b [] []',
    );
  });

  it('short-circuits and/or without evaluating the right side', async () => {
    const boom = () => {
      throw new Error('evaluated');
    };
    expect(await render('{{ false and boom() }} {{ true or boom() }}', { boom })).toBe(
      'False True',
    );
  });

  it('negates with not using Python truthiness', async () => {
    expect(await render("{{ not [] }} {{ not {} }} {{ not '' }} {{ not 0.0 }} {{ not 'x' }}")).toBe(
      'True True True True False',
    );
  });

  it('compares lists and dicts by value', async () => {
    expect(
      await render(
        "{{ [1, 2] == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ 1 == 1.0 }} {{ [1] == (1,) }}",
      ),
    ).toBe('True True True False');
  });

  it('applies tests with is and is not', async () => {
    expect(await render('{{ 3 is odd }} {{ 3 is not odd }} {{ 6 is divisibleby 3 }}')).toBe(
      'True False True',
    );
  });
});

describe('string formatting', () => {
  it("formats with % and a tuple: '%s-%d'", async () => {
    expect(await render("{{ '%s-%d' % ('a', 3.9) }}")).toBe('a-3');
  });

  it('pads and rounds with %05.2f', async () => {
    expect(await render("{{ '%05.2f' % 3.14159 }} {{ '%.0f' % 2.5 }}")).toBe('03.14 2');
  });

  it('formats named fields from a dict with %(name)s', async () => {
    expect(await render("{{ '%(name)s!' % {'name': 'x'} }}")).toBe('x!');
  });

  it('formats reprs with %r and applies width and left alignment', async () => {
    expect(await render("{{ '%r|%5s|%-5s|' % ('a', 'b', 'c') }}")).toBe("'a'|    b|c    |");
  });

  it('formats hex, octal, exponent and general numbers', async () => {
    expect(await render("{{ '%x %o %e %.3g' % (255, 8, 12345.678, 0.0001234) }}")).toBe(
      'ff 10 1.234568e+04 0.000123',
    );
  });

  it('formats a single non-tuple value with %s', async () => {
    expect(await render("{{ '%s' % [1, 2] }}")).toBe('[1, 2]');
  });

  it('formats positional and named fields with str.format', async () => {
    expect(
      await render(
        "{{ '{} {}'.format(1, 'a') }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}'.format(name='n') }}",
      ),
    ).toBe('1 a aba n');
  });

  it('applies format specs: alignment, precision, grouping, zero padding, percent', async () => {
    const src =
      "{{ '{:>5}|{:<5}|{:^5}'.format('a', 'b', 'c') }} {{ '{:.2f}'.format(3.14159) }} {{ '{:,}'.format(1234567) }} {{ '{:05d}'.format(42) }} {{ '{:.1%}'.format(0.256) }} {{ '{!r}'.format('a') }}";
    expect(await render(src)).toBe("    a|b    |  c   3.14 1,234,567 00042 25.6% 'a'");
  });
});

describe('subscripts, slices and calls', () => {
  it('reads attributes and items, falling back from one to the other', async () => {
    expect(
      await render("{{ d.a }} {{ d['a'] }} {{ xs.0 }} {{ xs[1] }}", { d: { a: 1 }, xs: [5, 6] }),
    ).toBe('1 1 5 6');
  });

  it('indexes from the end with negative indices', async () => {
    expect(await render("{{ [1, 2, 3][-1] }} {{ 'abc'[-2] }}")).toBe('3 b');
  });

  it('slices strings and lists with [start:stop:step]', async () => {
    expect(
      await render(
        "{{ 'abcdef'[1:4] }} {{ [1, 2, 3, 4, 5][::2] }} {{ [1, 2, 3][-2:] }} {{ 'abc'[::-1] }}",
      ),
    ).toBe('bcd [1, 3, 5] [2, 3] cba');
  });

  it('spreads *args and **kwargs into a call', async () => {
    const src =
      "{% macro m(a, b, c=0) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(*[1, 2], **{'c': 3}) }}";
    expect(await render(src)).toBe('123');
  });

  it('provides range, dict and namespace as globals', async () => {
    expect(
      await render(
        '{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ dict(a=1) }} {{ namespace(x=1).x }}',
      ),
    ).toBe("[0, 1, 2] [1, 3, 5] {'a': 1} 1");
  });
});

describe('float power and int-to-float overflow raise as in CPython', () => {
  it('raises ZeroDivisionError for zero to a negative power, int or float', async () => {
    for (const src of ['{{ 0 ** -1 }}', '{{ 0.0 ** -2.5 }}', '{{ false ** -2.5 }}'])
      expect((await renderError(src)).message).toContain(
        '0.0 cannot be raised to a negative power',
      );
    expect(await render('{{ 0.0 ** (-1e400) }}|{{ 1 ** (1e400) }}|{{ (-1) ** (-1e400) }}')).toBe(
      'inf|1.0|1.0',
    );
  });

  it('raises OverflowError when a finite float power overflows', async () => {
    expect((await renderError('{{ 1.5 ** 1e20 }}')).message).toContain(
      "(34, 'Numerical result out of range')",
    );
    expect((await renderError('{{ 10.0 ** 400 }}')).message).toContain('Numerical result');
    expect(await render('{{ 1e308 * 10 }}')).toBe('inf');
  });

  it('raises OverflowError for an int too large for a float in mixed arithmetic and |float', async () => {
    for (const src of [
      '{{ 10 ** 400 * 1.0 }}',
      '{{ 0.5 + 10 ** 400 }}',
      '{{ (10 ** 400) | float }}',
    ])
      expect((await renderError(src)).message).toContain('int too large to convert to float');
    expect(await render('{{ 2 ** 60 * 1.0 }} {{ (2 ** 60) | float }}')).toBe(
      '1.152921504606847e+18 1.152921504606847e+18',
    );
  });

  it('formats a Markup value with a str format spec', async () => {
    expect(await render("[{{ '{:>5}'.format(-3|forceescape) }}]")).toBe('[   -3]');
  });
});

describe('compile-time folding of and/or', () => {
  it('drops the right side of an and/or whose constant left side decides it, filter names included', async () => {
    expect(
      await render('{% set n = ((not 2 ** 40) and (0.0 and (f|nosuchfilter))) %}{{ n }}'),
    ).toBe('False');
    expect(await render("{{ '12' or (x|nosuchfilter) }}{{ 1 > 2 < (x|nosuchtest) }}")).toBe(
      '12False',
    );
    expect((await renderError('{{ x or (x|nosuchfilter) }}')).message).toContain(
      "No filter named 'nosuchfilter'.",
    );
  });

  it('fails the compile for an unhashable key a constant if-expression picks', async () => {
    const err = await renderError(
      "{{ users[0] }}{% if x %}{% elif ({(s if '' else [1, 2]): 1}|list) %}{% endif %}",
      { users: [] },
    );
    expect(err.message).toContain("unhashable type: 'list'");
    expect(err.constructor.name).toBe('TemplateSyntaxError');
    const err2 = await renderError(
      "{% set v = {([1] if 'a' else d): false, 'z': [missing]}|list %}",
    );
    expect(err2.constructor.name).toBe('TemplateSyntaxError');
  });
});
