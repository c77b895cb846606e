// Specs for the built-in filters, each compared with what Jinja2's filters.py produces.
import { describe, expect, it } from 'vitest';
import { render, renderError } from './helpers.js';

const users = [
  { name: 'ann', age: 40, team: 'b', active: true },
  { name: 'bob', age: 25, team: 'a', active: false },
  { name: 'cy', age: 31, team: 'b', active: true, nick: null },
];

describe('default and strings', () => {
  it('replaces only undefined values with default (alias d)', async () => {
    expect(
      await render("{{ x | default('d') }} [{{ '' | default('d') }}] {{ none | d('d') }}"),
    ).toBe('d [] None');
  });

  it('replaces falsy values too when default has boolean=true', async () => {
    expect(await render("{{ '' | default('d', true) }} {{ 0 | default('z', boolean=true) }}")).toBe(
      'd z',
    );
  });

  it('changes case with lower, upper, capitalize and title', async () => {
    expect(
      await render(
        "{{ 'aB' | lower }} {{ 'aB' | upper }} {{ 'hELLO wORLD' | capitalize }} {{ \"it's a-test (x)\" | title }}",
      ),
    ).toBe("ab AB Hello world It's A-Test (X)");
  });

  it('replaces substrings, optionally a limited number of times', async () => {
    expect(await render("{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }}")).toBe(
      'bbb bba',
    );
  });

  it('trims whitespace or the given characters', async () => {
    expect(await render("[{{ '  x ' | trim }}] {{ 'xxaxx' | trim('x') }}")).toBe('[x] a');
  });

  it('indents every line but the first, optionally the first and blank lines too', async () => {
    expect(await render(String.raw`{{ 'a\nb\n\nc' | indent(2) }}`)).toBe('a\n  b\n\n  c');
    expect(await render(String.raw`{{ 'a\nb' | indent(2, true) }}`)).toBe('  a\n  b');
    expect(await render(String.raw`{{ 'a\n\nb' | indent(width=2, blank=true) }}`)).toBe(
      'a\n  \n  b',
    );
  });

  it('truncates at a word boundary with a leeway of 5, or mid-word with killwords', async () => {
    expect(
      await render(
        "{{ 'foo bar baz qux' | truncate(9) }} {{ 'foo bar baz qux' | truncate(9, true) }} {{ 'hello' | truncate(3) }}",
      ),
    ).toBe('foo... foo ba... hello');
  });

  it('centers, counts words and formats with %', async () => {
    expect(
      await render(
        "[{{ 'ab' | center(6) }}] {{ 'hello big world' | wordcount }} {{ '%s=%d' | format('a', 1) }}",
      ),
    ).toBe('[  ab  ] 3 a=1');
  });

  it('escapes HTML with e/escape (autoescape is off, so the text is escaped once)', async () => {
    expect(await render(`{{ '<a & "b">' | e }} {{ '<b>' | safe }}`)).toBe(
      '&lt;a &amp; &#34;b&#34;&gt; <b>',
    );
  });

  it('strips tags and collapses whitespace with striptags', async () => {
    expect(await render(String.raw`{{ '<p>a  <b>b</b></p>\n c &amp; d' | striptags }}`)).toBe(
      'a b c & d',
    );
  });

  it('percent-encodes strings and dicts with urlencode', async () => {
    expect(await render("{{ 'a b/c?' | urlencode }} {{ {'a': 'x y', 'b': 1} | urlencode }}")).toBe(
      'a%20b/c%3F a=x+y&b=1',
    );
  });

  it('converts values to strings with string', async () => {
    expect(await render("{{ 1 | string ~ 'a' }} {{ [1] | string }}")).toBe('1a [1]');
  });
});

