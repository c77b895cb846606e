/**
 * Generic tests as declared in properties files: which tests a node or source table declares
 * (model-level and per column), their dbt names, configs and arguments. Building the test nodes
 * is generic-tests.ts's; this part is shared with the parse session, which queues the specs.
 */
import { createHash } from 'node:crypto';
import { isMap, isScalar, isSeq } from 'yaml';
import { PyFloat, pyRepr, pyStr } from '../../jinja/index.js';
import type { ColumnDoc, Node, SourceNode } from '../types.js';
import { nodeAt, type PropertyEntry } from './property-entries.js';
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
  // `tests:` and dbt 1.8's `data_tests:`, each with its own YAML path (for error lines).
  const each = (
    o: Record<string, unknown>,
    at: (string | number)[],
    add: (test: unknown, testIndex: number, path: (string | number)[]) => void,
  ) => {
    let n = 0;
    for (const key of ['tests', 'data_tests'])
      asArray(o[key]).forEach((test, i) => add(test, n++, [...at, key, i]));
  };
  const at = [item.section, item.index, ...base];
  each(entry, at, (test, testIndex, path) => specs.push({ item, node, test, testIndex, path }));
  asArray(entry.columns).forEach((c, ci) => {
    const col = asObject(c);
    const column: ColumnDoc = {
      name: asString(col.name),
      description: '',
      meta: {},
      tags: asArray(col.tags).map(String),
    };
    each(col, [...at, 'columns', ci], (test, testIndex, path) =>
      specs.push({ item, node, column, columnIndex: ci, test, testIndex, path }),
    );
  });
  return specs;
}

/**
 * dbt's TestBuilder.CONFIG_ARGS: the keys of a test entry that are configs, not arguments of its
 * macro (also accepted at the top level, the older spelling).
 */
const TEST_CONFIG_KEYS = [
  'severity',
  'tags',
  'enabled',
  'where',
  'limit',
  'warn_if',
  'error_if',
  'fail_calc',
  'store_failures',
  'store_failures_as',
  'meta',
  'database',
  'schema',
  'alias',
];

/** What a test is called before its arguments: `[namespace_][source_]<test>`, and its target. */
export function testIdentity(
  testName: string,
  namespace: string | null,
  parent: Node | SourceNode,
): { testType: string; targetName: string } {
  const source = parent.resource_type === 'source';
  const base = source ? `source_${testName}` : testName;
  return {
    testType: namespace ? `${namespace}_${base}` : base,
    targetName: source ? `${parent.source_name}_${parent.name}` : parent.name,
  };
}

/**
 * dbt's synthesize_generic_test_names: `<test type>_<target>_<args…>` (the `model` argument left
 * out, the others sorted by name, non-word characters replaced), and a short name for the file
 * and relation when the full one is 64 characters or longer: its first 30 identifying
 * characters and the md5 of the full name.
 */
export function synthesizeTestName(
  testType: string,
  targetName: string,
  args: Record<string, unknown>,
): { short: string; full: string } {
  const flat: string[] = [];
  for (const key of Object.keys(args).sort()) {
    if (key === 'model') continue;
    const v = args[key];
    const parts = Array.isArray(v)
      ? v
      : v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype
        ? Object.values(v)
        : [v];
    flat.push(...parts.map((p) => pyStr(p)));
  }
  const unique = flat.map((a) => a.replace(/[^0-9a-zA-Z_]+/g, '_')).join('__');
  const identifier = `${testType}_${targetName}`;
  const full = `${identifier}_${unique}`;
  if (full.length >= 64) return { short: `${identifier.slice(0, 30)}_${md5(full)}`, full };
  return { short: full, full };
}

/**
 * The 10-character suffix of a test's unique_id, as dbt computes it: the last 10 hex digits of
 * the md5 of its name followed by Python's repr() of its test metadata, with every dict's keys
 * sorted and every scalar turned into its str().
 */
export function testHash(
  name: string,
  metadata: { namespace: string | null; name: string; kwargs: Record<string, unknown> },
): string {
  return md5(name + pyRepr(hashable(metadata))).slice(-10);
}

