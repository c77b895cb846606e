/**
 * One flusher per stream table at a time across processes. In shared mode (state on PostgreSQL)
 * every `serve` replica takes producers' events into the one JetStream log, and every replica's
 * flusher loop, and any worker landing a stream table, may look at a table. A table's flush
 * (reading its cursor, writing the batch, committing batch and cursor in the manifest) runs
 * holding a PostgreSQL transaction-level advisory lock named after the table, so flushes of one
 * table never overlap anywhere and each reads the cursor the previous one committed: a record
 * is committed once. The lock's transaction is on a session of its own (a fork of the state
 * engine), so the state store's other statements never wait behind a flush.
 *
 * If the lock's connection is lost while a flush writes, the server releases the lock early;
 * flushOnce also checks the cursor has not moved just before it commits, so the next holder's
 * commit and this one cannot both land the same records (see flusher.ts).
 */
import type { Engine } from '../../engines/index.js';

/** Runs a table's flush while no other process flushes that table. */
export interface FlushFence {
  run<T>(tableId: string, work: () => Promise<T>): Promise<T>;
  /** Ends the fence's session (after the flushes it ran have finished). */
  close(): Promise<void>;
}

/** The advisory lock of a table's flushes (scoped to the state schema by the engine). */
export const flushLockKey = (tableId: string): string => `tributary.stream-flush/${tableId}`;

/**
 * A fence over the state database's advisory locks. One session serves all the process's
 * tables: their flushes take turns here (each is short), and across processes per table.
 */
export function advisoryFlushFence(state: Engine): FlushFence {
  let session: Promise<Engine> | undefined;
  const sessionOf = (): Promise<Engine> => {
    session ??= state.fork().catch((err: unknown) => {
      session = undefined;
      throw err;
    });
    return session;
  };
  return {
    async run<T>(tableId: string, work: () => Promise<T>): Promise<T> {
      const engine = await sessionOf();
      let workFailed = false;
      try {
        return await engine.transaction(async (tx) => {
          await tx.lockInTransaction(flushLockKey(tableId));
          try {
            return await work();
          } catch (err) {
            workFailed = true;
            throw err;
          }
        });
      } catch (err) {
        // The session failed (a lost connection), not the flush: the next flush opens a new one.
        if (!workFailed && session) {
          const lost = session;
          session = undefined;
          void lost.then((s) => s.close()).catch(() => undefined);
        }
        throw err;
      }
    },
    async close() {
      const open = session;
      session = undefined;
      if (open) await (await open).close();
    },
  };
}
