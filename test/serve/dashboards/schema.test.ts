/** Dashboard files: what is accepted, and problems that name the file, line and YAML path. */
import { describe, expect, it } from 'vitest';
import { ProblemsError, type Problem } from '../../../src/project/index.js';
import {
  dashboardJsonSchema,
  loadDashboards,
  parseDashboard,
} from '../../../src/serve/dashboards/index.js';
import { tempDir, writeFiles } from '../../helpers.js';

const VALID = `title: Sales
description: Revenue at a glance.
filters:
  - name: period
    type: date_range
    default: { from: 2024-01-01, to: 2024-12-31 }
  - name: region
    type: select
    options_sql: select distinct region from stores order by 1
    column: region
tiles:
  - id: revenue
    title: Revenue
    type: kpi
    format: currency
    compare: previous_period
    sql: |
      select sum(amount) as value from sales
      where day between cast($period_from as date) and cast($period_to as date)
        and ($region is null or region = $region);
  - id: by_region
    title: Revenue by region
    type: map
    model: sales
    measure: sum(amount)
    by: region
`;

function problemsOf(text: string, file = 'dashboards/sales.yml'): Problem[] {
  return parseDashboard('sales', file, text).problems;
}

/** Replaces one line of the valid file (by its text) with another. */
function edit(from: string, to: string): string {
  expect(VALID).toContain(from);
  return VALID.replace(from, to);
}

