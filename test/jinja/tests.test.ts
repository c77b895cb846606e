// Specs for the built-in tests (`is defined`, `is divisibleby 3`, …), as jinja2/tests.py defines them.
import { describe, expect, it } from 'vitest';
import { render, renderError } from './helpers.js';

async function check(expr: string, globals: Record<string, unknown> = {}): Promise<string> {
  return render(`{{ ${expr} }}`, globals);
}

describe('tests', () => {
  it('tells defined from undefined', async () => {
    expect(await check('x is defined, x is undefined, y is defined', { y: null })).toBe(
      '(False, True, True)',
    );
  });

  it('recognises none, booleans, true and false', async () => {
    expect(
      await check(
        'none is none, true is boolean, 1 is boolean, true is true, 0 is false, false is false',
      ),
    ).toBe('(True, True, False, True, False, True)');
  });

  it('distinguishes integer, float and number as Python types', async () => {
    expect(
      await check(
        '1 is integer, 1.0 is integer, true is integer, 1.0 is float, 1 is float, true is number, 1.5 is number',
      ),
    ).toBe('(True, False, False, True, False, True, True)');
  });

  it('recognises strings, mappings, iterables, sequences and callables', async () => {
    expect(
      await check(
        "'a' is string, {} is mapping, [] is mapping, [] is iterable, 1 is iterable, 'a' is sequence, {} is sequence, range is callable, 'a' is callable",
      ),
    ).toBe('(True, True, False, True, False, True, True, True, False)');
  });

  it('compares identity with sameas', async () => {
    expect(await check('none is sameas none, x is sameas x, [] is sameas []', { x: [1] })).toBe(
      '(True, True, False)',
    );
  });

  it('compares values with eq/equalto/==, ne/!=, lt/<, le/<=, gt/>, ge/>=', async () => {
    expect(
      await check(
        "1 is eq 1, 1 is equalto 2, [1, 2] | select('==', 2) | list, 1 is ne 2, 1 is lt 2, 2 is le 2, 3 is gt 2, 2 is ge 3, [1, 2, 3] | select('<', 3) | list",
      ),
    ).toBe('(True, False, [2], True, True, True, True, False, [1, 2])');
  });

  it('tests membership with in', async () => {
    expect(await check("1 is in [1, 2], 'x' is in 'abc'")).toBe('(True, False)');
  });

  it('tests odd, even and divisibleby', async () => {
    expect(await check('3 is odd, 3 is even, 9 is divisibleby 3, 9 is divisibleby(2)')).toBe(
      '(True, False, True, False)',
    );
  });

  it('tests lower and upper case', async () => {
    expect(await check("'ab' is lower, 'aB' is lower, 'AB' is upper, '12' is upper")).toBe(
      '(True, False, True, False)',
    );
  });

  it('lets user tests extend the built-ins', async () => {
    expect(
      await render('{{ 4 is big }}', {}, { tests: { big: (v: unknown) => (v as number) > 3 } }),
    ).toBe('True');
  });

  it('looks a value up in the filter and test tables as a dict would: unhashable ones raise', async () => {
    expect(
      await render('{{ "upper" is filter }}{{ 1 is filter }}{{ "upper"|safe is filter }}'),
    ).toBe('TrueFalseTrue');
    expect(await render('{{ d.values() is test }}', { d: { a: 1 } })).toBe('False');
    expect((await renderError('{{ [1] is test }}')).message).toBe("unhashable type: 'list'");
    expect((await renderError('{{ d.keys() is filter }}', { d: { a: 1 } })).message).toBe(
      "unhashable type: 'dict_keys'",
    );
  });
});

describe('Markup is a str', () => {
  it('is a string and a sequence', async () => {
    expect(
      await render(
        "{{ (false|e) is string }}{{ ('a'|e) is sequence }}{{ (((not 1e20)|e) is sequence) }}",
      ),
    ).toBe('TrueTrueTrue');
  });
});
