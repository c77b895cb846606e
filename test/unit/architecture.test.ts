/**
 * Folders are the architecture (DESIGN.md): a module imports only from the modules it builds on.
 * This test reads every import in src/ and fails on one that points upward or sideways.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** What each module may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  dag: ['core'],
  engines: ['core'],
  lake: ['core'],
  state: ['core', 'engines'],
  project: ['core', 'engines'],
  sources: ['core', 'lake', 'project'],
  catalog: ['core', 'engines', 'lake', 'state'],
  quality: ['core', 'engines', 'lake', 'project', 'sources'],
  models: ['core', 'dag', 'engines', 'project'],
  notify: ['core', 'engines', 'state', 'project'],
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
    'templates',
  ],
};

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
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
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = relative(SRC, resolve(file, '..', m[1]!));
        const targetModule = target.startsWith('..')
          ? target.split('/').find((p) => p !== '..')!
          : target.split('/')[0]!;
        if (targetModule !== module && !ALLOWED[module]!.includes(targetModule)) {
          violations.push(`${relative(SRC, file)} imports ${m[1]}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
