/**
 * The crash campaign's processes: the real `tributary` CLI and `tributary serve`, spawned as a
 * user would run them, with every stderr line kept with the time it arrived (the campaign
 * anchors its kill moments on those lines), and a SIGKILL that can be armed on a line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the folder holding bin/tributary.js (from the sources or from dist/). */
export function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'bin', 'tributary.js'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find bin/tributary.js above the crash campaign');
    dir = up;
  }
  return dir;
}

/** The compiled CLI the campaign runs; `npm run build` writes it. */
export function cliEntry(): string {
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'index.js')))
    throw new Error('the crash campaign runs the built CLI: run `npm run build` first');
  return join(root, 'bin', 'tributary.js');
}

export interface Line {
  /** Milliseconds after the process was spawned. */
  at: number;
  /** Wall-clock time of arrival (Date.now()), to relate lines to the state store's timestamps. */
  wall: number;
  text: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `tributary` process. */
export interface Proc {
  readonly child: ChildProcess;
  /** performance.now() and Date.now() when it was spawned. */
  readonly spawnedAt: number;
  readonly spawnedWall: number;
  readonly lines: Line[];
  readonly exited: Promise<Exit>;
  /** Whether it has exited. */
  done(): boolean;
  /** Resolves with the first line (already seen or still to come) matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<Line>;
  /** Calls `fn` for every line from now on. */
  onLine(fn: (line: Line) => void): void;
  /** stderr so far (and stdout, for messages worth showing on failure). */
  output(): string;
  /** SIGKILL now; returns when it was sent (performance.now()), or undefined if already gone. */
  kill(): number | undefined;
}

/** The processes the campaign started and that have not exited yet. */
const running = new Set<ChildProcess>();

/**
 * SIGKILLs every process the campaign started that is still running (a server left behind by a
 * trial that failed half-way), each by its own handle; returns how many there were.
 */
export function killLeftovers(): number {
  const left = [...running];
  for (const child of left) child.kill('SIGKILL');
  return left.length;
}

/** Spawns `tributary -p <project> ...args` with the given extra environment. */
export function spawnTributary(
  project: string,
  args: string[],
  env: Record<string, string> = {},
): Proc {
  const child = spawn(process.execPath, [cliEntry(), '-p', project, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // No fault unless the trial asks for one; no colour; the campaign's own env otherwise.
    env: { ...process.env, TRIBUTARY_FAULT: '', NO_COLOR: '1', ...env },
  });
  running.add(child);
  const spawnedAt = performance.now();
  const spawnedWall = Date.now();
  const lines: Line[] = [];
  const listeners: ((line: Line) => void)[] = [];
  let text = '';
  let pending = '';
  let exited = false;
  child.stderr!.on('data', (chunk: Buffer) => {
    const at = performance.now() - spawnedAt;
    const wall = Date.now();
    text += chunk.toString();
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const part of parts) {
      const line = { at, wall, text: part };
      lines.push(line);
      for (const fn of [...listeners]) fn(line);
    }
  });
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  // 'close', not 'exit': every line the process wrote has arrived by then.
  const exitPromise = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => {
      if (pending) {
        const line = { at: performance.now() - spawnedAt, wall: Date.now(), text: pending };
        pending = '';
        lines.push(line);
        for (const fn of [...listeners]) fn(line);
      }
      exited = true;
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    spawnedAt,
    spawnedWall,
    lines,
    exited: exitPromise,
    done: () => exited,
    output: () => text,
    onLine: (fn) => listeners.push(fn),
    waitFor: (re, timeoutMs = 120_000) =>
      new Promise<Line>((resolve, reject) => {
        const seen = lines.find((l) => re.test(l.text));
        if (seen) return resolve(seen);
        if (exited)
          return reject(new Error(`the process exited before a line matching ${re}:\n${text}`));
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no line matching ${re} within ${timeoutMs} ms; output:\n${text}`));
        }, timeoutMs);
        timer.unref(); // a safety net: it never keeps the campaign alive
        const onExit = () => {
          finish();
          reject(new Error(`the process exited before a line matching ${re}:\n${text}`));
        };
        const listener = (line: Line) => {
          if (!re.test(line.text)) return;
          finish();
          resolve(line);
        };
        const finish = () => {
          clearTimeout(timer);
          const i = listeners.indexOf(listener);
          if (i >= 0) listeners.splice(i, 1);
          child.off('close', onExit);
        };
        listeners.push(listener);
        child.once('close', onExit);
      }),
    kill: () => {
      if (exited || child.exitCode !== null || child.signalCode !== null) return undefined;
      const at = performance.now();
      child.kill('SIGKILL');
      return at;
    },
  };
}

/** Runs `tributary` to the end; rejects with its output when it exits with another code. */
export async function runTributary(
  project: string,
  args: string[],
  expectCode = 0,
  timeoutMs = 300_000,
): Promise<Proc> {
  const proc = spawnTributary(project, args);
  const timer = setTimeout(() => proc.kill(), timeoutMs);
  const exit = await proc.exited;
  clearTimeout(timer);
  if (exit.code !== expectCode)
    throw new Error(
      `tributary ${args.join(' ')} exited ${exit.code ?? exit.signal} (expected ${expectCode}):\n${proc.output()}`,
    );
  return proc;
}

/** The step a progress line reports (`succeeded  raw:shop.orders (12ms) …`), if it is one. */
export function stepOfLine(text: string): { status: string; asset: string } | undefined {
  const m = /(succeeded|up_to_date|failed|skipped|cancelled)\s+(\S+:\S+) \(\d/.exec(text);
  return m ? { status: m[1]!, asset: m[2]! } : undefined;
}

/** Escapes text for a regular expression. */
export function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
