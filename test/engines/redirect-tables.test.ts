/**
 * Pointing a query's schema-qualified table names at other schemas (the masked mirrors of a
 * PostgreSQL warehouse) by the positions DuckDB's parser gives: positions count UTF-8 bytes, so
 * text with non-ASCII characters before a name must land on the name; quoted names, spaces
 * around the dot and a catalog part are read as PostgreSQL reads them; columns named with their
 * schema (`main.customers.email`) are pointed at the same schema as their table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDB, redirectTables, type Engine } from '../../src/engines/index.js';

describe('redirectTables', () => {
  let parser: Engine;
  const mirrors: Record<string, string> = { main: 'main__masked', 'Sales "EU"': 'sales_m' };
  const redirect = (sql: string) => redirectTables(parser, sql, (s) => mirrors[s]);

  beforeAll(async () => {
    parser = await openDuckDB({ path: ':memory:', settings: { threads: '1' } });
  });
  afterAll(async () => {
    await parser.close();
  });

  it('lands on the name after non-ASCII text (byte positions, not string indices)', async () => {
    expect(await redirect(`select 'é ☕ 😀' as x, c.email from main.customers c`)).toBe(
      `select 'é ☕ 😀' as x, c.email from "main__masked"."customers" c`,
    );
    expect(
      await redirect(`select 'ü' as a from main.a join main.b on a.id = b.id where 'ß' <> 'x'`),
    ).toBe(
      `select 'ü' as a from "main__masked"."a" join "main__masked"."b" on a.id = b.id where 'ß' <> 'x'`,
    );
  });

  it('reads quoted names, spaces around the dot, a catalog, and folds bare names', async () => {
    expect(await redirect(`select * from "Sales ""EU"""."Orders"`)).toBe(
      `select * from "sales_m"."Orders"`,
    );
    expect(await redirect(`select * from main . t, mydb.main.u, MAIN.V`)).toBe(
      `select * from "main__masked"."t", "main__masked"."u", "main__masked"."v"`,
    );
  });

  it('leaves unqualified names, CTEs and schemas it does not map as written', async () => {
    const sql = `with customers as (select * from main.customers)
      select * from customers, orders, other.t, (select 1 from tributary.lake_files) s`;
    expect(await redirect(sql)).toBe(
      sql.replace('from main.customers', 'from "main__masked"."customers"'),
    );
  });

  it('reaches names in subqueries, set operations and expressions', async () => {
    expect(
      await redirect(
        `select (select max(id) from main.a) as m from main.b where exists (select 1 from main.c)
         union all select 1 from main.d`,
      ),
    ).toBe(
      `select (select max(id) from "main__masked"."a") as m from "main__masked"."b" where exists (select 1 from "main__masked"."c")
         union all select 1 from "main__masked"."d"`,
    );
  });

  it('redirects columns named with their schema (and catalog), keeping the column as written', async () => {
    expect(
      await redirect(
        `select main.customers.email, "main" . customers . "E", MAIN.Customers.x.y from main.customers
         where main.customers.id > 1 order by mydb.main.customers.id`,
      ),
    ).toBe(
      `select "main__masked"."customers".email, "main__masked"."customers" . "E", "main__masked"."customers".x.y from "main__masked"."customers"
         where "main__masked"."customers".id > 1 order by "main__masked"."customers".id`,
    );
    // Two parts are table.column (left as written), and schemas not mapped stay.
    const sql = `select customers.email, other.t.c, c.email from other.t, main.customers c`;
    expect(await redirect(sql)).toBe(
      sql.replace('main.customers c', '"main__masked"."customers" c'),
    );
    expect(await redirect(`select 'é' as e, "Sales ""EU""".x.y from "Sales ""EU""".x`)).toBe(
      `select 'é' as e, "sales_m"."x".y from "sales_m"."x"`,
    );
  });

  it('throws on text that is not one statement DuckDB parses', async () => {
    await expect(redirect('select 1; select * from main.t')).rejects.toThrow(/one statement/);
    await expect(redirect('select from where')).rejects.toThrow();
    await expect(redirect('delete from main.t')).rejects.toThrow();
  });
});
