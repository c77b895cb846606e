// Specs for Python methods on str, list and dict values, and for pyRepr/pyStr printing.
import { describe, expect, it } from 'vitest';
import { PyFloat, pyRepr, pyStr, tuple } from '../../src/jinja/index.js';
import { render, renderError } from './helpers.js';

describe('str methods', () => {
  it('keeps trailing whitespace of the remainder when a whitespace split hits maxsplit', async () => {
    expect(await render("{{ ' a b '.split(none, 1) }} {{ ' a b c '.rsplit(none, 1) }}")).toBe(
      "['a', 'b '] [' a b', 'c']",
    );
  });

  it('changes case and strips, with optional characters', async () => {
    expect(
      await render(
        "{{ 'A,b'.lower() }} {{ 'a'.upper() }} [{{ ' x '.strip() }}] {{ 'xxaxx'.strip('x') }} {{ 'xxa'.lstrip('x') }} {{ 'axx'.rstrip('x') }}",
      ),
    ).toBe('a,b A [x] a a a');
  });

  it('splits on a separator with maxsplit, or on whitespace runs with no argument', async () => {
    expect(
      await render(
        "{{ 'a,b,c'.split(',', 1) }} {{ ' a  b '.split() }} {{ 'a,b,c'.rsplit(',', 1) }} {{ 'a,,b'.split(',') }}",
      ),
    ).toBe("['a', 'b,c'] ['a', 'b'] ['a,b', 'c'] ['a', '', 'b']");
  });

  it('tests prefixes and suffixes, including a tuple of candidates', async () => {
    expect(
      await render(
        "{{ 'abc'.startswith(('x', 'a')) }} {{ 'abc'.endswith('c') }} {{ 'abc'.startswith('b') }}",
      ),
    ).toBe('True True False');
  });

  it('replaces, joins, finds and counts', async () => {
    expect(
      await render(
        "{{ 'aXa'.replace('a', 'b') }} {{ ','.join(['a', 'b']) }} {{ 'abc'.find('c') }} {{ 'abc'.find('z') }} {{ 'abca'.rfind('a') }} {{ 'abc'.index('b') }} {{ 'aaa'.count('a') }}",
      ),
    ).toBe('bXb a,b 2 -1 3 1 3');
  });

  it('formats with str.format', async () => {
    expect(await render("{{ '{}-{x}'.format(1, x=2) }}")).toBe('1-2');
  });

  it("titles like Python's str.title, capitalising after apostrophes", async () => {
    expect(await render("{{ \"they're bill's\".title() }} {{ 'hELLO'.capitalize() }}")).toBe(
      "They'Re Bill'S Hello",
    );
  });

  it('classifies characters with isdigit, isalpha, isalnum, isupper and islower', async () => {
    expect(
      await render(
        "{{ '123'.isdigit() }} {{ '12a'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'ab1'.isalnum() }} {{ 'AB'.isupper() }} {{ 'ab'.islower() }} {{ ''.isdigit() }}",
      ),
    ).toBe('True False True True True True False');
  });

  it('pads with zfill, splits lines and partitions', async () => {
    expect(
      await render(
        String.raw`{{ '42'.zfill(5) }} {{ '-42'.zfill(5) }} {{ 'a\nb\n'.splitlines() }} {{ 'a=b=c'.partition('=') }}`,
      ),
    ).toBe("00042 -0042 ['a', 'b'] ('a', '=', 'b=c')");
  });
});

describe('list methods', () => {
  it('mutates with append, extend, insert, pop, remove, reverse and sort', async () => {
    const src =
      '{% set xs = [3, 1] %}{% do xs.append(2) %}{% do xs.extend([5]) %}{% do xs.insert(0, 9) %}{{ xs.pop() }} {{ xs.pop(0) }} {% do xs.remove(1) %}{{ xs }} {% do xs.sort() %}{{ xs }} {% do xs.reverse() %}{{ xs }}';
    expect(await render(src)).toBe('5 9 [3, 2] [2, 3] [3, 2]');
  });

  it('searches with index and count and copies with copy', async () => {
    expect(
      await render(
        '{% set xs = [1, 2, 2] %}{{ xs.index(2) }} {{ xs.count(2) }} {% set ys = xs.copy() %}{% do ys.append(0) %}{{ xs | length }}',
      ),
    ).toBe('1 2 3');
  });

  it('returns None from mutating methods, so printing one prints None', async () => {
    expect(await render('{% set xs = [] %}{{ xs.append(1) }}')).toBe('None');
  });
});

