/**
 * The dead-letter store (the seeds' SQS dead-letter queue): what could not be delivered or
 * applied — an alert no channel would take, a stream event, a sync record — kept with its error
 * and attempt count until someone replays or purges it. It lives in the state database in
 * portable SQL, so a DuckDB file and a shared PostgreSQL hold the same table.
 *
 * A replay applies an entry exactly once: the entry is claimed with a conditional UPDATE
 * (pending → replaying) that only one caller can win, in this process or another sharing the
 * database; the loser is refused. Only a crash between the handler finishing and the entry being
 * marked replayed can lead to a second application (after `recoverStuck`), so handlers should be
 * idempotent where they can be.
 */
import { TributaryError, describeError, newId } from '../core/index.js';
import type { Engine, Row } from '../engines/index.js';
import { migrate, type Migration } from '../state/index.js';

export type DeadLetterKind = 'notification' | 'event' | 'record';
export type DeadLetterStatus = 'pending' | 'replaying' | 'replayed';

const DEAD_LETTER_KINDS: readonly DeadLetterKind[] = ['notification', 'event', 'record'];

/** One dead-lettered item. */
export interface DeadLetter {
  id: string;
  kind: DeadLetterKind;
  /** Where it was going or coming from: a channel name, an asset, a sync destination. */
  source: string;
  /** What to replay, as stored (parsed JSON). */
  payload: unknown;
  /** The last failure, already free of secrets. */
  error: string;
  /** Tries so far, replays included. */
  attempts: number;
  firstSeen: string;
  lastSeen: string;
  status: DeadLetterStatus;
  /** When the replay finished (replayed), or started (replaying); null when pending. */
  replayedAt: string | null;
  /** Entries with the same key collapse into one while pending. */
  dedupeKey: string | null;
}

export interface NewDeadLetter {
  kind: DeadLetterKind;
  source: string;
  /** Any JSON-serializable value. */
  payload: unknown;
  /** The failure; the caller masks secrets before handing it over. */
  error: string;
  /** Tries already made (at least 1). */
  attempts: number;
  /** When a pending entry has this key, it is updated instead of a second being added. */
  dedupeKey?: string;
}

export interface ListOptions {
  kind?: DeadLetterKind;
  status?: DeadLetterStatus;
  source?: string;
  /** At most this many, oldest first. */
  limit?: number;
}

export interface PurgeOptions {
  ids?: readonly string[];
  status?: DeadLetterStatus;
  /** Only entries last seen before this time. */
  before?: string | Date;
}

/** Applies a replayed entry; throwing leaves it pending for another try. */
export type ReplayHandler = (entry: DeadLetter) => Promise<void>;
export type ReplayHandlers = Partial<Record<DeadLetterKind, ReplayHandler>>;

export const DEAD_LETTER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'dead_letters',
    statements: [
      `CREATE TABLE IF NOT EXISTS dead_letters (
         id TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL, payload TEXT NOT NULL,
         error TEXT NOT NULL, attempts INTEGER NOT NULL, first_seen TEXT NOT NULL,
         last_seen TEXT NOT NULL, status TEXT NOT NULL, replayed_at TEXT, dedupe_key TEXT)`,
    ],
  },
];

/** Tries of a claim that lost a write-write race, before the conflict is reported. */
const CLAIM_TRIES = 5;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toEntry(r: Row): DeadLetter {
  let payload: unknown;
  try {
    payload = JSON.parse(String(r.payload));
  } catch {
    payload = String(r.payload);
  }
  return {
    id: String(r.id),
    kind: r.kind as DeadLetterKind,
    source: String(r.source),
    payload,
    error: String(r.error),
    attempts: Number(r.attempts),
    firstSeen: String(r.first_seen),
    lastSeen: String(r.last_seen),
    status: r.status as DeadLetterStatus,
    replayedAt: str(r.replayed_at),
    dedupeKey: str(r.dedupe_key),
  };
}

function checkKind(kind: string): asserts kind is DeadLetterKind {
  if (!(DEAD_LETTER_KINDS as readonly string[]).includes(kind))
    throw new TributaryError(
      `unknown dead-letter kind ${JSON.stringify(kind)}: expected one of ${DEAD_LETTER_KINDS.join(', ')}`,
      { code: 'USAGE' },
    );
}

