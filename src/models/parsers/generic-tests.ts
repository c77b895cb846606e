/**
 * Generic tests (dbt's GenericTestParser): each test a properties file declares on a model,
 * seed, snapshot, source table or one of their columns becomes a test node calling its
 * `test_<name>` macro, named as dbt names it and attached to what it tests.
 */
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { TributaryError } from '../../core/index.js';
import { defaultConfig, mergeConfig } from '../config.js';
import { INTERNAL_PACKAGE } from '../macro-namespace.js';
import { newNode, type Node } from '../types.js';
import { lineOf } from './property-entries.js';
import {
  configAndArguments,
  declaration,
  dependencies,
  synthesizeTestName,
  type TestSpec,
} from './test-specs.js';
import type { ParseSession } from './session.js';
import { asString, sha256 } from './util.js';

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
function buildGenericTest(s: ParseSession, spec: TestSpec): Node {
  const { project } = s;
  const { item, node: parent, column } = spec;
  const file = item.props.file;
  const fail = (message: string, hint?: string) =>
    new TributaryError(message, {
      code: 'CONFIG',
      location: { file, line: lineOf(item.props, spec.path) },
      ...(hint ? { hint } : {}),
    });
  const { testName, body } = declaration(spec.test, fail);
  const shortName = testName.includes('.') ? testName.split('.').pop()! : testName;
  const namespace = testName.includes('.') ? testName.split('.')[0]! : null;
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
  const { config, kwargs } = configAndArguments(body);
  if (column) kwargs.column_name = column.name;
  const nodeName =
    parent.resource_type === 'source' ? `source_${parent.source_name}_${parent.name}` : parent.name;
  const names = synthesizeTestName(shortName, nodeName, kwargs);
  const name = typeof body.name === 'string' ? body.name : names.short;
  const fqn = [project.name, ...dirname(file).split('/').slice(1), name];
  const cfg = defaultConfig('test');
  for (const level of s.treeLevels('tests', fqn)) mergeConfig(cfg, level);
  mergeConfig(cfg, { tags: column?.tags ?? [] });
  mergeConfig(cfg, config);
  const hash = createHash('md5').update(`${names.full}\0${file}`).digest('hex').slice(0, 10);
  const raw = `{{ ${namespace === null ? '' : `${namespace}.`}${macroName}(**_dbt_generic_test_kwargs) }}`;
  return newNode({
    unique_id: `test.${project.name}.${name}.${hash}`,
    resource_type: 'test',
    package_name: project.name,
    name,
    path: `${name}.sql`,
    original_file_path: file,
    fqn,
    raw_code: raw,
    checksum: { name: 'sha256', checksum: sha256(raw + JSON.stringify(kwargs)) },
    config: cfg,
    tags: cfg.tags,
    description: asString(body.description),
    ...dependencies(parent, kwargs),
    schema: s.runtime.target.schema,
    test_metadata: {
      name: shortName,
      kwargs,
      namespace,
    },
    column_name: column?.name ?? null,
    attached_node: parent.resource_type === 'source' ? null : parent.unique_id,
  });
}