describe('dict methods', () => {
  it('reads with get, keys, values and items', async () => {
    expect(
      await render(
        "{% set d = {'a': 1} %}{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 0) }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }}",
      ),
    ).toBe("1 None 0 ['a'] [1] [('a', 1)]");
  });

  it('mutates with update, pop and setdefault, and copies with copy', async () => {
    const src =
      "{% set d = {'a': 1} %}{% do d.update({'b': 2}) %}{% do d.update(c=3) %}{{ d.pop('a') }} {{ d.setdefault('e', 5) }} {{ d.setdefault('b', 9) }} {% set e = d.copy() %}{% do e.update(z=0) %}{{ d }}";
    expect(await render(src)).toBe("1 5 2 {'b': 2, 'c': 3, 'e': 5}");
  });

  it('prefers a dict key over a method name only when accessed by subscript', async () => {
    expect(
      await render("{% set d = {'items': 'x'} %}{{ d['items'] }} {{ d.items() | list }}"),
    ).toBe("x [('items', 'x')]");
  });
});

describe('pyRepr and pyStr', () => {
  it('prints None, booleans, floats and nested containers as Python does', () => {
    expect(pyRepr([null, true, false, new PyFloat(1), 1.5, 'a', tuple([1]), { k: [] }])).toBe(
      "[None, True, False, 1.0, 1.5, 'a', (1,), {'k': []}]",
    );
  });

  it('quotes strings the way repr() does', () => {
    expect(pyRepr("it's")).toBe(`"it's"`);
    expect(pyRepr(`a"b'c`)).toBe(`'a"b\\'c'`);
    expect(pyRepr('a\nb\\')).toBe(`'a\\nb\\\\'`);
  });

  it('prints strings bare and other values as their repr with pyStr', () => {
    expect(pyStr('a')).toBe('a');
    expect(pyStr(['a'])).toBe("['a']");
    expect(pyStr(null)).toBe('None');
    expect(pyStr(1e21)).toBe('1000000000000000000000');
  });
});

describe('int, bool and float attributes and methods', () => {
  it('have real, imag, numerator and denominator as CPython does', async () => {
    expect(
      await render(
        '{{ (3).numerator }}{{ (3).denominator }}{{ true.real }}{{ true.imag }} {{ 2.5.imag }} {{ 2.0.real }} [{{ 1.5.numerator }}]',
      ),
    ).toBe('3110 0.0 2.0 []');
    expect(await render("{{ ((-7 is lessthan 1)|attr('real')) }} [{{ 2.0.value }}]")).toBe('1 []');
  });

  it('have bit_length, bit_count, conjugate and as_integer_ratio on ints and bools', async () => {
    expect(
      await render(
        '{{ (-7).bit_length() }} {{ (255).bit_count() }} {{ true.bit_length() }} {{ (2**70).bit_length() }} {{ true.conjugate() }} {{ (7).as_integer_ratio() }}',
      ),
    ).toBe('3 8 1 71 1 (7, 1)');
    expect((await renderError('{{ (2).is_integer() }}')).message).toBe(
      "'int object' has no attribute 'is_integer'",
    );
    expect((await renderError('{{ (2).bit_length(1) }}')).message).toBe(
      'int.bit_length() takes no arguments (1 given)',
    );
  });

  it('have is_integer, hex, as_integer_ratio and conjugate on floats, exactly', async () => {
    expect(await render('{{ 1.5.is_integer() }}{{ 2.0.is_integer() }} {{ 2.5.conjugate() }}')).toBe(
      'FalseTrue 2.5',
    );
    expect(
      await render(
        '{{ 2.5.hex() }} {{ 0.1.hex() }} {{ (-0.0).hex() }} {{ 1e-310.hex() }} {{ 1e308.hex() }}',
      ),
    ).toBe(
      '0x1.4000000000000p+1 0x1.999999999999ap-4 -0x0.0p+0 0x0.012688b70e62bp-1022 0x1.1ccf385ebc8a0p+1023',
    );
    expect(
      await render(
        '{{ 0.1.as_integer_ratio() }} {{ 1e20.as_integer_ratio() }} {{ (-3.0).as_integer_ratio() }}',
      ),
    ).toBe('(3602879701896397, 36028797018963968) (100000000000000000000, 1) (-3, 1)');
  });
});

