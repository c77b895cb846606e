/**
 * Parsing a dbt project into a Manifest: models, seeds, snapshots, singular and generic tests,
 * sources, macros and docs, each with its resolved config, schema, alias and dependencies. Every
 * problem in every file is collected, so one run shows them all (dataform's rule), and cycles are
 * parse errors naming the nodes in the loop.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import jsYaml from 'js-yaml';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { TributaryError, isErrno } from '../core/index.js';
import type { Dialect } from '../engines/index.js';
import { ProblemsError, type Problem } from '../project/index.js';
import { BUILTIN_MACROS, BUILTIN_MACROS_FILE } from './builtins.js';
import { defaultConfig, mergeConfig, treeConfigs } from './config.js';
import { nodeGlobals, findRefTarget, type CompileRuntime, type ParseCapture } from './context.js';
import { yamlContext, type DbtProject, type TargetConfig } from './dbt-project.js';
import { JinjaEnvironment, type JinjaTemplate, type MacroDefinition } from '../jinja/index.js';
import {
  newNode,
  type ColumnDoc,
  type FreshnessRule,
  type Manifest,
  type Node,
  type ResourceType,
  type SourceNode,
} from './types.js';

export interface ParseOptions {
  dialect: Dialect;
  target: TargetConfig;
  dispatchPrefixes: string[];
  log?: (message: string) => void;
}

export interface ParsedProject {
  project: DbtProject;
  manifest: Manifest;
  macros: Map<string, MacroDefinition>;
  /** Parsed templates by unique id (models, tests, snapshots, analyses). */
  templates: Map<string, JinjaTemplate>;
  env: JinjaEnvironment;
  target: TargetConfig;
  dialect: Dialect;
  dispatchPrefixes: string[];
}

const env = new JinjaEnvironment();
let builtinMacros: ReadonlyMap<string, MacroDefinition> | undefined;

async function walkFolder(root: string, exts: string[]): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []; // dbt: a missing folder is an empty one
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && exts.includes(extname(e.name).toLowerCase()))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const asObject = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asString = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);

/**
 * A YAML properties file. It is read with js-yaml (about ten times faster than a positioned
 * parse, which matters at 10,000 models); the positioned parse runs only when an error needs
 * the line of an entry.
 */
interface PropsFile {
  file: string;
  text: string;
  data: Record<string, unknown>;
  positions?: { doc: Document; lines: LineCounter };
}

function lineOf(props: PropsFile, path: (string | number)[]): number | undefined {
  if (!props.positions) {
    const lines = new LineCounter();
    props.positions = { doc: parseDocument(props.text, { lineCounter: lines }), lines };
  }
  const { doc, lines } = props.positions;
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return node?.range ? lines.linePos(node.range[0]).line : undefined;
}

interface PropertyEntry {
  props: PropsFile;
  index: number;
  section: string;
  entry: Record<string, unknown>;
}

