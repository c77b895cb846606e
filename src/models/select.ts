/**
 * dbt's node selection syntax: names and globs, `tag:`, `path:`, `resource_type:`, `source:`,
 * `fqn:`, `config.<key>:`, `test_type:`, `test_name:`; graph operators `+x`, `x+`, `n+x`, `x+n`
 * and `@x`; space for union, comma for intersection; `--exclude` with the same syntax. Tests are
 * selected indirectly when a node they test is selected ("eager", dbt's default).
 */
import picomatch from 'picomatch';
import { TributaryError } from '../core/index.js';
import type { Manifest, Node, SourceNode } from './types.js';

type Item = Node | SourceNode;

const SELECTOR = /^(@)?(?:(\d*)\+)?([^+]+?)(?:\+(\d*))?$/;

function itemsOf(manifest: Manifest): Item[] {
  return [...manifest.nodes.values(), ...manifest.sources.values()];
}

function matchesMethod(item: Item, method: string, value: string, manifest: Manifest): boolean {
  const glob = picomatch(value, { dot: true });
  switch (method) {
    case '': {
      if (value.includes('/') || value.endsWith('.sql') || value.endsWith('.csv'))
        return matchesMethod(item, 'path', value, manifest);
      return glob(item.name) || matchesFqn(item.fqn, value);
    }
    case 'fqn':
      return matchesFqn(item.fqn, value);
    case 'tag':
      return item.tags.some((t) => glob(t));
    case 'path': {
      const p = item.original_file_path;
      const v = value.replace(/\/$/, '');
      return p === v || p.startsWith(`${v}/`) || glob(p);
    }
    case 'file':
      return glob(item.original_file_path.split('/').pop()!);
    case 'resource_type':
      return item.resource_type === value;
    case 'package':
      return item.package_name === value;
    case 'source': {
      if (item.resource_type !== 'source') return false;
      const [s, t] = value.split('.');
      return picomatch(s!)(item.source_name) && (t === undefined || picomatch(t)(item.name));
    }
    case 'test_type':
      return (
        item.resource_type === 'test' &&
        ((value === 'generic' && Boolean(item.test_metadata)) ||
          (value === 'singular' && !item.test_metadata) ||
          value === 'data')
      );
    case 'test_name':
      return (
        item.resource_type === 'test' &&
        Boolean(item.test_metadata) &&
        glob(item.test_metadata!.name)
      );
    default:
      if (method.startsWith('config.')) {
        const v = (item.config as Record<string, unknown>)[method.slice('config.'.length)];
        return Array.isArray(v)
          ? v.map(String).some((x) => glob(x))
          : v !== undefined && v !== null && glob(String(v));
      }
      throw new TributaryError(`unknown selector method ${method}:`, {
        code: 'USAGE',
        hint: 'use a name, tag:, path:, resource_type:, source:, fqn:, config.<key>:, test_type: or test_name:',
      });
  }
}

/** dbt's qualified-name match: the leaf by glob, or a dotted prefix of the fqn (with or without the project). */
function matchesFqn(fqn: string[], value: string): boolean {
  const prefix = (path: string[]) => {
    if (path.length && picomatch(value)(path[path.length - 1]!)) return true;
    const flat = path.flatMap((p) => p.split('.'));
    const parts = value.split('.');
    if (parts.length > flat.length) return false;
    for (const [i, part] of parts.entries()) {
      if (part === '*') return true;
      if (flat[i] !== part) return false;
    }
    return true;
  };
  return prefix(fqn) || prefix(fqn.slice(1));
}

function walkGraph(
  start: Set<string>,
  edges: Map<string, string[]>,
  depth: number | undefined,
): Set<string> {
  const out = new Set<string>();
  let frontier = [...start];
  for (let d = 0; frontier.length && (depth === undefined || d < depth); d++) {
    const next: string[] = [];
    for (const id of frontier)
      for (const n of edges.get(id) ?? [])
        if (!out.has(n)) {
          out.add(n);
          next.push(n);
        }
    frontier = next;
  }
  return out;
}

function selectOne(manifest: Manifest, selector: string): Set<string> {
  const m = SELECTOR.exec(selector);
  if (!m) throw new TributaryError(`cannot read selector ${selector}`, { code: 'USAGE' });
  const [, at, up, body, down] = m;
  const colon = body!.indexOf(':');
  const method = colon > 0 ? body!.slice(0, colon) : '';
  const value = colon > 0 ? body!.slice(colon + 1) : body!;
  const base = new Set(
    itemsOf(manifest)
      .filter((i) => matchesMethod(i, method, value, manifest))
      .map((i) => i.unique_id),
  );
  const out = new Set(base);
  if (at) {
    const children = walkGraph(base, manifest.childMap, undefined);
    for (const c of children) out.add(c);
    for (const a of walkGraph(new Set([...base, ...children]), manifest.parentMap, undefined))
      out.add(a);
    return out;
  }
  if (up !== undefined)
    for (const a of walkGraph(base, manifest.parentMap, up ? Number(up) : undefined)) out.add(a);
  if (down !== undefined)
    for (const c of walkGraph(base, manifest.childMap, down ? Number(down) : undefined)) out.add(c);
  return out;
}

/** Resolves one selection expression list (space-separated union of comma intersections). */
function resolve(manifest: Manifest, selectors: string[]): Set<string> {
  const out = new Set<string>();
  for (const raw of selectors.flatMap((s) => s.split(/\s+/)).filter(Boolean)) {
    const parts = raw.split(',').map((p) => selectOne(manifest, p));
    const [first, ...rest] = parts;
    for (const id of first!) if (rest.every((r) => r.has(id))) out.add(id);
  }
  return out;
}

/** Adds the tests of selected nodes (eager indirect selection). */
function withTests(manifest: Manifest, ids: Set<string>): Set<string> {
  const out = new Set(ids);
  for (const node of manifest.nodes.values()) {
    if (node.resource_type !== 'test' || out.has(node.unique_id)) continue;
    if ((manifest.parentMap.get(node.unique_id) ?? []).some((p) => ids.has(p)))
      out.add(node.unique_id);
  }
  return out;
}

export interface Selection {
  select?: string[];
  exclude?: string[];
  /** Resource types the command acts on, e.g. ['model'] for run; all when undefined. */
  resourceTypes?: string[];
}

/** The unique ids of the nodes a command acts on, in no particular order. */
export function selectNodes(manifest: Manifest, selection: Selection): Set<string> {
  const select = selection.select?.length
    ? withTests(manifest, resolve(manifest, selection.select))
    : new Set(manifest.nodes.keys());
  const exclude = selection.exclude?.length
    ? withTests(manifest, resolve(manifest, selection.exclude))
    : new Set<string>();
  const out = new Set<string>();
  for (const id of select) {
    const node = manifest.nodes.get(id);
    if (!node || exclude.has(id)) continue;
    if (selection.resourceTypes && !selection.resourceTypes.includes(node.resource_type)) continue;
    out.add(id);
  }
  return out;
}

/** Sources selected by an expression (for `source freshness`). */
export function selectSources(manifest: Manifest, selection: Selection): SourceNode[] {
  const ids = selection.select?.length
    ? resolve(manifest, selection.select)
    : new Set(manifest.sources.keys());
  const exclude = selection.exclude?.length
    ? resolve(manifest, selection.exclude)
    : new Set<string>();
  return [...manifest.sources.values()].filter(
    (s) => ids.has(s.unique_id) && !exclude.has(s.unique_id),
  );
}