function hashable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(hashable);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, hashable(o[k])]),
    );
  }
  return pyStr(v);
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** The `model` argument dbt gives every generic test: its target through get_where_subquery. */
export function modelArgument(parent: Node | SourceNode): string {
  const target =
    parent.resource_type === 'source'
      ? `source('${parent.source_name}', '${parent.name}')`
      : `ref('${parent.name}')`;
  return `{{ get_where_subquery(${target}) }}`;
}

/**
 * dbt's construct_config: the yml configs as a config() call appended to the test's raw code
 * (after the macro call, which is why they win over config() inside the test's macro).
 */
export function constructConfig(config: Record<string, unknown>): string {
  const pairs = Object.entries(config).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? `"${v.replace(/"/g, '\\"')}"` : pyStr(v)}`,
  );
  return pairs.length ? `{{ config(${pairs.join(',')}) }}` : '';
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
  const body = o[keys[0]!] ?? {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw fail(`the arguments of test ${keys[0]} must be a mapping`);
  return { testName: keys[0]!, body: body as Record<string, unknown> };
}

/**
 * Splits a test's mapping as dbt's TestBuilder does: configs (top-level config keys, then the
 * `config:` mapping; unset values dropped), a custom `name`, and the keyword arguments its macro
 * is called with (everything else, plus the 1.10 `arguments:` mapping).
 */
export function configAndArguments(
  body: Record<string, unknown>,
  fail: (message: string) => Error,
): { config: Record<string, unknown>; kwargs: Record<string, unknown>; name?: string } {
  const nested = asObject(body.config);
  const config: Record<string, unknown> = {};
  const hasNested = 'config' in body;
  for (const key of TEST_CONFIG_KEYS) {
    let value = body[key];
    if (value && hasNested && nested[key] !== undefined)
      throw fail(`test config ${key} is set both at the top level and under config:; keep one`);
    // As dbt: a false top-level value gives way to config:'s (even to its absence).
    if (!value && hasNested) value = nested[key];
    if (value !== undefined && value !== null) config[key] = value;
  }
  for (const [k, v] of Object.entries(nested))
    if (v !== undefined && v !== null && !(k in config)) config[k] = v;
  const kwargs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (NOT_ARGUMENTS.has(k) || TEST_CONFIG_KEYS.includes(k)) continue;
    kwargs[k] = v;
  }
  Object.assign(kwargs, asObject(body.arguments));
  if ('model' in kwargs) throw fail('a test cannot take an argument named model');
  const name = typeof body.name === 'string' ? body.name : undefined;
  return { config, kwargs, ...(name ? { name } : {}) };
}

const NOT_ARGUMENTS = new Set(['config', 'arguments', 'name', 'description', 'test_name']);

/**
 * A test's arguments as Python holds them, for its name and hash: a whole number written as a
 * float (`1.0`, `1e3`) is a float to dbt (its str() is `1.0`) but a plain number once read here,
 * so those are read again from the YAML as written. The arguments the macro gets are unchanged.
 */
export function pythonArguments(
  kwargs: Record<string, unknown>,
  spec: TestSpec,
  testName: string,
): Record<string, unknown> {
  if (!hasWholeNumber(kwargs) || typeof spec.test !== 'object' || spec.test === null) return kwargs;
  const named = typeof (spec.test as Record<string, unknown>).test_name === 'string';
  const body = nodeAt(spec.item.props, named ? spec.path : [...spec.path, testName]);
  if (!isMap(body)) return kwargs;
  const nested = body.get('arguments', true);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs)) {
    const node = body.get(k, true) ?? (isMap(nested) ? nested.get(k, true) : undefined);
    out[k] = asPython(v, node);
  }
  return out;
}

function asPython(v: unknown, node: unknown): unknown {
  if (typeof v === 'number')
    return Number.isInteger(v) && isScalar(node) && /[.eE]|inf|nan/i.test(String(node.source))
      ? new PyFloat(v)
      : v;
  if (Array.isArray(v))
    return v.map((x, i) => asPython(x, isSeq(node) ? node.get(i, true) : undefined));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        k,
        asPython(x, isMap(node) ? node.get(k, true) : undefined),
      ]),
    );
  return v;
}

function hasWholeNumber(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v);
  if (Array.isArray(v)) return v.some(hasWholeNumber);
  if (v && typeof v === 'object') return Object.values(v).some(hasWholeNumber);
  return false;
}
