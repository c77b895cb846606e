/**
 * Generic tests (dbt's SchemaGenericTestParser and TestBuilder): each test a properties file
 * declares on a model, seed, snapshot, source table or one of their columns becomes a test node
 * calling its `test_<name>` macro, named and hashed exactly as dbt-core names and hashes it, and
 * configured in dbt's order: dbt_project.yml's `data_tests:`, then config() inside the test's
 * macro, then the yml entry's configs.
 */
import { dirname } from 'node:path';
import { TributaryError } from '../../core/index.js';
import { Kwargs } from '../../jinja/index.js';
import { defaultConfig, finalizeTestConfig, mergeConfig, unrenderedConfig } from '../config.js';
import { nodeGlobals, type ParseCapture } from '../context.js';
import { INTERNAL_PACKAGE } from '../macro-namespace.js';
import { renderTestConfig, renderTestKwargs, testMacro } from '../test-kwargs.js';
import { newNode, type Node, type SourceNode } from '../types.js';
import { lineOf } from './property-entries.js';
import {
  configAndArguments,
  constructConfig,
  declaration,
  modelArgument,
  pythonArguments,
  synthesizeTestName,
  testHash,
  testIdentity,
  type TestSpec,
} from './test-specs.js';
import type { ParseSession } from './session.js';
import { asString } from './util.js';

/**
 * Builds and adds every queued generic test; a test that cannot be built is a problem. A test
 * belongs to the project whose properties file declares it (the tested node's).
 */
export async function parseGenericTests(s: ParseSession): Promise<void> {
  for (const spec of s.pendingTests) {
    s.project = s.projectNamed(spec.node.package_name);
    const test = await s.collect(spec.item.props.file, () => buildGenericTest(s, spec));
    if (test) s.addNode(test);
  }
  s.project = s.root;
}

/**
 * Whether the macro of test `name` (`unique`, `dbt_utils.equality`) exists, found as dbt finds
 * it: in the namespace named, else from the declaring project (its own, root, dbt's, any).
 */
function findTestMacro(s: ParseSession, namespace: string | null, macroName: string): boolean {
  if (namespace === null) return s.macros.resolve(s.project.name, macroName) !== undefined;
  return s.macros.of(namespace).has(macroName);
}