/** Parses a project into a manifest; throws a ProblemsError listing every problem found. */
export async function parseProject(
  project: DbtProject,
  opts: ParseOptions,
): Promise<ParsedProject> {
  const problems: Problem[] = [];
  // Project files are small and many: a synchronous read costs a fraction of an async one's
  // bookkeeping, and parsing has nothing else to do meanwhile (dbt reads them the same way).
  const read = async (path: string): Promise<string> => readFileSync(path, 'utf8');
  const walk = walkFolder;
  const rel = (p: string) => relative(project.dir, p).split(sep).join('/');
  const collect = async <T>(file: string, fn: () => Promise<T> | T): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ProblemsError) problems.push(...err.problems);
      else if (err instanceof TributaryError)
        problems.push({ message: err.message, location: { file, ...err.location } });
      else throw err;
      return undefined;
    }
  };

  // Macros: the built-ins, then the project's own (same name replaces), from macro folders and
  // from test-paths/generic, where dbt keeps custom generic tests.
  builtinMacros ??= env.parse(BUILTIN_MACROS, BUILTIN_MACROS_FILE).macros;
  const macros = new Map<string, MacroDefinition>(builtinMacros);
  const manifest: Manifest = {
    projectName: project.name,
    nodes: new Map(),
    sources: new Map(),
    macros: new Map(),
    docs: new Map(),
    parentMap: new Map(),
    childMap: new Map(),
    disabled: new Map(),
  };
  const projectMacros = new Set<string>();
  const macroFiles = [
    ...(
      await Promise.all(project.macroPaths.map((p) => walk(join(project.dir, p), ['.sql'])))
    ).flat(),
    ...(
      await Promise.all(
        project.testPaths.map((p) => walk(join(project.dir, p, 'generic'), ['.sql'])),
      )
    ).flat(),
  ];
  for (const path of macroFiles) {
    const file = rel(path);
    const text = await read(path);
    const tpl = await collect(file, () => env.parse(text, file));
    if (!tpl) continue;
    for (const [name, def] of tpl.macros) {
      if (projectMacros.has(name)) {
        problems.push({
          message: `macro ${name} is defined twice`,
          location: { file, line: def.line },
        });
        continue;
      }
      projectMacros.add(name);
      macros.set(name, def);
      manifest.macros.set(`macro.${project.name}.${name}`, {
        unique_id: `macro.${project.name}.${name}`,
        name,
        package_name: project.name,
        original_file_path: file,
        line: def.line,
        arguments: def.params.map((param: { name: string }) => ({ name: param.name })),
      });
    }
    for (const [name, text2] of tpl.docs) addDoc(manifest, project, name, text2, file);
  }
  // Docs blocks in .md files anywhere under the model (or docs-) paths.
  const docRoots = project.docsPaths.length ? project.docsPaths : project.modelPaths;
  for (const root of docRoots) {
    for (const path of await walk(join(project.dir, root), ['.md'])) {
      const file = rel(path);
      const tpl = await collect(file, async () => env.parse(await read(path), file));
      for (const [name, text] of tpl?.docs ?? []) addDoc(manifest, project, name, text, file);
    }
  }

  // Properties files: models/seeds/snapshots/sources/analyses sections, by the name they describe.
  const props = new Map<string, PropertyEntry[]>();
  const sourceEntries: PropertyEntry[] = [];
  const yamlSnapshots: PropertyEntry[] = [];
  const ymlRoots = [
    ...project.modelPaths,
    ...project.seedPaths,
    ...project.snapshotPaths,
    ...project.analysisPaths,
  ];
  for (const root of new Set(ymlRoots)) {
    for (const path of await walk(join(project.dir, root), ['.yml', '.yaml'])) {
      const file = rel(path);
      const text = await read(path);
      let data: Record<string, unknown>;
      try {
        data = asObject(jsYaml.load(text, { filename: file }));
      } catch (err) {
        const e = err as {
          reason?: string;
          message: string;
          mark?: { line: number; column: number };
        };
        problems.push({
          message: `invalid YAML: ${e.reason ?? e.message.split('\n')[0]}`,
          location: {
            file,
            ...(e.mark ? { line: e.mark.line + 1, column: e.mark.column + 1 } : {}),
          },
        });
        continue;
      }
      // dbt renders descriptions (doc()) and where sources live (target, var, env_var).
      const renderedOk = await collect(file, async () => {
        await renderProperties(data, (text) =>
          env.parse(text, file).render({
            ...yamlContext(project.vars, file),
            target: opts.target,
            doc: (name: string) => {
              const found = manifest.docs.get(`doc.${project.name}.${name}`);
              if (!found)
                throw new TributaryError(`doc('${name}') names no docs block`, { code: 'CONFIG' });
              return found.block_contents;
            },
          }),
        );
        return true;
      });
      if (!renderedOk) continue;
      const pf: PropsFile = { file, text, data };
      for (const section of ['models', 'seeds', 'snapshots', 'analyses', 'sources'] as const) {
        const list = data[section];
        if (list === undefined || list === null) continue;
        if (!Array.isArray(list)) {
          problems.push({
            message: `${section}: must be a list`,
            location: { file, line: lineOf(pf, [section]), path: section },
          });
          continue;
        }
        list.forEach((raw, index) => {
          const entry = asObject(raw);
          const name = asString(entry.name);
          if (!name) {
            problems.push({
              message: `${section} entry has no name`,
              location: { file, line: lineOf(pf, [section, index]), path: `${section}.${index}` },
            });
            return;
          }
          const item: PropertyEntry = { props: pf, index, section, entry };
          if (section === 'sources') sourceEntries.push(item);
          else if (section === 'snapshots' && entry.relation !== undefined)
            yamlSnapshots.push(item);
          else {
            const key = `${section}:${name}`;
            props.set(key, [...(props.get(key) ?? []), item]);
          }
        });
      }
    }
  }

  const templates = new Map<string, JinjaTemplate>();
  const runtime: CompileRuntime = {
    project,
    manifest,
    dialect: opts.dialect,
    target: opts.target,
    dispatchPrefixes: opts.dispatchPrefixes,
    macros,
    fullRefresh: false,
    which: 'parse',
    invocationId: '',
    runStartedAt: new Date(),
    log: () => undefined,
    renderString: (text, file, globals) => env.parse(text, file).render(globals),
  };

  const naming = namingFunctions(runtime, projectMacros);

  // Sources first: nodes resolve source() against them at compile time.
  for (const item of sourceEntries) addSources(manifest, project, item, problems, opts.dialect);

  const makeNode = (
    type: ResourceType,
    name: string,
    file: string,
    pathInRoot: string,
    raw: string,
    tree: Record<string, unknown>,
  ): Node => {
    const dirs = dirname(pathInRoot) === '.' ? [] : dirname(pathInRoot).split('/');
    const fqn = [project.name, ...dirs, name];
    const config = defaultConfig(type);
    for (const level of treeConfigs(tree, fqn)) mergeConfig(config, level);
    return newNode({
      unique_id: `${type}.${project.name}.${name}`,
      resource_type: type,
      package_name: project.name,
      name,
      path: pathInRoot,
      original_file_path: file,
      fqn,
      raw_code: raw,
      checksum: { name: 'sha256', checksum: sha256(raw) },
      config,
      schema: opts.target.schema,
    });
  };

  const applyProperties = (node: Node, section: string): PropertyEntry | undefined => {
    const entries = props.get(`${section}:${node.name}`);
    if (!entries) return undefined;
    if (entries.length > 1) {
      problems.push({
        message: `${node.name} is described twice (also in ${entries[0]!.props.file})`,
        location: {
          file: entries[1]!.props.file,
          line: lineOf(entries[1]!.props, [section, entries[1]!.index]),
        },
      });
    }
    const item = entries[0]!;
    props.delete(`${section}:${node.name}`);
    const e = item.entry;
    node.description = asString(e.description);
    mergeConfig(node.config, asObject(e.config));
    node.columns = columnsOf(e.columns);
    return item;
  };

  const addNode = (node: Node) => {
    // ref() names models, seeds and snapshots alike, so dbt refuses two of them sharing a name.
    const refable = ['model', 'seed', 'snapshot'];
    const existing =
      manifest.nodes.get(node.unique_id) ??
      manifest.disabled.get(node.unique_id) ??
      (refable.includes(node.resource_type)
        ? refable.map((t) => manifest.nodes.get(`${t}.${project.name}.${node.name}`)).find(Boolean)
        : undefined);
    if (existing) {
      problems.push({
        message: `two resources are named ${node.name} (${existing.resource_type} ${existing.original_file_path} and ${node.resource_type} ${node.original_file_path})`,
        location: { file: node.original_file_path },
      });
      return false;
    }
    if (node.config.enabled === false) manifest.disabled.set(node.unique_id, node);
    else manifest.nodes.set(node.unique_id, node);
    return true;
  };

  const parseRender = async (node: Node, tpl: JinjaTemplate): Promise<void> => {
    const capture: ParseCapture = { refs: [], sources: [], config: {} };
    await tpl.render(nodeGlobals(runtime, node, { execute: false, capture }));
    mergeConfig(node.config, capture.config);
    node.refs = capture.refs;
    node.sources = capture.sources;
  };

  const pendingTests: TestSpec[] = [];

  // Models (and analyses, which compile but never run).
  for (const [type, roots, section] of [
    ['model', project.modelPaths, 'models'],
    ['analysis', project.analysisPaths, 'analyses'],
  ] as const) {
    for (const root of roots) {
      const base = join(project.dir, root);
      for (const path of await walk(base, ['.sql'])) {
        const file = rel(path);
        const raw = await read(path);
        const name = basename(path, '.sql');
        const node = makeNode(
          type,
          name,
          file,
          relative(base, path).split(sep).join('/'),
          raw,
          type === 'model' ? project.models : {},
        );
        const item = applyProperties(node, section);
        const tpl = await collect(file, () => env.parse(raw, file));
        if (!tpl) continue;
        templates.set(node.unique_id, tpl);
        await collect(file, () => parseRender(node, tpl));
        if (addNode(node) && item) queueTests(item, node);
      }
    }
  }

  // Seeds.
  for (const root of project.seedPaths) {
    const base = join(project.dir, root);
    for (const path of await walk(base, ['.csv'])) {
      const file = rel(path);
      const name = basename(path, extname(path));
      const node = makeNode(
        'seed',
        name,
        file,
        relative(base, path).split(sep).join('/'),
        '',
        project.seeds,
      );
      node.seed_file = path;
      node.checksum = { name: 'sha256', checksum: sha256(await read(path)) };
      const item = applyProperties(node, 'seeds');
      if (addNode(node) && item) queueTests(item, node);
    }
  }

  // Snapshots: {% snapshot %} blocks in .sql files, and YAML-defined ones (dbt 1.9+).
  for (const root of project.snapshotPaths) {
    const base = join(project.dir, root);
    for (const path of await walk(base, ['.sql'])) {
      const file = rel(path);
      const raw = await read(path);
      const tpl = await collect(file, () => env.parse(raw, file));
      if (!tpl) continue;
      for (const [name, body] of tpl.snapshots) {
        const node = makeNode(
          'snapshot',
          name,
          file,
          relative(base, path).split(sep).join('/'),
          raw,
          project.snapshots,
        );
        const item = applyProperties(node, 'snapshots');
        templates.set(node.unique_id, body);
        await collect(file, () => parseRender(node, body));
        if (addNode(node) && item) queueTests(item, node);
      }
    }
  }
  for (const item of yamlSnapshots) {
    const e = item.entry;
    const name = asString(e.name);
    const raw = `select * from {{ ${asString(e.relation)} }}`;
    const node = makeNode(
      'snapshot',
      name,
      item.props.file,
      item.props.file,
      raw,
      project.snapshots,
    );
    node.description = asString(e.description);
    mergeConfig(node.config, asObject(e.config));
    node.columns = columnsOf(e.columns);
    const tpl = await collect(item.props.file, () => env.parse(raw, item.props.file));
    if (!tpl) continue;
    templates.set(node.unique_id, tpl);
    await collect(item.props.file, () => parseRender(node, tpl));
    if (addNode(node)) queueTests(item, node);
  }

  // Singular tests: every .sql file in test-paths outside generic/.
  for (const root of project.testPaths) {
    const base = join(project.dir, root);
    for (const path of await walk(base, ['.sql'])) {
      const inRoot = relative(base, path).split(sep).join('/');
      if (inRoot.startsWith('generic/')) continue;
      const file = rel(path);
      const raw = await read(path);
      const name = basename(path, '.sql');
      const node = makeNode('test', name, file, inRoot, raw, project.tests);
      const tpl = await collect(file, () => env.parse(raw, file));
      if (!tpl) continue;
      templates.set(node.unique_id, tpl);
      await collect(file, () => parseRender(node, tpl));
      addNode(node);
    }
  }

  // Properties that describe nothing are mistakes worth telling about (dbt warns; we say where).
  for (const entries of props.values()) {
    for (const item of entries) {
      problems.push({
        message: `${item.section} entry ${asString(item.entry.name)} matches no ${item.section.replace(/s$/, '').replace(/analyse$/, 'analysis')} file`,
        location: { file: item.props.file, line: lineOf(item.props, [item.section, item.index]) },
      });
    }
  }

  // Source tests.
  for (const item of sourceEntries) {
    const sourceName = asString(item.entry.name);
    asArray(item.entry.tables).forEach((rawTable, ti) => {
      const table = asObject(rawTable);
      const src = manifest.sources.get(
        `source.${project.name}.${sourceName}.${asString(table.name)}`,
      );
      if (!src) return;
      pendingTests.push(...testsFor(item, src, table, ['tables', ti]));
    });
  }

  function queueTests(item: PropertyEntry, node: Node) {
    pendingTests.push(...testsFor(item, node, item.entry, []));
  }

  // Generic tests from properties.
  for (const t of pendingTests) {
    const test = await collect(t.item.props.file, () =>
      buildGenericTest(project, runtime, t, macros),
    );
    if (test) addNode(test);
  }

  // Schema, alias and relation of every node.
  for (const node of [...manifest.nodes.values(), ...manifest.disabled.values()]) {
    await collect(node.original_file_path, async () => {
      if (node.resource_type === 'snapshot' && node.config.target_schema)
        node.schema = String(node.config.target_schema);
      else if (node.resource_type === 'test') node.schema = opts.target.schema;
      else node.schema = await naming.schema(node);
      node.alias = node.resource_type === 'test' ? node.name : await naming.alias(node);
      node.tags = node.config.tags;
      node.meta = node.config.meta;
      node.relation_name =
        node.resource_type === 'test' ||
        node.resource_type === 'analysis' ||
        node.config.materialized === 'ephemeral'
          ? null
          : opts.dialect.relation(node.schema, node.alias);
    });
  }

  // Dependencies.
  for (const node of manifest.nodes.values()) {
    const deps = new Set<string>();
    for (const ref of node.refs) {
      const target = findRefTarget(manifest, ref);
      if (!target) {
        const disabled = [...manifest.disabled.values()].find((d) => d.name === ref.name);
        problems.push({
          message: disabled
            ? `${node.name} refers to ${ref.name}, which is disabled`
            : `ref('${ref.name}') in ${node.name} names no model, seed or snapshot`,
          location: { file: node.original_file_path },
        });
        continue;
      }
      deps.add(target.unique_id);
    }
    for (const [s, t] of node.sources) {
      const id = `source.${project.name}.${s}.${t}`;
      if (!manifest.sources.has(id)) {
        problems.push({
          message: `source('${s}', '${t}') in ${node.name} names no source table`,
          location: { file: node.original_file_path },
        });
        continue;
      }
      deps.add(id);
    }
    node.depends_on.nodes = [...deps];
    node.depends_on.macros = [];
    manifest.parentMap.set(node.unique_id, [...deps]);
  }
  for (const id of [...manifest.nodes.keys(), ...manifest.sources.keys()])
    manifest.childMap.set(id, []);
  for (const [child, parents] of manifest.parentMap)
    for (const p of parents) manifest.childMap.get(p)?.push(child);
  for (const id of manifest.sources.keys()) manifest.parentMap.set(id, []);

  const cycle = findCycle(manifest);
  if (cycle) {
    const nodes = cycle.map((id) => manifest.nodes.get(id)!);
    problems.push({
      message: `dependency cycle: ${nodes.map((n) => n.name).join(' → ')} → ${nodes[0]!.name}`,
      location: { file: nodes[0]!.original_file_path },
    });
  }
  if (problems.length) throw new ProblemsError(problems);
  return {
    project,
    manifest,
    macros,
    templates,
    env,
    target: opts.target,
    dialect: opts.dialect,
    dispatchPrefixes: opts.dispatchPrefixes,
  };
}

