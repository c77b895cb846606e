/** Shared test helpers: temp folders, small projects written on the fly, open workspaces. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { afterEach } from 'vitest';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openWorkspace, type Workspace } from '../src/orchestrator/index.js';

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

/** Opens a project, runs `fn` with it, and always closes it. */
export async function withWorkspace<T>(dir: string, fn: (ws: Workspace) => Promise<T>): Promise<T> {
  const ws = await openWorkspace(dir, 'test');
  try {
    return await fn(ws);
  } finally {
    await ws.close();
  }
}

/**
 * Restores TRIBUTARY_FAULT after each test of the file that calls this, so a test can inject a
 * fault (`process.env.TRIBUTARY_FAULT = 'step:model:a'`) without leaking it into the next one.
 */
export function restoreFaultAfterEach(): void {
  const saved = process.env.TRIBUTARY_FAULT;
  afterEach(() => {
    if (saved === undefined) delete process.env.TRIBUTARY_FAULT;
    else process.env.TRIBUTARY_FAULT = saved;
  });
}
