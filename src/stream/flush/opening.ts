/**
 * One opening of the stream log for all the landings a process runs at the same time. A run
 * lands its stream tables concurrently (one step each), and outside a collecting process each
 * landing opened the log for itself: the local segment log has one opener at a time (its LOCK
 * file), so the second landing of the same run was refused by its own process. Landings now
 * lease the process's one opening: the first opens the log, the last to finish closes it, and a
 * landing that starts while it closes waits for the close before opening it again. Flushes of
 * different tables read one log as the collector's flusher loop does; flushes of one table are
 * kept apart by the work queue and, in shared mode, the table's fence (fence.ts).
 */
import type { StreamLog } from '../log.js';

/** A landing's use of the opened log: release it when done (the last release closes the log). */
export interface LogLease {
  log: StreamLog;
  release(): Promise<void>;
}

interface Opened {
  log: Promise<StreamLog>;
  users: number;
}

/** The shared opening of one process's stream log. */
export class LogOpening {
  private current: Opened | undefined;
  /** The close of the last opening, which a new one waits for (one opener at a time). */
  private closing: Promise<void> = Promise.resolve();

  constructor(private readonly open: () => Promise<StreamLog>) {}

  /** The opened log (opening it when no landing has it open), until `release`. */
  async acquire(): Promise<LogLease> {
    const entry = (this.current ??= {
      log: this.closing.then(() => this.open()),
      users: 0,
    });
    entry.users++;
    let log: StreamLog;
    try {
      log = await entry.log;
    } catch (err) {
      // Not opened: forget it, so the next landing tries again.
      entry.users--;
      if (this.current === entry) this.current = undefined;
      throw err;
    }
    let released = false;
    return {
      log,
      release: async () => {
        if (released) return;
        released = true;
        if (--entry.users > 0) return;
        if (this.current === entry) this.current = undefined;
        const closed = log.close();
        this.closing = closed.catch(() => undefined);
        await closed;
      },
    };
  }
}
