/**
 * Folders are the architecture (DESIGN.md): a module imports only from the modules it builds on,
 * and no file reaches itself through its imports. This test reads every import in src/ (with
 * TypeScript's own scanner, so comments and strings are not imports and none is missed) and fails
 * on one that points upward or sideways, and on any cycle between files.
 *
 * Type-only imports count as edges in both rules. They are erased at run time, so a cycle through
 * them cannot break module loading, but it still ties the files together: neither can be read,
 * changed or moved without the other, which is what the rule is for. (The folder rule has always
 * counted them too.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** What each module may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  dag: ['core'],
  engines: ['core'],
  lake: ['core'],
  jinja: ['core'],
  state: ['core', 'engines'],
  project: ['core', 'engines'],
  sources: ['core', 'lake', 'project'],
  catalog: ['core', 'engines', 'lake', 'state'],
  quality: ['core', 'engines', 'lake', 'project', 'sources'],
  stream: ['core', 'engines', 'lake', 'project', 'sources', 'quality'],
  models: ['core', 'dag', 'engines', 'project', 'jinja'],
  notify: ['core', 'engines', 'state', 'project'],
  forecast: ['core', 'engines', 'project'],
  sync: ['core', 'engines', 'state', 'project', 'notify'],
  orchestrator: [
    'core',
    'dag',
    'engines',
    'lake',
    'state',
    'project',
    'sources',
    'catalog',
    'quality',
    'models',
    'notify',
    'stream',
    'forecast',
    'sync',
  ],
  serve: [
    'core',
    'dag',
    'engines',
    'lake',
    'state',
    'project',
    'sources',
    'catalog',
    'quality',
    'models',
    'notify',
    'orchestrator',
    'stream',
    'forecast',
    'sync',
  ],
  cli: [
    'core',
    'dag',
    'engines',
    'lake',
    'state',
    'project',
    'sources',
    'catalog',
    'quality',
    'models',
    'orchestrator',
    'notify',
    'serve',
    'stream',
    'templates',
    'forecast',
    'sync',
  ],
};

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** The relative specifiers in source text: static, type-only, re-exports and dynamic import(). */
function relativeImports(text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((name) => name.startsWith('.'));
}

const importsOf = (file: string) => relativeImports(readFileSync(file, 'utf8'));

/** The file a relative specifier names (`./x.js` → x.ts, `./dir/index.js` → dir/index.ts). */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier).replace(/\.js$/, '');
  return [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f));
}

/** Every file's imported files, over a folder. */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files(dir)) {
    const targets = importsOf(file)
      .map((s) => resolveImport(file, s))
      .filter((t): t is string => t !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/**
 * The import cycles of a graph, each as the path that closes it (`a → b → a`): one per import
 * that leads back to a file still being visited (depth-first), so every cycle is reported at
 * least once through one of its edges.
 */
function importCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'visiting');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const s = state.get(next);
      if (s === 'visiting') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

describe('module layering', () => {
  it('every module is known to the layering rules and has an index.ts', () => {
    const modules = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(modules.sort()).toEqual(Object.keys(ALLOWED).sort());
    for (const m of modules) expect(readdirSync(join(SRC, m))).toContain('index.ts');
  });

  it('modules import only downward', () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const module = relative(SRC, file).split('/')[0]!;
      for (const specifier of importsOf(file)) {
        const target = relative(SRC, resolve(file, '..', specifier));
        const targetModule = target.startsWith('..')
          ? target.split('/').find((p) => p !== '..')!
          : target.split('/')[0]!;
        if (targetModule !== module && !ALLOWED[module]!.includes(targetModule)) {
          violations.push(`${relative(SRC, file)} imports ${specifier}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('no file imports itself through other files, type-only imports included', () => {
    const cycles = importCycles(importGraph(SRC)).map((c) =>
      c.map((f) => relative(SRC, f)).join(' → '),
    );
    expect(cycles).toEqual([]);
  });

  it('the cycle check finds a cycle, a self-import, and none in a diamond', () => {
    const g = (edges: Record<string, string[]>) => new Map(Object.entries(edges));
    expect(importCycles(g({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] }))).toEqual([
      ['a', 'b', 'c', 'a'],
    ]);
    expect(importCycles(g({ a: ['a'] }))).toEqual([['a', 'a']]);
    expect(importCycles(g({ a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }))).toEqual([]);
  });

  it('reads type-only imports, re-exports and dynamic imports as imports, and not comments or strings', () => {
    const text = [
      "import type { A } from './a.js';",
      "import { type B, b } from './b.js';",
      "export * from './c.js';",
      "const d = await import('./d.js');",
      "import { x } from 'package';",
      "// import { e } from './e.js';",
      'const f = "from \'./f.js\'";',
    ].join('\n');
    expect(relativeImports(text)).toEqual(['./a.js', './b.js', './c.js', './d.js']);
  });
});