/** The dead-letter table over any Engine (the state database). */
export class DeadLetterStore {
  private constructor(private readonly engine: Engine) {}

  /** Opens the store on an engine, applying its missing migrations. */
  static async open(engine: Engine): Promise<DeadLetterStore> {
    await migrate(engine, 'dead_letters', DEAD_LETTER_MIGRATIONS);
    return new DeadLetterStore(engine);
  }

  /**
   * Records a failed item. A pending entry with the same dedupe key is updated instead (attempts
   * added, newest error and payload, last_seen now), so a failure that repeats while the entry
   * waits stays one entry.
   */
  async add(item: NewDeadLetter): Promise<DeadLetter> {
    checkKind(item.kind);
    const payload = JSON.stringify(item.payload);
    if (payload === undefined)
      throw new TributaryError('a dead letter payload must be JSON-serializable', {
        code: 'INTERNAL',
      });
    const attempts = Math.max(1, Math.floor(item.attempts));
    const now = new Date().toISOString();
    const id = await this.engine.transaction(async (tx) => {
      if (item.dedupeKey !== undefined) {
        const { rows } = await tx.query(
          `UPDATE dead_letters SET attempts = attempts + $1, last_seen = $2, error = $3, payload = $4
            WHERE dedupe_key = $5 AND kind = $6 AND status = 'pending' RETURNING id`,
          [attempts, now, item.error, payload, item.dedupeKey, item.kind],
        );
        if (rows.length) return String(rows[0]!.id);
      }
      const fresh = newId('dl_');
      await tx.query(
        `INSERT INTO dead_letters (id, kind, source, payload, error, attempts, first_seen, last_seen, status, replayed_at, dedupe_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', NULL, $9)`,
        [
          fresh,
          item.kind,
          item.source,
          payload,
          item.error,
          attempts,
          now,
          now,
          item.dedupeKey ?? null,
        ],
      );
      return fresh;
    });
    return (await this.get(id))!;
  }

