/** Shared test helpers: temp folders and small projects written on the fly. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A fresh temp folder for one test. */
export function tempDir(prefix = 'trib-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes files (path → content) under a folder, creating folders as needed. */
export function writeFiles(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}
