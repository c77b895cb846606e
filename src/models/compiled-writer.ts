/**
 * Writing a run's compiled SQL (target/compiled/) on worker threads, so creating thousands of
 * small files overlaps with rendering instead of stopping it. A reader never sees half a file:
 * when the compiled folder does not exist yet (a first compile, or after `clean`), every file is
 * written straight into a fresh staging folder beside it, which is renamed into place in one step
 * at `close()` (one rename instead of one per file, and no folder listings); otherwise each file
 * is written aside and renamed into place, and only when its bytes changed. No fsync (any
 * compile rebuilds them). A write that fails stops the run: the next write after the failure is
 * known throws it, and `close()` always does.
 */
import * as fs from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { TributaryError } from '../core/index.js';

/**
 * Writes a batch of `[file, text]` pairs, given node's `fs` and `path` and a cache of folder
 * listings. Plain JavaScript in a string, as the worker evaluates it as a CommonJS script (a
 * worker started from a file would need a compiled .js beside this module, which runs from
 * source under the tests); a few files are written with the same code on the calling thread.
 * Each folder is listed once (one readdir instead of a failed open per new file), so only files
 * that exist are read and compared. Temp names are unique per process, thread and write, as
 * another process may be compiling the same project. In a staging folder (`state.staged`), which
 * no one reads before it is renamed into place whole, files are written straight in. Returns the failures as
 * `{ failed: file, message }` and counts writes in `state.written`.
 */
const WRITE_BATCH = String.raw`
(fs, path, state, batch) => {
  const failures = [];
  for (const [file, text] of batch) {
    let tmp;
    try {
      const dir = path.dirname(file);
      const name = path.basename(file);
      let names = state.folders.get(dir);
      if (!names) {
        fs.mkdirSync(dir, { recursive: true });
        names = state.staged ? new Set() : new Set(fs.readdirSync(dir));
        state.folders.set(dir, names);
      }
      if (state.staged) {
        fs.writeFileSync(file, text);
        state.written++;
        continue;
      }
      if (names.has(name)) {
        let current;
        try {
          current = fs.readFileSync(file, 'utf8');
        } catch {
          current = undefined;
        }
        if (current === text) continue;
      }
      tmp = file + '.' + state.tag + '-' + state.count++ + '.tmp';
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, file);
      names.add(name);
      state.written++;
    } catch (err) {
      if (tmp) {
        try {
          fs.unlinkSync(tmp);
        } catch {}
      }
      failures.push({ failed: file, message: err && err.message ? err.message : String(err) });
    }
  }
  return failures;
}`;

/** The worker: batches in, failures out; `null` asks for `{ done, written }`. */
const WORKER_SOURCE = String.raw`
const { parentPort, threadId, workerData } = require('node:worker_threads');
const writeBatch = ${WRITE_BATCH};
const state = {
  folders: new Map(),
  tag: process.pid + '-' + threadId,
  count: 0,
  written: 0,
  staged: workerData.staged,
};
const fs = require('node:fs');
const path = require('node:path');
parentPort.on('message', (batch) => {
  if (batch === null) return parentPort.postMessage({ done: true, written: state.written });
  for (const failure of writeBatch(fs, path, state, batch)) parentPort.postMessage(failure);
});
`;

type Batch = [file: string, text: string][];
interface Failure {
  failed: string;
  message: string;
}
interface WriterState {
  folders: Map<string, Set<string>>;
  tag: string;
  count: number;
  written: number;
  staged: boolean;
}

/** Files handed to a thread at once: one message per file would cost more than the write. */
const BATCH_FILES = 32;

type WriteBatch = (
  fsModule: typeof fs,
  pathModule: typeof path,
  state: WriterState,
  batch: Batch,
) => Failure[];
let writeBatchHere: WriteBatch | undefined;

/** A staging folder: `.<name>-<pid>-<n>.staging` beside the folder it becomes. */
const STAGING = /^\.(.+)-(\d+)-\d+\.staging$/;
let stagings = 0;

/**
 * A run's writer of compiled SQL files. With threads, files are grouped by folder onto them (two
 * cores can create files while the main thread renders); a folder whose files never filled a
 * batch is written on the calling thread at `close()`, cheaper than starting a thread. With
 * `threads: 0` every file is written at once on the calling thread and a failure throws there
 * (the executing verbs: a run stops before the next node when its SQL cannot be written).
 * With `root` (the compiled folder, an absolute path) missing, files under it are staged (see the
 * module comment); the files must then be under `root`.
 */
export class CompiledWriter {
  private readonly workers: (Worker | undefined)[];
  private readonly batches: Batch[];
  private readonly here: WriterState;
  /** The compiled folder and the staging folder that becomes it, while staging. */
  private readonly staging: { root: string; dir: string } | undefined;
  private failure: TributaryError | undefined;
  private closed = false;

  constructor(threads = Math.min(2, availableParallelism()), root?: string) {
    this.workers = new Array<Worker | undefined>(Math.max(0, threads)).fill(undefined);
    this.batches = this.workers.map(() => []);
    if (root && !fs.existsSync(root)) {
      const parent = path.dirname(root);
      const name = path.basename(root);
      removeStaleStagings(parent, name);
      const dir = path.join(parent, `.${name}-${process.pid}-${++stagings}.staging`);
      this.staging = { root, dir };
    }
    this.here = {
      folders: new Map(),
      tag: `${process.pid}-0`,
      count: 0,
      written: 0,
      staged: !!this.staging,
    };
  }

