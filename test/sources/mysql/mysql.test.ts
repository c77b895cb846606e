/**
 * The MySQL/MariaDB connector against a real MariaDB: the shared database cases, then what is
 * MySQL's own — every mapped type's text form, refused spatial types, and no parallel mode.
 */
import mysql from 'mysql2/promise';
import { expect, it, describe } from 'vitest';
import { TributaryError } from '../../../src/core/index.js';
import { mysqlTestUrl, serviceAvailable } from '../../services.js';
import {
  describeDatabaseSource,
  lakeFor,
  tableFor,
  uniqueTable,
  type TestDb,
} from '../database-cases.js';

const available = await serviceAvailable('mysql', mysqlTestUrl);
const namespace = uniqueTable('src_my');

async function withConn<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const conn = await mysql.createConnection({ uri: mysqlTestUrl, multipleStatements: true });
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

const db: TestDb = {
  kind: 'mysql',
  url: mysqlTestUrl,
  namespace,
  setup: () => withConn(async (c) => void (await c.query(`CREATE DATABASE ${namespace}`))),
  teardown: () =>
    withConn(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${namespace}`))),
  exec: (sql) => withConn(async (c) => void (await c.query(sql))),
  fill: (table, n) =>
    `INSERT INTO ${namespace}.${table} SELECT seq, REPEAT('x', 100) FROM seq_1_to_${n}`,
  killExtract: (table) =>
    withConn(async (c) => {
      for (let i = 0; i < 500; i++) {
        const [rows] = await c.query<mysql.RowDataPacket[]>(
          `SELECT ID AS id FROM information_schema.PROCESSLIST
            WHERE INFO LIKE 'SELECT %' AND INFO LIKE ? AND INFO NOT LIKE '%MAX(%' AND ID <> CONNECTION_ID()`,
          [`%${table}%`],
        );
        if (rows.length) {
          await c.query(`KILL ${Number(rows[0]!.id)}`);
          return true;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      return false;
    }),
};

describe.skipIf(!available)('mysql', () => {
  describeDatabaseSource(db, () => {
    describe('mysql type mapping', () => {
      it('extracts every mapped type as its documented text', async () => {
        const name = uniqueTable('types');
        await db.exec(`CREATE TABLE ${namespace}.${name} (
          id int, ti tinyint, bo tinyint(1), si smallint, mi mediumint, bi bigint,
          ubi bigint unsigned, de decimal(20,6), fl float, db double, ch char(3), vc varchar(20),
          tx text, en enum('a','b'), st set('x','y'), js json, d date, dt datetime(6),
          ts timestamp(3) NULL, tm time, yr year, bt bit(4), bn binary(2), vb varbinary(4),
          bl blob, empty_text varchar(5), null_text varchar(5))`);
        await db.exec(`SET time_zone = '+02:00';
          INSERT INTO ${namespace}.${name} VALUES (1, -5, 1, 300, 70000, 9007199254740993,
          18446744073709551615, 12345678901234.123456, 1.5, 0.1, 'ab', 'a,"b"\\nc', 'long', 'b',
          'x,y', '{"a": [1, 2]}', '2024-02-29', '2024-01-02 03:04:05.123456',
          '2024-01-02 03:04:05.123', '13:45:06', 2024, b'1010', 0xdead, 0xbeef, 0xdeadbeef, '', NULL)`);
        const lake = lakeFor(tableFor(db, name));
        await lake.land();
        const [row] = await lake.rows();
        expect(row).toEqual({
          id: '1',
          ti: '-5',
          bo: '1',
          si: '300',
          mi: '70000',
          bi: '9007199254740993',
          ubi: '18446744073709551615',
          de: '12345678901234.123456',
          fl: '1.5',
          db: '0.1',
          ch: 'ab',
          vc: 'a,"b"\nc',
          tx: 'long',
          en: 'b',
          st: 'x,y',
          js: '{"a": [1, 2]}',
          d: '2024-02-29',
          dt: '2024-01-02 03:04:05.123456',
          ts: '2024-01-02 01:04:05.123',
          tm: '13:45:06',
          yr: '2024',
          bt: '10',
          bn: 'dead',
          vb: 'beef',
          bl: 'deadbeef',
          empty_text: '',
          null_text: '',
        });
        // NULL and the empty string stay apart in the raw CSV: an empty field vs `""`.
        expect((await lake.texts())[0]!.trimEnd().endsWith(',"",')).toBe(true);
      });

      it('refuses a column whose type has no documented text form, naming table and column', async () => {
        const name = uniqueTable('geo');
        await db.exec(`CREATE TABLE ${namespace}.${name} (id int, spot point)`);
        const err = await lakeFor(tableFor(db, name))
          .land()
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TributaryError);
        expect((err as TributaryError).message).toBe(
          `column spot of ${namespace}.${name} has type point, which has no documented text form for extraction`,
        );
      });

      it('refuses parallel extraction: MySQL cannot share one snapshot between connections', async () => {
        const name = uniqueTable('par');
        await db.exec(`CREATE TABLE ${namespace}.${name} (id int)`);
        const err = await lakeFor(tableFor(db, name, { parallel: 2, split_by: 'id' }))
          .land()
          .catch((e: unknown) => e);
        expect((err as TributaryError).message).toBe(
          'parallel extraction is only offered for postgres sources',
        );
      });
    });
  });
});
