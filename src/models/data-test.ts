/**
 * Running a compiled data test as dbt's test materialization and TestRunner do: the failing rows
 * are stored first when should_store_failures() says so (a table, or a view with
 * store_failures_as: view, named by the test's schema and alias, replaced atomically), then
 * get_test_sql() wraps them into failures / should_warn / should_error with the test's fail_calc,
 * warn_if, error_if and limit, and the status follows: fail when severity is error and
 * should_error holds, else warn when should_warn holds, else pass.
 */
import { TributaryError } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import { nodeGlobals, type CompileRuntime } from './context.js';
import type { Node } from './types.js';
import { nodeRelationSql } from './relation.js';

export interface TestOutcome {
  status: 'pass' | 'warn' | 'fail';
  failures: number;
  message: string;
  /** The stored failing rows, when the test stored them. */
  relation: string | null;
}

type MacroFn = (...a: unknown[]) => Promise<unknown>;

/** Runs one compiled test (`sql` returns its failing rows) and decides its status. */
export async function runDataTest(
  engine: Engine,
  rt: CompileRuntime,
  node: Node,
  sql: string,
): Promise<TestOutcome> {
  const g = nodeGlobals(rt, node, {
    execute: true,
    state: { ephemerals: [], statements: new Map() },
  });
  const c = node.config;
  let mainSql = sql;
  let relation: string | null = null;
  if (truthy(await (g.should_store_failures as MacroFn)())) {
    relation = await storeFailures(engine, node, sql);
    mainSql = `select *\nfrom ${relation}`;
  }
  const testSql = String(
    await (g.get_test_sql as MacroFn)(mainSql, c.fail_calc, c.warn_if, c.error_if, c.limit ?? null),
  );
  const result = await engine.query(testSql);
  if (result.rows.length !== 1)
    throw new TributaryError(
      `dbt internally failed to execute ${node.unique_id}: Returned ${result.rows.length} rows, but expected 1 row`,
      { code: 'ENGINE' },
    );
  if (result.columns.length !== 3)
    throw new TributaryError(
      `dbt internally failed to execute ${node.unique_id}: Returned ${result.columns.length} columns, but expected 3 columns`,
      { code: 'ENGINE' },
    );
  const row = Object.fromEntries(
    Object.entries(result.rows[0]!).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const failures = Number(row.failures);
  if (row.failures === null || row.failures === undefined || !Number.isFinite(failures))
    throw new TributaryError(
      `test ${node.name}: fail_calc \`${String(c.fail_calc)}\` gave ${String(row.failures)}, not a number of failures`,
      { code: 'CONFIG', hint: 'make fail_calc return a number even when no rows fail' },
    );
  const got = `Got ${failures} result${failures === 1 ? '' : 's'}`;
  const stored = relation ? `; failing rows in ${relation}` : '';
  if (String(c.severity ?? 'error').toUpperCase() === 'ERROR' && asBool(row.should_error, node))
    return {
      status: 'fail',
      failures,
      message: `${got}, configured to fail if ${String(c.error_if)}${stored}`,
      relation,
    };
  // Under --warn-error (or LogTestResult in --warn-error-options) a warning fails, as in dbt.
  if (asBool(row.should_warn, node) && rt.warnError?.errors('LogTestResult'))
    return {
      status: 'fail',
      failures,
      message: `${got}, configured to fail if ${String(c.warn_if)}${stored}`,
      relation,
    };
  if (asBool(row.should_warn, node))
    return {
      status: 'warn',
      failures,
      message: `${got}, configured to warn if ${String(c.warn_if)}${stored}`,
      relation,
    };
  return { status: 'pass', failures: 0, message: 'pass', relation };
}

/**
 * Keeps the failing rows in `<schema>.<alias>` (a table, or a view with store_failures_as: view),
 * replacing what a previous run left there in one step; returns the relation.
 */
async function storeFailures(engine: Engine, node: Node, sql: string): Promise<string> {
  const as = node.config.store_failures_as ?? 'table';
  if (as !== 'table' && as !== 'view')
    throw new TributaryError(
      `'${String(as)}' is not a valid value for \`store_failures_as\`. Accepted values are: ['ephemeral', 'table', 'view']`,
      { code: 'CONFIG', location: { file: node.original_file_path } },
    );
  await engine.ensureSchema(node.schema);
  if (as === 'view') await engine.replaceView(node.schema, node.alias, sql);
  else await engine.replaceTable(node.schema, node.alias, sql);
  return nodeRelationSql(engine.dialect, node, node.alias);
}

/** Python's truthiness of what should_store_failures() returned. */
function truthy(v: unknown): boolean {
  if (typeof v === 'string') return v.trim() !== '' && v.trim() !== 'False' && v.trim() !== 'None';
  return Boolean(v);
}

/** dbt's TestResultData.convert_bool_type: strings as strtobool reads them, else bool(). */
function asBool(v: unknown, node: Node): boolean {
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (['y', 'yes', 't', 'true', 'on', '1'].includes(s)) return true;
    if (['n', 'no', 'f', 'false', 'off', '0'].includes(s)) return false;
    throw new TributaryError(
      `test ${node.name}: get_test_sql returned ${JSON.stringify(v)} where a boolean belongs`,
      { code: 'CONFIG' },
    );
  }
  if (typeof v === 'bigint') return v !== 0n;
  return Boolean(v);
}
