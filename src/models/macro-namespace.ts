/**
 * Macros as dbt resolves them across packages (core/dbt/context/macros.py and adapter.dispatch in
 * core/dbt/context/providers.py). Every macro belongs to a package: dbt's own (`dbt`, the
 * built-ins), the root project, or an installed package. A node of package P calls an unqualified
 * macro as dbt's MacroNamespace finds it: P's own macros, then the root project's, then dbt's; a
 * package name (`dbt_utils`, `dbt`) is an object holding that package's macros. So the root project
 * overrides dbt's built-ins, and a package's own nodes see its own macros first.
 *
 * Unlike dbt, an unqualified name nobody else defines still finds an installed package's macro
 * (the first package defining it): dbt finds those too for generic tests (its TestMacroNamespace
 * holds every macro the test calls), and elsewhere dbt would fail on that name, so this only makes
 * more templates work, never changes one that works in dbt.
 *
 * Lookup is O(1) per call: each package's namespace is built once per runtime as getters on a
 * shared prototype, and binds a macro to the render's own globals only when it is read.
 */
import { TributaryError } from '../core/index.js';
import { splitArgs, type MacroDefinition } from '../jinja/index.js';

/** The name of dbt's own package: the built-in macros, and `dbt.<macro>` in templates. */
export const INTERNAL_PACKAGE = 'dbt';

/** One `dispatch:` entry of the root dbt_project.yml. */
export interface DispatchEntry {
  macroNamespace: string;
  searchOrder: string[];
}

/** Every macro of a parse, by the package that defines it. */
export class MacroRegistry {
  /** dbt's own macros (package `dbt`). */
  readonly internal = new Map<string, MacroDefinition>();
  /** The root project's macros, then each installed package's, in load order. */
  readonly packages = new Map<string, Map<string, MacroDefinition>>();
  private readonly namespaceProtos = new Map<string, object>();
  /** Grows with every macro added, so lookups cached by name know when they are stale. */
  version = 0;

  constructor(readonly rootName: string) {
    this.packages.set(rootName, new Map());
  }

  /** Registers a package (so it is a namespace even without macros). */
  addPackage(name: string): void {
    if (!this.packages.has(name)) this.packages.set(name, new Map());
  }

  /** Adds a package's macro; false when the package already defines one of that name. */
  add(pkg: string, def: MacroDefinition): boolean {
    this.addPackage(pkg);
    const own = this.packages.get(pkg)!;
    if (own.has(def.name)) return false;
    own.set(def.name, def);
    this.version++;
    return true;
  }

  /** The macros a package defines (none for a package that is not installed). */
  of(pkg: string): ReadonlyMap<string, MacroDefinition> {
    return pkg === INTERNAL_PACKAGE ? this.internal : (this.packages.get(pkg) ?? new Map());
  }

  /** What an unqualified `name` means in a node of `pkg` (see the file comment for the order). */
  resolve(pkg: string, name: string): MacroDefinition | undefined {
    const found =
      this.packages.get(pkg)?.get(name) ??
      this.packages.get(this.rootName)!.get(name) ??
      this.internal.get(name);
    if (found) return found;
    for (const macros of this.packages.values()) {
      const def = macros.get(name);
      if (def) return def;
    }
    return undefined;
  }

  /**
   * The prototype of `<pkg>.` objects: a getter per macro binding it to the render's globals,
   * kept on the namespace object under RENDER_GLOBALS. Built once per package.
   */
  namespaceProto(pkg: string): object {
    let proto = this.namespaceProtos.get(pkg);
    if (!proto) {
      proto = Object.create(null) as object;
      defineMacroGetters(proto, this.of(pkg), (self) => self[RENDER_GLOBALS]!);
      this.namespaceProtos.set(pkg, proto);
    }
    return proto;
  }
}

const RENDER_GLOBALS = Symbol('render globals');
type Holder = Record<string | symbol, unknown> & { [RENDER_GLOBALS]?: Record<string, unknown> };

function defineMacroGetters(
  target: object,
  macros: ReadonlyMap<string, MacroDefinition>,
  globalsOf: (self: Holder) => Record<string, unknown>,
): void {
  for (const [name, def] of macros)
    Object.defineProperty(target, name, {
      get(this: Holder) {
        return def.bind(globalsOf(this));
      },
      enumerable: true,
      configurable: true,
    });
}

/** A namespace object (`dbt_utils`, `dbt`) made on first use in a render, then kept on it. */
function defineNamespace(layer: object, name: string, proto: object): void {
  Object.defineProperty(layer, name, {
    get(this: Record<string, unknown>) {
      const ns = Object.create(proto) as Holder;
      ns[RENDER_GLOBALS] = this;
      Object.defineProperty(this, name, {
        value: ns,
        writable: true,
        configurable: true,
        enumerable: true,
      });
      return ns;
    },
    enumerable: true,
    configurable: true,
  });
}

/**
 * The globals layer of one package's nodes, over `base` (the node-independent functions): every
 * macro an unqualified name reaches, and every package as a namespace object.
 * Later definitions win, so they go from the lowest precedence to the highest.
 */
export function macroLayer(
  base: object,
  registry: MacroRegistry,
  pkg: string,
): Record<string, unknown> {
  const layer = Object.create(base) as Record<string, unknown>;
  const { rootName } = registry;
  const installed = [...registry.packages.keys()].filter((p) => p !== rootName && p !== pkg);
  for (const other of installed.reverse()) defineMacroGetters(layer, registry.of(other), (g) => g);
  defineMacroGetters(layer, registry.internal, (g) => g);
  defineNamespace(layer, INTERNAL_PACKAGE, registry.namespaceProto(INTERNAL_PACKAGE));
  for (const name of registry.packages.keys())
    defineNamespace(layer, name, registry.namespaceProto(name));
  defineMacroGetters(layer, registry.of(rootName), (g) => g);
  if (pkg !== rootName) defineMacroGetters(layer, registry.of(pkg), (g) => g);
  return layer;
}

