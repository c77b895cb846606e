/**
 * The template's app database (RDS Postgres in the seeds), made real for the demo: the generated
 * customers, orders and order lines are loaded into PostgreSQL tables of text columns, defects
 * and all, so the postgres connector extracts exactly what the files hold and the contracts
 * quarantine the same rows. Column names are the contract's source fields (`address.city`), so
 * the same contracts read the extracts.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export interface AppDatabaseOptions {
  /** postgres://… of a database the demo may create a schema in. */
  url: string;
  /** The schema holding the app tables (dropped and recreated). */
  schema: string;
  /** The landing folder the generator wrote. */
  landingDir: string;
}

export const APP_TABLES = ['customers', 'orders', 'order_lines'] as const;

const CUSTOMER_FIELDS = [
  'customer_id',
  'first_name',
  'last_name',
  'email',
  'phone',
  'address.street',
  'address.city',
  'address.state',
  'address.postal_code',
  'address.country',
  'segment',
  'signup_date',
  'updated_at',
];

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A CSV field, quoted when it must be (RFC 4180); undefined and null become an empty field (NULL). */
function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) || text === '' ? `"${text.replaceAll('"', '""')}"` : text;
}

function pick(record: Record<string, unknown>, path: string): unknown {
  let node: unknown = record;
  for (const part of path.split('.')) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** True when a PostgreSQL server answers at `url` within two seconds. */
export async function appDatabaseReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Loads the generated app tables into `schema`, replacing what a previous demo left there. */
export async function loadAppDatabase(opts: AppDatabaseOptions): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: opts.url });
  await client.connect();
  const schema = quoteIdent(opts.schema);
  const counts: Record<string, number> = {};
  try {
    await client.query('BEGIN');
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.query(`CREATE SCHEMA ${schema}`);
    // customers.json: one row per record, nested address fields as dotted columns.
    const customers = JSON.parse(
      await readFile(join(opts.landingDir, 'customers.json'), 'utf8'),
    ) as Record<string, unknown>[];
    await client.query(
      `CREATE TABLE ${schema}.customers (${CUSTOMER_FIELDS.map((f) => `${quoteIdent(f)} text`).join(', ')})`,
    );
    const csv = customers.map(
      (r) => `${CUSTOMER_FIELDS.map((f) => csvField(pick(r, f))).join(',')}\n`,
    );
    await pipeline(
      Readable.from(csv),
      client.query(copyFrom(`COPY ${schema}.customers FROM STDIN WITH (FORMAT csv)`)),
    );
    counts.customers = customers.length;
    // orders.csv and order_lines.csv: their header names the columns; every value stays text.
    for (const table of ['orders', 'order_lines'] as const) {
      const path = join(opts.landingDir, `${table}.csv`);
      const header = (await readFile(path, 'utf8'))
        .split('\n', 1)[0]!
        .replace(/^\uFEFF/, '')
        .trim();
      const columns = header.split(',').map((c) => c.trim());
      await client.query(
        `CREATE TABLE ${schema}.${table} (${columns.map((c) => `${quoteIdent(c)} text`).join(', ')})`,
      );
      await pipeline(
        createReadStream(path),
        client.query(copyFrom(`COPY ${schema}.${table} FROM STDIN WITH (FORMAT csv, HEADER true)`)),
      );
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${schema}.${table}`,
      );
      counts[table] = Number(rows[0]!.n);
    }
    await client.query('COMMIT');
    return counts;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