/** Renders the Jinja in a properties file's descriptions and source locations, in place. */
async function renderProperties(
  data: Record<string, unknown>,
  render: (text: string) => Promise<string>,
): Promise<void> {
  const field = async (o: Record<string, unknown>, key: string) => {
    const v = o[key];
    if (typeof v === 'string' && (v.includes('{{') || v.includes('{%'))) o[key] = await render(v);
  };
  const described = async (o: Record<string, unknown>) => {
    await field(o, 'description');
    for (const c of asArray(o.columns))
      if (c && typeof c === 'object') await described(asObject(c));
  };
  for (const section of ['models', 'seeds', 'snapshots', 'analyses'])
    for (const e of asArray(data[section]))
      if (e && typeof e === 'object') await described(asObject(e));
  for (const s of asArray(data.sources)) {
    if (!s || typeof s !== 'object') continue;
    const src = asObject(s);
    for (const key of ['schema', 'database', 'loaded_at_field']) await field(src, key);
    await described(src);
    for (const t of asArray(src.tables)) {
      if (!t || typeof t !== 'object') continue;
      await field(asObject(t), 'identifier');
      await field(asObject(t), 'loaded_at_field');
      await described(asObject(t));
    }
  }
}

function addDoc(manifest: Manifest, project: DbtProject, name: string, text: string, file: string) {
  manifest.docs.set(`doc.${project.name}.${name}`, {
    unique_id: `doc.${project.name}.${name}`,
    name,
    package_name: project.name,
    original_file_path: file,
    block_contents: text.trim(),
  });
}

