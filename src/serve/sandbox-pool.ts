/**
 * The processes sandboxed queries run in. DuckDB's memory_limit and interrupt do not bound
 * everything a query can do (a list or string built by a scalar function, a result converted to
 * JavaScript), and in the server's own process such a query takes the server with it. So each
 * query runs in a child process (sandbox-child.ts), one query per process at a time, a few
 * processes in a pool with a queue in front, and the parent holds the limits:
 *
 * - memory: the parent reads each busy child's resident memory (VmRSS in /proc/<pid>/status)
 *   every `watchIntervalMs` and SIGKILLs it past `memoryCapMb`. Behind that, the child starts
 *   under an address-space limit (RLIMIT_AS via `ulimit -v`) of the cap plus what Node and
 *   DuckDB reserve without using (measured: about 1.4 GB of virtual space at start), so growth
 *   faster than the watch interval still ends in a failed allocation, not in the machine's
 *   memory. DuckDB's own memory_limit (set below the cap by QuerySandbox) makes the common case
 *   an ordinary out-of-memory error instead of a kill.
 * - time: a query runs at most `timeoutMs` from the moment a process takes it. The child
 *   interrupts DuckDB at the deadline; if it has not answered `graceMs` later, it is SIGKILLed.
 *   Before that, a query waits at most `maxWaitMs` for a free process (all busy, or starting),
 *   then fails; so every query is answered within maxWaitMs + timeoutMs + graceMs.
 *
 * A killed or crashed child fails only the query it ran, with a TributaryError saying why, and
 * is replaced at once. Children run at a lower CPU priority (nice 10) than the server, so its
 * event loop (health checks, other requests) keeps answering while they work.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { TributaryError, type ErrorCode } from '../core/index.js';
import type { SandboxLimits, SandboxOptions, SandboxResult } from '../engines/index.js';
import type { ChildReply, ChildRequest } from './sandbox-protocol.js';
import type { ParamValue } from './types.js';

export interface QueryPoolOptions {
  /** Query processes (queries that run at once). */
  size: number;
  /** Resident memory one query process may reach, in MB; past it, it is killed. */
  memoryCapMb: number;
  /** How long past its deadline a query process may take to answer before it is killed. */
  graceMs: number;
  /** Queries that may wait for a process; more are refused. */
  maxQueue: number;
  /** How long a query may wait for a free process before it fails. */
  maxWaitMs: number;
  /** How often busy processes' memory is read. */
  watchIntervalMs: number;
}

/**
 * Virtual address space a query process gets beyond its memory cap: what Node (V8's code range
 * and heap reservations) and DuckDB (thread stacks, allocator arenas) map without touching.
 * Measured on Linux x64 with Node 20 and DuckDB 1.5: about 1.3 GB mapped after start, 1.45 GB
 * peak for small queries with 2 threads; this leaves room for more threads.
 */
export const ADDRESS_SPACE_HEADROOM_MB = 2048;

export interface PoolQuery {
  /** The sandbox to open (or reuse) for this query, decided when a process takes it. */
  open: () => SandboxOptions;
  sql: string;
  params: Record<string, ParamValue>;
  /** Forwarded whole; `timeoutMs` counts from when a process takes the query. */
  limits: SandboxLimits;
}

interface Job extends PoolQuery {
  id: number;
  resolve: (r: { result: SandboxResult; open: SandboxOptions }) => void;
  reject: (err: Error) => void;
  queueTimer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  opened?: SandboxOptions;
}

interface QueryProcess {
  child: ChildProcess;
  pid: number;
  ready: boolean;
  /** Killed by the pool (not failed on its own). */
  killed: boolean;
  job?: Job;
  /** The last few KB the process wrote to stderr (V8's and DuckDB's fatal messages). */
  stderr: string;
}

const stopped = (message: string, hint: string, code: ErrorCode = 'INPUT') =>
  new TributaryError(message, { code, hint });

const NARROW = 'narrow it down (filters, LIMIT, fewer joins, smaller lists and strings)';

/** How to start a query process: the compiled child, or the TypeScript source under a loader. */
function childArgs(): string[] {
  const compiled = fileURLToPath(new URL('./sandbox-child.js', import.meta.url));
  if (existsSync(compiled)) return [compiled];
  return [
    '--import',
    fileURLToPath(new URL('./ts-source-loader.mjs', import.meta.url)),
    fileURLToPath(new URL('./sandbox-child.ts', import.meta.url)),
  ];
}

