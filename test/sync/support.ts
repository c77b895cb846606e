/**
 * Helpers of the sync tests: a throwaway PostgreSQL database per suite, warehouses on DuckDB and
 * PostgreSQL, sync definitions, and an in-memory destination.
 *
 * The in-memory destination is a test double of the destination seam (src/sync/destination.ts),
 * used where a test needs to see exactly what the runner sent and to refuse chosen records; it
 * keeps the seam's contract (one result per record in order, per-record rejection, idempotent
 * upsert/delete, insert refusing a duplicate, lookup). The real destinations are tested against
 * real PostgreSQL (postgres-destination.test.ts) and sy-dest's conformance suite.
 */
import pg from 'pg';
import { openDuckDB, openPostgres, type Engine } from '../../src/engines/index.js';
import { StateStore } from '../../src/state/index.js';
import type {
  DestinationCapabilities,
  DestinationField,
  RecordResult,
  SyncDestination,
  SyncRecord,
  WriteBatch,
  WriteOperation,
} from '../../src/sync/destination.js';
import type { SyncDefinition } from '../../src/sync/types.js';
import { postgresTestUrl } from '../services.js';

/** A unique name for databases, schemas and syncs of one test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Creates a fresh PostgreSQL database; `drop` removes it (ending its connections first). */
export async function freshPostgresDatabase(
  prefix = 'sync',
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix);
  const admin = new pg.Client({ connectionString: postgresTestUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(postgresTestUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: postgresTestUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface Warehouse {
  engine: Engine;
  state: StateStore;
  close(): Promise<void>;
}

/** A warehouse engine (DuckDB in memory, or PostgreSQL at `url`) and a state store in DuckDB. */
export async function openWarehouse(kind: 'duckdb' | 'postgres', url?: string): Promise<Warehouse> {
  const engine =
    kind === 'duckdb' ? await openDuckDB({ path: ':memory:' }) : await openPostgres({ url: url! });
  const state = await StateStore.open(await openDuckDB({ path: ':memory:' }));
  return {
    engine,
    state,
    async close() {
      await state.close();
      await engine.close();
    },
  };
}

/** A sync definition with defaults: contacts by email, name and plan mapped. */
export function syncDefinition(overrides: Partial<SyncDefinition> = {}): SyncDefinition {
  return {
    name: overrides.name ?? uniqueName('s'),
    file: 'syncs/test.yml',
    source: { ref: 'customers' },
    destination: 'crm',
    object: 'contacts',
    mode: 'upsert',
    match: { source: 'email', destination: 'email' },
    fields: [
      { source: 'name', destination: 'name', line: 7 },
      { source: 'plan', destination: 'plan', line: 8 },
    ],
    alert: {},
    ...overrides,
  };
}

/**
 * The seam's contract in memory. `refuse(record)` returns a message to reject a record with;
 * every write is logged (operation and keys) for assertions.
 */
export class MemoryDestination implements SyncDestination {
  readonly type = 'memory';
  readonly capabilities: DestinationCapabilities;
  readonly records = new Map<string, SyncRecord['fields']>();
  readonly writes: { operation: WriteOperation; keys: string[] }[] = [];
  refuse: (record: SyncRecord, operation: WriteOperation) => string | undefined = () => undefined;

  constructor(
    maxBatch = 100,
    operations: WriteOperation[] = ['upsert', 'update', 'insert', 'delete'],
  ) {
    this.capabilities = { maxBatch, operations, maxRequestsPerSecond: 1000 };
  }

  describe(): Promise<DestinationField[]> {
    return Promise.resolve(
      ['email', 'name', 'plan'].map((name) => ({
        name,
        type: 'string',
        unique: name === 'email',
        readOnly: false,
      })),
    );
  }

  write(batch: WriteBatch): Promise<RecordResult[]> {
    if (batch.records.length > this.capabilities.maxBatch)
      throw new Error(`batch of ${batch.records.length} > maxBatch`);
    this.writes.push({ operation: batch.operation, keys: batch.records.map((r) => r.key) });
    return Promise.resolve(
      batch.records.map((record): RecordResult => {
        const refusal = this.refuse(record, batch.operation);
        if (refusal) return { status: 'rejected', key: record.key, message: refusal };
        const exists = this.records.has(record.key);
        if (batch.operation === 'insert' && exists)
          return { status: 'rejected', key: record.key, message: 'duplicate' };
        if (batch.operation === 'update' && !exists)
          return {
            status: 'rejected',
            key: record.key,
            message: 'not found',
            code: 'OBJECT_NOT_FOUND',
          };
        if (batch.operation === 'delete') this.records.delete(record.key);
        else
          this.records.set(record.key, {
            ...(this.records.get(record.key) ?? {}),
            ...record.fields,
          });
        return { status: 'ok', key: record.key, destinationId: `id-${record.key}` };
      }),
    );
  }

  lookup(_object: string, _field: string, keys: readonly string[]): Promise<Map<string, string>> {
    return Promise.resolve(
      new Map(keys.filter((k) => this.records.has(k)).map((k) => [k, `id-${k}`])),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