describe('sequences', () => {
  it('joins items, optionally by attribute', async () => {
    expect(
      await render("{{ [1, 2] | join(', ') }} {{ users | join(',', attribute='name') }}", {
        users,
      }),
    ).toBe('1, 2 ann,bob,cy');
  });

  it('counts with length and count', async () => {
    expect(
      await render(
        "{{ [1, 2] | length }} {{ 'abc' | count }} {{ {'a': 1} | length }} {{ x | length }}",
      ),
    ).toBe('2 3 1 0');
  });

  it('makes lists from strings and other iterables with list', async () => {
    expect(await render("{{ 'ab' | list }}")).toBe("['a', 'b']");
  });

  it('maps a filter (with arguments) or an attribute over items', async () => {
    const src =
      "{{ ['a', 'b'] | map('upper') | join }} {{ ['a-b'] | map('replace', '-', '_') | list }} {{ users | map(attribute='name') | join(',') }} {{ users | map(attribute='nick', default='?') | list }}";
    expect(await render(src, { users })).toBe("AB ['a_b'] ann,bob,cy ['?', '?', None]");
  });

  it('maps and selects nothing from none, as Jinja2 does (`if value:`), without checking arguments', async () => {
    const src =
      "{{ 'a' in (none | map('lower')) }} {{ none | map('lower') | list }} {{ none | map | list }} {{ none | select | list }} {{ none | rejectattr('x') | list }} {{ '' | selectattr('x') | list }}";
    expect(await render(src)).toBe('False [] [] [] [] []');
  });

  it('selects and rejects items by a test, with arguments', async () => {
    const src =
      "{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} {{ [1, 2, 3] | select('gt', 1) | list }} {{ [0, 1, '', 'a'] | select | list }}";
    expect(await render(src)).toBe("[1, 3] [2, 4] [2, 3] [1, 'a']");
  });

  it('selects and rejects items by an attribute and test', async () => {
    const src =
      "{{ users | selectattr('active') | map(attribute='name') | join }} {{ users | selectattr('age', 'ge', 31) | map(attribute='name') | join }} {{ users | rejectattr('active') | map(attribute='name') | join }}";
    expect(await render(src, { users })).toBe('anncy anncy bob');
  });

  it('takes first and last items, undefined when empty', async () => {
    expect(await render('{{ [1, 2, 3] | first }}{{ [1, 2, 3] | last }}[{{ [] | first }}]')).toBe(
      '13[]',
    );
  });

  it('sorts case-insensitively by default, with reverse, case_sensitive and attribute', async () => {
    const src =
      "{{ ['b', 'a', 'C'] | sort | join }} {{ ['b', 'a', 'C'] | sort(case_sensitive=true) | join }} {{ [3, 1, 2] | sort(reverse=true) | join }} {{ users | sort(attribute='age') | map(attribute='name') | join(',') }}";
    expect(await render(src, { users })).toBe('abC Cab 321 bob,cy,ann');
  });

  it('keeps the first of case-insensitively equal items with unique', async () => {
    expect(await render("{{ ['a', 'A', 'b', 'a'] | unique | list }}")).toBe("['a', 'b']");
  });

  it('reverses strings and lists', async () => {
    expect(await render("{{ 'abc' | reverse }} {{ [1, 2] | reverse | list }}")).toBe('cba [2, 1]');
  });

  it('sums numbers, attributes and a start value', async () => {
    expect(
      await render(
        "{{ [1, 2, 3] | sum }} {{ users | sum(attribute='age') }} {{ [1, 2] | sum(start=10) }} {{ [1.5, 2] | sum }}",
        { users },
      ),
    ).toBe('6 96 13 3.5');
  });

  it('finds min and max, case-insensitively and by attribute', async () => {
    expect(
      await render(
        "{{ [3, 1, 2] | min }}{{ [3, 1, 2] | max }} {{ ['b', 'A'] | max }} {{ (users | max(attribute='age')).name }}",
        { users },
      ),
    ).toBe('13 b ann');
  });

  it('batches and slices lists, with fill values', async () => {
    const src =
      "{{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | batch(2, 'x') | list }} {{ [1, 2, 3, 4, 5] | slice(2) | list }}";
    expect(await render(src)).toBe("[[1, 2], [3, 4], [5]] [[1, 2], [3, 'x']] [[1, 2, 3], [4, 5]]");
  });

  it('groups items by an attribute with groupby', async () => {
    const src =
      "{% for g in users | groupby('team') %}{{ g.grouper }}:{{ g.list | map(attribute='name') | join(',') }};{% endfor %}";
    expect(await render(src, { users })).toBe('a:bob;b:ann,cy;');
  });
});

