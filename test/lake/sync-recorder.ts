import { fstatSync } from 'node:fs';
import { nodeSyncIo, type SyncIo } from '../../src/core/index.js';

/** One call through the recorder: which file (inode) and how long it was when synced. */
export type SyncEvent =
  | { op: 'datasync'; ino: number; size: number }
  | { op: 'rename'; from: string; to: string }
  | { op: 'syncDir'; dir: string };

/**
 * A `SyncIo` that records every call, in order, and then makes the real one (real files, real
 * fsync). With `hold()`, data syncs wait until `release()`, so a test can see what the caller
 * does while one is running.
 */
export class SyncRecorder {
  readonly events: SyncEvent[] = [];
  /** Data syncs running at once now, and the most ever seen. */
  running = 0;
  maxRunning = 0;
  failNextDatasync: Error | undefined;
  private held: (() => void)[] | undefined;

  readonly io: SyncIo = {
    datasync: async (fd) => {
      const { ino, size } = fstatSync(fd);
      this.events.push({ op: 'datasync', ino, size });
      this.running++;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      try {
        if (this.held) await new Promise<void>((resolve) => this.held!.push(resolve));
        const failure = this.failNextDatasync;
        this.failNextDatasync = undefined;
        if (failure) throw failure;
        await nodeSyncIo.datasync(fd);
      } finally {
        this.running--;
      }
    },
    rename: async (from, to) => {
      this.events.push({ op: 'rename', from, to });
      await nodeSyncIo.rename(from, to);
    },
    syncDir: async (dir) => {
      this.events.push({ op: 'syncDir', dir });
      await nodeSyncIo.syncDir(dir);
    },
  };

  hold(): void {
    this.held ??= [];
  }

  /** Lets the held syncs go on; later ones run at once. */
  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const go of waiting) go();
  }

  ops(): string[] {
    return this.events.map((e) => e.op);
  }

  datasyncs(): Extract<SyncEvent, { op: 'datasync' }>[] {
    return this.events.filter((e) => e.op === 'datasync');
  }
}
