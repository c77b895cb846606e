/**
 * Serving snapshots: what people query (the API's SQL, dashboards, `tributary query`) is a
 * read-only copy of the warehouse, published after a run, not the live file the pipeline writes.
 * DuckDB lets one process write a database file and nobody else open it, and its sandbox
 * settings (read-only, no external access, locked configuration) apply to a whole instance; a
 * published copy gives queries their own locked-down instance and a consistent view that never
 * shows a run half done. Each snapshot records a version per relation (a model's last build, a
 * lake table's manifest version), so caches drop only what an update touched.
 *
 * Each snapshot has a masked twin for roles that may not see personal data (pii.ts says which
 * columns): the same relations with those columns masked where they are stored, so no query on
 * the twin can reach the unmasked values (engines/duckdb/mask.ts).
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TributaryError, describeError, isErrno, newId, writeFileAtomic } from '../core/index.js';
import {
  openDuckDB,
  rebuildMaskedMirrors,
  redirectTables,
  writeMaskedCopy,
} from '../engines/index.js';
import { lakeKeys, readManifest, type TableManifest } from '../lake/index.js';
import { ServingPointerStore } from '../state/index.js';
import { piiColumns } from './pii.js';
import { setUpWarehouseReaders } from './warehouse-readers.js';
import type { Workspace } from './workspace.js';

export interface ServingSnapshot {
  /** Changes with every publish; what results and caches are keyed by. */
  version: string;
  /** Absolute path of the snapshot's database file. */
  file: string;
  publishedAt: string;
  /** The warehouse file's size and time when copied, to tell whether it changed since. */
  source: { size: number; mtimeMs: number };
  /** `schema.name` → version of that relation's content. */
  relations: Record<string, string>;
  /** Folders the snapshot's views read (the lake). */
  allowedDirectories: string[];
  /** The lake folder: roles are given some of its zones (serve/read-policy.ts). */
  lake: string;
  /**
   * Set when the warehouse is PostgreSQL: there is no file to copy, queries read the live
   * database as its read-only roles (PostgresServing).
   */
  postgres?: PostgresServing;
  /** The masked twin (on PostgreSQL: the masked mirrors), for roles that may not see PII. */
  masked: {
    /** Its database file (the snapshot's own file when nothing is PII; '' on PostgreSQL). */
    file: string;
    /** `schema.name` → the columns masked in it. */
    columns: Record<string, string[]>;
    /** Relations with PII that could not be masked: left out of the twin (refused on PostgreSQL). */
    withheld: string[];
  };
}

/** How queries read a PostgreSQL warehouse (set up at each publish). */
export interface PostgresServing {
  /** The read-only role, granted the published schemas. */
  readRole: string;
  /** Its masked twin, for roles that may not see PII: granted the mirrors only. */
  maskedRole?: string;
  /** Each published schema (the lake's raw and quarantine zones aside) → its masked mirror. */
  mirrors?: Record<string, string>;
  /** Why there is no masked role (then `masked.withheld` lists every relation with PII). */
  maskingError?: string;
}

export const servingDir = (ws: Workspace) => join(ws.project.paths.work, 'serving');

/**
 * The snapshot queries read now, or undefined when none was ever published (no current.json).
 * A current.json that cannot be read or is not a snapshot is an error naming it: it is never
 * taken for "nothing published yet", which would hide a damaged serving folder.
 */
export async function readServingSnapshot(dir: string): Promise<ServingSnapshot | undefined> {
  const file = join(dir, 'current.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw new TributaryError(`cannot read the serving snapshot's ${file}: ${describeError(err)}`, {
      code: 'STATE',
      cause: err,
    });
  }
  const damaged = (why: string, cause?: unknown) =>
    new TributaryError(`the serving snapshot's ${file} is damaged: ${why}`, {
      code: 'STATE',
      hint: 'run the pipeline again (`tributary run`, or let `tributary serve` run it): publishing rewrites it',
      ...(cause === undefined ? {} : { cause }),
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw damaged(`it is not JSON (${(err as Error).message})`, err);
  }
  const s = parsed as Partial<ServingSnapshot> | null;
  if (
    !s ||
    typeof s !== 'object' ||
    typeof s.version !== 'string' ||
    typeof s.file !== 'string' ||
    typeof s.relations !== 'object' ||
    !s.relations ||
    !Array.isArray(s.allowedDirectories) ||
    typeof s.source?.size !== 'number'
  )
    throw damaged('it lacks version, file, relations, allowedDirectories or source');
  return s as ServingSnapshot;
}

