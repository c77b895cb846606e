/**
 * The e-commerce template's clickstream models on fixture events with known answers: sessions
 * per visitor cut by 30 minutes of inactivity (exactly 30 minutes continues a session, 30 minutes
 * and one second starts a new one), the view -> cart -> purchase funnel per day and overall, and
 * the incremental build that re-sessionizes only the visitors with newly loaded events, on each
 * engine (DuckDB, and PostgreSQL in a database of its own).
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openDbtProject, runVerb, type OpenedDbtProject } from '../../src/models/index.js';
import { templateDir } from '../../src/cli/paths.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl } from '../services.js';
import { describeEachEngine, type EngineName } from './dbt.js';

/** One fixture event: [event_id, customer_id, anonymous_id, event_type, page, event_ts]. */
type Ev = [string, number | null, string | null, string, string, string];

const FIRST_LOAD = '2025-03-01 12:00:00';
const SECOND_LOAD = '2025-03-02 12:00:00';

// Visitor customer:1 (signed in): 10:00:00 -> 10:30:00 is exactly 30 minutes (same session);
// 10:30:00 -> 11:00:01 is 30 minutes and a second (a new session), which converts.
// Visitor anonymous:b: one converting visit. Visitor customer:2 views across midnight (the
// session belongs to the day it started) and adds to the cart, but buys nothing.
// The last event has no visitor and is in no session.
const FIRST: Ev[] = [
  ['e01', 1, 'anon_c1', 'page_view', '/', '2025-03-01 10:00:00'],
  ['e02', 1, 'anon_c1', 'product_view', '/products/7', '2025-03-01 10:30:00'],
  ['e03', 1, 'anon_c1', 'product_view', '/products/8', '2025-03-01 11:00:01'],
  ['e04', 1, 'anon_c1', 'add_to_cart', '/cart', '2025-03-01 11:02:00'],
  ['e05', 1, 'anon_c1', 'purchase', '/checkout/confirmation', '2025-03-01 11:05:00'],
  ['e06', null, 'b', 'product_view', '/products/3', '2025-03-01 09:00:00'],
  ['e07', null, 'b', 'add_to_cart', '/cart', '2025-03-01 09:10:00'],
  ['e08', null, 'b', 'purchase', '/checkout/confirmation', '2025-03-01 09:20:00'],
  ['e09', 2, 'anon_c2', 'product_view', '/products/1', '2025-03-01 23:50:00'],
  ['e10', 2, 'anon_c2', 'product_view', '/products/1', '2025-03-02 00:10:00'],
  ['e11', 2, 'anon_c2', 'add_to_cart', '/cart', '2025-03-02 00:12:00'],
  ['e12', null, null, 'page_view', '/', '2025-03-01 08:00:00'],
];

// Loaded later: a late event of customer:1 at 10:45 bridges its two sessions (15 min and
// 15 min 1 s gaps), and a new anonymous visitor views once on 2025-03-02.
const SECOND: Ev[] = [
  ['e13', 1, 'anon_c1', 'page_view', '/sale', '2025-03-01 10:45:00'],
  ['e14', null, 'd', 'product_view', '/products/5', '2025-03-02 14:00:00'],
];

const THIRD_LOAD = '2025-03-03 12:00:00';
const THIRD: Ev[] = [['e15', null, 'd', 'add_to_cart', '/cart', '2025-03-02 14:05:00']];

