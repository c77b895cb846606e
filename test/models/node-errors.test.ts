/**
 * Errors of one node stay that node's (fixture test/fixtures/dbt/broken): a node whose Jinja
 * raises while it is parsed or compiled ends with status error, naming the node and its file and
 * located at the macro's file and line; what depends on it is skipped, the rest of the project
 * runs. A Jinja syntax error still stops the parse, as in dbt, located at its file and line.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DbtFixture, describeEachEngine, resultOf } from './dbt.js';

describeEachEngine('errors of one node', (engine) => {
  let f: DbtFixture;
  beforeEach(() => {
    f = new DbtFixture('broken', engine);
    f.write('models/after_bad.sql', "select * from {{ ref('bad_call') }}");
    f.write('models/fine.sql', 'select 1 as n');
    f.write(
      'models/late.sql',
      '{% if execute %}{{ require_positive(-2) }}{% endif %}\nselect 1 as n',
    );
    f.write(
      'models/fine.yml',
      [
        'version: 2',
        'models:',
        '  - name: fine',
        '    columns:',
        '      - name: n',
        '        tests: [not_null, guarded]',
      ].join('\n'),
    );
    f.write(
      'macros/guarded.sql',
      [
        '{% test guarded(model, column_name) %}',
        '  {% if execute %}{{ require_positive(0) }}{% endif %}',
        '  select * from {{ model }} where {{ column_name }} is null',
        '{% endtest %}',
      ].join('\n'),
    );
  });
  afterEach(() => f.cleanup());

  it('fails a node whose macro raises at parse time, naming the node, its file, the macro and line', async () => {
    const s = await f.run('build');
    const r = resultOf(s, 'bad_call');
    expect(r.status).toBe('error');
    expect(r.message).toBe(
      'macros/guard.sql:3: in model model.broken.bad_call (models/bad_call.sql): in macro require_positive: compilation error: require_positive needs a positive number, got -1',
    );
  });

  it('skips what depends on the broken node and runs the rest', async () => {
    const s = await f.run('build');
    expect(resultOf(s, 'after_bad').status).toBe('skipped');
    expect(resultOf(s, 'after_bad').message).toContain('bad_call');
    expect(resultOf(s, 'fine').status).toBe('success');
    expect(resultOf(s, 'not_null_fine_n').status).toBe('pass');
    expect(s.success).toBe(false);
  });

  it('fails a node whose macro raises only when executing, the same way', async () => {
    const s = await f.run('run');
    const r = resultOf(s, 'late');
    expect(r.status).toBe('error');
    expect(r.message).toContain('in model model.broken.late (models/late.sql)');
    expect(r.message).toMatch(/^macros\/guard\.sql:3: /);
  });

  it('fails a generic test whose macro raises, leaving the other tests of the model', async () => {
    const s = await f.run('build');
    const r = resultOf(s, 'guarded_fine_n');
    expect(r.status).toBe('error');
    expect(r.message).toContain('in test test.broken.guarded_fine_n.');
    expect(r.message).toContain('(models/fine.yml)');
    expect(resultOf(s, 'not_null_fine_n').status).toBe('pass');
  });

  it('still stops the parse on a Jinja syntax error, at its file and line', async () => {
    f.write('models/syntax.sql', 'select 1 as n,\n  {{ 1 + }} as m');
    const err = await f.run('run').then(
      () => undefined,
      (e: unknown) => e as { problems?: { location?: { file?: string; line?: number } }[] },
    );
    expect(err?.problems?.map((p) => p.location)).toEqual([{ file: 'models/syntax.sql', line: 2 }]);
  });
});