/** Each warehouse relation the pipeline builds, with the version of what it holds. */
async function relationVersions(ws: Workspace): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const built = await ws.state.assetUpdatedAt();
  for (const asset of ws.graph.assets.values()) {
    if (asset.kind === 'processed') {
      const m = await readManifest<TableManifest>(ws.store, lakeKeys.processedManifest(asset.name));
      out[`processed.${asset.name}`] = `m${m?.version ?? 0}`;
      out[`quarantine.${asset.name}`] = `m${m?.version ?? 0}`;
    } else if (asset.uniqueId) {
      const node = ws.models.manifest.nodes.get(asset.uniqueId);
      if (node && node.resource_type !== 'test' && node.resource_type !== 'analysis')
        out[`${node.schema}.${node.alias}`] = built.get(asset.key) ?? 'never';
    }
  }
  return out;
}

/**
 * Publishes the warehouse as the serving snapshot when it changed since the last one (or when
 * `force`). The project must be open (its lock held), so nothing writes the warehouse meanwhile.
 */
export async function publishServingSnapshot(
  ws: Workspace,
  options: { force?: boolean } = {},
): Promise<ServingSnapshot> {
  const dir = servingDir(ws);
  await mkdir(dir, { recursive: true });
  // A warehouse that is not a file (PostgreSQL) is served live, through its read-only role.
  if (!ws.warehouse.capabilities.readsFiles) return publishLiveWarehouse(ws, dir);
  // Everything committed goes into the main file, so a copy of that file is the whole database.
  await ws.warehouse.exec('CHECKPOINT');
  const info = await stat(ws.project.paths.warehouse);
  // A damaged current.json is what publishing repairs: it is replaced below.
  const current = await readServingSnapshot(dir).catch((err: unknown) => {
    if (err instanceof TributaryError && err.code === 'STATE') return undefined;
    throw err;
  });
  const relations = await relationVersions(ws);
  if (
    !options.force &&
    current &&
    current.source.size === info.size &&
    current.source.mtimeMs === info.mtimeMs &&
    JSON.stringify(current.relations) === JSON.stringify(relations) &&
    current.masked // published before masking existed: publish again
  ) {
    try {
      await stat(current.file);
      await stat(current.masked.file);
      return current;
    } catch {
      // its file is gone: publish again
    }
  }
  const id = newId('snap_');
  const file = join(dir, `${id}.duckdb`);
  const tmp = `${file}.tmp`;
  // A reflink where the file system offers one (instant), a plain copy otherwise.
  await copyFile(ws.project.paths.warehouse, tmp, constants.COPYFILE_FICLONE);
  await rename(tmp, file);
  const pii = piiColumns(ws);
  const maskedFile = join(dir, `${id}.masked.duckdb`);
  const masked = Object.keys(pii).length
    ? { file: maskedFile, ...(await writeMaskedCopy(file, maskedFile, pii)) }
    : { file, columns: {}, withheld: [] };
  const version = `${id}-${createHash('sha256').update(JSON.stringify(relations)).digest('hex').slice(0, 8)}`;
  const snapshot: ServingSnapshot = {
    version,
    file,
    publishedAt: new Date().toISOString(),
    source: { size: info.size, mtimeMs: info.mtimeMs },
    relations,
    allowedDirectories: [ws.project.paths.lake],
    lake: ws.project.paths.lake,
    masked,
  };
  await writeFileAtomic(join(dir, 'current.json'), JSON.stringify(snapshot, null, 2));
  // Snapshots older than the previous one go (the previous one may still serve a query for a
  // moment; an unlinked file open elsewhere keeps its data until closed anyway).
  const keep = new Set([file, masked.file, current?.file, current?.masked?.file]);
  for (const name of await readdir(dir)) {
    if (name.endsWith('.duckdb') && !keep.has(join(dir, name)))
      await rm(join(dir, name), { force: true });
    if (name.endsWith('.tmp')) await rm(join(dir, name), { force: true });
  }
  return snapshot;
}

/** Lake zones of the original text (rejected rows, landed files): never mirrored for masked roles. */
const UNMASKED_ZONES = new Set(['raw', 'quarantine']);

/**
 * The masked side of a PostgreSQL publish: the masked role and the mirrors it reads, or why
 * there are none (then roles that may not see PII are refused the relations holding it).
 */
