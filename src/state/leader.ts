/**
 * Leadership among the processes sharing one state database: at most one of them leads a named
 * role (the scheduler of a project) at a time, and when the leader dies another takes over.
 *
 * The leader holds a session lock (Engine.tryLockSession: a PostgreSQL session-level advisory
 * lock) on a connection of its own, kept open for as long as it leads. The server releases the
 * lock when that connection ends, however it ends: a killed process's socket closes at once; a
 * machine that vanished is noticed by the server's keepalive probes (about 25 s). Candidates try
 * to take the lock every `checkEveryMs`; the leader checks as often that its session still holds
 * it (and steps down when the check fails or hangs past that interval), so a leader that lost its
 * connection stops leading within about two intervals, whoever takes over meanwhile.
 *
 * Two processes may still both believe they lead for a moment (the old leader has not run its
 * check yet): what a leader does must be fenced in state as well (the scheduler claims each tick
 * with a conditional write, StateStore.claimTick).
 *
 * On an engine without session locks (a DuckDB file, which one process owns) the process is
 * always the leader.
 *
 * The leader writes who it is to `leaders` when it takes over and at each check, so any process
 * can say which one leads (`/api/health`, `tributary schedules`).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { describeError } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import { migrate, type Migration } from './migrations.js';

/** Who leads a role, as the leader last wrote it. */
export interface LeaderRecord {
  role: string;
  host: string;
  pid: number;
  /** Tells two leaders in one process apart (tests run several). */
  instance: string;
  /** When it took over. */
  since: string;
  /** Its latest check: a record much older than the check interval is a leader that died. */
  seenAt: string;
}

export interface LeadershipOptions {
  /** How often a candidate tries to take over and the leader checks its lock (default 2 s). */
  checkEveryMs?: number;
  /** Told of each change, in order; the next check waits for it. */
  onChange?: (leading: boolean) => Promise<void> | void;
  /** A check that failed (a lost connection); leadership is already given up when told. */
  onError?: (message: string) => void;
}

export const LEADER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'leaders',
    statements: [
      `CREATE TABLE IF NOT EXISTS leaders (
     role TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, instance TEXT NOT NULL,
     since TEXT NOT NULL, seen_at TEXT NOT NULL)`,
    ],
  },
];

const DEFAULT_CHECK_MS = 2000;

/** Resolves with `promise`, or rejects when it takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export class Leadership {
  readonly instance = randomUUID();
  private session: Engine | undefined;
  private isLeading = false;
  private since: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly checkEveryMs: number;

  private constructor(
    private readonly engine: Engine,
    readonly role: string,
    private readonly opts: LeadershipOptions,
  ) {
    this.checkEveryMs = opts.checkEveryMs ?? DEFAULT_CHECK_MS;
  }

  /** Prepares leadership of `role` on the state engine (its table migrated); start() competes. */
  static async open(
    engine: Engine,
    role: string,
    opts: LeadershipOptions = {},
  ): Promise<Leadership> {
    await migrate(engine, 'leaders', LEADER_MIGRATIONS);
    return new Leadership(engine, role, opts);
  }

  /** Who leads `role`, as last recorded (undefined when nobody has led it yet). */
  static async current(engine: Engine, role: string): Promise<LeaderRecord | undefined> {
    // Read often (every health check), so no migration here: a state where no scheduler ever
    // started has no such table, and nobody leads.
    if (!(await engine.describe(undefined, 'leaders'))) return undefined;
    const { rows } = await engine.query(`SELECT * FROM leaders WHERE role = $1`, [role]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      role: String(r.role),
      host: String(r.host),
      pid: Number(r.pid),
      instance: String(r.instance),
      since: String(r.since),
      seenAt: String(r.seen_at),
    };
  }

  get leading(): boolean {
    return this.isLeading;
  }

  /** The lock's name: one per role (and, on PostgreSQL, per state schema). */
  private get lockKey(): string {
    return `tributary.leader/${this.role}`;
  }

  /** Tries to lead now (told to onChange before this resolves), then again every interval. */
  async start(): Promise<void> {
    this.stopped = false;
    this.checking = this.check();
    await this.checking;
    this.armCheck();
  }

  private armCheck(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.checking = this.check().finally(() => this.armCheck());
    }, this.checkEveryMs);
    // Leadership alone never keeps a process alive.
    this.timer.unref();
  }

  /** One round: a candidate tries to take the lock; the leader makes sure it still holds it. */
  private async check(): Promise<void> {
    try {
      if (!this.engine.capabilities.sessionLocks) {
        // One process owns this state: it leads.
        if (!this.isLeading) await this.become(true);
        return;
      }
      if (this.isLeading) {
        const held = await within(
          this.session!.holdsSessionLock(this.lockKey),
          this.checkEveryMs,
          'checking the leader lock',
        );
        if (!held) {
          this.dropSession();
          await this.become(false);
          this.opts.onError?.(`${this.role}: the leader lock was lost (its connection ended)`);
          return;
        }
        await this.record();
        return;
      }
      this.session ??= await this.engine.fork();
      if (await this.session.tryLockSession(this.lockKey)) await this.become(true);
    } catch (err) {
      // A lost connection (or a check that hung): whatever the server thinks, stop leading now.
      this.dropSession();
      if (this.isLeading) await this.become(false);
      this.opts.onError?.(`${this.role}: leadership check failed: ${describeError(err)}`);
    }
  }

  private async become(leading: boolean): Promise<void> {
    this.isLeading = leading;
    this.since = leading ? new Date().toISOString() : undefined;
    if (leading) await this.record();
    await this.opts.onChange?.(leading);
  }

  /** Writes this process as the role's leader (only while it holds the lock). */
  private async record(): Promise<void> {
    const now = new Date().toISOString();
    await this.engine.query(
      `INSERT INTO leaders (role, host, pid, instance, since, seen_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (role) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         instance = excluded.instance, since = excluded.since, seen_at = excluded.seen_at`,
      [this.role, hostname(), process.pid, this.instance, this.since ?? now, now],
    );
  }

  /**
   * Forgets the lock's session without waiting for it (a hung statement may hold it): closing a
   * session that holds a session lock closes its connection, so the server releases the lock.
   */
  private dropSession(): void {
    const session = this.session;
    this.session = undefined;
    void session?.close().catch(() => undefined);
  }

  /** Stops competing; a leader steps down (onChange(false)) and releases the lock at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.checking;
    const session = this.session;
    this.session = undefined;
    if (this.isLeading) {
      await this.become(false);
      await this.engine
        .query(`DELETE FROM leaders WHERE role = $1 AND instance = $2`, [this.role, this.instance])
        .catch(() => undefined);
    }
    if (session) {
      await session.unlockSession(this.lockKey).catch(() => undefined);
      await session.close().catch(() => undefined);
    }
  }
}
