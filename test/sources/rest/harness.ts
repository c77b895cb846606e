/**
 * Test harness for the REST connector: a local HTTP server (node:http on port 0) that plays an
 * API through a handler and records every request, a fake clock that never waits, and a way to
 * build a RestSourceTable from the same YAML shape a project writes.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import {
  LocalObjectStore,
  lakeKeys,
  readManifest,
  type RawManifest,
} from '../../../src/lake/index.js';
import { restSourceSchema, type RestSourceTable } from '../../../src/project/index.js';
import { RestSource, type Clock, type RestSourceOptions } from '../../../src/sources/index.js';

export interface Recorded {
  url: URL;
  headers: IncomingMessage['headers'];
  /** The fake clock's time when the request arrived (when one is attached). */
  at: number;
}

export type Handler = (url: URL, req: IncomingMessage, res: ServerResponse, n: number) => unknown;

export interface Api {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

const open: Api[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

/** Starts an API whose handler answers each request: return a value to send it as JSON (200). */
export async function startApi(handler: Handler, clock?: FakeClock): Promise<Api> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ url, headers: req.headers, at: clock?.now() ?? 0 });
    Promise.resolve(handler(url, req, res, requests.length))
      .then((body) => {
        if (body === undefined || res.headersSent || res.writableEnded) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      })
      .catch((err: Error) => {
        res.writeHead(599);
        res.end(String(err.message));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const api: Api = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  open.push(api);
  return api;
}

/** Sends a status with a body and headers. */
export function reply(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): void {
  res.writeHead(status, headers);
  res.end(body);
}

/** A clock that never waits: sleeping moves its time forward and is recorded. */
export class FakeClock implements Clock {
  time = 0;
  readonly sleeps: number[] = [];
  constructor(private readonly rand = 0.5) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }
  random(): number {
    return this.rand;
  }
}

/** A RestSourceTable from a source config as tributary.yml holds it (defaults applied). */
export function restTable(
  source: Record<string, unknown>,
  table = 'items',
  extra: Partial<RestSourceTable> = {},
): RestSourceTable {
  const sourceConfig = restSourceSchema.parse({ type: 'rest', ...source });
  const tableConfig = sourceConfig.tables[table]!;
  return {
    id: `api.${table}`,
    source: 'api',
    table,
    kind: 'rest',
    sourceConfig,
    tableConfig,
    format: 'ndjson',
    csv: { delimiter: ',', quote: '"', escape: '"', header: true },
    records: undefined,
    contract: { columns: [{ name: 'id', type: 'bigint', required: true }] },
    contractFile: 'contracts/items.yml',
    disposition: 'append',
    schemaEvolution: 'evolve',
    ...extra,
  };
}

/** A lake and a way to land a table into it, with the run's logged lines. */
export function lake() {
  const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'trib-rest-lake-')));
  const tmpDir = mkdtempSync(join(tmpdir(), 'trib-rest-tmp-'));
  const logs: string[] = [];
  const progress = { update() {}, log: (m: string) => void logs.push(m) };
  const now = new Date('2026-02-03T04:05:06Z');
  return {
    store,
    tmpDir,
    logs,
    land: (table: RestSourceTable, options: RestSourceOptions = {}) =>
      new RestSource(table, options).land({ store, progress, now, tmpDir }),
    manifest: async (table = 'items') =>
      (await readManifest<RawManifest>(store, lakeKeys.rawManifest('api', table))) ?? undefined,
    /** Every record landed in a table, batch after batch. */
    records: async (table = 'items') => {
      const m = await readManifest<RawManifest>(store, lakeKeys.rawManifest('api', table));
      const out: unknown[] = [];
      for (const b of m?.batches ?? []) {
        const text = (await store.get(b.key))!.toString();
        for (const line of text.split('\n')) if (line) out.push(JSON.parse(line));
      }
      return out;
    },
  };
}

/** Records `{ id: i }` for i in [from, to). */
export const ids = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => ({ id: from + i }));