/** Resident memory of a process in MB, or undefined once it is gone. */
async function residentMb(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

export class QueryProcessPool {
  private readonly processes = new Set<QueryProcess>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private watch: NodeJS.Timeout | undefined;
  /** Set while processes fail before they are ready: no respawning in a loop. */
  private startFailure: TributaryError | undefined;
  private readonly exits = new Set<Promise<void>>();
  /** The instance a process opens as soon as it is ready. */
  private warmWith: SandboxOptions | undefined;
  private readyWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(readonly options: QueryPoolOptions) {}

  /** Starts the processes that are missing (at most `size`). */
  fill(): void {
    if (this.closed) return;
    while (this.processes.size < this.options.size) this.spawnOne();
  }

  /** Runs one query in a process of the pool. */
  run(query: PoolQuery): Promise<{ result: SandboxResult; open: SandboxOptions }> {
    if (this.closed) return Promise.reject(stopped('the query sandbox is closed', ''));
    if (this.queue.length >= this.options.maxQueue)
      return Promise.reject(
        new TributaryError(
          `too many queries at once: ${this.options.maxQueue} are already waiting for a query process`,
          { code: 'LOCKED', transient: true, hint: 'try again in a moment' },
        ),
      );
    this.startFailure = undefined;
    this.fill();
    return new Promise((resolve, reject) => {
      const job: Job = {
        ...query,
        id: this.nextId++,
        resolve,
        reject,
      };
      job.queueTimer = setTimeout(() => {
        const at = this.queue.indexOf(job);
        if (at < 0) return;
        this.queue.splice(at, 1);
        job.reject(
          new TributaryError(
            `the query waited ${this.options.maxWaitMs} ms for a query process and did not get one: all ${this.options.size} were busy (or starting)`,
            { code: 'LOCKED', transient: true, hint: 'try again when fewer queries run' },
          ),
        );
      }, this.options.maxWaitMs);
      this.queue.push(job);
      this.pump();
    });
  }

  /** Tells every process to close its instances on a snapshot file once their query ends. */
  retire(path: string): void {
    this.broadcast({ type: 'retire', path });
  }

  /** Opens an instance in every process ahead of the first query that needs it. */
  warm(open: SandboxOptions): void {
    this.warmWith = open;
    this.broadcast({ type: 'open', open });
  }

  /** Resolves once `size` processes are ready (rejects if one cannot start). */
  ready(): Promise<void> {
    this.fill();
    if (this.readyCount() >= this.options.size) return Promise.resolve();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  private readyCount(): number {
    return [...this.processes].filter((p) => p.ready).length;
  }

  /** Process ids of the pool's processes (for tests and diagnostics). */
  pids(): number[] {
    return [...this.processes].map((p) => p.pid);
  }

  /** Kills every process and fails what still waits; resolves once all have exited. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watch);
    for (const job of this.queue.splice(0)) {
      clearTimeout(job.queueTimer);
      job.reject(stopped('the query sandbox was closed before the query ran', ''));
    }
    for (const w of this.readyWaiters.splice(0))
      w.reject(stopped('the query sandbox is closed', ''));
    for (const p of this.processes) this.kill(p, stopped('the query sandbox was closed', ''));
    await Promise.all(this.exits);
  }

  private broadcast(msg: ChildRequest): void {
    for (const p of this.processes) if (p.ready && p.child.connected) p.child.send(msg);
  }

  private spawnOne(): void {
    const cap = Math.ceil((this.options.memoryCapMb + ADDRESS_SPACE_HEADROOM_MB) * 1024);
    const options = {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'] as ('ignore' | 'pipe' | 'ipc')[],
      serialization: 'advanced' as const,
    };
    // On Linux `ulimit -v` sets RLIMIT_AS for the shell, which `exec` hands to node (same pid).
    // Elsewhere (macOS does not enforce RLIMIT_AS, and has no /proc for the watch) processes
    // still isolate each query and its deadline, without the memory cap.
    const child =
      process.platform === 'linux'
        ? spawn(
            '/bin/sh',
            ['-c', 'ulimit -v "$0" && exec "$@"', String(cap), process.execPath, ...childArgs()],
            options,
          )
        : spawn(process.execPath, childArgs(), options);
    const proc: QueryProcess = {
      child,
      pid: child.pid ?? -1,
      ready: false,
      killed: false,
      stderr: '',
    };
    this.processes.add(proc);
    try {
      setPriority(proc.pid, 10);
    } catch {
      // Not allowed here (or already gone): it runs at the server's priority.
    }
    child.stderr!.on('data', (d: Buffer) => {
      proc.stderr = (proc.stderr + d.toString()).slice(-4096);
    });
    child.on('message', (msg: ChildReply) => this.onReply(proc, msg));
    const exited = new Promise<void>((done) => {
      let ended = false;
      const end = (code: number | null, signal: NodeJS.Signals | null) => {
        if (ended) return;
        ended = true;
        this.exits.delete(exited);
        this.onExit(proc, code, signal);
        done();
      };
      child.once('exit', end);
      // A send to a process that just ended is reported by 'exit'; a spawn that failed has no
      // process and no 'exit'.
      child.on('error', (err) => {
        if (child.pid === undefined) {
          proc.stderr += err.message;
          end(null, null);
        }
      });
    });
    this.exits.add(exited);
  }

  private onReply(proc: QueryProcess, msg: ChildReply): void {
    if (msg.type === 'ready') {
      proc.ready = true;
      if (this.warmWith)
        proc.child.send({ type: 'open', open: this.warmWith } satisfies ChildRequest);
      if (this.readyCount() >= this.options.size)
        for (const w of this.readyWaiters.splice(0)) w.resolve();
      this.pump();
      return;
    }
    const job = proc.job;
    if (!job || job.id !== msg.id) return;
    this.finish(proc);
    if (msg.type === 'result') job.resolve({ result: msg.result, open: job.opened! });
    else {
      const { message, code, hint } = msg.error;
      if (/^Out of Memory Error|out of memory|bad_alloc/i.test(message))
        job.reject(
          stopped(`${this.atCap()}: ${message.replace(/^Out of Memory Error: /, '')}`, NARROW),
        );
      else
        job.reject(
          new TributaryError(message, { code: code as ErrorCode, ...(hint ? { hint } : {}) }),
        );
    }
    this.pump();
  }

  private onExit(proc: QueryProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.processes.delete(proc);
    const job = proc.job;
    if (job) {
      this.finish(proc);
      const fatalOom = /out of memory|OOM|bad_alloc|Cannot allocate/i.test(proc.stderr);
      job.reject(
        fatalOom
          ? stopped(`${this.atCap()}: its query process ran out of memory and ended`, NARROW)
          : stopped(
              `the query process ended while running the query (${signal ?? `exit code ${code}`}): ${proc.stderr.trim().split('\n').pop() ?? ''}`,
              'the server log may say more; try again',
              'INTERNAL',
            ),
      );
    } else if (!proc.ready && !proc.killed && !this.closed) {
      // It never started: fail the waiting queries instead of respawning in a loop.
      this.startFailure = stopped(
        `a query process could not start (${signal ?? `exit code ${code}`}): ${proc.stderr.trim().slice(-500)}`,
        'check that node can start here with the address-space limit (ulimit -v)',
        'INTERNAL',
      );
      for (const waiting of this.queue.splice(0)) {
        clearTimeout(waiting.queueTimer);
        waiting.reject(this.startFailure);
      }
      for (const w of this.readyWaiters.splice(0)) w.reject(this.startFailure);
      return;
    }
    if (!this.closed && !this.startFailure) this.fill();
    this.pump();
  }

  /** Gives waiting queries to ready, idle processes. */
  private pump(): void {
    for (const proc of this.processes) {
      if (!this.queue.length) return;
      if (!proc.ready || proc.job || !proc.child.connected) continue;
      this.start(proc, this.queue.shift()!);
    }
  }

  private start(proc: QueryProcess, job: Job): void {
    clearTimeout(job.queueTimer);
    const left = job.limits.timeoutMs;
    try {
      job.opened = job.open();
    } catch (err) {
      job.reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    proc.job = job;
    job.killTimer = setTimeout(
      () =>
        this.kill(
          proc,
          stopped(
            `the query was stopped after ${job.limits.timeoutMs} ms (the statement timeout): its query process did not stop within ${this.options.graceMs} ms of the deadline and was killed`,
            NARROW,
          ),
        ),
      left + this.options.graceMs,
    );
    proc.child.send({
      type: 'query',
      id: job.id,
      open: job.opened,
      sql: job.sql,
      params: job.params,
      limits: job.limits,
    } satisfies ChildRequest);
    this.watch ??= setInterval(() => void this.checkMemory(), this.options.watchIntervalMs);
  }

  private finish(proc: QueryProcess): void {
    clearTimeout(proc.job?.killTimer);
    proc.job = undefined;
    if (![...this.processes].some((p) => p.job)) {
      clearInterval(this.watch);
      this.watch = undefined;
    }
  }

  private async checkMemory(): Promise<void> {
    await Promise.all(
      [...this.processes]
        .filter((p) => p.job)
        .map(async (p) => {
          const mb = await residentMb(p.pid);
          if (mb !== undefined && mb > this.options.memoryCapMb && p.job)
            this.kill(
              p,
              stopped(
                `${this.atCap()}: its query process had ${Math.round(mb)} MB resident and was killed`,
                NARROW,
              ),
            );
        }),
    );
  }

  private atCap(): string {
    return `the query was stopped at the memory cap of ${this.options.memoryCapMb} MB per query`;
  }

  /** SIGKILLs a process; its query (if any) fails with `reason` now, and it is replaced on exit. */
  private kill(proc: QueryProcess, reason: TributaryError): void {
    const job = proc.job;
    if (job) {
      this.finish(proc);
      job.reject(reason);
    }
    proc.ready = false;
    proc.killed = true;
    proc.child.kill('SIGKILL');
  }
}