  /** Writes a batch on the calling thread (the same code the threads run). */
  private writeHere(batch: Batch): void {
    writeBatchHere ??= new Function(`return ${WRITE_BATCH.trim()}`)() as WriteBatch;
    for (const f of writeBatchHere(fs, path, this.here, batch)) this.fail(f.failed, f.message);
  }

  private fail(file: string, message: string): void {
    const st = this.staging;
    const shown = st && file.startsWith(st.dir) ? st.root + file.slice(st.dir.length) : file;
    this.failure ??= new TributaryError(`could not write compiled SQL to ${shown}: ${message}`, {
      code: 'INPUT',
      location: { file: shown },
      hint: 'check that the target folder is writable and the disk is not full, then run again',
    });
  }

  private worker(i: number): Worker {
    let w = this.workers[i];
    if (!w) {
      w = new Worker(WORKER_SOURCE, { eval: true, workerData: { staged: !!this.staging } });
      w.on('message', (m: Partial<Failure>) => {
        if (m.failed !== undefined) this.fail(m.failed, m.message ?? '');
      });
      w.on('error', (err) => this.fail('target/compiled', err.message));
      this.workers[i] = w;
    }
    return w;
  }

  /** Queues `text` for `file` (an absolute path); throws an earlier write's failure. */
  write(file: string, text: string): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('CompiledWriter: write after close');
    const st = this.staging;
    if (st) {
      if (!file.startsWith(st.root + path.sep))
        throw new Error(`CompiledWriter: ${file} is not under ${st.root}`);
      file = st.dir + file.slice(st.root.length);
    }
    if (!this.workers.length) {
      this.writeHere([[file, text]]);
      if (this.failure) throw this.failure;
      return;
    }
    const i = folderSlot(file, this.workers.length);
    const batch = this.batches[i]!;
    batch.push([file, text]);
    if (batch.length >= BATCH_FILES) {
      this.worker(i).postMessage(batch);
      this.batches[i] = [];
    }
  }

  /**
   * Writes what is still queued, waits for the threads, stops them, puts a staging folder in
   * place and returns how many files were written (unchanged ones are not); throws the first
   * failure (a staging folder is then removed: none of its files is shown).
   */
  async close(): Promise<number> {
    if (this.closed) throw new Error('CompiledWriter: closed twice');
    this.closed = true;
    const pending: Promise<number>[] = [];
    for (const [i, batch] of this.batches.entries()) {
      if (!this.workers[i]) {
        this.writeHere(batch);
        continue;
      }
      if (batch.length) this.workers[i]!.postMessage(batch);
      pending.push(finish(this.workers[i]!));
    }
    let written = this.here.written;
    const outcomes = await Promise.allSettled(pending);
    for (const o of outcomes) {
      if (o.status === 'fulfilled') written += o.value;
      else this.fail('target/compiled', o.reason instanceof Error ? o.reason.message : 'stopped');
    }
    if (this.staging && !this.failure) this.unstage(this.staging);
    if (this.staging) fs.rmSync(this.staging.dir, { recursive: true, force: true });
    if (this.failure) throw this.failure;
    return written;
  }

  /**
   * Renames the staging folder into place; if another process made the compiled folder in the
   * meantime, moves each file into it instead (each rename atomic, so still never half a file).
   */
  private unstage(st: { root: string; dir: string }): void {
    if (!fs.existsSync(st.dir)) return;
    try {
      fs.renameSync(st.dir, st.root);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') return this.fail(st.root, String(err));
    }
    for (const e of fs.readdirSync(st.dir, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const from = path.join(e.parentPath, e.name);
      const to = st.root + from.slice(st.dir.length);
      try {
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.renameSync(from, to);
      } catch (err) {
        this.fail(to, (err as Error).message);
      }
    }
  }
}

/**
 * Removes staging folders that a process which is no longer running left beside the compiled
 * folder (it stopped before its `close()`), so they do not pile up.
 */
function removeStaleStagings(parent: string, name: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    const m = STAGING.exec(entry);
    if (!m || m[1] !== name || processAlive(Number(m[2]))) continue;
    fs.rmSync(path.join(parent, entry), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Asks a writer thread for its count once its queue is written, then stops it. */
function finish(worker: Worker): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onMessage = (m: { done?: boolean; written?: number }) => {
      if (!m.done) return;
      worker.off('message', onMessage);
      resolve(m.written ?? 0);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', () => reject(new Error('the compiled-SQL writer stopped early')));
    worker.postMessage(null);
  }).finally(() => worker.terminate());
}

/** The thread a file goes to: by its folder, so each folder is listed by one thread only. */
function folderSlot(file: string, slots: number): number {
  if (slots === 1) return 0;
  const dir = path.dirname(file);
  let h = 0;
  for (let i = 0; i < dir.length; i++) h = (h * 31 + dir.charCodeAt(i)) | 0;
  return Math.abs(h) % slots;
}
