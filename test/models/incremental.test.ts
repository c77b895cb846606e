/**
 * Incremental models as dbt builds them: append, merge and delete+insert with single and composite
 * unique keys, is_incremental(), --full-refresh, NULL and duplicate keys, and on_schema_change when
 * the model file changes between two runs. Each test gets its own copy of the `incremental`
 * fixture and its own schema; the source table is plain SQL the test changes between runs.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DbtFixture, describeEachEngine, resultOf } from './dbt.js';

describeEachEngine('incremental models', (engine) => {
  let f: DbtFixture;
  const raw = () => f.rel('raw_events', 'raw');

  beforeEach(async () => {
    f = new DbtFixture('incremental', engine);
    await f.exec(
      `CREATE SCHEMA "${f.schema}_raw"`,
      `CREATE TABLE ${raw()} (id integer, account varchar, kind varchar, amount integer, loaded_at timestamp)`,
      `INSERT INTO ${raw()} VALUES
        (1, 'a', 'click', 10, TIMESTAMP '2024-01-01 00:00:00'),
        (2, 'a', 'view', 5, TIMESTAMP '2024-01-01 00:00:00'),
        (3, 'b', 'click', 7, TIMESTAMP '2024-01-01 00:00:00')`,
    );
  });
  afterEach(() => f.cleanup());

  const run = (model: string, opts: { fullRefresh?: boolean } = {}) =>
    f.run('run', { select: [model], ...opts });
  const table = (model: string, order = 'id') =>
    f.rows(`select * from ${f.rel(model)} order by ${order}`);

  /** Rewrites models/evolving.sql (the model changes between two runs, as in a deploy). */
  const evolving = (columns: string, onSchemaChange: string, key = 'id') =>
    f.write(
      'models/evolving.sql',
      `{{ config(unique_key='${key}', on_schema_change='${onSchemaChange}') }}\nselect ${columns}\nfrom {{ source('raw', 'events') }}\nwhere id is not null\n`,
    );

  it('builds the whole table on the first run, with is_incremental() false', async () => {
    const s = await run('events_append');
    expect(resultOf(s, 'events_append').status).toBe('success');
    expect(resultOf(s, 'events_append').compiled_code).not.toContain('max(id)');
    expect((await table('events_append')).map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it('append adds only the new batch on the next run, with is_incremental() true', async () => {
    await run('events_append');
    await f.exec(
      `INSERT INTO ${raw()} VALUES (4, 'b', 'view', 1, TIMESTAMP '2024-01-02 00:00:00')`,
    );
    const s = await run('events_append');
    expect(resultOf(s, 'events_append').compiled_code).toContain('max(id)');
    expect(resultOf(s, 'events_append').rows).toBe(1);
    expect((await table('events_append')).map((r) => r.id)).toEqual([1, 2, 3, 4]);
  });

  it('--full-refresh rebuilds an incremental model from scratch', async () => {
    await run('events_append');
    await f.exec(`DELETE FROM ${raw()} WHERE id = 1`);
    await run('events_append', { fullRefresh: true });
    expect((await table('events_append')).map((r) => r.id)).toEqual([2, 3]);
  });

  it('merge on a single unique_key updates changed rows and inserts new ones', async () => {
    await run('events_merge');
    await f.exec(
      `UPDATE ${raw()} SET amount = 50 WHERE id = 2`,
      `INSERT INTO ${raw()} VALUES (4, 'b', 'view', 1, TIMESTAMP '2024-01-02 00:00:00')`,
    );
    await run('events_merge');
    expect((await table('events_merge')).map((r) => [r.id, r.amount])).toEqual([
      [1, 10],
      [2, 50],
      [3, 7],
      [4, 1],
    ]);
  });

  it('a row whose unique_key is NULL is inserted as new on every run (NULL equals nothing)', async () => {
    await f.exec(
      `INSERT INTO ${raw()} VALUES (NULL, 'c', 'view', 3, TIMESTAMP '2024-01-02 00:00:00')`,
    );
    await run('events_merge');
    const s = await run('events_merge');
    expect(resultOf(s, 'events_merge').message).toContain(
      '1 row(s) with a NULL unique_key were inserted as new',
    );
    expect(
      await f.rows(`select count(*) as n from ${f.rel('events_merge')} where id is null`),
    ).toEqual([{ n: 2 }]);
    expect(await f.rows(`select count(*) as n from ${f.rel('events_merge')} where id = 1`)).toEqual(
      [{ n: 1 }],
    );
  });

  it('delete+insert on a composite unique_key replaces the rows of every key in the batch', async () => {
    await run('totals_delete_insert');
    await f.exec(
      `INSERT INTO ${raw()} VALUES (4, 'a', 'click', 5, TIMESTAMP '2024-01-02 00:00:00')`,
    );
    await run('totals_delete_insert');
    expect(
      (await table('totals_delete_insert', 'account, kind')).map((r) => [
        r.account,
        r.kind,
        r.total,
      ]),
    ).toEqual([
      ['a', 'click', 15],
      ['a', 'view', 5],
      ['b', 'click', 7],
    ]);
  });

  it('with a composite unique_key and no strategy, the default (delete+insert, as in dbt-postgres and dbt-duckdb) replaces by the whole key', async () => {
    await run('totals_merge');
    await f.exec(
      `INSERT INTO ${raw()} VALUES (4, 'b', 'click', 3, TIMESTAMP '2024-01-02 00:00:00'), (5, 'b', 'view', 2, TIMESTAMP '2024-01-02 00:00:00')`,
    );
    await run('totals_merge');
    expect(
      (await table('totals_merge', 'account, kind')).map((r) => [r.account, r.kind, r.total]),
    ).toEqual([
      ['a', 'click', 10],
      ['a', 'view', 5],
      ['b', 'click', 10],
      ['b', 'view', 2],
    ]);
  });

  it('refuses a batch holding the same unique_key twice and leaves the table as it was', async () => {
    await run('per_account');
    const before = await table('per_account', 'account, amount');
    await f.exec(
      `INSERT INTO ${raw()} VALUES (4, 'b', 'view', 1, TIMESTAMP '2024-01-02 00:00:00')`,
    );
    const s = await run('per_account');
    const r = resultOf(s, 'per_account');
    expect(r.status).toBe('error');
    expect(r.message).toContain('several rows per unique_key');
    expect(r.message).toContain('account=b');
    expect(await table('per_account', 'account, amount')).toEqual(before);
  });

  it("on_schema_change 'ignore' keeps the table's columns when the model gains one", async () => {
    evolving('id, amount', 'ignore');
    await run('evolving');
    evolving('id, amount, kind', 'ignore');
    const s = await run('evolving');
    expect(resultOf(s, 'evolving').status).toBe('success');
    expect(Object.keys((await table('evolving'))[0]!)).toEqual(['id', 'amount']);
  });

  it("on_schema_change 'append_new_columns' adds the new column, NULL in the rows already there", async () => {
    evolving('id, amount', 'append_new_columns');
    await run('evolving');
    await f.exec(
      `INSERT INTO ${raw()} VALUES (4, 'b', 'view', 1, TIMESTAMP '2024-01-02 00:00:00')`,
    );
    await f.exec(`UPDATE ${raw()} SET kind = 'tap' WHERE id = 4`);
    evolving('id, amount, kind', 'append_new_columns');
    // The merge rewrites every key present in the batch, so all rows get their kind.
    await run('evolving');
    const rows = await table('evolving');
    expect(Object.keys(rows[0]!)).toEqual(['id', 'amount', 'kind']);
    expect(rows.map((r) => r.kind)).toEqual(['click', 'view', 'click', 'tap']);
  });

  it("on_schema_change 'sync_all_columns' adds new columns and drops removed ones", async () => {
    evolving('id, amount', 'sync_all_columns');
    await run('evolving');
    evolving('id, kind', 'sync_all_columns');
    const s = await run('evolving');
    expect(resultOf(s, 'evolving').status).toBe('success');
    expect(Object.keys((await table('evolving'))[0]!)).toEqual(['id', 'kind']);
  });

  it("on_schema_change 'fail' stops the run naming the change and leaves the table as it was", async () => {
    evolving('id, amount', 'fail');
    await run('evolving');
    evolving('id, amount, kind', 'fail');
    const r = resultOf(await run('evolving'), 'evolving');
    expect(r.status).toBe('error');
    expect(r.message).toContain('new columns kind');
    expect(r.message).toContain('models/evolving.sql');
    expect(Object.keys((await table('evolving'))[0]!)).toEqual(['id', 'amount']);
  });

  it('a unique_key changed between two runs merges by the new key on the next run', async () => {
    f.write(
      'models/evolving.sql',
      `{{ config(unique_key='id') }}\nselect id, account, amount from {{ source('raw', 'events') }}\n`,
    );
    await run('evolving');
    f.write(
      'models/evolving.sql',
      `{{ config(unique_key=['account']) }}\nselect max(id) as id, account, sum(amount) as amount from {{ source('raw', 'events') }} group by account\n`,
    );
    await run('evolving');
    // Keys a and b matched by account: their rows were replaced by the one aggregated row each.
    expect((await table('evolving', 'account')).map((r) => [r.account, r.amount])).toEqual([
      ['a', 15],
      ['b', 7],
    ]);
  });
});
