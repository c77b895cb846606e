import { describe, expect, it } from 'vitest';
import { loadModels, renderTemplate, scanTemplate } from '../../src/models/index.js';
import type { ProblemsError } from '../../src/project/index.js';
import { tempDir, writeFiles } from '../helpers.js';

describe('the minimal model resolver', () => {
  it('finds refs, sources and config', () => {
    const scan = scanTemplate(
      'm.sql',
      `{{ config(materialized='view', tags=['daily']) }}\nselect * from {{ ref('a') }} join {{ source("shop", "orders") }} using (id)`,
    );
    expect(scan).toEqual({
      refs: ['a'],
      sources: [{ source: 'shop', table: 'orders' }],
      config: { materialized: 'view', tags: ['daily'] },
    });
  });

  it('renders refs and sources to relations and config to nothing', () => {
    const sql = renderTemplate(
      `{{ config(materialized='table') }}select * from {{ ref('a') }}, {{ source('s', 't') }}`,
      {
        ref: (n) => `main.${n}`,
        source: (_s, t) => `processed.${t}`,
      },
    );
    expect(sql).toBe('select * from main.a, processed.t');
  });

  it('refuses Jinja it does not support, naming the line', () => {
    expect(() => scanTemplate('m.sql', 'select 1\n{% if x %}1{% endif %}')).toThrow(
      /not supported yet/,
    );
    try {
      scanTemplate('models/m.sql', 'select\n1,\n{{ var("x") }}');
    } catch (err) {
      expect((err as { location: unknown }).location).toEqual({ file: 'models/m.sql', line: 3 });
    }
  });
});

describe('loading models', () => {
  it('reads models, schema.yml tests and reports', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'models/a.sql': 'select 1 as id',
      'models/b.sql': "select * from {{ ref('a') }}",
      'models/schema.yml':
        "version: 2\nmodels:\n  - name: b\n    columns:\n      - name: id\n        tests: [unique, not_null, { relationships: { to: ref('a'), field: id } }, { accepted_values: { values: [1], config: { severity: warn } } }]\n",
      'reports/r.sql': "select count(*) from {{ ref('b') }}",
    });
    const set = await loadModels(dir, [`${dir}/models`], [`${dir}/reports`]);
    expect(set.models.map((m) => [m.name, m.refs])).toEqual([
      ['a', []],
      ['b', ['a']],
    ]);
    expect(set.tests.map((t) => [t.name, t.severity])).toEqual([
      ['unique_b_id', 'error'],
      ['not_null_b_id', 'error'],
      ['relationships_b_id__a', 'error'],
      ['accepted_values_b_id', 'warn'],
    ]);
    expect(set.reports.map((r) => r.name)).toEqual(['r']);
  });

  it('reports every broken ref with its file', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'models/a.sql': "select * from {{ ref('x') }}",
      'models/b.sql': "select * from {{ ref('y') }}",
    });
    const err = (await loadModels(dir, [`${dir}/models`], []).catch(
      (e: unknown) => e,
    )) as ProblemsError;
    expect(err.problems.map((p) => `${p.location.file}: ${p.message}`)).toEqual([
      "models/a.sql: ref('x') names no model",
      "models/b.sql: ref('y') names no model",
    ]);
  });

  it('treats a missing models folder as empty', async () => {
    expect(await loadModels(tempDir(), ['/nonexistent/models'], [])).toEqual({
      models: [],
      tests: [],
      reports: [],
    });
  });
});
