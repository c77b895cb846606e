// Specs for template syntax: delimiters, comments, whitespace control, raw blocks and the
// environment settings dbt uses (no trim_blocks/lstrip_blocks, one trailing newline dropped).
import { describe, expect, it } from 'vitest';
import { render, renderError } from './helpers.js';

describe('delimiters and environment settings', () => {
  it('prints expressions between {{ and }}', async () => {
    expect(await render('Hello {{ name }}!', { name: 'world' })).toBe('Hello world!');
  });

  it('drops exactly one trailing newline of the template, as keep_trailing_newline=False does', async () => {
    expect(await render('select 1\n')).toBe('select 1');
    expect(await render('select 1\n\n')).toBe('select 1\n');
  });

  it('keeps the newline after a block tag because trim_blocks is off', async () => {
    expect(await render('{% if true %}\nx\n{% endif %}\n')).toBe('\nx\n');
  });

  it('keeps the indentation before a block tag because lstrip_blocks is off', async () => {
    expect(await render('  {% if true %}x{% endif %}')).toBe('  x');
  });

  it('normalises Windows newlines to \\n', async () => {
    expect(await render('a\r\nb\rc')).toBe('a\nb\nc');
  });

  it('removes comments entirely', async () => {
    expect(await render('a{# a comment {{ x }} #}b')).toBe('ab');
  });

  it('lets dict literals nest inside {{ }} without closing the tag early', async () => {
    expect(await render("{{ {'a': {'b': 1}} }}")).toBe("{'a': {'b': 1}}");
  });
});

describe('whitespace control', () => {
  it('strips whitespace before a tag opened with {%-', async () => {
    expect(await render('a  \n  {%- if true %}b{% endif %}')).toBe('ab');
  });

  it('strips whitespace after a tag closed with -%}', async () => {
    expect(await render('{% if true -%}  \n  b{% endif %}')).toBe('b');
  });

  it('strips around print tags with {{- and -}}', async () => {
    expect(await render('a \n {{- 1 -}} \n b')).toBe('a1b');
  });

  it('strips around comments with {#- and -#}', async () => {
    expect(await render('a \n {#- note -#} \n b')).toBe('ab');
  });

  it('strips newlines too, not only spaces', async () => {
    expect(await render('select\n{%- for c in ["a", "b"] %}\n  {{ c }}\n{%- endfor %}')).toBe(
      'select\n  a\n  b',
    );
  });
});

describe('raw blocks', () => {
  it('outputs {% raw %} content literally', async () => {
    expect(await render('{% raw %}{{ x }}{% if %}{% endraw %}')).toBe('{{ x }}{% if %}');
  });

  it('applies whitespace control on raw and endraw tags', async () => {
    expect(await render('x {%- raw -%}  a  {%- endraw -%} y')).toBe('xay');
  });
});

// Jinja2 decodes string literals with Python's unicode-escape codec; the expected values are
// what Jinja2 3.1.6 on Python 3.11 (Unicode 14.0) renders for the same templates.
describe('string escapes as Python decodes them', () => {
  it('decodes \\N{name} by character name, alias and computed name', async () => {
    expect(await render('{{ "a\\N{BULLET}b" }}')).toBe('a•b');
    expect(await render('{{ "\\N{latin small letter a}" }}')).toBe('a');
    expect(await render('{{ "\\N{LINE FEED}" | length }}')).toBe('1');
    expect(await render('{{ "\\N{NUL}" == "\\x00" }}')).toBe('True');
    expect(await render('{{ "\\N{LATIN CAPITAL LETTER GHA}" }}')).toBe('Ƣ');
    expect(
      await render('{{ "\\N{CJK UNIFIED IDEOGRAPH-4E00}\\N{CJK UNIFIED IDEOGRAPH-2A6DF}" }}'),
    ).toBe('一𪛟');
    expect(await render('{{ "\\N{HANGUL SYLLABLE GAG}\\N{HANGUL SYLLABLE GA}" }}')).toBe('각가');
    expect(await render('{{ "\\N{cjk compatibility ideograph-f900}" }}')).toBe('\uf900');
    expect(await render('{{ "\\N{khitan small script character-18b00}" }}')).toBe('𘬀');
  });

  it('refuses what the codec refuses, naming the line', async () => {
    const cases: [string, string][] = [
      ['\\N{NOPE}', 'unknown Unicode character name'],
      ['\\N{cjk unified ideograph-4E00}', 'unknown Unicode character name'],
      ['\\N{CJK UNIFIED IDEOGRAPH-2A6E0}', 'unknown Unicode character name'],
      ['\\N{hangul syllable gag}', 'unknown Unicode character name'],
      ['\\N{HANGUL SYLLABLE G}', 'unknown Unicode character name'],
      ['\\N{ LATIN SMALL LETTER A}', 'unknown Unicode character name'],
      ['\\N', 'malformed \\N character escape'],
      ['\\N{', 'malformed \\N character escape'],
      ['\\N{}', 'malformed \\N character escape'],
      ['\\x4', 'truncated \\xXX escape'],
      ['\\u12', 'truncated \\uXXXX escape'],
      ['\\U0001F60', 'truncated \\UXXXXXXXX escape'],
      ['\\U00110000', 'illegal Unicode character'],
    ];
    for (const [escape, message] of cases) {
      const err = await renderError(`{{ "x" }}\n{{ "${escape}" }}`);
      expect(err.message, escape).toContain(message);
      expect(err.location?.line, escape).toBe(2);
    }
  });
});