describe('formatting edge cases as CPython has them', () => {
  it("'%c' takes an int code point or one character; %x and %o take only ints", async () => {
    expect(await render("{{ '%c' % 'a' }}{{ '%c' % 65 }}|{{ '%x' % true }}{{ '%d' % 2.5 }}")).toBe(
      'aA|12',
    );
    for (const [src, message] of [
      ["{{ '%c' % 'ab' }}", '%c requires int or char'],
      ["{{ '%c' % 1.5 }}", '%c requires int or char'],
      ["{{ '%c' % -1 }}", '%c arg not in range(0x110000)'],
      ["{{ '%x' % 2.0 }}", '%x format: an integer is required, not float'],
      ["{{ '%o' % 'a' }}", '%o format: an integer is required, not str'],
      ["{{ '%d' % 'a' }}", '%d format: a real number is required, not str'],
    ])
      expect((await renderError(src!)).message, src).toBe(message);
  });

  it('rejects grouping, sign, # and = for str in a format spec, and zero-pads str on the right', async () => {
    for (const [src, message] of [
      ["{{ '{:,}'.format('abc') }}", "Cannot specify ',' with 's'."],
      ["{{ '{:_}'.format('abc') }}", "Cannot specify '_' with 's'."],
      ["{{ '{:+}'.format('abc') }}", 'Sign not allowed in string format specifier'],
      ["{{ '{:#}'.format('abc') }}", 'Alternate form (#) not allowed in string format specifier'],
      ["{{ '{:=5}'.format('abc') }}", "'=' alignment not allowed in string format specifier"],
    ])
      expect((await renderError(src!)).message, src).toBe(message);
    expect(
      await render(
        "{{ '{:05}'.format('abc') }} {{ '{:>05}'.format('abc') }} {{ '{:<05}'.format(-12) }} {{ '{:x<05}'.format(-12) }}",
      ),
    ).toBe('abc00 00abc -1200 -12xx');
  });
});

describe('str predicates and casefold', () => {
  it('has isidentifier, isascii and isprintable', async () => {
    expect(
      await render(
        "{{ 'Bc'.isidentifier() }}{{ 'a b'.isidentifier() }}{{ '_x1'.isidentifier() }}{{ '1x'.isidentifier() }}{{ ''.isidentifier() }}{{ 'é'.isidentifier() }}",
      ),
    ).toBe('TrueFalseTrueFalseFalseTrue');
    expect(await render("{{ 'ab'.isascii() }}{{ 'é'.isascii() }}{{ ''.isascii() }}")).toBe(
      'TrueFalseTrue',
    );
    expect(
      await render("{{ 'a b'.isprintable() }}{{ 'a\tb'.isprintable() }}{{ ''.isprintable() }}"),
    ).toBe('TrueFalseTrue');
  });

  it('tells digits, decimals and numerics apart as Unicode does', async () => {
    expect(
      await render(
        "{{ '½'.isnumeric() }}{{ '½'.isdigit() }} {{ '²'.isdigit() }}{{ '²'.isdecimal() }} {{ '٣'.isdigit() }}{{ ''.isdigit() }}",
      ),
    ).toBe('TrueFalse TrueFalse TrueFalse');
  });

  it('casefolds ß and final sigma but not dotless i', async () => {
    expect(
      await render("{{ 'Straße'.casefold() }} {{ 'ΣΑς'.casefold() }} {{ 'ı'.casefold() }}"),
    ).toBe('strasse σασ ı');
  });

  it('reads Unicode decimal digits in int and float', async () => {
    expect(
      await render("{{ '٣'|int }} {{ '١٢'|int }} {{ '٣.٥'|float }} {{ '𝟗'|int }} {{ '²'|int }}"),
    ).toBe('3 12 3.5 9 0');
  });
});

