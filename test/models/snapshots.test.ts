/**
 * Snapshots (SCD2) as dbt records them: the timestamp and check strategies, dbt_valid_from /
 * dbt_valid_to across runs as the source changes, and invalidate_hard_deletes. The source table is
 * plain SQL each test changes between two `snapshot` runs.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DbtFixture, describeEachEngine, resultOf } from './dbt.js';

describeEachEngine('snapshots', (engine) => {
  let f: DbtFixture;
  const src = () => f.rel('customers', 'raw');
  const snap = (name: string) => f.rel(name, 'snapshots');
  const history = (name: string) =>
    f.rows(
      `select id, email, cast(dbt_valid_from as varchar) as valid_from, cast(dbt_valid_to as varchar) as valid_to from ${snap(name)} order by id, dbt_valid_from`,
    );
  const T1 = new Date('2024-06-01T12:00:00Z');
  const T2 = new Date('2024-06-02T12:00:00Z');

  beforeEach(async () => {
    f = new DbtFixture('snapshots', engine);
    await f.exec(
      `CREATE SCHEMA "${f.schema}_raw"`,
      `CREATE TABLE ${src()} (id integer, email varchar, updated_at timestamp)`,
      `INSERT INTO ${src()} VALUES
        (1, 'ada@example.com', TIMESTAMP '2024-01-01 00:00:00'),
        (2, 'bob@example.com', TIMESTAMP '2024-01-01 00:00:00'),
        (3, 'cyd@example.com', TIMESTAMP '2024-01-01 00:00:00')`,
    );
  });
  afterEach(() => f.cleanup());

  it('records every row once with dbt_valid_to NULL on the first run', async () => {
    const s = await f.run('snapshot', { now: T1 });
    expect(s.success).toBe(true);
    expect(await history('customers_ts')).toEqual([
      { id: 1, email: 'ada@example.com', valid_from: '2024-01-01 00:00:00', valid_to: null },
      { id: 2, email: 'bob@example.com', valid_from: '2024-01-01 00:00:00', valid_to: null },
      { id: 3, email: 'cyd@example.com', valid_from: '2024-01-01 00:00:00', valid_to: null },
    ]);
  });

  it('writes its table in target_schema from the snapshots: config of dbt_project.yml', async () => {
    await f.run('snapshot', { now: T1 });
    const tables = await f.with((p) => p.engine.listTables(`${f.schema}_snapshots`));
    expect(tables.map((t) => t.name).sort()).toEqual(['customers_check', 'customers_ts']);
  });

  it('the timestamp strategy closes the old version at the new updated_at and opens a new one', async () => {
    await f.run('snapshot', { now: T1 });
    await f.exec(
      `UPDATE ${src()} SET email = 'ada@new.example.com', updated_at = TIMESTAMP '2024-02-01 00:00:00' WHERE id = 1`,
    );
    await f.run('snapshot', { select: ['customers_ts'], now: T2 });
    expect((await history('customers_ts')).filter((r) => r.id === 1)).toEqual([
      {
        id: 1,
        email: 'ada@example.com',
        valid_from: '2024-01-01 00:00:00',
        valid_to: '2024-02-01 00:00:00',
      },
      { id: 1, email: 'ada@new.example.com', valid_from: '2024-02-01 00:00:00', valid_to: null },
    ]);
  });

  it('the timestamp strategy ignores a change whose updated_at did not move', async () => {
    await f.run('snapshot', { now: T1 });
    await f.exec(`UPDATE ${src()} SET email = 'sneaky@example.com' WHERE id = 2`);
    await f.run('snapshot', { select: ['customers_ts'], now: T2 });
    expect((await history('customers_ts')).filter((r) => r.id === 2)).toHaveLength(1);
  });

  it('the check strategy opens a new version when a check column changes, at the snapshot time', async () => {
    await f.run('snapshot', { now: T1 });
    await f.exec(`UPDATE ${src()} SET email = 'bob@new.example.com' WHERE id = 2`);
    await f.run('snapshot', { select: ['customers_check'], now: T2 });
    expect((await history('customers_check')).filter((r) => r.id === 2)).toEqual([
      {
        id: 2,
        email: 'bob@example.com',
        valid_from: '2024-06-01 12:00:00',
        valid_to: '2024-06-02 12:00:00',
      },
      { id: 2, email: 'bob@new.example.com', valid_from: '2024-06-02 12:00:00', valid_to: null },
    ]);
  });

  it('the check strategy ignores changes to columns outside check_cols', async () => {
    await f.run('snapshot', { now: T1 });
    await f.exec(`UPDATE ${src()} SET updated_at = TIMESTAMP '2024-03-01 00:00:00' WHERE id = 3`);
    await f.run('snapshot', { select: ['customers_check'], now: T2 });
    expect((await history('customers_check')).filter((r) => r.id === 3)).toHaveLength(1);
  });

  it('invalidate_hard_deletes closes the current version of a row deleted from the source', async () => {
    await f.run('snapshot', { now: T1 });
    await f.exec(`DELETE FROM ${src()} WHERE id = 3`);
    const s = await f.run('snapshot', { now: T2 });
    expect(resultOf(s, 'customers_ts').message).toContain('1 invalidated');
    expect((await history('customers_ts')).filter((r) => r.id === 3)).toEqual([
      {
        id: 3,
        email: 'cyd@example.com',
        valid_from: '2024-01-01 00:00:00',
        valid_to: '2024-06-02 12:00:00',
      },
    ]);
  });

  it('without invalidate_hard_deletes a deleted row stays current', async () => {
    await f.run('snapshot', { now: T1 });
    await f.exec(`DELETE FROM ${src()} WHERE id = 3`);
    await f.run('snapshot', { now: T2 });
    expect((await history('customers_check')).filter((r) => r.id === 3)[0]!.valid_to).toBeNull();
  });

  it('a row added to the source gets its first version on the next run', async () => {
    await f.run('snapshot', { now: T1 });
    await f.exec(
      `INSERT INTO ${src()} VALUES (4, 'dee@example.com', TIMESTAMP '2024-03-01 00:00:00')`,
    );
    await f.run('snapshot', { now: T2 });
    expect((await history('customers_ts')).filter((r) => r.id === 4)).toEqual([
      { id: 4, email: 'dee@example.com', valid_from: '2024-03-01 00:00:00', valid_to: null },
    ]);
  });
});