/** The test node of one declared generic test; throws (located) when it cannot be built. */
async function buildGenericTest(s: ParseSession, spec: TestSpec): Promise<Node> {
  const { item, node: parent, column } = spec;
  const file = item.props.file;
  const fail = (message: string, hint?: string) =>
    new TributaryError(message, {
      code: 'CONFIG',
      location: { file, line: lineOf(item.props, spec.path) },
      ...(hint ? { hint } : {}),
    });
  const { testName, body } = declaration(spec.test, fail);
  const match = /^(?:([a-zA-Z_][0-9a-zA-Z_]*)\.)?([a-zA-Z_][0-9a-zA-Z_]*)$/.exec(testName);
  if (!match) throw fail(`${testName} is not a test name (expected <test> or <package>.<test>)`);
  const namespace = match[1] ?? null;
  const shortName = match[2]!;
  const macroName = `test_${shortName}`;
  if (!findTestMacro(s, namespace, macroName)) {
    if (namespace !== null && namespace !== INTERNAL_PACKAGE && !s.macros.packages.has(namespace))
      throw fail(
        `no generic test named ${testName}: no package named ${namespace} is installed (add it to packages.yml and run tributary deps)`,
      );
    throw fail(
      `no generic test named ${testName}`,
      `define {% test ${shortName}(model, column_name) %} in macros/ or tests/generic/`,
    );
  }
  const parts = configAndArguments(body, fail);
  const kwargs: Record<string, unknown> = { ...parts.kwargs };
  if (column) kwargs.column_name = column.name;
  kwargs.model = modelArgument(parent);
  const { testType, targetName } = testIdentity(shortName, namespace, parent);
  const pyArgs = pythonArguments(kwargs, spec, testName);
  const names = synthesizeTestName(testType, targetName, pyArgs);
  const name = parts.name ?? names.full;
  const compiledName = parts.name ?? names.short;
  const ymlConfig = parts.config;
  // As dbt: the hashed short name becomes the relation's alias when the full name is too long.
  if (!parts.name && names.short !== names.full && ymlConfig.alias === undefined)
    ymlConfig.alias = names.short;
  const fqn = [s.project.name, ...dirname(file).split('/').slice(1), name];
  const test_metadata = { name: shortName, kwargs, namespace };
  const raw = `{{ ${namespace ? `${namespace}.` : ''}${macroName}(**_dbt_generic_test_kwargs) }}${constructConfig(ymlConfig)}`;
  const node = newNode({
    unique_id: `test.${s.project.name}.${name}.${testHash(name, { ...test_metadata, kwargs: pyArgs })}`,
    resource_type: 'test',
    package_name: s.project.name,
    name,
    path: `${compiledName}.sql`,
    original_file_path: file,
    fqn,
    raw_code: raw,
    checksum: { name: 'none', checksum: '' },
    config: defaultConfig('test'),
    description: asString(body.description),
    schema: s.runtime.target.schema,
    test_metadata,
    column_name: column?.name ?? null,
    attached_node: parent.resource_type === 'source' ? null : parent.unique_id,
  });
  for (const level of s.treeLevels('tests', fqn)) mergeConfig(node.config, level);
  // dbt adds a generic test's yml config as a config call, after its macro body's.
  node.config_sources = s.unrenderedLevels('tests', fqn);
  await configureAtParse(s, node, parent, ymlConfig);
  node.config_sources.calls = unrenderedConfig(node.config_sources.calls, ymlConfig);
  mergeConfig(node.config, { tags: column?.tags ?? [] });
  node.tags = node.config.tags;
  finalizeTestConfig(node.config, fail);
  return node;
}

/**
 * What dbt's render_test_update does: the built-in unique and not_null (not overridden) take the
 * yml configs as they are; any other test renders its arguments and macro in parse mode, which
 * records the ref() and source() calls and the config() inside the macro, then the yml configs
 * apply on top. A render that fails is kept as the node's error, reported when it runs.
 */
async function configureAtParse(
  s: ParseSession,
  node: Node,
  parent: Node | SourceNode,
  ymlConfig: Record<string, unknown>,
): Promise<void> {
  const meta = node.test_metadata!;
  const file = node.original_file_path;
  const capture: ParseCapture = { refs: [], sources: [], config: {} };
  const g = nodeGlobals(s.runtime, node, { execute: false, capture });
  const yml = await renderTestConfig(s.runtime, ymlConfig, file, g);
  // dbt's shortcut: only when the test resolves to dbt's own test_unique / test_not_null.
  const macroName = `test_${meta.name}`;
  const shortcut =
    (meta.name === 'unique' || meta.name === 'not_null') &&
    (meta.namespace === null
      ? s.macros.resolve(s.project.name, macroName) === s.macros.internal.get(macroName)
      : meta.namespace === INTERNAL_PACKAGE);
  if (shortcut) {
    if (parent.resource_type === 'source') node.sources = [[parent.source_name, parent.name]];
    else node.refs = [{ name: parent.name }];
  } else {
    try {
      const kwargs = await renderTestKwargs(s.runtime, meta.kwargs, file, g);
      await testMacro(g, meta.namespace, meta.name)(new Kwargs(kwargs));
    } catch (err) {
      s.nodeErrors.set(node.unique_id, err);
    }
    mergeConfig(node.config, capture.config);
    if (node.config_sources) node.config_sources.calls = { ...capture.config };
    node.refs = capture.refs;
    node.sources = capture.sources;
  }
  mergeConfig(node.config, yml);
}
