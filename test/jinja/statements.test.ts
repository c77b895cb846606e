// Specs for statements: set, do, with, filter blocks, for loops, if, and Jinja2's scoping rules.
import { describe, expect, it } from 'vitest';
import { render } from './helpers.js';

describe('set', () => {
  it('assigns a variable', async () => {
    expect(await render('{% set x = 1 + 1 %}{{ x }}')).toBe('2');
  });

  it('unpacks tuples on assignment', async () => {
    expect(await render('{% set a, b = 1, 2 %}{{ a }}-{{ b }}')).toBe('1-2');
  });

  it('captures a block into a variable with {% set %}…{% endset %}', async () => {
    expect(await render('{% set x %}a{{ 1 }}{% endset %}[{{ x }}]')).toBe('[a1]');
  });

  it('applies filters to a set block', async () => {
    expect(await render('{% set x | upper %}ab{% endset %}{{ x }}')).toBe('AB');
  });

  it('does not leak a variable set inside a for loop', async () => {
    expect(
      await render('{% set x = 1 %}{% for i in [1, 2] %}{% set x = 2 %}{% endfor %}{{ x }}'),
    ).toBe('1');
  });

  it('restarts loop-local variables from the outer value on every iteration', async () => {
    const src =
      '{% set c = 0 %}{% for i in [1, 2, 3] %}{% set c = c + 1 %}{{ c }}{% endfor %}{{ c }}';
    expect(await render(src)).toBe('1110');
  });

  it('carries state out of a loop through namespace() attributes', async () => {
    const src =
      '{% set ns = namespace(total=0) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}';
    expect(await render(src)).toBe('6');
  });

  it('lets a variable set inside an if block be seen after it', async () => {
    expect(await render('{% if true %}{% set x = 5 %}{% endif %}{{ x }}')).toBe('5');
  });
});

describe('do, with and filter blocks', () => {
  it('evaluates an expression for its side effect with {% do %}', async () => {
    expect(
      await render('{% set xs = [] %}{% do xs.append(1) %}{% do xs.extend([2]) %}{{ xs }}'),
    ).toBe('[1, 2]');
  });

  it('scopes variables to a {% with %} block', async () => {
    expect(await render('{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a is defined }}')).toBe(
      '3False',
    );
  });

  it('filters a block of output with {% filter %}', async () => {
    expect(await render('{% filter upper %}ab{{ "c" }}{% endfilter %}')).toBe('ABC');
  });

  it('chains filters and passes arguments in a filter block', async () => {
    expect(await render('{% filter replace("a", "b") | upper %}aa{% endfilter %}')).toBe('BB');
  });
});

describe('for loops', () => {
  it('exposes loop.index, index0, revindex, revindex0, first, last and length', async () => {
    const src =
      '{% for x in "ab" %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}';
    expect(await render(src)).toBe('1021TrueFalse2;2110FalseTrue2;');
  });

  it('cycles through values with loop.cycle()', async () => {
    expect(await render('{% for x in "abc" %}{{ loop.cycle("o", "e") }}{% endfor %}')).toBe('oeo');
  });

  it('gives the neighbours as loop.previtem and loop.nextitem, undefined at the edges', async () => {
    const src =
      '{% for x in [1, 2, 3] %}{{ loop.previtem | default("-") }}{{ loop.nextitem | default("-") }} {% endfor %}';
    expect(await render(src)).toBe('-2 13 2- ');
  });

  it('reports when a value changed with loop.changed()', async () => {
    const src =
      '{% for x in [1, 1, 2, 2, 1] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}';
    expect(await render(src)).toBe('121');
  });

  it('filters items with an inline if, counting only the kept ones', async () => {
    const src =
      '{% for x in range(6) if x is odd %}{{ loop.index }}:{{ x }}/{{ loop.length }} {% endfor %}';
    expect(await render(src)).toBe('1:1/3 2:3/3 3:5/3 ');
  });

  it('renders the else block when nothing was iterated', async () => {
    expect(await render('{% for x in [] %}x{% else %}empty{% endfor %}')).toBe('empty');
  });

  it('unpacks tuples in the loop target', async () => {
    const src = "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}";
    expect(await render(src)).toBe('a=1;b=2;');
  });

  it('iterates the keys of a dict', async () => {
    expect(await render("{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}")).toBe('ab');
  });

  it('supports break and continue (jinja2.ext.loopcontrols, which dbt enables)', async () => {
    const src =
      '{% for i in range(10) %}{% if i == 3 %}{% break %}{% endif %}{% if i == 1 %}{% continue %}{% endif %}{{ i }}{% endfor %}';
    expect(await render(src)).toBe('02');
  });

  it('keeps an outer loop variable visible inside a nested loop', async () => {
    const src =
      '{% for a in [1, 2] %}{% for b in "xy" %}{{ a }}{{ b }}{{ loop.depth }} {% endfor %}{% endfor %}';
    expect(await render(src)).toBe('1x1 1y1 2x1 2y1 ');
  });
});

describe('if', () => {
  it('chooses among if, elif and else', async () => {
    const src =
      '{% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %} {% endfor %}';
    expect(await render(src)).toBe('one two many ');
  });

  it('evaluates an inline if expression', async () => {
    expect(await render("{{ 'y' if 1 > 0 else 'n' }}")).toBe('y');
  });

  it('yields undefined from an inline if without else when the condition is false', async () => {
    expect(await render("[{{ 'y' if false }}]")).toBe('[]');
  });
});

describe('for loops iterate a list live, as the list iterator of Python does', () => {
  it('sees a sort of the list inside the body (the next index reads the sorted list)', async () => {
    const src =
      '{% for x in items %}{% if loop.changed(x) %}c{% endif %}{{ loop.index }}{{ x }}{% do items.sort() %}{% endfor %}';
    expect(await render(src, { items: [3, 1, 2] })).toBe('c13c22c33');
  });

  it('peeks one item ahead for last/nextitem and takes length when first asked', async () => {
    const src =
      '{% set l = [3, 1, 2] %}{% for x in l %}{{ loop.revindex }}{{ loop.last }}{{ x }}{{ loop.nextitem }}{% do l.sort() %}{% endfor %}';
    expect(await render(src)).toBe('3False312False131True3');
  });

  it('runs over items appended while looping, and stops for good once exhausted', async () => {
    expect(
      await render(
        '{% set l = [1] %}{% for x in l %}{{ x }}{% if x < 4 %}{% do l.append(x + 1) %}{% endif %}{% endfor %}',
      ),
    ).toBe('1234');
  });

  it('keeps its bookkeeping out of reach of templates', async () => {
    expect(await render('{% for x in [1] %}[{{ loop.items }}{{ loop.strict }}]{% endfor %}')).toBe(
      '[]',
    );
  });
});

describe('autoescape blocks', () => {
  it('are a scope of their own: a name set inside stays inside', async () => {
    expect(
      await render(
        '{% autoescape true %}{% set m = 1 %}{% endautoescape %}{{ m is defined }} {% set k = 1 %}{% autoescape false %}{{ k }}{% set k = 2 %}{{ k }}{% endautoescape %}{{ k }}',
      ),
    ).toBe('False 121');
  });

  it('index and slice Markup to Markup (markupsafe wraps __getitem__)', async () => {
    expect(
      await render(
        "{% autoescape true %}{% set m = '<a>'|e %}{{ m[1:] }}|{{ m[0] }}|{{ m[::2] }}{% endautoescape %}",
      ),
    ).toBe('lt;a&gt;|&|&tag;');
  });
});
