/** Where Tributary's own files are at run time, from src/ under tests or dist/ when built. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this file whose package.json is Tributary's. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tributary'
    )
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the tributary package root');
    dir = parent;
  }
}

export function templateDir(name: string): string {
  return join(packageRoot(), 'templates', name);
}

export function packageVersion(): string {
  return (
    JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
  ).version;
}