describe('dashboard files', () => {
  it('loads a valid file with widths settled and the filters each tile reads', () => {
    const { dashboard, problems } = parseDashboard('sales', 'dashboards/sales.yml', VALID);
    expect(problems).toEqual([]);
    expect(dashboard!.name).toBe('sales');
    expect(dashboard!.tiles.map((t) => [t.id, t.width, t.uses])).toEqual([
      ['revenue', 1, ['period', 'region']],
      ['by_region', 2, ['region']],
    ]);
    // A final semicolon is dropped: the tile runs one statement.
    expect(dashboard!.tiles[0]!.sql!.endsWith('= $region)')).toBe(true);
  });

  it('names the file, line and path of a parameter that is no filter, and the tile', () => {
    const problems = problemsOf(edit('region = $region)', 'region = $regoin)'));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(
      /^tile revenue: \$regoin \(sql line 3\) is not a filter parameter of this dashboard \(parameters: \$period_from, \$period_to, \$region\)/,
    );
    expect(problems[0]!.location).toMatchObject({
      file: 'dashboards/sales.yml',
      path: 'tiles.0.sql',
      line: 17,
    });
  });

  it('does not take a parameter-looking word in a string or comment for a parameter', () => {
    const text = edit(
      'select sum(amount) as value from sales',
      "select sum(amount) as value, '$nope' as note from sales -- $nor_this",
    );
    expect(problemsOf(text)).toEqual([]);
  });

  it('refuses a bare date range name: its parameters are _from and _to', () => {
    const problems = problemsOf(edit('cast($period_from as date)', 'cast($period as date)'));
    expect(problems[0]!.message).toMatch(/\$period \(sql line 2\) is not a filter parameter/);
  });

  it('refuses positional parameters and a second statement', () => {
    expect(problemsOf(edit('region = $region)', 'region = $1)'))[0]!.message).toMatch(
      /positional parameters \(\$1, \?\) are not supported/,
    );
    expect(
      problemsOf(edit('region = $region);', 'region = $region); drop table sales'))[0]!.message,
    ).toMatch(/more than one statement/);
  });

  it('wants exactly one of sql and model + measure', () => {
    const both = problemsOf(edit('    model: sales\n', '    model: sales\n    sql: select 1\n'));
    expect(both.map((p) => [p.message, p.location.path])).toEqual([
      ['tile by_region: give either sql or model + measure', 'tiles.1'],
    ]);
    const noMeasure = problemsOf(edit('    measure: sum(amount)\n', ''));
    expect(noMeasure.map((p) => [p.message, p.location.path])).toEqual([
      ['model needs a measure', 'tiles.1.model'],
    ]);
  });

  it('refuses a measure that is more than one expression', () => {
    const problems = problemsOf(edit('measure: sum(amount)', 'measure: "sum(amount) -- x"'));
    expect(problems[0]!.message).toMatch(/a measure is one expression/);
    expect(problems[0]!.location.path).toBe('tiles.1.measure');
  });

  it('names an unknown tile type, key and width with their lines', () => {
    const text = edit('    type: map\n', '    type: pie\n    widht: 2\n');
    const problems = problemsOf(text);
    expect(problems.map((p) => [p.location.path, p.location.line])).toEqual([
      ['tiles.1.type', 23],
      ['tiles.1', 21],
    ]);
    expect(problems[0]!.message).toMatch(/kpi.*map/);
    expect(problems[1]!.message).toMatch(/widht/);
  });

  it('refuses duplicate tile ids and filter names', () => {
    const text = edit('- id: by_region', '- id: revenue').replace(
      '  - name: region\n',
      '  - name: period\n',
    );
    const messages = problemsOf(text).map((p) => `${p.location.path}: ${p.message}`);
    expect(messages).toContain('filters.1.name: filter period is defined twice');
    expect(messages).toContain('tiles.1.id: tile revenue is defined twice');
  });

  it('wants a date range the tile reads for compare: previous_period, and only on kpi tiles', () => {
    const noRange = problemsOf(
      edit(
        'where day between cast($period_from as date) and cast($period_to as date)\n        and ',
        'where ',
      ),
    );
    expect(noRange.map((p) => [p.location.path, p.message])).toEqual([
      [
        'tiles.0.compare',
        'tile revenue: compare: previous_period needs a date range filter the tile uses',
      ],
    ]);
    const onMap = problemsOf(
      edit('    by: region\n', '    by: region\n    compare: previous_period\n'),
    );
    expect(onMap[0]!.message).toBe('tile by_region: compare applies to kpi tiles');
  });

  it('checks filter defaults: real dates, in order, the right shape', () => {
    expect(problemsOf(edit('to: 2024-12-31', 'to: 2024-02-30'))[0]).toMatchObject({
      message: 'not a calendar date',
      location: { path: 'filters.0.default.to', line: 6 },
    });
    expect(problemsOf(edit('to: 2024-12-31', 'to: 2023-12-31'))[0]!.message).toMatch(
      /ends \(2023-12-31\) before it starts/,
    );
    expect(
      problemsOf(edit('column: region', 'column: region\n    default: { from: 2024-01-01 }'))[0]!
        .message,
    ).toBe('a select default is one value (a string)');
  });

  it('refuses a model tile filtered by a filter without a column', () => {
    const problems = problemsOf(
      edit('    by: region\n', '    by: region\n    filters: [period]\n'),
    );
    expect(problems.map((p) => [p.location.path, p.message])).toEqual([
      [
        'tiles.1.filters.0',
        'tile by_region: filter period has no column, so it cannot filter a model tile',
      ],
    ]);
  });

  it('reports YAML syntax errors at their line', () => {
    const problems = problemsOf('title: [unclosed\ntiles: []\n');
    expect(problems[0]!.location.file).toBe('dashboards/sales.yml');
    expect(problems[0]!.location.line).toBeGreaterThan(0);
  });

  it('collects the problems of every file of a project into one error', async () => {
    const dir = tempDir('trib-dash-');
    writeFiles(dir, {
      'dashboards/sales.yml': VALID,
      'dashboards/broken.yml': 'title: Broken\ntiles:\n  - id: a\n    title: A\n    type: kpi\n',
      'dashboards/bad name.yml': VALID,
      'dashboards/notes.txt': 'not a dashboard',
    });
    const err = await loadDashboards(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemsError);
    const text = (err as ProblemsError).problems.map(
      (p) => `${p.location.file}:${p.location.line ?? ''} ${p.message}`,
    );
    expect(text).toEqual([
      expect.stringMatching(/^dashboards\/bad name\.yml: dashboard file names are letters/),
      'dashboards/broken.yml:3 tile a: give either sql or model + measure',
    ]);
  });

  it('loads a project’s dashboards sorted by name, and none without the folder', async () => {
    const dir = tempDir('trib-dash-');
    expect(await loadDashboards(dir)).toEqual([]);
    writeFiles(dir, { 'dashboards/b.yml': VALID, 'dashboards/a.yaml': VALID });
    expect((await loadDashboards(dir)).map((d) => [d.name, d.file])).toEqual([
      ['a', 'dashboards/a.yaml'],
      ['b', 'dashboards/b.yml'],
    ]);
  });

  it('has a JSON Schema with descriptions for editors', () => {
    const schema = JSON.stringify(dashboardJsonSchema());
    expect(schema).toContain('Never paste values into SQL');
    expect(schema).toContain('"heatmap"');
  });
});