describeEachEngine('the template’s sessions and funnel', (engine) => {
  let dir: string;
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    dir = join(tempDir('trib-tpl-click-'), 'shop');
    cpSync(templateDir('ecommerce'), dir, {
      recursive: true,
      filter: (p) => !p.includes('generator'),
    });
    dropDatabase = await writeProfile(engine, dir);
    await withProject(dir, engine, async (p) => {
      await p.engine.exec('CREATE SCHEMA processed');
      await p.engine.exec(
        `CREATE TABLE processed.clickstream (event_id varchar, session_id varchar, customer_id bigint,
         anonymous_id varchar, event_type varchar, product_id bigint, page varchar, referrer varchar,
         user_agent varchar, event_ts timestamp, _arrival_ts timestamp, _loaded_at timestamp)`,
      );
      await insert(p, FIRST, FIRST_LOAD);
    });
  });
  afterEach(async () => {
    await dropDatabase?.();
  });

  const build = () =>
    withProject(dir, engine, async (p) => {
      const summary = await runVerb(p.parsed, p.engine, {
        verb: 'build',
        select: ['stg_web_clickstream+'],
      });
      const failed = summary.results.filter((r) => !['success', 'pass'].includes(r.status));
      expect(failed.map((r) => [r.unique_id, r.message])).toEqual([]);
      return summary;
    });
  const rows = (sql: string) =>
    withProject(dir, engine, async (p) => (await p.engine.query(sql)).rows.map(plain));
  const sessions = () =>
    rows(
      `select visitor_id, session_number, cast(session_start as varchar) as session_start,
              cast(session_end as varchar) as session_end, cast(session_date as varchar) as session_date,
              duration_seconds, events, pages, product_views, add_to_carts, purchases, converted
       from main.sessions order by visitor_id, session_number`,
    );

  it('cuts sessions after more than 30 minutes without an event, per visitor', async () => {
    await build();
    expect(await sessions()).toEqual([
      session('anonymous:b', 1, '09:00:00', '09:20:00', '2025-03-01', 1200, 3, 3, [1, 1, 1]),
      session('customer:1', 1, '10:00:00', '10:30:00', '2025-03-01', 1800, 2, 2, [1, 0, 0]),
      session('customer:1', 2, '11:00:01', '11:05:00', '2025-03-01', 299, 3, 3, [1, 1, 1]),
      {
        ...session('customer:2', 1, '23:50:00', '00:10:00', '2025-03-01', 1320, 3, 2, [2, 1, 0]),
        session_end: '2025-03-02 00:12:00',
      },
    ]);
    const { n } = (await rows('select count(*) as n from main.web_session_events'))[0]!;
    expect(n).toBe(11); // every event but the one without a visitor
  });

  it('counts the funnel per day of the session start, and overall', async () => {
    await build();
    expect(
      await rows(
        `select cast(day as varchar) as day, sessions, viewed, carted, purchased,
                view_to_cart_rate, cart_to_purchase_rate, view_to_purchase_rate
         from main.funnel_daily order by day`,
      ),
    ).toEqual([
      {
        day: '2025-03-01',
        sessions: 4,
        viewed: 4,
        carted: 3,
        purchased: 2,
        view_to_cart_rate: 0.75,
        cart_to_purchase_rate: 2 / 3,
        view_to_purchase_rate: 0.5,
      },
    ]);
    expect(
      await rows(
        'select sessions, viewed, carted, purchased, view_to_purchase_rate from main.funnel',
      ),
    ).toEqual([{ sessions: 4, viewed: 4, carted: 3, purchased: 2, view_to_purchase_rate: 0.5 }]);
  });

  it('re-sessionizes only visitors with new events: a late event merges two sessions, none linger', async () => {
    await build();
    const before = await rows(
      `select event_id, session_key from main.web_session_events where visitor_id = 'anonymous:b' order by event_id`,
    );
    await withProject(dir, engine, (p) => insert(p, SECOND, SECOND_LOAD));
    const second = await build();
    const taken = (s: typeof second) =>
      s.results.find((r) => r.unique_id === 'model.ecommerce.web_session_events')?.rows;
    // `>=` the last build's newest load: the first load is taken again with the second (all 13).
    expect(taken(second)).toBe(13);
    expect(await sessions()).toEqual([
      session('anonymous:b', 1, '09:00:00', '09:20:00', '2025-03-01', 1200, 3, 3, [1, 1, 1]),
      session('anonymous:d', 1, '14:00:00', '14:00:00', '2025-03-02', 0, 1, 1, [1, 0, 0], '03-02'),
      session('customer:1', 1, '10:00:00', '11:05:00', '2025-03-01', 3900, 6, 6, [2, 1, 1]),
      {
        ...session('customer:2', 1, '23:50:00', '00:10:00', '2025-03-01', 1320, 3, 2, [2, 1, 0]),
        session_end: '2025-03-02 00:12:00',
      },
    ]);
    expect(
      await rows(
        `select event_id, session_key from main.web_session_events where visitor_id = 'anonymous:b' order by event_id`,
      ),
    ).toEqual(before);
    expect(
      await rows(
        `select cast(day as varchar) as day, sessions, viewed, carted, purchased from main.funnel_daily order by day`,
      ),
    ).toEqual([
      { day: '2025-03-01', sessions: 3, viewed: 3, carted: 3, purchased: 2 },
      { day: '2025-03-02', sessions: 1, viewed: 1, carted: 0, purchased: 0 },
    ]);
    // A third load for anonymous:d: the visitors of it and of the load before (taken again) are
    // sessionized again, customer:1 (6 events) and anonymous:d (2); anonymous:b and customer:2 not.
    await withProject(dir, engine, (p) => insert(p, THIRD, THIRD_LOAD));
    expect(taken(await build())).toBe(8);
    expect(
      await rows(
        `select cast(day as varchar) as day, sessions, viewed, carted, purchased from main.funnel_daily order by day`,
      ),
    ).toEqual([
      { day: '2025-03-01', sessions: 3, viewed: 3, carted: 3, purchased: 2 },
      { day: '2025-03-02', sessions: 1, viewed: 1, carted: 1, purchased: 0 },
    ]);
  });
});

