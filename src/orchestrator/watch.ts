/**
 * File arrival (the seeds' S3 event → Lambda): watches the landing folders of a project's files
 * sources and runs a table's ingestion, and everything downstream of it, when a new file has
 * settled there. A file counts as arrived when its size and modification time stay the same for
 * `settleMs` (a writer still appending keeps changing them) and its name is not a temporary one
 * (`.tmp`, `.part`, `.crdownload`, or starting with a dot: write under such a name, then rename).
 * Each file lands once, across restarts too, because the raw zone is content-addressed and the
 * raw manifest records what landed; a restart catches up on files that arrived while stopped.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import picomatch from 'picomatch';
import {
  TributaryError,
  describeError,
  isErrno,
  type ProgressReporter,
  silentProgress,
} from '../core/index.js';
import type { FileSourceTable } from '../project/index.js';
import { runPipeline, type RunResult } from './runner.js';
import type { Workspace } from './workspace.js';

/** How long a file must stay unchanged before it is taken, unless told (`watch --settle`, a trigger's `settle`). */
export const DEFAULT_SETTLE_MS = 1000;

export interface WatchOptions {
  /** How long a file must stay unchanged before it is taken (default DEFAULT_SETTLE_MS). */
  settleMs?: number;
  /** A full rescan of the folders, in case the OS drops an event (default 5000 ms). */
  rescanMs?: number;
  progress?: ProgressReporter;
  /** Called after each triggered run, with the tables that triggered it. */
  onRun?: (result: RunResult, tables: string[]) => void;
  /** Called when a file is seen new or changed: its settle wait starts (again) from now. */
  onChange?: (path: string, size: number) => void;
  /** Called when a check finds a file unchanged for `unchangedMs`, too short to take it yet. */
  onSettling?: (path: string, unchangedMs: number) => void;
  /** The clock settle waits are measured on, in ms (default Date.now; tests move theirs). */
  now?: () => number;
  onError?: (err: unknown) => void;
  /** File tables to watch, as `source.table` (default: every files table). */
  tables?: string[];
  /**
   * Runs what the arrived tables need (default: each table's raw asset and everything downstream,
   * run directly). The server passes its run queue here; undefined means it did not run.
   */
  run?: (tables: string[]) => Promise<RunResult | undefined>;
}

const TEMPORARY = /(^\.)|(\.(tmp|part|crdownload|swp)$)/i;

interface Candidate {
  size: number;
  mtimeMs: number;
  since: number;
}

/** Watches a workspace's landing folders until `stop()`; runs are serialised, never overlapping. */
export class LandingWatcher {
  private readonly watchers: FSWatcher[] = [];
  private readonly candidates = new Map<string, Candidate>();
  /** Files already handed to a run, by path → size|mtime, so an unchanged file is not re-run. */
  private readonly taken = new Map<string, string>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly settleMs: number;
  private readonly now: () => number;
  private readonly tables: FileSourceTable[];
  /** Each table's file pattern, compiled once (events and rescans test every file name). */
  private readonly matchers: ((name: string) => boolean)[];

  constructor(
    private readonly ws: Workspace,
    private readonly opts: WatchOptions = {},
  ) {
    this.settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
    this.now = opts.now ?? Date.now;
    const wanted = opts.tables ? new Set(opts.tables) : undefined;
    this.tables = ws.project.tables.filter(
      (t): t is FileSourceTable => t.kind === 'files' && (!wanted || wanted.has(t.id)),
    );
    for (const id of wanted ?? []) {
      if (!this.tables.some((t) => t.id === id)) {
        throw new TributaryError(`${id} is not a files table of this project`, {
          code: 'CONFIG',
          location: { file: 'tributary.yml', path: 'triggers' },
          hint: 'name file tables as source.table, e.g. shop.orders',
        });
      }
    }
    this.matchers = this.tables.map((t) => picomatch(t.pattern));
  }

