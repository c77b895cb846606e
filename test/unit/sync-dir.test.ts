/**
 * core's syncDir, the folder fsync behind every durable write (the lake, state files, the local
 * stream log): it flushes a folder, and a failure other than "folders cannot be synced here"
 * reaches the caller, so a write is never reported durable when its folder's sync failed.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syncDir } from '../../src/core/index.js';
import { tempDir } from '../helpers.js';

describe('syncDir', () => {
  it('flushes a folder, and fails when the folder is not there', async () => {
    const root = tempDir('trib-syncdir-');
    const folder = join(root, 'zone');
    mkdirSync(folder);
    await expect(syncDir(folder)).resolves.toBeUndefined();
    rmSync(folder, { recursive: true });
    await expect(syncDir(folder)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
