/**
 * Generic tests as declared in properties files: which tests a node or source table declares
 * (model-level and per column), their dbt names, configs and arguments. Building the test nodes
 * is generic-tests.ts's; this part is shared with the parse session, which queues the specs.
 */
import { createHash } from 'node:crypto';
import type { ColumnDoc, Node, SourceNode } from '../types.js';
import type { PropertyEntry } from './property-entries.js';
import { asArray, asObject, asString } from './util.js';

/** One generic test declared in a properties file, for a node or a column of it. */
export interface TestSpec {
  item: PropertyEntry;
  node: Node | SourceNode;
  column?: ColumnDoc;
  columnIndex?: number;
  test: unknown;
  testIndex: number;
  path: (string | number)[];
}

/** Every test declared for a node or source table: model-level and per column. */
export function testsFor(
  item: PropertyEntry,
  node: Node | SourceNode,
  entry: Record<string, unknown>,
  base: (string | number)[],
): TestSpec[] {
  const specs: TestSpec[] = [];
  const listOf = (o: Record<string, unknown>) => [...asArray(o.tests), ...asArray(o.data_tests)];
  listOf(entry).forEach((test, testIndex) =>
    specs.push({
      item,
      node,
      test,
      testIndex,
      path: [item.section, item.index, ...base, 'tests', testIndex],
    }),
  );
  asArray(entry.columns).forEach((c, ci) => {
    const col = asObject(c);
    const column: ColumnDoc = {
      name: asString(col.name),
      description: '',
      meta: {},
      tags: asArray(col.tags).map(String),
    };
    listOf(col).forEach((test, testIndex) =>
      specs.push({
        item,
        node,
        column,
        columnIndex: ci,
        test,
        testIndex,
        path: [item.section, item.index, ...base, 'columns', ci, 'tests', testIndex],
      }),
    );
  });
  return specs;
}

const TEST_CONFIG_KEYS = new Set([
  'severity',
  'where',
  'store_failures',
  'tags',
  'enabled',
  'limit',
  'fail_calc',
  'warn_if',
  'error_if',
  'meta',
  'alias',
  'schema',
  'database',
  'store_failures_as',
]);

/** dbt's test naming: `<test>_<model>_<args…>`, hashed when 64 characters or longer. */
export function synthesizeTestName(
  testName: string,
  nodeName: string,
  args: Record<string, unknown>,
): { short: string; full: string } {
  const flat: string[] = [];
  for (const key of Object.keys(args).sort()) {
    if (key === 'model') continue;
    const v = args[key];
    const parts = v && typeof v === 'object' ? (Array.isArray(v) ? v : Object.values(v)) : [v];
    flat.push(...parts.map((p) => pyStr(p)));
  }
  const unique = flat.map((a) => a.replace(/[^0-9a-zA-Z_]+/g, '_')).join('__');
  const identifier = `${testName}_${nodeName}`;
  const full = `${identifier}_${unique}`;
  if (full.length >= 64) {
    return {
      short: `${identifier.slice(0, 30)}_${createHash('md5').update(full).digest('hex')}`,
      full,
    };
  }
  return { short: full, full };
}

/** Python's str() of a YAML scalar, for test names (True, None…). */
function pyStr(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  return String(v);
}

/** A declared test's name (`unique`, `dbt_utils.x`) and its mapping of arguments and configs. */
export function declaration(
  test: unknown,
  fail: (message: string) => Error,
): { testName: string; body: Record<string, unknown> } {
  if (typeof test === 'string') return { testName: test, body: {} };
  const o = asObject(test);
  if (typeof o.test_name === 'string') return { testName: o.test_name, body: o };
  const keys = Object.keys(o);
  if (keys.length !== 1)
    throw fail(
      `a test must be a name or a mapping with one key (the test's name), got ${keys.join(', ') || 'nothing'}`,
    );
  return { testName: keys[0]!, body: asObject(o[keys[0]!]) };
}

/** Splits a test's mapping into configs and the keyword arguments its macro is called with. */
export function configAndArguments(body: Record<string, unknown>): {
  config: Record<string, unknown>;
  kwargs: Record<string, unknown>;
} {
  const config: Record<string, unknown> = { ...asObject(body.config) };
  const kwargs: Record<string, unknown> = { ...asObject(body.arguments) };
  for (const [k, v] of Object.entries(body)) {
    if (NOT_ARGUMENTS.has(k)) continue;
    if (TEST_CONFIG_KEYS.has(k)) config[k] = v;
    else kwargs[k] = v;
  }
  return { config, kwargs };
}

const NOT_ARGUMENTS = new Set(['config', 'arguments', 'name', 'description', 'test_name']);

/** What the test depends on: what it tests, and any ref() / source() in its arguments. */
export function dependencies(
  parent: Node | SourceNode,
  kwargs: Record<string, unknown>,
): { refs: Node['refs']; sources: [string, string][] } {
  const refs: Node['refs'] = [];
  const sources: [string, string][] = [];
  if (parent.resource_type === 'source') sources.push([parent.source_name, parent.name]);
  else refs.push({ name: parent.name });
  for (const v of Object.values(kwargs)) {
    if (typeof v !== 'string') continue;
    for (const m of v.matchAll(/\bref\(\s*['"]([^'"]+)['"]\s*\)/g)) refs.push({ name: m[1]! });
    for (const m of v.matchAll(/\bsource\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)/g))
      sources.push([m[1]!, m[2]!]);
  }
  return { refs, sources };
}