  /** Entries, oldest first, filtered by kind, status and source. */
  async list(options: ListOptions = {}): Promise<DeadLetter[]> {
    const { where, params } = conditions([
      ['kind', options.kind],
      ['status', options.status],
      ['source', options.source],
    ]);
    const limit =
      options.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(options.limit))}`;
    const { rows } = await this.engine.query(
      `SELECT * FROM dead_letters${where} ORDER BY first_seen, id${limit}`,
      params,
    );
    return rows.map(toEntry);
  }

  /** One entry, or undefined when there is no such id. */
  async get(id: string): Promise<DeadLetter | undefined> {
    const { rows } = await this.engine.query(`SELECT * FROM dead_letters WHERE id = $1`, [id]);
    return rows[0] ? toEntry(rows[0]) : undefined;
  }

  /**
   * Deletes the entries matching every criterion given (ids, status, last seen before a time);
   * returns how many. At least one criterion is required, so a slip cannot empty the store.
   */
  async purge(options: PurgeOptions): Promise<number> {
    const { ids, status, before } = options;
    if (ids === undefined && status === undefined && before === undefined)
      throw new TributaryError('purge needs ids, a status or a time to purge before', {
        code: 'USAGE',
        hint: 'to remove everything already replayed: purge({ status: "replayed" })',
      });
    if (ids !== undefined && ids.length === 0) return 0;
    const { where, params } = conditions([
      ['status', status],
      ['last_seen <', before instanceof Date ? before.toISOString() : before],
    ]);
    let sql = `DELETE FROM dead_letters${where}`;
    if (ids) {
      const marks = ids.map((_, i) => `$${params.length + i + 1}`).join(', ');
      sql += `${where ? ' AND' : ' WHERE'} id IN (${marks})`;
      params.push(...ids);
    }
    const { rows } = await this.engine.query(`${sql} RETURNING id`, params);
    return rows.length;
  }

  /**
   * Replays one entry with the handler for its kind, exactly once: the entry is claimed
   * (pending → replaying) by a conditional UPDATE only one caller can win; others are refused.
   * On success it becomes replayed; when the handler throws, it goes back to pending with one
   * more attempt and the new error, and the error is rethrown.
   */
  async replay(id: string, handlers: ReplayHandlers): Promise<DeadLetter> {
    const current = await this.get(id);
    if (!current) throw refusal(id, undefined);
    const handler = handlers[current.kind];
    if (!handler)
      throw new TributaryError(`cannot replay ${id}: nothing replays ${current.kind} entries`, {
        code: 'USAGE',
      });
    const entry = await this.claim(id);
    if (!entry) throw refusal(id, await this.get(id));
    try {
      await handler(entry);
    } catch (err) {
      await this.engine.query(
        `UPDATE dead_letters SET status = 'pending', replayed_at = NULL, attempts = attempts + 1,
                last_seen = $1, error = $2
          WHERE id = $3 AND status = 'replaying'`,
        [new Date().toISOString(), describeError(err), id],
      );
      throw err;
    }
    const { rows } = await this.engine.query(
      `UPDATE dead_letters SET status = 'replayed', replayed_at = $1
        WHERE id = $2 AND status = 'replaying' RETURNING *`,
      [new Date().toISOString(), id],
    );
    return rows[0] ? toEntry(rows[0]) : { ...entry, status: 'replayed' };
  }

  /**
   * pending → replaying, if still pending; the claimed entry, or undefined when another caller
   * has it. Engines with optimistic concurrency (DuckDB) fail an UPDATE that races another
   * session's write of the same row: the claim is tried again once that write has settled.
   */
  private async claim(id: string): Promise<DeadLetter | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { rows } = await this.engine.query(
          `UPDATE dead_letters SET status = 'replaying', replayed_at = $1
            WHERE id = $2 AND status = 'pending' RETURNING *`,
          [new Date().toISOString(), id],
        );
        return rows[0] ? toEntry(rows[0]) : undefined;
      } catch (err) {
        if (attempt >= CLAIM_TRIES) throw err;
        await new Promise((r) => setTimeout(r, 10 * attempt));
      }
    }
  }

  /**
   * Puts entries left `replaying` by a process that died mid-replay back to pending; returns how
   * many. With `olderThanMs`, only replays started at least that long ago, so a replay still
   * running in another process sharing the database is left alone.
   */
  async recoverStuck(options: { olderThanMs?: number } = {}): Promise<number> {
    const cutoff = new Date(Date.now() - Math.max(0, options.olderThanMs ?? 0)).toISOString();
    const { rows } = await this.engine.query(
      `UPDATE dead_letters SET status = 'pending', replayed_at = NULL
        WHERE status = 'replaying' AND (replayed_at IS NULL OR replayed_at <= $1) RETURNING id`,
      [cutoff],
    );
    return rows.length;
  }

  /** Counts per status, for summaries. */
  async counts(): Promise<Record<DeadLetterStatus, number>> {
    const { rows } = await this.engine.query(
      `SELECT status, COUNT(*) AS n FROM dead_letters GROUP BY status`,
    );
    const out: Record<DeadLetterStatus, number> = { pending: 0, replaying: 0, replayed: 0 };
    for (const r of rows) out[r.status as DeadLetterStatus] = Number(r.n);
    return out;
  }
}

/** `WHERE a = $1 AND b = $2` for the criteria that are set (a key ending in `<` compares). */
function conditions(pairs: [string, string | undefined][]): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of pairs) {
    if (value === undefined) continue;
    params.push(value);
    parts.push(
      column.endsWith('<')
        ? `${column.slice(0, -1).trim()} < $${params.length}`
        : `${column} = $${params.length}`,
    );
  }
  return { where: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

/** Why an entry cannot be claimed for replay, as a clear error. */
function refusal(id: string, entry: DeadLetter | undefined): TributaryError {
  if (!entry)
    return new TributaryError(`no dead letter ${id}`, {
      code: 'NOT_FOUND',
      hint: 'list the dead letters to see their ids',
    });
  if (entry.status === 'replayed')
    return new TributaryError(
      `dead letter ${id} was already replayed${entry.replayedAt ? ` at ${entry.replayedAt}` : ''}; it is not replayed twice`,
      { code: 'USAGE' },
    );
  return new TributaryError(
    `dead letter ${id} is being replayed${entry.replayedAt ? ` (since ${entry.replayedAt})` : ''}; it is not replayed twice`,
    {
      code: 'LOCKED',
      hint: 'if the process replaying it died, recover stuck replays first, then replay again',
    },
  );
}