/** What adapter.dispatch needs besides the render's globals. */
export interface DispatchScope {
  registry: MacroRegistry;
  /** The root project's `dispatch:` entries. */
  config: readonly DispatchEntry[];
  /** The adapter and its parents, e.g. ['duckdb'] or ['postgres'] (then `default`). */
  adapterChain: readonly string[];
}

/**
 * The packages dispatch searches for a namespace, as dbt's _get_search_packages: the project's
 * `dispatch:` search order; else the root project then the namespace, when it is a package (dbt
 * included); else the whole namespace of the calling node (null).
 */
export function searchPackages(scope: DispatchScope, namespace: unknown): (string | null)[] {
  if (namespace === undefined || namespace === null) return [null];
  if (typeof namespace !== 'string')
    throw new TributaryError(
      `In adapter.dispatch, got a ${typeof namespace} macro_namespace argument, but macro_namespace should be None or a string.`,
      { code: 'CONFIG' },
    );
  const configured = scope.config.find((d) => d.macroNamespace === namespace);
  if (configured?.searchOrder.length) return configured.searchOrder;
  if (namespace === INTERNAL_PACKAGE || scope.registry.packages.has(namespace))
    return [scope.registry.rootName, namespace];
  return [null];
}

/** dbt's MacroNamespace.get_from_package: a macro of one package, or of the whole namespace. */
function fromPackage(
  scope: DispatchScope,
  g: Record<string, unknown>,
  pkg: string | null,
  name: string,
): unknown {
  if (pkg === null) {
    const v = g[name];
    return typeof v === 'function' ? v : undefined;
  }
  const def =
    pkg === INTERNAL_PACKAGE
      ? scope.registry.internal.get(name)
      : scope.registry.packages.get(pkg)?.get(name);
  return def?.bind(g);
}

/**
 * What adapter.dispatch found for a macro name and namespace whose search names packages only
 * (no `null`, the render's own namespace), per scope: the same for every node that calls it.
 * Dropped when a macro is added (the registry's version moves).
 */
const dispatchCache = new WeakMap<
  DispatchScope,
  { version: number; found: Map<string, MacroDefinition> }
>();

/** The first `<adapter>__name`, then `default__name`, in the packages' order. */
function findInPackages(
  scope: DispatchScope,
  packages: string[],
  name: string,
): MacroDefinition | undefined {
  for (const pkg of packages)
    for (const prefix of [...scope.adapterChain, 'default']) {
      const searchName = `${prefix}__${name}`;
      const def =
        pkg === INTERNAL_PACKAGE
          ? scope.registry.internal.get(searchName)
          : scope.registry.packages.get(pkg)?.get(searchName);
      if (def) return def;
    }
  return undefined;
}

/**
 * adapter.dispatch(macro_name, macro_namespace=None): for each package of the search, the
 * adapter's macro (`duckdb__x`), its parents', then `default__x`. Errors as dbt words them,
 * listing every name searched.
 */
export function dispatchMacro(
  scope: DispatchScope,
  g: Record<string, unknown>,
  rawArgs: unknown[],
): unknown {
  const { args, kwargs } = splitArgs(rawArgs);
  const name = String(args[0] ?? kwargs.macro_name);
  const namespace = args[1] ?? kwargs.macro_namespace;
  if (name.includes('.')) {
    const [ns, rest] = [name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1)];
    throw new TributaryError(
      `In adapter.dispatch, got a macro name of "${name}", but "." is not a valid macro name component. Did you mean \`adapter.dispatch("${rest}", macro_namespace="${ns}")\`?`,
      { code: 'CONFIG' },
    );
  }
  if ((args[2] ?? kwargs.packages) !== undefined)
    throw new TributaryError(
      `The "packages" argument of adapter.dispatch() has been deprecated (in dispatch of ${name}). Use the "macro_namespace" argument instead.`,
      { code: 'CONFIG', hint: 'list packages in the dispatch: config of dbt_project.yml' },
    );
  const key = `${typeof namespace === 'string' ? namespace : ''}\0${name}`;
  let cache = dispatchCache.get(scope);
  if (!cache || cache.version !== scope.registry.version) {
    cache = { version: scope.registry.version, found: new Map() };
    dispatchCache.set(scope, cache);
  }
  const known = cache.found.get(key);
  if (known) return known.bind(g);
  const packages = searchPackages(scope, namespace);
  if (!packages.includes(null)) {
    // The search does not involve the render's globals: remember what it finds.
    const def = findInPackages(scope, packages as string[], name);
    if (def) {
      cache.found.set(key, def);
      return def.bind(g);
    }
  }
  const attempts: string[] = [];
  for (const pkg of packages)
    for (const prefix of [...scope.adapterChain, 'default']) {
      const searchName = `${prefix}__${name}`;
      const found = fromPackage(scope, g, pkg, searchName);
      attempts.push(pkg === null ? searchName : `${pkg}.${searchName}`);
      if (found !== undefined) return found;
    }
  throw new TributaryError(
    `In dispatch: No macro named '${name}' found within namespace: '${namespace === undefined || namespace === null ? 'None' : String(namespace)}'\n    Searched for: ${attempts.map((a) => `'${a}'`).join(', ')}`,
    {
      code: 'CONFIG',
      hint: `define ${scope.adapterChain[0] ?? 'default'}__${name} or default__${name}, or list the package holding it under dispatch: in dbt_project.yml`,
    },
  );
}