function columnsOf(raw: unknown): Record<string, ColumnDoc> {
  const out: Record<string, ColumnDoc> = {};
  for (const c of asArray(raw)) {
    const col = asObject(c);
    const name = asString(col.name);
    if (!name) continue;
    out[name] = {
      name,
      description: asString(col.description),
      data_type: (col.data_type as string | undefined) ?? null,
      meta: asObject(col.meta),
      tags: asArray(col.tags).map(String),
    };
  }
  return out;
}

function freshnessRule(v: unknown): FreshnessRule | null {
  const o = asObject(v);
  if (o.count === undefined || o.count === null) return null;
  const period = asString(o.period, 'day').replace(/s$/, '') as FreshnessRule['period'];
  return { count: Number(o.count), period };
}

function addSources(
  manifest: Manifest,
  project: DbtProject,
  item: PropertyEntry,
  problems: Problem[],
  dialect: Dialect,
) {
  const s = item.entry;
  const sourceName = asString(s.name);
  const sourceFreshness = s.freshness === undefined ? undefined : asObject(s.freshness);
  const sourceConfigEnabled = asObject(s.config).enabled;
  asArray(s.tables).forEach((raw, ti) => {
    const t = asObject(raw);
    const name = asString(t.name);
    if (!name) {
      problems.push({
        message: `source ${sourceName} has a table with no name`,
        location: {
          file: item.props.file,
          line: lineOf(item.props, ['sources', item.index, 'tables', ti]),
        },
      });
      return;
    }
    const id = `source.${project.name}.${sourceName}.${name}`;
    if (manifest.sources.has(id)) {
      problems.push({
        message: `source ${sourceName}.${name} is declared twice`,
        location: {
          file: item.props.file,
          line: lineOf(item.props, ['sources', item.index, 'tables', ti]),
        },
      });
      return;
    }
    const schema = asString(s.schema, sourceName);
    const identifier = asString(t.identifier, name);
    const fresh =
      t.freshness === undefined
        ? sourceFreshness
        : t.freshness === null
          ? undefined
          : asObject(t.freshness);
    manifest.sources.set(id, {
      unique_id: id,
      resource_type: 'source',
      package_name: project.name,
      source_name: sourceName,
      name,
      identifier,
      schema,
      database: (s.database as string | undefined) ?? null,
      relation_name: dialect.relation(schema, identifier),
      loader: asString(s.loader),
      description: asString(t.description),
      source_description: asString(s.description),
      columns: columnsOf(t.columns),
      loaded_at_field:
        (t.loaded_at_field as string | undefined) ??
        (s.loaded_at_field as string | undefined) ??
        null,
      freshness: fresh
        ? {
            warn_after: freshnessRule(fresh.warn_after),
            error_after: freshnessRule(fresh.error_after),
            filter: (fresh.filter as string | undefined) ?? null,
          }
        : null,
      original_file_path: item.props.file,
      fqn: [project.name, sourceName, name],
      tags: [...asArray(s.tags), ...asArray(t.tags)].map(String),
      meta: { ...asObject(s.meta), ...asObject(t.meta) },
      config: { enabled: sourceConfigEnabled !== false && asObject(t.config).enabled !== false },
    });
  });
}

