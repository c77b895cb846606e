/**
 * Hooks as dbt runs them: on-run-start before the first node, on-run-end after the last (with
 * `results`), a model's pre_hook and post_hook around it, and a failing hook named clearly.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DbtFixture, describeEachEngine } from './dbt.js';

describeEachEngine('hooks', (engine) => {
  let f: DbtFixture;
  const log = () => f.rel('hook_log');

  beforeEach(async () => {
    f = new DbtFixture('incremental', engine);
    await f.exec(
      `CREATE SCHEMA IF NOT EXISTS "${f.schema}"`,
      `CREATE TABLE ${log()} (seq integer, event varchar(40), n integer)`,
    );
    f.write(
      'dbt_project.yml',
      `${f.read('dbt_project.yml')}
on-run-start:
  - "insert into {{ target.schema }}.hook_log values (1, 'start', 0)"
on-run-end:
  - "insert into {{ target.schema }}.hook_log values (4, 'end', {{ results | length }})"
`,
    );
    f.write(
      'models/hooked.sql',
      `{{ config(materialized='table',
    pre_hook="insert into {{ target.schema }}.hook_log values (2, 'pre {{ this.name }}', 0)",
    post_hook="insert into {{ this.schema }}.hook_log select 3, 'post', count(*) from {{ this }}") }}
select 1 as id union all select 2 as id
`,
    );
  });
  afterEach(() => f.cleanup());

  it('runs on-run-start, the pre_hook, the model, its post_hook and on-run-end, in that order', async () => {
    const summary = await f.run('run', { select: ['hooked'] });
    expect(summary.success).toBe(true);
    expect(await f.rows(`select seq, event, n from ${log()} order by seq`)).toEqual([
      { seq: 1, event: 'start', n: 0 },
      { seq: 2, event: 'pre hooked', n: 0 },
      { seq: 3, event: 'post', n: 2 },
      { seq: 4, event: 'end', n: 1 },
    ]);
  });

  it('does not run project hooks when only compiling', async () => {
    await f.run('compile', { select: ['hooked'] });
    expect(await f.rows(`select * from ${log()}`)).toEqual([]);
  });

  it('names dbt_project.yml and the hook when a hook fails', async () => {
    f.write(
      'dbt_project.yml',
      f.read('dbt_project.yml').replace('hook_log values (1', 'no_such_table values (1'),
    );
    await expect(f.run('run', { select: ['hooked'] })).rejects.toThrow(
      /on-run-start hook 1 failed/,
    );
  });
});
