/**
 * What every resource parser shares while one project is parsed (dbt-core's ManifestLoader
 * state): the manifest being built, the macros and templates found so far, the problems
 * collected, the index of properties files, and the steps each file-backed node goes through
 * (made with its tree config, described by its properties, rendered once in parse mode, added).
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import { TributaryError } from '../../core/index.js';
import type { Dialect } from '../../engines/index.js';
import { JinjaEnvironment, type JinjaTemplate } from '../../jinja/index.js';
import { ProblemsError, type Problem } from '../../project/index.js';
import { defaultConfig, mergeConfig, treeConfigs, unrenderedConfig } from '../config.js';
import { nodeGlobals, type CompileRuntime, type ParseCapture } from '../context.js';
import type { DbtProject, TargetConfig } from '../dbt-project.js';
import { MacroRegistry } from '../macro-namespace.js';
import { setProjectQuoting } from '../context-adapter.js';
import { newNode, type Manifest, type Node, type ResourceType } from '../types.js';
import { testsFor, type TestSpec } from './test-specs.js';
import {
  columnsOf,
  emptyPropertyIndex,
  lineOf,
  type PropertyEntry,
  type PropertyIndex,
} from './property-entries.js';
import { asObject, asString, sha256 } from './util.js';
import type { DbtWarning, WarnErrorPolicy } from '../warn-error.js';

/** What a parse needs besides the project: the target, its SQL dialect and dispatch order. */
export interface ParseOptions {
  dialect: Dialect;
  target: TargetConfig;
  dispatchPrefixes: string[];
  log?: (message: string) => void;
  /** Which warnings are errors (--warn-error, --warn-error-options). */
  warnError?: WarnErrorPolicy;
}

/** One environment for every project: templates are parsed once, rendered per node. */
const env = new JinjaEnvironment();

/** The config trees of dbt_project.yml a node type is configured by. */
export type TreeKey = 'models' | 'seeds' | 'snapshots' | 'tests';

/**
 * The state of one parse, handed to each resource parser in turn. The root project and each
 * installed package are parsed alike: `project` is the one being parsed at the moment.
 */
export class ParseSession {
  /** The environment every template of the project is parsed with. */
  readonly env = env;
  readonly problems: Problem[] = [];
  /** What dbt only warns about (a properties entry describing no file, for one). */
  readonly warnings: DbtWarning[] = [];
  readonly manifest: Manifest;
  /** Every macro, by the package defining it (dbt's own, the root project's, each package's). */
  readonly macros: MacroRegistry;
  /** Parsed templates by unique id (models, tests, snapshots, analyses). */
  readonly templates = new Map<string, JinjaTemplate>();
  /** Generic tests declared in properties, built once every node they attach to exists. */
  readonly pendingTests: TestSpec[] = [];
  /**
   * Nodes whose parse-mode render failed (a macro raised, a function is missing): kept, with the
   * error reported when the node runs, so one broken node fails itself, not the project. Jinja
   * syntax errors are not among them: they are problems of the parse, as in dbt.
   */
  readonly nodeErrors = new Map<string, unknown>();
  /** The project whose files are being parsed: the root project or an installed package. */
  project: DbtProject;
  /** The root project, then the installed packages (each a dbt project). */
  readonly projects: DbtProject[];
  private readonly propertyIndexes = new Map<string, PropertyIndex>();
  readonly runtime: CompileRuntime;

  constructor(
    readonly root: DbtProject,
    readonly opts: ParseOptions,
    packages: DbtProject[] = [],
  ) {
    this.project = root;
    this.projects = [root, ...packages];
    setProjectQuoting(opts.target, root.quoting ?? {});
    this.macros = new MacroRegistry(root.name);
    for (const p of packages) this.macros.addPackage(p.name);
    this.manifest = {
      projectName: root.name,
      nodes: new Map(),
      sources: new Map(),
      macros: new Map(),
      docs: new Map(),
      parentMap: new Map(),
      childMap: new Map(),
      disabled: new Map(),
    };
    this.runtime = {
      project: root,
      packages: new Map(packages.map((p) => [p.name, p])),
      manifest: this.manifest,
      dialect: opts.dialect,
      target: opts.target,
      dispatchPrefixes: opts.dispatchPrefixes,
      macros: this.macros,
      fullRefresh: false,
      which: 'parse',
      invocationId: '',
      runStartedAt: new Date(),
      log: () => undefined,
      ...(opts.warnError ? { warnError: opts.warnError } : {}),
      renderString: (text, file, globals) => env.parseOnce(text, file).render(globals),
    };
  }

  /** The properties files of the project being parsed, by what they describe. */
  get properties(): PropertyIndex {
    return this.propertyIndexes.get(this.project.name) ?? emptyPropertyIndex();
  }

  set properties(index: PropertyIndex) {
    this.propertyIndexes.set(this.project.name, index);
  }

  /** The project named `name` (the root or a package). */
  projectNamed(name: string): DbtProject {
    return this.projects.find((p) => p.name === name) ?? this.root;
  }

  /**
   * The config levels a node gets from dbt_project.yml's `key` tree, outermost first: its own
   * project's, then, for a package's node, the root project's (dbt lets the root win).
   */
  treeLevels(key: TreeKey | undefined, fqn: string[]): Record<string, unknown>[] {
    if (!key) return [];
    const own = treeConfigs(this.project[key], fqn);
    return this.project === this.root ? own : [...own, ...treeConfigs(this.root[key], fqn)];
  }

  /**
   * The name a template of the project being parsed is known by in error messages: its path from
   * the root project's folder (dbt_packages/x/macros/y.sql for a package's file).
   */
  templateName(file: string): string {
    if (this.project === this.root) return file;
    return `${relative(this.root.dir, this.project.dir).split(sep).join('/')}/${file}`;
  }