interface TestSpec {
  item: PropertyEntry;
  node: Node | SourceNode;
  column?: ColumnDoc;
  columnIndex?: number;
  test: unknown;
  testIndex: number;
  path: (string | number)[];
}

/** Every test declared for a node or source table: model-level and per column. */
function testsFor(
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

async function buildGenericTest(
  project: DbtProject,
  runtime: CompileRuntime,
  spec: TestSpec,
  macros: Map<string, MacroDefinition>,
): Promise<Node> {
  const { item, node: parent, column } = spec;
  const file = item.props.file;
  const fail = (message: string, hint?: string) =>
    new TributaryError(message, {
      code: 'CONFIG',
      location: { file, line: lineOf(item.props, spec.path) },
      ...(hint ? { hint } : {}),
    });
  let testName: string;
  let body: Record<string, unknown>;
  if (typeof spec.test === 'string') {
    testName = spec.test;
    body = {};
  } else {
    const o = asObject(spec.test);
    if (typeof o.test_name === 'string') {
      testName = o.test_name;
      body = o;
    } else {
      const keys = Object.keys(o);
      if (keys.length !== 1)
        throw fail(
          `a test must be a name or a mapping with one key (the test's name), got ${keys.join(', ') || 'nothing'}`,
        );
      testName = keys[0]!;
      body = asObject(o[testName]);
    }
  }
  const shortName = testName.includes('.') ? testName.split('.').pop()! : testName;
  const macroName = `test_${shortName}`;
  if (!macros.has(macroName))
    throw fail(
      `no generic test named ${testName}`,
      `define {% test ${shortName}(model, column_name) %} in macros/ or tests/generic/`,
    );
  const config: Record<string, unknown> = { ...asObject(body.config) };
  const kwargs: Record<string, unknown> = { ...asObject(body.arguments) };
  for (const [k, v] of Object.entries(body)) {
    if (
      k === 'config' ||
      k === 'arguments' ||
      k === 'name' ||
      k === 'description' ||
      k === 'test_name'
    )
      continue;
    if (TEST_CONFIG_KEYS.has(k)) config[k] = v;
    else kwargs[k] = v;
  }
  if (column) kwargs.column_name = column.name;
  const nodeName =
    parent.resource_type === 'source' ? `source_${parent.source_name}_${parent.name}` : parent.name;
  const names = synthesizeTestName(shortName, nodeName, kwargs);
  const name = typeof body.name === 'string' ? body.name : names.short;
  const dirs = dirname(file).split('/').slice(1);
  const fqn = [project.name, ...dirs, name];
  const cfg = defaultConfig('test');
  for (const level of treeConfigs(project.tests, fqn)) mergeConfig(cfg, level);
  mergeConfig(cfg, { tags: column?.tags ?? [] });
  mergeConfig(cfg, config);
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
  const hash = createHash('md5').update(`${names.full}\0${file}`).digest('hex').slice(0, 10);
  const raw = `{{ ${macroName}(**_dbt_generic_test_kwargs) }}`;
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
    refs,
    sources,
    schema: runtime.target.schema,
    test_metadata: {
      name: shortName,
      kwargs,
      namespace: testName.includes('.') ? testName.split('.')[0]! : null,
    },
    column_name: column?.name ?? null,
    attached_node: parent.resource_type === 'source' ? null : parent.unique_id,
  });
}