/** An expected session row; `steps` is [product views, add to carts, purchases]. */
function session(
  visitor: string,
  n: number,
  start: string,
  end: string,
  date: string,
  seconds: number,
  events: number,
  pages: number,
  steps: [number, number, number],
  day = '03-01',
): Record<string, unknown> {
  return {
    visitor_id: visitor,
    session_number: n,
    session_start: `2025-${day} ${start}`,
    session_end: `2025-${day} ${end}`,
    session_date: date,
    duration_seconds: seconds,
    events,
    pages,
    product_views: steps[0],
    add_to_carts: steps[1],
    purchases: steps[2],
    converted: steps[2] > 0,
  };
}

async function insert(p: OpenedDbtProject, events: Ev[], loadedAt: string): Promise<void> {
  const lit = (v: string | number | null) =>
    v === null ? 'null' : typeof v === 'number' ? String(v) : `'${v}'`;
  const values = events.map(
    ([id, customer, anon, type, page, ts]) =>
      `(${lit(id)}, ${lit(`s_${id}`)}, ${lit(customer)}, ${lit(anon)}, ${lit(type)}, null, ${lit(page)}, null, null, timestamp '${ts}', null, timestamp '${loadedAt}')`,
  );
  await p.engine.exec(`INSERT INTO processed.clickstream VALUES ${values.join(', ')}`);
}

async function withProject<T>(
  dir: string,
  engine: EngineName,
  fn: (p: OpenedDbtProject) => Promise<T>,
): Promise<T> {
  const p = await openDbtProject(dir, { profilesDir: dir, target: engine });
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

/** profiles.yml for the copy: a DuckDB file in it, or a PostgreSQL database made for the test. */
async function writeProfile(
  engine: EngineName,
  dir: string,
): Promise<(() => Promise<void>) | undefined> {
  const url = new URL(postgresTestUrl);
  const database = `trib_tpl_${Date.now().toString(36)}_${process.pid}`;
  writeFileSync(
    join(dir, 'profiles.yml'),
    `ecommerce:
  target: duckdb
  outputs:
    duckdb: { type: duckdb, path: ${JSON.stringify(join(dir, 'warehouse.duckdb'))}, schema: main, threads: 1 }
    postgres:
      type: postgres
      host: ${JSON.stringify(url.hostname || '127.0.0.1')}
      port: ${url.port || '5432'}
      user: ${JSON.stringify(decodeURIComponent(url.username) || 'postgres')}
      password: ${JSON.stringify(decodeURIComponent(url.password))}
      dbname: ${database}
      schema: main
      threads: 1
`,
  );
  if (engine !== 'postgres') return undefined;
  const admin = new pg.Client({ connectionString: postgresTestUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  return async () => {
    const c = new pg.Client({ connectionString: postgresTestUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await c.end();
  };
}

/** Numbers as numbers (engines hand BIGINT and DECIMAL back as strings or bigints). */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      typeof v === 'bigint' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) ? Number(v) : v,
    ]),
  );
}
