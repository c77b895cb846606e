/**
 * The column resolver on tricky SQL, parsed by DuckDB's own parser (json_serialize_sql on an
 * in-memory DuckDB; nothing is run): CTEs, joins with aliases and USING, star expansion with
 * EXCLUDE / REPLACE / RENAME, unions, window functions and CASE, ambiguous and unknown names,
 * PIVOT and table functions, and a statement DuckDB cannot parse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDB, serializeSql, type Engine } from '../../src/engines/index.js';
import {
  resolveQueryColumns,
  type ColumnDerivation,
  type QueryColumns,
} from '../../src/orchestrator/column-resolver.js';

const CATALOG: Record<string, string[]> = {
  'main.orders': ['order_id', 'customer_id', 'amount', 'status', 'order_ts'],
  'main.customers': ['customer_id', 'name', 'email', 'city'],
  'processed.events': ['event_id', 'customer_id', 'kind'],
  'main.refunds': ['order_id', 'amount'],
};

let parser: Engine;
beforeAll(async () => {
  parser = await openDuckDB({ path: ':memory:' });
});
afterAll(async () => {
  await parser.close();
});

async function resolve(sql: string): Promise<QueryColumns> {
  return resolveQueryColumns(await serializeSql(parser, sql), {
    defaultSchema: 'main',
    columnsOf: (r) => CATALOG[r],
  });
}

/** Each column as `name <- relation.column, … [transform]` (or `unresolved: reason`). */
function show(q: QueryColumns): string[] {
  if (!q.columns) return [`unresolved: ${q.unresolved}`];
  return q.columns.map((c: ColumnDerivation) => {
    const from = c.from.map((f) => `${f.relation}.${f.column}`).join(', ');
    return `${c.name} <- ${from || '-'} [${c.transform}]${c.unresolved ? ` unresolved: ${c.unresolved}` : ''}`;
  });
}