/**
 * schema and alias of nodes: dbt's generate_schema_name / generate_alias_name. The defaults are
 * computed directly (fast on 10,000 models); a project that overrides either gets its macro run.
 */
function namingFunctions(runtime: CompileRuntime, projectMacros: Set<string>) {
  const overridden = (name: string) =>
    projectMacros.has(name) ||
    [...runtime.dispatchPrefixes, 'default'].some((p) => projectMacros.has(`${p}__${name}`));
  const viaMacro = async (macro: string, custom: unknown, node: Node): Promise<string> => {
    const g = nodeGlobals(runtime, node, {
      execute: false,
      capture: { refs: [], sources: [], config: {} },
    });
    const fn = g[macro] as (...a: unknown[]) => Promise<unknown>;
    const out = await fn(custom ?? null, node);
    return String(out).trim();
  };
  const target = runtime.target.schema;
  return {
    schema: (node: Node): Promise<string> | string => {
      if (overridden('generate_schema_name'))
        return viaMacro('generate_schema_name', node.config.schema, node);
      const custom = node.config.schema;
      return custom ? `${target}_${String(custom).trim()}` : target;
    },
    alias: (node: Node): Promise<string> | string => {
      if (overridden('generate_alias_name'))
        return viaMacro('generate_alias_name', node.config.alias, node);
      return node.config.alias ? String(node.config.alias).trim() : node.name;
    },
  };
}

/** A cycle among nodes, as unique ids in order, or undefined. */
function findCycle(manifest: Manifest): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const s = state.get(id);
    if (s === 2) return undefined;
    if (s === 1) return stack.slice(stack.indexOf(id));
    state.set(id, 1);
    stack.push(id);
    for (const p of manifest.parentMap.get(id) ?? []) {
      if (!manifest.nodes.has(p)) continue;
      const c = visit(p);
      if (c) return c;
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const id of manifest.nodes.keys()) {
    const c = visit(id);
    if (c) return c.reverse();
  }
  return undefined;
}
