/**
 * forecasts/*.yml as the project loads them: defaults, the shape a run gets, and every problem
 * reported at its file, line and YAML path (all of them at once, across files).
 */
import { describe, expect, it } from 'vitest';
import {
  jsonSchemas,
  loadForecasts,
  loadProject,
  parseForecast,
  ProblemsError,
  type Problem,
} from '../../src/project/index.js';
import { tempDir, writeFiles } from '../helpers.js';

const MINIMAL = `source: ref('fct_sales')
time_column: order_ts
target: sum(quantity)
frequency: day
horizon: 28
`;

function problemsOf(text: string): Problem[] {
  return parseForecast('demand', 'forecasts/demand.yml', text).problems;
}

describe('a forecast file', () => {
  it('gets the documented defaults', () => {
    const { forecast } = parseForecast('demand', 'forecasts/demand.yml', MINIMAL);
    expect(forecast).toMatchObject({
      name: 'demand',
      source: { kind: 'ref', model: 'fct_sales' },
      refs: ['fct_sales'],
      keys: [],
      methods: ['auto'],
      levels: [80, 95],
      backtest: { windows: 3, step: 28 },
      fillGaps: 'zero',
      nonNegative: true,
      keepAllMethods: false,
      selection: 'hedge',
      reconcile: 'bottom_up',
      tags: [],
    });
    expect(forecast!.seasonPeriods).toBeUndefined();
    expect(forecast!.hierarchy).toBeUndefined();
  });

  it('reads a hierarchy as key columns below the total, and the refs of a source query', () => {
    const { forecast } = parseForecast(
      'demand',
      'forecasts/demand.yml',
      `source:
  sql: select * from {{ ref('fct_sales') }} f join {{ ref("dim_products") }} p using (product_key);
time_column: order_ts
target: sum(quantity)
hierarchy: [total, category, product_name]
frequency: week
horizon: 8
levels: [95, 50]
`,
    );
    expect(forecast).toMatchObject({
      keys: ['category', 'product_name'],
      hierarchy: ['total', 'category', 'product_name'],
      refs: ['fct_sales', 'dim_products'],
      levels: [50, 95],
      source: { kind: 'sql' },
    });
    expect(forecast!.source).toEqual({
      kind: 'sql',
      sql: `select * from {{ ref('fct_sales') }} f join {{ ref("dim_products") }} p using (product_key)`,
    });
  });

  it('reports a wrong source, frequency and horizon each at its line', () => {
    expect(
      problemsOf(`source: fct_sales
time_column: order_ts
target: sum(quantity)
frequency: daily
horizon: 0
`),
    ).toEqual([
      {
        message: "expected ref('<model>'), or { sql: <one SELECT> }",
        location: { file: 'forecasts/demand.yml', line: 1, column: 9, path: 'source' },
      },
      {
        message: expect.stringMatching(/hour.*day.*week.*month/),
        location: { file: 'forecasts/demand.yml', line: 4, column: 12, path: 'frequency' },
      },
      {
        message: expect.stringMatching(/>=\s*1/),
        location: { file: 'forecasts/demand.yml', line: 5, column: 10, path: 'horizon' },
      },
    ]);
  });

  it('refuses group_by with hierarchy, total below the top, and keys named like output columns', () => {
    const problems = problemsOf(`${MINIMAL}group_by: [region]
hierarchy: [category, total, period]
`);
    expect(problems.map((p) => [p.location.line, p.location.path, p.message])).toEqual([
      [7, 'hierarchy', 'give group_by or hierarchy, not both'],
      [
        7,
        'hierarchy.1',
        'total is the grand total: it can only be a hierarchy’s first level'.replace('’', "'"),
      ],
      [
        7,
        'hierarchy.2',
        'key column period clashes with a column of the forecast tables; rename it in the source',
      ],
    ]);
  });

  it('refuses a target with parameters or several statements, and unknown fields', () => {
    const problems = problemsOf(
      MINIMAL.replace('sum(quantity)', 'sum(quantity); drop table x') + 'horizen: 3\n',
    );
    // A key zod does not know is reported at the top of the file, as in every project file.
    expect(problems.map((p) => [p.location.line, p.message])).toEqual([
      [1, expect.stringMatching(/horizen/)],
      [3, 'target is one aggregate expression, without parameters, comments or ;'],
    ]);
    const target = problemsOf(MINIMAL.replace('sum(quantity)', 'sum(quantity) * $factor'));
    expect(target.map((p) => [p.location.line, p.location.path, p.message])).toEqual([
      [3, 'target', 'target is one aggregate expression, without parameters, comments or ;'],
    ]);
  });

  it('asks for methods: [auto] with combine_top, and unique levels', () => {
    const problems = problemsOf(`${MINIMAL}methods: [ses, holt]
combine_top: 2
levels: [80, 80]
`);
    expect(problems.map((p) => [p.location.line, p.location.path])).toEqual([
      [8, 'levels.1'],
      [7, 'combine_top'],
    ]);
  });
});

