/**
 * A query process of the sandbox pool (sandbox-pool.ts): started by the server (or the CLI)
 * under an address-space limit, it runs one query at a time on a DuckDBSandbox and answers over
 * the IPC channel. What it runs and how the sandbox is opened arrive whole in each message (the
 * open options and the limits as the caller gave them), so options added to either reach the
 * sandbox without this file knowing them. Instances are kept per distinct open options: one per
 * snapshot (and per role, when open options differ by role), closed when the parent retires
 * their snapshot or when more than a few are open.
 *
 * Its memory is the parent's to police (it SIGKILLs this process past the cap); DuckDB's own
 * out-of-memory errors come back as ordinary errors and the parent names the cap in them.
 */
import { TributaryError } from '../core/index.js';
// Not through engines/index.js: that loads the PostgreSQL adapter, whose dependencies start
// WebAssembly, and a WebAssembly memory reserves more address space than the limit allows.
import { DuckDBSandbox, type SandboxOptions } from '../engines/duckdb/sandbox.js';
import type { ChildReply, ChildRequest } from './sandbox-protocol.js';

/** Instances a process keeps open at most; the least recently used goes first. */
const MAX_INSTANCES = 4;

interface Instance {
  options: SandboxOptions;
  opening: Promise<DuckDBSandbox>;
  busy: number;
  retired: boolean;
  usedAt: number;
}

const instances = new Map<string, Instance>();

function closeInstance(key: string, inst: Instance): void {
  instances.delete(key);
  void inst.opening.then(
    (db) => db.close(),
    () => undefined,
  );
}

function instanceFor(options: SandboxOptions): Instance {
  const key = JSON.stringify(options);
  let inst = instances.get(key);
  if (!inst) {
    inst = { options, opening: DuckDBSandbox.open(options), busy: 0, retired: false, usedAt: 0 };
    inst.opening.catch(() => instances.delete(key)); // a failed open is retried next time
    instances.set(key, inst);
    if (instances.size > MAX_INSTANCES) {
      const idle = [...instances].filter(([, i]) => i.busy === 0 && i !== inst);
      idle.sort((a, b) => a[1].usedAt - b[1].usedAt);
      for (const [k, i] of idle.slice(0, instances.size - MAX_INSTANCES)) closeInstance(k, i);
    }
  }
  inst.usedAt = performance.now();
  return inst;
}

function send(reply: ChildReply): void {
  process.send!(reply);
}

function errorOf(err: unknown): ChildReply & { type: 'error' } {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    type: 'error',
    id: 0,
    error: {
      message: e.message,
      code: err instanceof TributaryError ? err.code : 'INPUT',
      ...(err instanceof TributaryError && err.hint ? { hint: err.hint } : {}),
    },
  };
}

async function handle(msg: ChildRequest): Promise<void> {
  switch (msg.type) {
    case 'open': {
      // Warming up: a failure shows again, with its message, when a query needs the instance.
      instanceFor(msg.open).opening.catch(() => undefined);
      return;
    }
    case 'retire': {
      for (const [key, inst] of instances) {
        if (inst.options.path !== msg.path) continue;
        inst.retired = true;
        if (inst.busy === 0) closeInstance(key, inst);
      }
      return;
    }
    case 'query': {
      const inst = instanceFor(msg.open);
      inst.busy++;
      try {
        const db = await inst.opening;
        const result = await db.query(msg.sql, msg.params, msg.limits);
        send({ type: 'result', id: msg.id, result });
      } catch (err) {
        send({ ...errorOf(err), id: msg.id });
      } finally {
        inst.busy--;
        if (inst.retired && inst.busy === 0) closeInstance(JSON.stringify(inst.options), inst);
      }
    }
  }
}

process.on('message', (msg: ChildRequest) => void handle(msg));
// The parent gone (its IPC channel closed): nothing will ask for anything again.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
