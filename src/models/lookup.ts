/**
 * What a name means from inside a package, as dbt-core's Manifest resolves it (resolve_ref,
 * resolve_source, resolve_doc and _packages_to_search in core/dbt/contracts/graph/manifest.py):
 * a one-argument ref() searches the root project, then the calling node's package, then every
 * package (more than one match there is an error asking for the two-argument form); a
 * two-argument ref() searches only the package named. Variables are scoped as dbt's
 * ModelConfiguredVar scopes them.
 */
import { TributaryError } from '../core/index.js';
import type { DbtProject } from './dbt-project.js';
import type { Manifest, Node, RefCall, SourceNode } from './types.js';

const REFABLE = new Set(['model', 'seed', 'snapshot']);

/** Refable nodes by name, rebuilt when the manifest's node count changes (parsing adds nodes). */
const refIndexes = new WeakMap<Manifest, { size: number; byName: Map<string, Node[]> }>();

function refIndex(manifest: Manifest): Map<string, Node[]> {
  let index = refIndexes.get(manifest);
  if (!index || index.size !== manifest.nodes.size) {
    const byName = new Map<string, Node[]>();
    for (const node of manifest.nodes.values()) {
      if (!REFABLE.has(node.resource_type)) continue;
      const list = byName.get(node.name);
      if (list) list.push(node);
      else byName.set(node.name, [node]);
    }
    index = { size: manifest.nodes.size, byName };
    refIndexes.set(manifest, index);
  }
  return index.byName;
}

/** dbt's _packages_to_search: null stands for "any package". */
function packagesToSearch(
  root: string,
  fromPackage: string,
  target?: string | null,
): (string | null)[] {
  if (target) return [target];
  return root === fromPackage ? [root, null] : [root, fromPackage, null];
}

/**
 * The model, seed or snapshot a ref() made in a node of `fromPackage` names; undefined when none.
 * Throws dbt's ambiguity error when an unqualified name matches nodes of several packages.
 */
export function findRefTarget(
  manifest: Manifest,
  ref: RefCall,
  fromPackage: string = manifest.projectName,
): Node | undefined {
  const named = refIndex(manifest).get(ref.name);
  if (!named) return undefined;
  for (const pkg of packagesToSearch(manifest.projectName, fromPackage, ref.package)) {
    if (pkg !== null) {
      const found = named.find((n) => n.package_name === pkg);
      if (found) return found;
      continue;
    }
    if (named.length > 1) {
      const ids = named.map((n) => n.unique_id);
      // dbt's AmbiguousResourceNameRefError, its two lines on one (parse problems are one line each).
      throw new TributaryError(
        `When referencing '${ref.name}', dbt found nodes in multiple packages: '${ids.join("', '")}'. To fix this, use two-argument 'ref', with the package name first: '${named.map((n) => n.package_name).join("' or '")}'`,
        { code: 'CONFIG' },
      );
    }
    return named[0];
  }
  return undefined;
}

/** The source table source(s, t) names from a node of `fromPackage`, searched as dbt does. */
export function findSource(
  manifest: Manifest,
  sourceName: string,
  table: string,
  fromPackage: string = manifest.projectName,
): SourceNode | undefined {
  for (const pkg of packagesToSearch(manifest.projectName, fromPackage)) {
    if (pkg !== null) {
      const found = manifest.sources.get(`source.${pkg}.${sourceName}.${table}`);
      if (found) return found;
      continue;
    }
    for (const src of manifest.sources.values())
      if (src.source_name === sourceName && src.name === table) return src;
  }
  return undefined;
}

/** The docs block doc(name) or doc(package, name) names from a node of `fromPackage`. */
export function findDoc(
  manifest: Manifest,
  name: string,
  fromPackage: string,
  target?: string | null,
): { block_contents: string } | undefined {
  for (const pkg of packagesToSearch(manifest.projectName, fromPackage, target)) {
    if (pkg !== null) {
      const found = manifest.docs.get(`doc.${pkg}.${name}`);
      if (found) return found;
      continue;
    }
    for (const doc of manifest.docs.values()) if (doc.name === name) return doc;
  }
  return undefined;
}

const asObject = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/**
 * The variables a node of `pkg` sees (dbt's ModelConfiguredVar): the package's own `vars:`
 * (global, then its entry under the package's name), then the root project's (global, then its
 * entry under the package's name), then --vars; later wins. A root node sees the root's only.
 */
export function packageVars(
  root: DbtProject,
  pkg: DbtProject | undefined,
): Record<string, unknown> {
  if (!pkg || pkg.name === root.name) return root.vars;
  return {
    ...pkg.varsBlock,
    ...asObject(pkg.varsBlock[pkg.name]),
    ...root.varsBlock,
    ...asObject(root.varsBlock[pkg.name]),
    ...root.cliVars,
  };
}