describe('a forecast file’s selection and reconciliation', () => {
  it('takes reconcile only with a hierarchy, and only bottom_up or mint_shrink', () => {
    expect(
      problemsOf(`${MINIMAL}reconcile: mint_shrink\n`).map((p) => [
        p.location.line,
        p.location.path,
      ]),
    ).toEqual([[6, 'reconcile']]);
    expect(problemsOf(`${MINIMAL}hierarchy: [total, category]\nreconcile: mint\n`)).toHaveLength(1);
    const { forecast } = parseForecast(
      'demand',
      'forecasts/demand.yml',
      `${MINIMAL}hierarchy: [total, category]\nreconcile: mint_shrink\nselection: best\n`,
    );
    expect(forecast).toMatchObject({ reconcile: 'mint_shrink', selection: 'best' });
  });

  it('takes outliers: clean or keep (absent: the engine default), anything else at its line', () => {
    const parse = (text: string) => parseForecast('demand', 'forecasts/demand.yml', text).forecast;
    expect(parse(MINIMAL)?.outliers).toBeUndefined();
    expect(parse(`${MINIMAL}outliers: keep\n`)?.outliers).toBe('keep');
    expect(parse(`${MINIMAL}outliers: clean\n`)?.outliers).toBe('clean');
    expect(
      problemsOf(`${MINIMAL}outliers: remove\n`).map((p) => [p.location.line, p.location.path]),
    ).toEqual([[6, 'outliers']]);
  });
});

describe('a project’s forecasts', () => {
  it('are collected from forecasts/, every problem of every file at once', async () => {
    const dir = tempDir('trib-fc-load-');
    writeFiles(dir, {
      'forecasts/a.yml': MINIMAL.replace('horizon: 28', 'horizon: -1'),
      'forecasts/b.yml': MINIMAL.replace('time_column: order_ts', 'time_column: 1st'),
      'forecasts/good.yml': MINIMAL,
      'forecasts/2bad-name.yml': MINIMAL,
    });
    const err = await loadForecasts(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemsError);
    expect((err as ProblemsError).problems.map((p) => [p.location.file, p.location.line])).toEqual([
      ['forecasts/2bad-name.yml', undefined],
      ['forecasts/a.yml', 5],
      ['forecasts/b.yml', 2],
    ]);
  });

  it('are part of the loaded project, and their problems are the project’s', async () => {
    const dir = tempDir('trib-fc-project-');
    writeFiles(dir, { 'tributary.yml': 'name: p\n', 'forecasts/demand.yml': MINIMAL });
    const project = await loadProject(dir);
    expect(project.forecasts.map((f) => f.name)).toEqual(['demand']);
    writeFiles(dir, { 'forecasts/demand.yml': MINIMAL.replace('day', 'fortnight') });
    const err = await loadProject(dir).catch((e: unknown) => e);
    expect((err as ProblemsError).problems.map((p) => p.location)).toEqual([
      { file: 'forecasts/demand.yml', line: 4, column: 12, path: 'frequency' },
    ]);
  });

  it('have a JSON Schema for editors beside the others', () => {
    const schema = jsonSchemas()['forecast.schema.json'] as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['source', 'time_column', 'target', 'hierarchy', 'backtest']),
    );
    expect(schema.required.sort()).toEqual(
      ['frequency', 'horizon', 'source', 'target', 'time_column'].sort(),
    );
  });
});
