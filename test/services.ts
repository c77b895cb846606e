/**
 * Service-backed suites (PostgreSQL now; MariaDB and NATS later) ask here whether their service
 * answers. On CI a missing service fails the run; on a laptop the suite says plainly that it did
 * not run and is skipped, so `npm test` still works without every service installed.
 */
import { connect } from 'node:net';

export type ServiceName = 'postgres' | 'mysql' | 'mariadb' | 'nats' | 'redis';

const LABELS: Record<ServiceName, string> = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL/MariaDB',
  mariadb: 'MariaDB',
  nats: 'NATS',
  redis: 'Redis',
};

const DEFAULT_PORTS: Record<ServiceName, number> = {
  postgres: 5432,
  mysql: 3306,
  mariadb: 3306,
  nats: 4222,
  redis: 6379,
};

/** The PostgreSQL URL the tests use: TRIBUTARY_TEST_POSTGRES_URL, or the local default. */
export const postgresTestUrl =
  process.env.TRIBUTARY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The MySQL/MariaDB URL the tests use: TRIBUTARY_TEST_MYSQL_URL, or the local default. */
export const mysqlTestUrl =
  process.env.TRIBUTARY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** How to start a service that is down, for the message when it is missing. */
const START: Partial<Record<ServiceName, string>> = {
  mysql: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
  mariadb: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
};

/** Opens a connection to the service and closes it: true when it answered. */
async function probe(service: ServiceName, url: string): Promise<boolean> {
  if (service === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
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
  if (service === 'mysql') {
    const { default: mysql } = await import('mysql2/promise');
    try {
      const conn = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
      await conn.query('SELECT 1');
      await conn.end();
      return true;
    } catch {
      return false;
    }
  }
  // The others: a TCP connection to host:port is enough to know someone listens.
  const parsed = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({
      host: parsed.hostname || '127.0.0.1',
      port: Number(parsed.port) || DEFAULT_PORTS[service],
    });
    socket.setTimeout(3000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Whether `service` at `url` answers. When it does not: throws on CI (CI=true), where every
 * service must run; elsewhere prints why the suites did not run and returns false, for
 * `describe.skipIf(!available)`.
 */
export async function serviceAvailable(service: ServiceName, url: string): Promise<boolean> {
  if (await probe(service, url)) return true;
  const label = LABELS[service];
  if (process.env.CI === 'true') {
    throw new Error(
      `${label} at ${url} is not reachable, and on CI every service suite must run: start ${label}${START[service] ? ` (${START[service]})` : ''} or fix the URL`,
    );
  }
  console.warn(`${label} at ${url} is not reachable: the ${service} suites did not run`);
  return false;
}
