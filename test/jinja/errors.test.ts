// Specs for error reporting: every failure is a TributaryError (code CONFIG) naming the file and
// line, and the macro when it happened inside one; JS globals' errors keep their identity.
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import { JinjaEnvironment } from '../../src/jinja/index.js';
import { render, renderError } from './helpers.js';

function parseError(source: string): TributaryError {
  try {
    new JinjaEnvironment().parse(source, 'models/bad.sql');
  } catch (err) {
    return err as TributaryError;
  }
  throw new Error('expected a syntax error');
}

describe('syntax errors', () => {
  it('names an unknown tag with its file and line', () => {
    const err = parseError('select 1\n{% frobnicate %}');
    expect(err).toBeInstanceOf(TributaryError);
    expect(err.code).toBe('CONFIG');
    expect(err.message).toContain("unknown tag 'frobnicate'");
    expect(err.location).toEqual({ file: 'models/bad.sql', line: 2 });
  });

  it('says which block is unclosed and where it was opened', () => {
    const err = parseError('a\n{% for x in xs %}\n{{ x }}\n');
    expect(err.message).toContain("'for' block opened on line 2 is never closed");
    expect(err.message).toContain('endfor');
    expect(err.location?.line).toBe(2);
  });

  it('reports a closing tag that does not match the open block', () => {
    const err = parseError('{% if x %}\n{% endfor %}');
    expect(err.message).toContain("'if' from line 1");
    expect(err.location?.line).toBe(2);
  });

  it('reports a malformed expression', () => {
    const err = parseError('\n\n{{ 1 + }}');
    expect(err.message).toContain("unexpected end of print statement ('}}')");
    expect(err.location?.line).toBe(3);
  });

  it('reports an unclosed print tag', () => {
    expect(parseError('{{ x ').message).toContain("never closed with '}}'");
  });

  // Jinja2 3.1.6: parse_call_args' ordering rules, and Python's compile of the generated code
  // for a keyword given twice (even in a branch that never runs).
  it('refuses call arguments out of order, or a keyword given twice, as Jinja2 does', () => {
    for (const src of [
      '{{ f(*a, *b) }}',
      '{{ f(**a, **b) }}',
      '{{ f(**a, *b) }}',
      '{{ f(*a, 1) }}',
      '{{ f(a=1, 2) }}',
      "{{ f(**{'a': 1}, b=2) }}",
    ])
      expect(parseError(`x\n${src}`).message, src).toContain(
        'invalid syntax for function call expression',
      );
    const twice = parseError('{% if false %}\n{{ f(a=1,\n b=2, a=3) }}{% endif %}');
    expect(twice.message).toContain('keyword argument repeated: a');
    expect(twice.location?.line).toBe(3);
    expect(parseError('{% set d = dict(a=1, a=2) %}').message).toContain(
      'keyword argument repeated: a',
    );
  });

  it('accepts keywords after *args and a trailing comma', async () => {
    expect(
      await render('{% macro m(a, b) %}{{ a }}-{{ b }}{% endmacro %}{{ m(*[1], b=2,) }}'),
    ).toBe('1-2');
  });
});

describe('render errors', () => {
  it('reports an unknown filter when parsing, as Jinja2 does', async () => {
    const err = await renderError('\n{{ x | nope }}');
    expect(err.message).toContain("No filter named 'nope'.");
    expect(err.location).toEqual({ file: 'models/example.sql', line: 2 });
  });

  it('reports calling a value that is not callable', async () => {
    const err = await renderError('{{ x() }}', { x: 'text' });
    expect(err.message).toContain("'x' is not callable (it is a str)");
  });

  it('names the undefined variable when an attribute of it is read', async () => {
    const err = await renderError('ok\n\n{{ foo.bar }}');
    expect(err).toBeInstanceOf(TributaryError);
    expect(err.message).toBe("'foo' is undefined");
    expect(err.location).toEqual({ file: 'models/example.sql', line: 3 });
  });

  it('names the undefined variable when it is called', async () => {
    expect((await renderError('{{ nothing_here() }}')).message).toBe("'nothing_here' is undefined");
  });

  it('names the macro, and the line inside it, when the error happens in a macro', async () => {
    const src =
      '{% macro generate_schema_name(x) %}\n\n{{ x.y.z }}\n{% endmacro %}\n{{ generate_schema_name(none) }}';
    const err = await renderError(src);
    expect(err.message).toBe("in macro generate_schema_name: 'None' has no attribute 'y'");
    expect(err.location?.line).toBe(3);
  });

  it('points at the line inside a call block body when the error happens there', async () => {
    const src =
      '{% macro wrap() %}{{ caller() }}{% endmacro %}{% call wrap() %}\n\n{{ 1 / 0 }}{% endcall %}';
    const err = await renderError(src);
    expect(err.message).toBe('division by zero');
    expect(err.location?.line).toBe(3);
  });

  it('adds file and line to a TributaryError without a location from a JS global, keeping it', async () => {
    const original = new TributaryError("model 'missing' not found", { code: 'GRAPH' });
    const err = await renderError('a\n{{ ref("missing") }}', {
      ref: () => {
        throw original;
      },
    });
    expect(err).toBe(original);
    expect(err.code).toBe('GRAPH');
    expect(err.location).toEqual({ file: 'models/example.sql', line: 2 });
  });

  it('passes a TributaryError that already has a location through unchanged', async () => {
    const original = new TributaryError('elsewhere', { location: { file: 'other.yml', line: 9 } });
    const err = await renderError('{{ f() }}', {
      f: () => {
        throw original;
      },
    });
    expect(err).toBe(original);
    expect(err.location).toEqual({ file: 'other.yml', line: 9 });
  });

  it('wraps other errors from JS globals with the file and line, keeping the cause', async () => {
    const cause = new Error('socket closed');
    const err = await renderError('\n{{ run_query("x") }}', {
      run_query: async () => {
        throw cause;
      },
    });
    expect(err).toBeInstanceOf(TributaryError);
    expect(err.message).toBe('socket closed');
    expect(err.location?.line).toBe(2);
    expect(err.cause).toBe(cause);
  });

  it('raises Python-style type errors for bad operands', async () => {
    expect((await renderError("{{ 'a' + 1 }}")).message).toBe(
      'can only concatenate str (not "int") to str',
    );
    expect((await renderError('{{ 1 / 0 }}')).message).toBe('division by zero');
  });
});

describe('undefined values', () => {
  it('prints undefined as empty, is falsy and iterates as empty by default', async () => {
    expect(
      await render(
        '[{{ x }}]{% if x %}t{% else %}f{% endif %}{% for i in x %}i{% endfor %}{{ x | length }}',
      ),
    ).toBe('[]f0');
  });

  it('makes a missing attribute of a defined value undefined rather than an error', async () => {
    expect(await render('[{{ d.missing }}]{{ d.missing is defined }}', { d: {} })).toBe('[]False');
  });

  it('raises on any use of an undefined value in strict mode', async () => {
    const err = await renderError('{{ x }}', {}, { undefinedMode: 'strict' });
    expect(err.message).toBe("'x' is undefined");
    expect(
      (await renderError('{% if x %}{% endif %}', {}, { undefinedMode: 'strict' })).message,
    ).toBe("'x' is undefined");
  });

  it('still allows `is defined` and `default` in strict mode', async () => {
    expect(
      await render("{{ x is defined }} {{ x | default('d') }}", {}, { undefinedMode: 'strict' }),
    ).toBe('False d');
  });
});
