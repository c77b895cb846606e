/** Building models in the warehouse and running their tests, through the Engine seam. */
import type { Engine } from '../engines/index.js';
import { renderTemplate, type Resolver } from './resolver.js';
import type { ModelNode, ModelTest } from './load.js';

/** The SQL of a model with ref()/source() replaced by relation names. */
export function compileModel(node: { sql: string }, resolver: Resolver): string {
  return renderTemplate(node.sql, resolver).trim().replace(/;\s*$/, '');
}

/** Builds a model as a table (atomic replace) or a view; returns the table's row count. */
export async function materialize(
  engine: Engine,
  schema: string,
  node: ModelNode,
  sql: string,
): Promise<number | undefined> {
  const { quoteIdentifier: q } = engine.dialect;
  if (node.config.materialized === 'view') {
    await engine.ensureSchema(schema);
    await engine.exec(`CREATE OR REPLACE VIEW ${q(schema)}.${q(node.name)} AS ${sql}`);
    return undefined;
  }
  return engine.replaceTable(schema, node.name, sql);
}

/** The query returning a test's failing rows. */
export function testSql(engine: Engine, test: ModelTest, resolver: Resolver): string {
  const { quoteIdentifier: q, quoteString: s } = engine.dialect;
  const rel = resolver.ref(test.model);
  const col = q(test.column);
  switch (test.kind) {
    case 'unique':
      return `SELECT ${col}, count(*) AS n FROM ${rel} WHERE ${col} IS NOT NULL GROUP BY ${col} HAVING count(*) > 1`;
    case 'not_null':
      return `SELECT * FROM ${rel} WHERE ${col} IS NULL`;
    case 'accepted_values':
      return `SELECT ${col} FROM ${rel} WHERE ${col} IS NOT NULL AND CAST(${col} AS VARCHAR) NOT IN (${(test.values ?? []).map((v) => s(String(v))).join(', ')})`;
    case 'relationships':
      return `SELECT c.${col} FROM ${rel} AS c LEFT JOIN ${resolver.ref(test.to!)} AS p ON c.${col} = p.${q(test.field!)}
               WHERE c.${col} IS NOT NULL AND p.${q(test.field!)} IS NULL`;
  }
}

/** Runs a test and returns how many rows fail it. */
export async function runTest(
  engine: Engine,
  test: ModelTest,
  resolver: Resolver,
): Promise<number> {
  const { rows } = await engine.query(
    `SELECT count(*) AS failures FROM (${testSql(engine, test, resolver)}) AS t`,
  );
  return Number(rows[0]!.failures);
}