describe('dicts and numbers', () => {
  it('lists dict pairs with items and sorts them with dictsort', async () => {
    expect(
      await render(
        "{{ {'a': 1} | items | list }} {{ {'b': 1, 'a': 2} | dictsort }} {{ {'b': 1, 'a': 2} | dictsort(by='value') }}",
      ),
    ).toBe("[('a', 1)] [('a', 2), ('b', 1)] [('b', 1), ('a', 2)]");
  });

  it('serialises JSON with sorted keys and HTML-safe escapes with tojson', async () => {
    expect(
      await render(
        "{{ {'b': [1, 2.0, none], 'a': true} | tojson }} {{ \"<a href='x'>\" | tojson }}",
      ),
    ).toBe('{"a": true, "b": [1, 2.0, null]} "\\u003ca href=\\u0027x\\u0027\\u003e"');
  });

  it('rounds half to even into a float, or with ceil/floor methods', async () => {
    expect(
      await render(
        "{{ 2.5 | round }} {{ 3.14159 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }} {{ 0.125 | round(2) }}",
      ),
    ).toBe('2.0 3.14 3.0 2.0 0.12');
  });

  it('converts to int like Jinja2, via float for "4.7" and to the default when impossible', async () => {
    expect(
      await render(
        "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(-1) }} {{ 3.9 | int }} {{ '0x1A' | int(0, 16) }}",
      ),
    ).toBe('42 4 0 -1 3 26');
  });

  it('converts to float, 0.0 when impossible', async () => {
    expect(await render("{{ '1.5' | float }} {{ 3 | float }} {{ 'x' | float }}")).toBe(
      '1.5 3.0 0.0',
    );
  });

  it('takes absolute values, keeping int and float apart', async () => {
    expect(await render('{{ -3 | abs }} {{ -2.0 | abs }}')).toBe('3 2.0');
  });

  it('reads an attribute by name with attr', async () => {
    expect(await render("{{ obj | attr('kind') }}", { obj: { kind: 'k' } })).toBe('');
    expect(
      await render("{{ rel | attr('kind') }}", {
        rel: new (class {
          kind = 'table';
        })(),
      }),
    ).toBe('table');
  });

  it("passes values through dbt's as_text, as_bool, as_number and as_native", async () => {
    expect(
      await render(
        "{{ 1 | as_number }} {{ 'x' | as_text }} {{ true | as_bool }} {{ [1] | as_native }}",
      ),
    ).toBe('1 x True [1]');
  });

  it('lets user filters override or extend the built-ins, receiving Kwargs', async () => {
    const shout = (v: unknown, ...rest: unknown[]) => `${String(v)}!${rest.length}`;
    expect(await render("{{ 'a' | shout(1, k=2) }}", {}, { filters: { shout } })).toBe('a!2');
  });
});

describe('random', () => {
  it('indexes as random.choice does: empty gives Undefined, a dict answers for int keys', async () => {
    expect(await render('[{{ []|random }}{{ ""|random }}{{ {}|random }}]')).toBe('[]');
    expect(await render('{{ {0: 1}|random }}{{ {false: 3}|random }}{{ [7]|random }}')).toBe('137');
    expect((await renderError('{{ {"a": 1}|random }}')).message).toBe('KeyError: 0');
    expect((await renderError('{{ {"a": 1}.values()|random }}')).message).toBe(
      "'dict_values' object is not subscriptable",
    );
    expect((await renderError('{{ 5|random }}')).message).toBe("object of type 'int' has no len()");
  });
});

describe('int of a float', () => {
  it('never gives negative zero and stays exact past 2**53', async () => {
    expect(
      await render("{{ (-0.5)|int }} {{ '{:,}'.format(-0.0|int(base=16)) }} {{ 1e20|int }}"),
    ).toBe('0 0 100000000000000000000');
  });
});
