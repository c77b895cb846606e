import { describe, expect, it } from 'vitest';
import { buildAssetGraph, selectAssets } from '../../src/orchestrator/index.js';
import { openDuckDB } from '../../src/engines/index.js';
import { parsePipelineModels } from '../../src/models/index.js';
import { loadProject } from '../../src/project/index.js';
import { tempDir, writeFiles } from '../helpers.js';

async function graphOf(extra: Record<string, string>) {
  const dir = tempDir();
  writeFiles(dir, {
    'tributary.yml':
      'name: shop\nsources:\n  shop:\n    type: files\n    tables:\n      customers: { files: "c.csv" }\n      orders: { files: "o.csv" }\n',
    'contracts/customers.yml':
      'primary_key: [id]\ncolumns:\n  - { name: id, type: bigint, required: true }\n',
    'contracts/orders.yml':
      'columns:\n  - { name: id, type: bigint }\n  - { name: customer_id, type: bigint, references: customers.id }\n',
    'models/sources.yml':
      'version: 2\nsources:\n  - name: shop\n    schema: processed\n    tables: [{ name: customers }, { name: orders }, { name: nope }]\n',
    ...extra,
  });
  const project = await loadProject(dir);
  const engine = await openDuckDB({ path: ':memory:' });
  try {
    const models = await parsePipelineModels({
      dir: project.paths.models,
      fallbackName: project.config.name,
      engine,
      schema: 'main',
      threads: 1,
      reportDirs: project.paths.reportQueries,
    });
    return buildAssetGraph(project, models);
  } finally {
    await engine.close();
  }
}

describe('the asset graph', () => {
  it('links raw, processed (through foreign keys), models and tests upstream first', async () => {
    const graph = await graphOf({
      'models/stg.sql': "select * from {{ source('shop', 'orders') }}",
      'models/fact.sql': "select * from {{ ref('stg') }}",
      'models/schema.yml':
        'version: 2\nmodels:\n  - name: fact\n    columns:\n      - name: id\n        tests: [unique]\n',
    });
    expect(graph.assets.get('processed:orders')!.deps).toEqual([
      'raw:shop.orders',
      'processed:customers',
    ]);
    expect(graph.assets.get('model:fact')!.deps).toEqual(['model:stg']);
    expect(graph.order.indexOf('processed:customers')).toBeLessThan(
      graph.order.indexOf('processed:orders'),
    );
    expect(graph.order.indexOf('model:fact')).toBeLessThan(
      graph.order.indexOf('test:unique_fact_id'),
    );
  });

  it('reports a cycle naming the models in it', async () => {
    await expect(
      graphOf({
        'models/a.sql': "select * from {{ ref('b') }}",
        'models/b.sql': "select * from {{ ref('a') }}",
      }),
    ).rejects.toThrow(/dependency cycle: (a → b → a|b → a → b)/);
  });

  it('reports a source() that names no declared source', async () => {
    await expect(
      graphOf({ 'models/a.sql': "select * from {{ source('shop', 'missing') }}" }),
    ).rejects.toThrow(/source\('shop', 'missing'\) in a names no source table/);
  });

  it('reports a processed-zone source that is no table of tributary.yml', async () => {
    await expect(
      graphOf({ 'models/a.sql': "select * from {{ source('shop', 'nope') }}" }),
    ).rejects.toThrow(/points to processed\.nope, which is no table of tributary\.yml/);
  });

  it('selects with upstream (+name) and downstream (name+), and excludes', async () => {
    const graph = await graphOf({
      'models/stg.sql': "select * from {{ source('shop', 'orders') }}",
    });
    expect([...selectAssets(graph, ['+stg'])].sort()).toEqual(
      [
        'model:stg',
        'processed:customers',
        'processed:orders',
        'raw:shop.customers',
        'raw:shop.orders',
      ].sort(),
    );
    expect([...selectAssets(graph, ['customers+'])].sort()).toEqual(
      ['model:stg', 'processed:customers', 'processed:orders'].sort(),
    );
    expect([...selectAssets(graph, ['customers+'], ['stg'])].sort()).toEqual([
      'processed:customers',
      'processed:orders',
    ]);
    expect(() => selectAssets(graph, ['nothing'])).toThrow(/no asset matches nothing/);
  });
});
