/**
 * CPU seconds PostgreSQL spends on one database, for benchmarks on a machine other processes use
 * too: the backends serving that database are found in pg_stat_activity (by the database's
 * name) and their CPU read from /proc/<pid>/stat, every `everyMs` while the sampler runs. Each
 * backend counts with the last figure seen for it, so a backend that exits between two samples
 * loses at most `everyMs` of its CPU; the pools the engines use keep their sessions open, so that
 * is rare. Linux only (USER_HZ = 100).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

/** utime + stime of one process in seconds, or undefined when it is gone. */
function processCpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export class PostgresCpuSampler {
  private readonly seen = new Map<number, { first: number; last: number }>();
  private timer: NodeJS.Timeout | undefined;
  private client: pg.Client | undefined;
  private sampling: Promise<void> = Promise.resolve();

  /** `adminUrl` reaches another database of the server (its own session is not counted). */
  constructor(
    private readonly adminUrl: string,
    private readonly database: string,
    private readonly everyMs = 100,
  ) {}

  async start(): Promise<void> {
    this.client = new pg.Client({ connectionString: this.adminUrl });
    await this.client.connect();
    await this.sample();
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample()).catch(() => undefined);
    }, this.everyMs);
  }

  /** Stops sampling; returns the CPU seconds the database's backends spent since start. */
  async stop(): Promise<number> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample();
    await this.client?.end();
    let total = 0;
    for (const { first, last } of this.seen.values()) total += last - first;
    return total;
  }

  private async sample(): Promise<void> {
    const { rows } = await this.client!.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1`,
      [this.database],
    );
    for (const { pid } of rows) {
      const cpu = processCpuSeconds(pid);
      if (cpu === undefined) continue;
      const known = this.seen.get(pid);
      // A backend first seen now began after start: all of its CPU is this database's.
      if (known) known.last = cpu;
      else this.seen.set(pid, { first: this.timer ? 0 : cpu, last: cpu });
    }
  }
}