describe('resolving output columns to upstream relation columns', () => {
  it('follows columns through CTEs, aliases and a join, naming identity, rename and derived', async () => {
    const q = await resolve(`
      with paid as (select order_id, customer_id as buyer, amount * 1.2 as gross from orders where status = 'paid')
      select p.order_id, c.name as customer_name, p.gross, p.buyer
      from paid p join customers as c on c.customer_id = p.buyer`);
    expect(show(q)).toEqual([
      'order_id <- main.orders.order_id [identity]',
      'customer_name <- main.customers.name [rename]',
      'gross <- main.orders.amount [derived]',
      'buyer <- main.orders.customer_id [rename]',
    ]);
    expect(q.relations.sort()).toEqual(['main.customers', 'main.orders']);
  });

  it('resolves unqualified names by which relation has them, and says when two do', async () => {
    const q = await resolve(
      'select email, order_id, customer_id from orders o join customers c on o.customer_id = c.customer_id',
    );
    expect(show(q)).toEqual([
      'email <- main.customers.email [identity]',
      'order_id <- main.orders.order_id [identity]',
      'customer_id <-  - [derived] unresolved: ambiguous: customer_id is a column of o and c'.replace(
        ' <-  -',
        ' <- -',
      ),
    ]);
  });

  it('expands * and t.* with the known columns, EXCLUDE, REPLACE and RENAME', async () => {
    const q = await resolve(
      'select * exclude (status) replace (amount / 100 as amount) rename (order_ts as placed_at) from orders',
    );
    expect(show(q)).toEqual([
      'order_id <- main.orders.order_id [identity]',
      'customer_id <- main.orders.customer_id [identity]',
      'amount <- main.orders.amount [derived]',
      'placed_at <- main.orders.order_ts [rename]',
    ]);
    const t = await resolve(
      'select c.*, o.amount from orders o join customers c using (customer_id)',
    );
    expect(show(t).map((s) => s.split(' <- ')[0])).toEqual([
      'customer_id',
      'name',
      'email',
      'city',
      'amount',
    ]);
  });

  it('shows a USING column once under *, and takes it from the left side', async () => {
    const q = await resolve('select * from orders join customers using (customer_id)');
    const names = q.columns!.map((c) => c.name);
    expect(names).toEqual([
      'order_id',
      'customer_id',
      'amount',
      'status',
      'order_ts',
      'name',
      'email',
      'city',
    ]);
    expect(q.columns![1]!.from).toEqual([{ relation: 'main.orders', column: 'customer_id' }]);
  });

  it('combines the branches of a UNION by position and of UNION BY NAME by name', async () => {
    const q = await resolve(
      'select order_id, amount from orders union all select order_id, -amount from refunds',
    );
    expect(show(q)).toEqual([
      'order_id <- main.orders.order_id, main.refunds.order_id [derived]',
      'amount <- main.orders.amount, main.refunds.amount [derived]',
    ]);
    const byName = await resolve(
      'select amount, order_id from orders union by name select order_id, amount from refunds',
    );
    expect(byName.columns!.map((c) => c.from.map((f) => f.relation))).toEqual([
      ['main.orders', 'main.refunds'],
      ['main.orders', 'main.refunds'],
    ]);
  });

  it('derives window functions, aggregates and CASE from every column they reference', async () => {
    const q = await resolve(`
      select customer_id,
             sum(amount) over (partition by customer_id order by order_ts) as running,
             case when status = 'paid' then amount else 0 end as paid_amount,
             count(*) as n,
             row_number() over (partition by status order by order_ts) as rn
      from orders group by all`);
    expect(show(q)).toEqual([
      'customer_id <- main.orders.customer_id [identity]',
      'running <- main.orders.amount, main.orders.customer_id, main.orders.order_ts [derived]',
      'paid_amount <- main.orders.status, main.orders.amount [derived]',
      'n <- - [constant]',
      'rn <- main.orders.status, main.orders.order_ts [derived]',
    ]);
  });

  it('follows subqueries in FROM with column aliases, scalar subqueries and lambdas', async () => {
    const q = await resolve(`
      select s.who, s.total,
             (select max(r.amount) from refunds r where r.order_id = s.last_order) as biggest_refund,
             list_transform([s.total], x -> x * 2) as doubled
      from (select customer_id, sum(amount), max(order_id) from orders group by 1) as s(who, total, last_order)`);
    expect(show(q)).toEqual([
      'who <- main.orders.customer_id [rename]',
      'total <- main.orders.amount [derived]',
      'biggest_refund <- main.refunds.amount [derived]',
      'doubled <- main.orders.amount [derived]',
    ]);
  });

  it('follows a lateral column alias and qualified schema.table names', async () => {
    const q = await resolve(
      'select e.kind as k, upper(k) as loud, processed.events.event_id from processed.events e',
    );
    expect(show(q)).toEqual([
      'k <- processed.events.kind [rename]',
      'loud <- processed.events.kind [derived]',
      'event_id <- processed.events.event_id [identity]',
    ]);
  });

  it('says why when a star covers a relation whose columns are not known', async () => {
    const q = await resolve('select * from orders join mystery m on true');
    expect(show(q)).toEqual(['unresolved: m.*: the columns of main.mystery are not known']);
    // A qualified column of that relation is still followed; an unqualified one only when no
    // known relation has it and the unknown one is the only candidate.
    const named = await resolve(
      'select m.flavour, amount, colour from orders join mystery m on true',
    );
    expect(show(named)).toEqual([
      'flavour <- main.mystery.flavour [identity]',
      'amount <- main.orders.amount [identity]',
      'colour <- main.mystery.colour [identity]',
    ]);
  });

  it('refuses to guess through PIVOT, table functions and COLUMNS(lambda)', async () => {
    const pivot = await resolve(
      "select * from orders pivot (sum(amount) for status in ('paid', 'open'))",
    );
    expect(pivot.columns).toBeUndefined();
    expect(pivot.unresolved).toMatch(/PIVOT/);
    const fn = await resolve("select a, b from read_csv('x.csv')");
    expect(show(fn)).toEqual([
      'a <- - [derived] unresolved: reads the table function read_csv(…), whose columns are not resolved',
      'b <- - [derived] unresolved: reads the table function read_csv(…), whose columns are not resolved',
    ]);
    const lambda = await resolve("select columns(c -> c like '%id') from orders");
    expect(lambda.unresolved).toMatch(/COLUMNS\(…\) with a lambda/);
    const regex = await resolve("select columns('_id$') from orders");
    expect(regex.columns!.map((c) => c.name)).toEqual(['order_id', 'customer_id']);
  });

  it('reports a statement DuckDB cannot parse as unresolved: could not parse', async () => {
    // PostgreSQL SQL that DuckDB's parser does not take (a project on PostgreSQL is still
    // parsed by an in-process DuckDB).
    const q = await resolve(
      'select order_id from orders order by amount fetch first 3 rows with ties',
    );
    expect(q.columns).toBeUndefined();
    expect(q.unresolved).toMatch(/^could not parse: /);
    const two = await resolve('select 1; select 2');
    expect(two.unresolved).toBe('not a single SELECT statement');
  });

  it('follows a recursive CTE through its anchor and its recursive branch, with its column list', async () => {
    const q = await resolve(`
      with recursive chain(id, depth) as (
        select order_id, 0 from orders
        union all
        select r.order_id, c.depth + 1 from chain c join refunds r on r.order_id = c.id
      )
      select id, depth from chain`);
    expect(show(q)).toEqual([
      // The anchor's order_id, then each round's refund order_id.
      'id <- main.orders.order_id, main.refunds.order_id [derived]',
      // 0, then depth + 1: computed from no relation column.
      'depth <- - [constant]',
    ]);
  });

  it('names a column that no relation in scope has', async () => {
    const q = await resolve('select nope from orders');
    expect(show(q)).toEqual([
      'nope <- - [derived] unresolved: no relation in scope has a column nope',
    ]);
  });
});
