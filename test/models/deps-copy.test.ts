/**
 * `deps` where symlinks are refused (Windows without the privilege, some mounted file systems):
 * dbt copies a local package instead of linking it, and so does Tributary. Such a file system
 * cannot be made here, so this file replaces fs.symlink with one that fails as they do (EPERM);
 * everything else is the real file system.
 */
import { lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type * as fsPromises from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { installDeps } from '../../src/models/index.js';
import { tempDir } from '../helpers.js';

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof fsPromises>();
  return {
    ...real,
    symlink: () =>
      Promise.reject(Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' })),
  };
});

let dir: string;
beforeEach(() => {
  dir = tempDir('deps-copy-');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('copies a local package when a symlink cannot be made', async () => {
  const pkg = join(dir, 'shared');
  mkdirSync(join(pkg, 'macros'), { recursive: true });
  writeFileSync(join(pkg, 'dbt_project.yml'), 'name: shared_pkg\nversion: "1.0.0"\n');
  writeFileSync(join(pkg, 'macros', 'm.sql'), '{% macro m() %}copied{% endmacro %}\n');
  const project = join(dir, 'shop');
  mkdirSync(project);
  writeFileSync(join(project, 'dbt_project.yml'), 'name: shop\nprofile: p\n');
  writeFileSync(join(project, 'packages.yml'), 'packages:\n  - local: ../shared\n');
  const result = await installDeps(project);
  expect(result.packages).toEqual([
    expect.objectContaining({ name: 'shared_pkg', kind: 'local', linked: false }),
  ]);
  const installed = join(project, 'dbt_packages', 'shared_pkg');
  expect(lstatSync(installed).isSymbolicLink()).toBe(false);
  expect(readFileSync(join(installed, 'macros', 'm.sql'), 'utf8')).toContain('copied');
});