  /** A path relative to the project folder, with forward slashes (as dbt writes them). */
  rel(path: string): string {
    return relative(this.project.dir, path).split(sep).join('/');
  }

  /**
   * Reads a project file. Project files are small and many: a synchronous read costs a fraction
   * of an async one's bookkeeping, and parsing has nothing else to do meanwhile (dbt does too).
   */
  read(path: string): string {
    return readFileSync(path, 'utf8');
  }

  /** Runs `fn`, turning a TributaryError into a problem of `file` so parsing goes on. */
  async collect<T>(file: string, fn: () => Promise<T> | T): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ProblemsError) this.problems.push(...err.problems);
      else if (err instanceof TributaryError)
        this.problems.push({ message: err.message, location: { file, ...err.location } });
      else throw err;
      return undefined;
    }
  }

  /** A node of `type` at `pathInRoot`, configured by the config trees (`tree`) for it. */
  makeNode(
    type: ResourceType,
    name: string,
    file: string,
    pathInRoot: string,
    raw: string,
    tree: TreeKey | undefined,
  ): Node {
    const { project } = this;
    const dirs = dirname(pathInRoot) === '.' ? [] : dirname(pathInRoot).split('/');
    const fqn = [project.name, ...dirs, name];
    const config = defaultConfig(type);
    for (const level of this.treeLevels(tree, fqn)) mergeConfig(config, level);
    const node = newNode({
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
      schema: this.opts.target.schema,
    });
    node.config_sources = this.unrenderedLevels(tree, fqn);
    return node;
  }

  /**
   * The dbt_project.yml levels of a node as written: its own project's, and (for a package's
   * node) the root project's, which dbt applies after everything else.
   */
  unrenderedLevels(key: TreeKey | undefined, fqn: string[]): NonNullable<Node['config_sources']> {
    const levels = (p: DbtProject) =>
      key ? unrenderedConfig(...treeConfigs(p.unrendered?.[key] ?? p[key], fqn)) : {};
    return {
      project: levels(this.project),
      patch: {},
      calls: {},
      root: this.project === this.root ? {} : levels(this.root),
    };
  }

  /** Applies the properties entry describing `node` (one only) and takes it off the index. */
  applyProperties(node: Node, section: string): PropertyEntry | undefined {
    const byName = this.properties.byName;
    const entries = byName.get(`${section}:${node.name}`);
    if (!entries) return undefined;
    if (entries.length > 1) {
      this.problems.push({
        message: `${node.name} is described twice (also in ${entries[0]!.props.file})`,
        location: {
          file: entries[1]!.props.file,
          line: lineOf(entries[1]!.props, [section, entries[1]!.index]),
        },
      });
    }
    const item = entries[0]!;
    byName.delete(`${section}:${node.name}`);
    describe(node, item.entry);
    if (node.config_sources) node.config_sources.patch = asObject(item.entry.config);
    node.patch_path = `${node.package_name}://${item.props.file}`;
    return item;
  }

  /** Adds a node (or records it disabled); false when another resource has its name. */
  addNode(node: Node): boolean {
    const { manifest, project } = this;
    // ref() names models, seeds and snapshots alike, so dbt refuses two of them sharing a name.
    const refable = ['model', 'seed', 'snapshot'];
    const existing =
      manifest.nodes.get(node.unique_id) ??
      manifest.disabled.get(node.unique_id) ??
      (refable.includes(node.resource_type)
        ? refable.map((t) => manifest.nodes.get(`${t}.${project.name}.${node.name}`)).find(Boolean)
        : undefined);
    if (existing) {
      this.problems.push({
        message: `two resources are named ${node.name} (${existing.resource_type} ${existing.original_file_path} and ${node.resource_type} ${node.original_file_path})`,
        location: { file: node.original_file_path },
      });
      return false;
    }
    if (node.config.enabled === false) manifest.disabled.set(node.unique_id, node);
    else manifest.nodes.set(node.unique_id, node);
    return true;
  }

  /**
   * The steps of a node backed by a template: keep the template, render it once in parse mode
   * (config(), ref() and source() are recorded), add the node and queue the tests its
   * properties declare. A template that fails to render is a problem; the node is still added.
   */
  async addRendered(
    node: Node,
    tpl: JinjaTemplate,
    file: string,
    item: PropertyEntry | undefined,
  ): Promise<void> {
    this.templates.set(node.unique_id, tpl);
    try {
      await this.parseRender(node, tpl);
    } catch (err) {
      const located =
        err instanceof TributaryError && !err.location?.file
          ? new TributaryError(err.message, { code: err.code, location: { file }, cause: err })
          : err;
      this.nodeErrors.set(node.unique_id, located);
    }
    if (this.addNode(node) && item) this.queueTests(item, node);
  }

  /** Queues the generic tests a properties entry declares for `node` and its columns. */
  queueTests(item: PropertyEntry, node: Node): void {
    this.pendingTests.push(...testsFor(item, node, item.entry, []));
  }

  private async parseRender(node: Node, tpl: JinjaTemplate): Promise<void> {
    const capture: ParseCapture = { refs: [], sources: [], config: {} };
    await tpl.render(nodeGlobals(this.runtime, node, { execute: false, capture }));
    mergeConfig(node.config, capture.config);
    if (node.config_sources) node.config_sources.calls = { ...capture.config };
    node.refs = capture.refs;
    node.sources = capture.sources;
  }
}

/** Copies a properties entry's description, config and columns onto its node. */
export function describe(node: Node, entry: Record<string, unknown>): void {
  node.description = asString(entry.description);
  mergeConfig(node.config, asObject(entry.config));
  node.columns = columnsOf(entry.columns);
}