describe('methods added for Jinja2 parity', () => {
  it('dict.popitem() removes the last inserted pair; dict.fromkeys on the type and instances', async () => {
    expect(
      await render(
        "{% set x = {'a': 1, 2: 3} %}{{ x.popitem() }}{{ x }} {{ dict.fromkeys(['a', 'b'], 0) }} {{ {}.fromkeys(['a']) }} {{ d.popitem() }}{{ d }}",
        { d: { a: 1, b: 2 } },
      ),
    ).toBe("(2, 3){'a': 1} {'a': 0, 'b': 0} {'a': None} ('b', 2){'a': 1}");
    expect((await renderError('{{ {}.popitem() }}')).message).toContain(
      'popitem(): dictionary is empty',
    );
  });

  it('str.format_map and str.translate', async () => {
    expect(
      await render(
        "{{ '{a}-{b}'.format_map({'a': 1, 'b': 'x'}) }} {{ 'abc'.translate({97: 'X', 98: none, 99: 100}) }}",
      ),
    ).toBe('1-x Xd');
  });

  it('str methods other than split/splitlines/format take no keyword arguments', async () => {
    expect((await renderError("{{ 'abc'.replace('b', 'x', count=1) }}")).message).toContain(
      'str.replace() takes no keyword arguments',
    );
    expect((await renderError("{{ ' a '.strip(chars=' ') }}")).message).toContain(
      'str.strip() takes no keyword arguments',
    );
    expect(await render("{{ 'a b'.split(sep=' ', maxsplit=1) }}")).toBe("['a', 'b']");
  });

  it('range has start/stop/step and no list methods; cycler.items is a tuple', async () => {
    expect(
      await render(
        '{{ range(5).start }}{{ range(5).stop }}{{ range(1, 9, 2).step }}{{ cycler(1, 2).items }}',
      ),
    ).toBe('052(1, 2)');
    expect(
      (await renderError('{% set r = range(3)[0:1] %}{% do r.insert(0, 3.0) %}{{ r }}')).message,
    ).toContain("'range object' has no attribute 'insert'");
  });

  it('namespace() takes its arguments as dict() does', async () => {
    expect((await renderError('{{ namespace(1) }}')).message).toContain(
      "'int' object is not iterable",
    );
    expect((await renderError('{{ namespace(1, 2) }}')).message).toContain(
      'dict expected at most 1 argument, got 2',
    );
    expect(await render("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}")).toBe('12');
  });

  it("an int's to_bytes is a method (a callable), not Undefined", async () => {
    expect((await renderError('{{ n.to_bytes|length }}', { n: 7 })).message).toContain(
      'has no len()',
    );
    expect(await render('{{ n.to_bytes is callable }}', { n: 7 })).toBe('True');
  });
});

describe('list methods that take one argument', () => {
  it('reject any other number of arguments as CPython does', async () => {
    expect((await renderError('{% set l = [1] %}{% do l.append() %}')).message).toContain(
      'list.append() takes exactly one argument (0 given)',
    );
    expect((await renderError('{{ (1, 2).count() }}')).message).toContain(
      'tuple.count() takes exactly one argument (0 given)',
    );
    expect((await renderError('{{ range(3).count(1, 2) }}')).message).toContain(
      'range.count() takes exactly one argument (2 given)',
    );
  });
});

describe('lipsum', () => {
  it('draws paragraph lengths from randrange(min, max): max excluded, an empty range raises', async () => {
    expect(await render('{{ lipsum(1, false, 3, 4)|wordcount }}')).toBe('3');
    expect((await renderError('{{ lipsum(1, false, 3, 3) }}')).message).toContain(
      'empty range for randrange() (3, 3, 0)',
    );
  });
});
