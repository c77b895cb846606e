/**
 * A disk that fills, for the collector's stream log: a real 32 MB tmpfs mounted on the log's
 * folder and filled with a file until the kernel answers ENOSPC, when this process may mount
 * (root, as on the development machine); otherwise (or with STREAM_DISK_FULL=fault) a fault
 * loaded into the collector with `node --import` (disk-full-preload.mjs) that fails its writes
 * under the log's folder with ENOSPC while a marker file exists. `mode` says which ran.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  realpathSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface FullDisk {
  mode: 'tmpfs' | 'fault';
  /** Environment for the collector process. */
  env: Record<string, string>;
  /** Fills the disk: the log's next write fails with ENOSPC. */
  fill(): void;
  /** Makes room again. */
  free(): void;
  /** Unmounts (after the collector has stopped). */
  cleanup(): void;
}

/** Prepares the log folder `logDir` (not created yet) so the test can fill its disk. */
export function prepareFullDisk(logDir: string): FullDisk {
  mkdirSync(logDir, { recursive: true });
  const mounted =
    process.env.STREAM_DISK_FULL !== 'fault' &&
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', logDir], { stdio: 'ignore' })
      .status === 0;
  if (mounted) {
    const filler = join(logDir, 'filler');
    return {
      mode: 'tmpfs',
      env: {},
      fill() {
        const fd = openSync(filler, 'w');
        const chunk = Buffer.alloc(256 * 1024, 7);
        try {
          for (;;) writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        } finally {
          closeSync(fd);
        }
      },
      free: () => rmSync(filler, { force: true }),
      cleanup: () => void spawnSync('umount', ['-l', logDir], { stdio: 'ignore' }),
    };
  }
  const marker = join(logDir, '..', 'disk-full.marker');
  const preload = pathToFileURL(join(import.meta.dirname, 'disk-full-preload.mjs')).href;
  return {
    mode: 'fault',
    env: {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim(),
      TRIBUTARY_TEST_FULL_DIR: realpathSync(logDir),
      TRIBUTARY_TEST_FULL_MARKER: marker,
    },
    fill: () => writeFileSync(marker, 'full'),
    free: () => rmSync(marker, { force: true }),
    cleanup: () => rmSync(marker, { force: true }),
  };
}