async function maskWarehouse(
  ws: Workspace,
  schemas: string[],
  readers: { readUrl: boolean; maskedRole?: string; maskedError?: string },
): Promise<Pick<ServingSnapshot, 'masked'> & { postgres: Omit<PostgresServing, 'readRole'> }> {
  const pii = piiColumns(ws);
  const unmasked = (why: string) => ({
    postgres: { maskingError: why },
    masked: { file: '', columns: {}, withheld: Object.keys(pii) },
  });
  if (!readers.maskedRole) return unmasked(readers.maskedError ?? 'no masked role');
  const parser = await openDuckDB({ path: ':memory:', settings: { threads: '1' } });
  try {
    const built = await rebuildMaskedMirrors(ws.warehouse, {
      schemas: schemas.filter((s) => !UNMASKED_ZONES.has(s)),
      pii,
      role: readers.maskedRole,
      redirectView: (sql, redirect) => redirectTables(parser, sql, redirect),
    });
    return {
      postgres: { maskedRole: readers.maskedRole, mirrors: built.mirrors },
      masked: { file: '', columns: built.columns, withheld: built.withheld },
    };
  } catch (err) {
    // An administrator's read_url role may come with a warehouse user that may not create
    // schemas: PII is then refused to the viewer, as before masking existed here.
    if (!readers.readUrl) throw err;
    return unmasked(describeError(err));
  } finally {
    await parser.close();
  }
}

/**
 * Publishing a PostgreSQL warehouse: its read-only role is granted every schema the pipeline
 * builds in, the masked mirrors of those schemas are rebuilt for the masked role
 * (warehouse-readers.ts, engines/postgres/masked-mirror.ts), and the snapshot record names them;
 * no copy is made, queries read committed data as it is.
 */
async function publishLiveWarehouse(ws: Workspace, dir: string): Promise<ServingSnapshot> {
  // Taken before the relations are read: of two replicas publishing at once, the later read wins.
  const publishedAt = new Date().toISOString();
  const relations = await relationVersions(ws);
  const schemas = [...new Set(Object.keys(relations).map((r) => r.split('.')[0]!))];
  const readers = await setUpWarehouseReaders(ws, schemas);
  const maskedSide = await maskWarehouse(ws, schemas, readers);
  const postgres: PostgresServing = { readRole: readers.role, ...maskedSide.postgres };
  // Shared, the record every replica reads is in state; the serving folder is this machine's.
  const pointers = ws.shared ? await ServingPointerStore.open(ws.state.engine) : undefined;
  const current = pointers
    ? await latestSharedSnapshot(pointers)
    : await readServingSnapshot(dir).catch(() => undefined);
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (
    current?.postgres &&
    same(current.relations, relations) &&
    same(current.postgres, postgres) &&
    same(current.masked, maskedSide.masked)
  )
    return current;
  const id = newId('snap_');
  const snapshot: ServingSnapshot = {
    version: `${id}-${createHash('sha256').update(JSON.stringify(relations)).digest('hex').slice(0, 8)}`,
    file: '',
    publishedAt,
    source: { size: 0, mtimeMs: 0 },
    relations,
    allowedDirectories: [],
    lake: ws.project.paths.lake,
    postgres,
    masked: maskedSide.masked,
  };
  const record = JSON.stringify(snapshot, null, 2);
  if (pointers) {
    const written = await pointers.write({
      version: snapshot.version,
      publishedAt,
      snapshot: record,
    });
    // Another replica recorded a later publish meanwhile: that one is current.
    if (!written) return (await latestSharedSnapshot(pointers)) ?? snapshot;
  }
  await writeFileAtomic(join(dir, 'current.json'), record);
  return snapshot;
}

/**
 * Shared mode: the snapshot recorded in state (undefined when none was), or undefined when it is
 * still `known`. A record that is not a snapshot is an error naming it.
 */
export async function readSharedSnapshot(
  pointers: ServingPointerStore,
  known?: string,
): Promise<ServingSnapshot | 'unchanged' | undefined> {
  const pointer = await pointers.read(known);
  if (pointer === undefined || pointer === 'unchanged') return pointer;
  try {
    const s = JSON.parse(pointer.snapshot) as ServingSnapshot;
    if (typeof s.relations !== 'object' || !s.relations || !s.masked)
      throw new Error('no relations');
    return { ...s, version: pointer.version };
  } catch (err) {
    throw new TributaryError(
      `the serving snapshot recorded in state (serving_pointer, version ${pointer.version}) is damaged: ${describeError(err)}`,
      { code: 'STATE', hint: 'run the pipeline again: publishing rewrites it', cause: err },
    );
  }
}

/** The snapshot recorded in state, if any (a damaged record is replaced by publishing). */
async function latestSharedSnapshot(
  pointers: ServingPointerStore,
): Promise<ServingSnapshot | undefined> {
  const found = await readSharedSnapshot(pointers).catch(() => undefined);
  return found === 'unchanged' ? undefined : found;
}
