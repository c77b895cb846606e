// Specs for what the dbt layer relies on: the JS calling convention (Kwargs, Promises, methods
// with `this`), MacroReturn, macro definitions bound to a node's context, and dbt's block tags.
import { describe, expect, it } from 'vitest';
import {
  JinjaEnvironment,
  Kwargs,
  MacroReturn,
  splitArgs,
  type JinjaCallable,
} from '../../src/jinja/index.js';
import { render } from './helpers.js';

const returnGlobal = (value: unknown) => {
  throw new MacroReturn(value);
};

describe('calling JS globals', () => {
  it('passes positional arguments, then a Kwargs with the keyword arguments', async () => {
    const seen: unknown[][] = [];
    const config = (...args: unknown[]) => {
      seen.push(args);
      return '';
    };
    await render("{{ config(materialized='table', tags=['a']) }}{{ config('x') }}", { config });
    expect(seen[0]![0]).toBeInstanceOf(Kwargs);
    expect(splitArgs(seen[0]!)).toEqual({
      args: [],
      kwargs: { materialized: 'table', tags: ['a'] },
    });
    expect(seen[1]).toEqual(['x']);
  });

  it('awaits Promises returned by globals, wherever they appear', async () => {
    const run_query = async (sql: string) => ({ rows: [[sql.length]] });
    expect(
      await render("{% set r = run_query('abc') %}{{ r.rows[0][0] + 1 }}", { run_query }),
    ).toBe('4');
  });

  it('calls methods of JS objects with `this` bound', async () => {
    class Adapter {
      prefix = 'pg';
      dispatch(name: string) {
        return `${this.prefix}__${name}`;
      }
    }
    const results = {
      columns: [
        {
          name: 'c',
          values: function (this: { name: string }) {
            return [this.name];
          },
        },
      ],
    };
    expect(
      await render("{{ adapter.dispatch('x') }} {{ results.columns[0].values() }}", {
        adapter: new Adapter(),
        results,
      }),
    ).toBe("pg__x ['c']");
  });

  it('prints an object through its own toString, as a dbt Relation prints', async () => {
    class Relation {
      toString() {
        return '"db"."main"."orders"';
      }
    }
    expect(await render('select * from {{ rel }}', { rel: new Relation() })).toBe(
      'select * from "db"."main"."orders"',
    );
  });

  it('prints nothing for a void JS function but treats its result as none', async () => {
    expect(await render('[{{ log("x") }}]{{ log("x") is none }}', { log: () => undefined })).toBe(
      '[]True',
    );
  });
});

describe('macros for the dbt layer', () => {
  const env = new JinjaEnvironment();

  it('lists top-level macros with their parameters and lines', () => {
    const t = env.parse('\n{% macro cents(col, scale=2) %}{{ col }}{% endmacro %}', 'macros/m.sql');
    const def = t.macros.get('cents')!;
    expect(def).toMatchObject({ name: 'cents', file: 'macros/m.sql', line: 2 });
    expect(def.params).toEqual([
      { name: 'col', hasDefault: false },
      { name: 'scale', hasDefault: true },
    ]);
  });

  it('registers {% test name %} as the macro test_name, as dbt does', () => {
    const t = env.parse(
      '{% test not_null(model, column_name) %}select 1{% endtest %}',
      'tests/generic.sql',
    );
    expect([...t.macros.keys()]).toEqual(['test_not_null']);
  });

  it('registers {% materialization %} as materialization_<name>_<adapter>', () => {
    const t = env.parse(
      "{% materialization table, default %}a{% endmaterialization %}{% materialization view, adapter='postgres' %}b{% endmaterialization %}",
      'macros/mat.sql',
    );
    expect([...t.macros.keys()]).toEqual([
      'materialization_table_default',
      'materialization_view_postgres',
    ]);
  });

  it('runs a bound macro with the given globals as its outer scope', async () => {
    const t = env.parse(
      '{% macro schema(custom) %}{{ target.schema }}_{{ custom }}{% endmacro %}',
      'macros/s.sql',
    );
    const fn = t.macros.get('schema')!.bind({ target: { schema: 'dev' } });
    expect(await fn('x')).toBe('dev_x');
    expect(await fn(new Kwargs({ custom: 'y' }))).toBe('dev_y');
  });

  it('returns the value given to return() instead of the rendered text', async () => {
    const t = env.parse(
      '{% macro cols() %}ignored{{ return([1, 2]) }}{% endmacro %}',
      'macros/r.sql',
    );
    const g: Record<string, unknown> = { return: returnGlobal };
    g.cols = t.macros.get('cols')!.bind(g);
    expect(await (g.cols as JinjaCallable)()).toEqual([1, 2]);
    expect(await render('{{ cols() | length }}', g)).toBe('2');
  });

  it('lets return() inside a caller block return from the enclosing macro', async () => {
    const src =
      '{% macro run() %}{{ caller() }}unreached{% endmacro %}{% macro outer() %}{% call run() %}{{ return("early") }}{% endcall %}{% endmacro %}{{ outer() }}';
    expect(await render(src, { return: returnGlobal })).toBe('early');
  });

  it('calls bound macros from other files that are passed in globals', async () => {
    const lib = env.parse(
      '{% macro cents(col) %}({{ col }} / 100){% endmacro %}',
      'macros/lib.sql',
    );
    const g: Record<string, unknown> = {};
    g.cents = lib.macros.get('cents')!.bind(g);
    expect(await render('select {{ cents("amount") }}', g)).toBe('select (amount / 100)');
  });

  it('falls back to macros of the same file that the globals do not define', async () => {
    const t = env.parse(
      '{% macro a() %}<{{ b() }}>{% endmacro %}{% macro b() %}B{% endmacro %}',
      'macros/ab.sql',
    );
    expect(await t.macros.get('a')!.bind({})()).toBe('<B>');
  });

  it('lets globals win over same-file macros, as dbt updates the module with its context', async () => {
    const t = env.parse(
      '{% macro a() %}<{{ b() }}>{% endmacro %}{% macro b() %}B{% endmacro %}',
      'macros/ab.sql',
    );
    expect(await t.macros.get('a')!.bind({ b: () => 'override' })()).toBe('<override>');
  });

  it('names the macro and its file in errors from a bound macro', async () => {
    const t = env.parse('{% macro m() %}\n{{ nope.x }}{% endmacro %}', 'macros/m.sql');
    await expect(t.macros.get('m')!.bind({})()).rejects.toMatchObject({
      message: "in macro m: 'nope' is undefined",
      location: { file: 'macros/m.sql', line: 2 },
    });
  });
});

describe('docs and snapshot blocks', () => {
  const env = new JinjaEnvironment();

  it('collects {% docs %} blocks as raw text and renders nothing for them', async () => {
    const t = env.parse(
      '{% docs orders %}\nOne row per **order**.\n{% enddocs %}x',
      'models/docs.md',
    );
    expect(t.docs.get('orders')).toBe('\nOne row per **order**.\n');
    expect(await t.render({})).toBe('x');
  });

  it('collects {% snapshot %} bodies as templates that see the file macros', async () => {
    const src =
      "{% macro cols() %}id{% endmacro %}{% snapshot orders_snap %}{{ config(strategy='check') }}select {{ cols() }} from {{ src }}{% endsnapshot %}";
    const t = env.parse(src, 'snapshots/orders.sql');
    const body = t.snapshots.get('orders_snap')!;
    expect(await body.render({ config: () => '', src: 'raw.orders' })).toBe(
      'select id from raw.orders',
    );
  });
});