  /** Catches up on what arrived while stopped, then watches. */
  async start(): Promise<void> {
    const folders = [...new Set(this.tables.map((t) => t.folder))];
    for (const folder of folders) {
      try {
        const w = watch(folder, (_event, name) => {
          if (name) void this.observe(join(folder, name.toString()));
        });
        w.on('error', (err) => this.opts.onError?.(err));
        this.watchers.push(w);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
        this.opts.onError?.(new Error(`landing folder ${folder} does not exist; not watching it`));
      }
    }
    await this.rescan();
    this.rescanTimer = setInterval(() => void this.rescan(), this.opts.rescanMs ?? 5000);
  }

  /** Stops watching and waits for a run in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    if (this.timer) clearTimeout(this.timer);
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    await this.running;
  }

  /** Looks at every file of the landing folders now (also done every `rescanMs`). */
  async rescan(): Promise<void> {
    for (const folder of new Set(this.tables.map((t) => t.folder))) {
      let names: string[];
      try {
        names = await readdir(folder);
      } catch {
        continue;
      }
      for (const name of names) await this.observe(join(folder, name));
    }
  }

  private tablesFor(path: string): FileSourceTable[] {
    const name = basename(path);
    if (TEMPORARY.test(name)) return [];
    const folder = dirname(path);
    return this.tables.filter((t, i) => t.folder === folder && this.matchers[i]!(name));
  }

  /** Notes a file's current size and time; it is taken once they stop changing. */
  private async observe(path: string): Promise<void> {
    if (this.stopped || !this.tablesFor(path).length) return;
    let info;
    try {
      info = await stat(path);
    } catch {
      this.candidates.delete(path); // renamed away or deleted
      return;
    }
    if (!info.isFile()) return;
    const signature = `${info.size}|${info.mtimeMs}`;
    if (this.taken.get(path) === signature) return;
    const prev = this.candidates.get(path);
    if (!prev || prev.size !== info.size || prev.mtimeMs !== info.mtimeMs) this.changed(path, info);
    this.schedule();
  }

  /** A file seen new or changed: its settle wait starts again. */
  private changed(path: string, info: { size: number; mtimeMs: number }): void {
    this.candidates.set(path, { size: info.size, mtimeMs: info.mtimeMs, since: this.now() });
    this.opts.onChange?.(path, info.size);
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.check();
      },
      Math.max(50, Math.floor(this.settleMs / 4)),
    );
  }

  /** Moves settled files to the pending set and starts a run when one is not already going. */
  private async check(): Promise<void> {
    const now = this.now();
    for (const [path, c] of [...this.candidates]) {
      let info;
      try {
        info = await stat(path);
      } catch {
        this.candidates.delete(path);
        continue;
      }
      if (info.size !== c.size || info.mtimeMs !== c.mtimeMs) {
        this.changed(path, info);
        continue;
      }
      if (now - c.since < this.settleMs) {
        this.opts.onSettling?.(path, now - c.since);
        continue;
      }
      this.candidates.delete(path);
      this.taken.set(path, `${info.size}|${info.mtimeMs}`);
      for (const t of this.tablesFor(path)) this.pending.add(t.id);
    }
    if (this.candidates.size) this.schedule();
    if (this.pending.size && !this.running) this.running = this.runPending();
  }

  private async runPending(): Promise<void> {
    try {
      while (this.pending.size && !this.stopped) {
        const tables = [...this.pending];
        this.pending.clear();
        try {
          const result = this.opts.run
            ? await this.opts.run(tables)
            : await runPipeline(this.ws, {
                select: tables.map((id) => `raw:${id}+`),
                command: `watch ${tables.join(' ')}`,
                progress: this.opts.progress ?? silentProgress,
              });
          if (result) this.opts.onRun?.(result, tables);
        } catch (err) {
          this.opts.onError?.(
            new Error(`run for ${tables.join(', ')} failed: ${describeError(err)}`),
          );
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
