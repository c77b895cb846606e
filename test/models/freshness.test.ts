/**
 * `source freshness`: each source table's newest loaded_at_field against warn_after and
 * error_after, inherited from the source or switched off per table, written to
 * target/sources.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sourceFreshness } from '../../src/models/index.js';
import { DbtFixture, describeEachEngine } from './dbt.js';

describeEachEngine('source freshness', (engine) => {
  let f: DbtFixture;
  const raw = () => f.rel('raw_events', 'raw');
  const loadedAt = new Date('2024-06-01T12:00:00Z');
  const hours = (h: number) => new Date(loadedAt.getTime() + h * 3600_000);
  const check = () => f.with((p) => sourceFreshness(p.parsed, p.engine, {}, now));
  let now = hours(0);

  beforeAll(async () => {
    f = new DbtFixture('incremental', engine);
    await f.exec(
      `CREATE SCHEMA "${f.schema}_raw"`,
      `CREATE TABLE ${raw()} (id integer, account varchar, kind varchar, amount integer, loaded_at timestamp)`,
      `INSERT INTO ${raw()} VALUES (1, 'a', 'click', 1, TIMESTAMP '2024-06-01 10:00:00'), (2, 'a', 'click', 1, TIMESTAMP '2024-06-01 12:00:00')`,
    );
  });
  afterAll(() => f.cleanup());

  it('passes when the newest row is younger than warn_after', async () => {
    now = hours(0.5);
    const out = await check();
    expect(out.results.map((r) => [r.unique_id, r.status])).toEqual([
      ['source.incr.raw.events', 'pass'],
    ]);
    expect(out.results[0]!.max_loaded_at_time_ago_in_s).toBe(1800);
    expect(out.success).toBe(true);
  });

  it('warns past warn_after and still succeeds', async () => {
    now = hours(2);
    const out = await check();
    expect(out.results[0]!.status).toBe('warn');
    expect(out.success).toBe(true);
  });

  it('errors past error_after and fails', async () => {
    now = hours(25);
    const out = await check();
    expect(out.results[0]!.status).toBe('error');
    expect(out.success).toBe(false);
  });

  it('skips a table whose freshness is null, though its source declares one', async () => {
    now = hours(0);
    const out = await check();
    expect(out.results.map((r) => r.unique_id)).not.toContain('source.incr.raw.accounts');
  });

  it('writes target/sources.json with each result and its criteria', async () => {
    now = hours(2);
    await check();
    const doc = JSON.parse(readFileSync(join(f.dir, 'target/sources.json'), 'utf8')) as {
      metadata: { dbt_schema_version: string };
      results: { unique_id: string; status: string; criteria: unknown }[];
    };
    expect(doc.metadata.dbt_schema_version).toBe('https://schemas.getdbt.com/dbt/sources/v3.json');
    expect(doc.results[0]).toMatchObject({
      unique_id: 'source.incr.raw.events',
      status: 'warn',
      criteria: {
        warn_after: { count: 1, period: 'hour' },
        error_after: { count: 1, period: 'day' },
      },
    });
  });
});
