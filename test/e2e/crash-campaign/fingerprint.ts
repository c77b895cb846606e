/**
 * What the crash campaign compares: every zone and table of a project, as multisets of rows
 * (and, while at it, what must hold after any recovery: raw bytes match their batch ids, no run
 * is left "running"). Each relation (a raw table's batches, a processed table's rows and
 * batches, its quarantine and reasons, every table and view of the warehouse, each report, the
 * dead letters and the catalog) is summed up as its row count and the sum of its rows' hashes,
 * which any lost, doubled or changed row changes. A clean run's sums and rows are saved once; a
 * trial whose sums differ for a relation has that relation's rows joined with the clean run's,
 * so a row it lacks is lost, a row it has more often is doubled, and any other is unexpected.
 *
 * Columns left out because they legitimately differ from run to run (listed here and nowhere
 * else; the campaign's control, a second clean run compared like a trial, proves nothing else
 * differs between two clean runs):
 *   - `_loaded_at`, in any relation that has one: when a batch was committed to the processed
 *     zone (the wall clock of the run that loaded it), and what models carry of it.
 *   - state `dead_letters.id`, `first_seen`, `last_seen`, `replayed_at`: an entry's random id
 *     and the wall-clock times it was written; what it holds (kind, source, payload, error,
 *     attempts, status, dedupe key) is compared.
 *   - state `catalog_tables.updated_at`: when the catalog entry was last written.
 * Nothing else is: the processed zone keeps no other load time, and the template's snapshot uses
 * the timestamp strategy, whose dbt_valid_from / dbt_updated_at / dbt_valid_to come from the
 * data's updated_at, not the clock (only a hard delete, which the campaign's data never makes,
 * would stamp the run's time). Every run of a campaign happens at the same path, so paths need
 * no rewriting either.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { processedSelect, quarantineSelect } from '../../../src/catalog/index.js';
import { openDuckDB, type Engine } from '../../../src/engines/index.js';
import {
  LocalObjectStore,
  readManifest,
  type RawManifest,
  type TableManifest,
} from '../../../src/lake/index.js';

/** Columns left out of every relation that has them (see above). */
const RUN_DEPENDENT_COLUMNS = ['_loaded_at'];

/** Columns of the state store left out of the comparison (see above), by table. */
const RUN_DEPENDENT_STATE_COLUMNS: Record<string, string[]> = {
  dead_letters: ['id', 'first_seen', 'last_seen', 'replayed_at'],
  catalog_tables: ['updated_at'],
};

/** What a relation's rows differ by, between a trial and the clean run. */
export interface RelationDiff {
  relation: string;
  /** Rows of the clean run the trial lacks. */
  lost: number;
  /** Extra copies of rows the clean run has. */
  doubled: number;
  /** Rows the clean run does not have at all (changed values). */
  unexpected: number;
  /** A few of the rows concerned. */
  samples: string[];
}

/** Copies a DuckDB file and its write-ahead log, if any, so it can be opened without touching the project. */
async function copyDatabase(from: string, to: string): Promise<boolean> {
  try {
    await copyFile(from, to);
  } catch {
    return false;
  }
  await copyFile(`${from}.wal`, `${to}.wal`).catch(() => undefined);
  return true;
}

/** Opens copies of a project's warehouse and state (as `st`) in `scratch`, replaying their logs. */
export async function openCopies(
  project: string,
  scratch: string,
): Promise<{ engine: Engine; hasState: boolean; close(): Promise<void> }> {
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const work = join(project, '.tributary');
  const warehouse = join(scratch, 'warehouse.duckdb');
  await copyDatabase(join(work, 'warehouse.duckdb'), warehouse);
  const engine = await openDuckDB({ path: warehouse });
  const state = join(scratch, 'state.duckdb');
  const hasState = await copyDatabase(join(work, 'state.duckdb'), state);
  if (hasState) await engine.exec(`ATTACH ${sqlString(state)} AS st`);
  return {
    engine,
    hasState,
    close: async () => {
      await engine.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** A relation to compare: the SELECT of its rows (run-dependent columns still in). */
interface Relation {
  name: string;
  select: string;
}

/** A project's relations, on an open copy of its databases. */
interface Collected {
  engine: Engine;
  relations: Relation[];
  /** Problems found while collecting (a raw file whose bytes do not match its batch id…). */
  problems: string[];
  close(): Promise<void>;
}

/** The relations of a project; rows computed here (batches, reports) go to `_campaign.rows`. */
async function collect(project: string, scratch: string): Promise<Collected> {
  const copies = await openCopies(project, scratch);
  const { engine } = copies;
  const problems: string[] = [];
  try {
    const warehouse = await engine.query(
      `SELECT table_schema AS s, table_name AS n FROM information_schema.tables
        WHERE table_catalog = current_database() AND table_schema NOT IN ('information_schema', 'pg_catalog')
        ORDER BY 1, 2`,
    );
    await engine.exec(
      `CREATE SCHEMA _campaign; CREATE TABLE _campaign.rows (rel VARCHAR, r VARCHAR)`,
    );
    const relations: Relation[] = [];
    const add = async (name: string, rows: string[]) => {
      if (rows.length)
        await engine.insertRows(
          '_campaign',
          'rows',
          ['rel', 'r'],
          rows.map((r) => [name, r]),
        );
      relations.push({
        name,
        select: `SELECT r FROM _campaign.rows WHERE rel = ${sqlString(name)}`,
      });
    };
    await collectLake(project, engine, relations, add, problems);
    for (const { s, n } of warehouse.rows as { s: string; n: string }[])
      relations.push({
        name: `warehouse:${s}.${n}`,
        select: `SELECT * FROM ${ident(s)}.${ident(n)}`,
      });
    await collectReports(project, add);
    if (copies.hasState) {
      const running = await engine.query(
        `SELECT run_id, command FROM st.runs WHERE status = 'running'`,
      );
      for (const r of running.rows)
        problems.push(`run ${String(r.run_id)} (${String(r.command)}) is still 'running'`);
      for (const [table, excluded] of Object.entries(RUN_DEPENDENT_STATE_COLUMNS))
        relations.push({
          name: `state:${table}`,
          select: `SELECT * EXCLUDE (${excluded.join(', ')}) FROM st.${table}`,
        });
    }
    return { engine, relations, problems, close: copies.close };
  } catch (err) {
    await copies.close();
    throw err;
  }
}

type AddRows = (name: string, rows: string[]) => Promise<void>;

/** Raw batches (their bytes checked against their ids), processed rows and batches, quarantine. */
async function collectLake(
  project: string,
  engine: Engine,
  relations: Relation[],
  add: AddRows,
  problems: string[],
): Promise<void> {
  const store = new LocalObjectStore(join(project, '.tributary', 'lake'));
  const manifests = (await store.list('')).filter((o) => o.key.endsWith('/_manifest.json'));
  for (const { key } of manifests.filter((m) => m.key.startsWith('raw/'))) {
    const m = (await readManifest<RawManifest>(store, key))!;
    const name = `raw:${m.source}.${m.table}`;
    await add(
      name,
      m.batches.map((b) => `batch ${b.id}`),
    );
    for (const b of m.batches) {
      const bytes = await store.get(b.key);
      const hash = bytes ? createHash('sha256').update(bytes).digest('hex') : undefined;
      if (hash !== b.id)
        problems.push(
          `${name}: batch ${b.id.slice(0, 16)} (${b.originalName}) ${bytes ? `has bytes hashing to ${hash!.slice(0, 16)}` : `is missing at ${b.key}`}`,
        );
    }
  }
  for (const { key } of manifests.filter((m) => m.key.startsWith('processed/'))) {
    const m = (await readManifest<TableManifest>(store, key))!;
    relations.push({ name: `processed:${m.table}`, select: processedSelect(engine, store, m) });
    await add(`processed-batches:${m.table}`, [
      ...Object.entries(m.batches).map(
        ([id, b]) => `batch ${id} in ${b.rowsIn} out ${b.rowsOut} rejected ${b.rowsRejected}`,
      ),
      ...Object.keys(m.rejected).map((id) => `file rejected ${id}`),
    ]);
    relations.push({ name: `quarantine:${m.table}`, select: quarantineSelect(engine, store, m) });
    await add(
      `quarantine-reasons:${m.table}`,
      m.quarantine.flatMap((q) =>
        Object.entries(q.reasons).flatMap(([reason, n]) => Array<string>(n).fill(reason)),
      ),
    );
  }
}

/** Each report's CSV lines and JSON rows. */
async function collectReports(project: string, add: AddRows): Promise<void> {
  const dir = join(project, '.tributary', 'reports');
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return; // no report written (yet)
  }
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8');
    if (name.endsWith('.csv')) await add(`report:${name}`, text.split('\n'));
    else if (name.endsWith('.json')) {
      const report = JSON.parse(text) as { columns: unknown; rows: unknown[] };
      await add(`report:${name}`, [
        `columns ${JSON.stringify(report.columns)}`,
        ...report.rows.map((r) => JSON.stringify(r)),
      ]);
    } else await add(`report:${name}`, [text]);
  }
}

/** A relation's rows without the run-dependent columns. */
const compared = (r: Relation) =>
  `SELECT COLUMNS(c -> c NOT IN (${RUN_DEPENDENT_COLUMNS.map(sqlString).join(', ')})) FROM (${r.select})`;

/** Each relation's row count and sum of row hashes, in one query. */
async function sums(c: Collected): Promise<Map<string, string>> {
  const parts = c.relations.map(
    (r) =>
      `SELECT ${sqlString(r.name)} AS rel, count(*) || '/' || coalesce(sum(hash(t)), 0) AS sum FROM (${compared(r)}) AS t`,
  );
  const { rows } = await c.engine.query(parts.join('\nUNION ALL\n'));
  return new Map(rows.map((r) => [String(r.rel), String(r.sum)]));
}

/** The rows of some relations as text, counted: (rel, r, n). */
const textRows = (relations: Relation[]) =>
  `SELECT rel, r, count(*) AS n FROM (${relations
    .map(
      (r) =>
        `SELECT ${sqlString(r.name)} AS rel, CAST(t AS VARCHAR) AS r FROM (${compared(r)}) AS t`,
    )
    .join('\nUNION ALL\n')}) GROUP BY ALL`;

/** Saves a clean project's sums and rows: `<base>.json` and `<base>.parquet`. */
export async function saveReference(
  project: string,
  scratch: string,
  base: string,
): Promise<{ relations: number; rows: number; problems: string[] }> {
  const c = await collect(project, scratch);
  try {
    const bySum = await sums(c);
    await writeFile(`${base}.json`, JSON.stringify(Object.fromEntries(bySum), null, 1));
    await c.engine.exec(
      `COPY (${textRows(c.relations)}) TO ${sqlString(`${base}.parquet`)} (FORMAT parquet)`,
    );
    const rows = [...bySum.values()].reduce((n, s) => n + Number(s.split('/')[0]), 0);
    return { relations: bySum.size, rows, problems: c.problems };
  } finally {
    await c.close();
  }
}

/** Every relation whose rows differ between a project and a saved reference, and problems found. */
export async function compareWithReference(
  project: string,
  scratch: string,
  base: string,
): Promise<{ diffs: RelationDiff[]; problems: string[] }> {
  const reference = new Map(
    Object.entries(JSON.parse(await readFile(`${base}.json`, 'utf8')) as Record<string, string>),
  );
  const c = await collect(project, scratch);
  try {
    const trial = await sums(c);
    const differing = [...new Set([...reference.keys(), ...trial.keys()])].filter(
      (rel) => reference.get(rel) !== trial.get(rel),
    );
    if (!differing.length) return { diffs: [], problems: c.problems };
    const problems = [...c.problems];
    for (const rel of differing) {
      if (!trial.has(rel)) problems.push(`${rel} is missing (the clean run has it)`);
      if (!reference.has(rel)) problems.push(`${rel} exists (the clean run has no such relation)`);
    }
    const present = c.relations.filter((r) => differing.includes(r.name));
    const t = present.length
      ? textRows(present)
      : `SELECT NULL::VARCHAR AS rel, NULL::VARCHAR AS r, 0 AS n WHERE false`;
    const { rows } = await c.engine.query(
      `WITH t AS (${t}),
            f AS (SELECT * FROM read_parquet(${sqlString(`${base}.parquet`)})
                   WHERE rel IN (${differing.map(sqlString).join(', ')}))
       SELECT coalesce(t.rel, f.rel) AS rel, coalesce(t.r, f.r) AS r,
              coalesce(f.n, 0) AS ref_n, coalesce(t.n, 0) AS trial_n
         FROM t FULL OUTER JOIN f ON t.rel = f.rel AND t.r = f.r
        WHERE coalesce(f.n, 0) <> coalesce(t.n, 0)
        ORDER BY 1, 2`,
    );
    return { diffs: relationDiffs(rows), problems };
  } finally {
    await c.close();
  }
}

/** Differing rows summed up by relation. */
function relationDiffs(rows: Record<string, unknown>[]): RelationDiff[] {
  const byRelation = new Map<string, RelationDiff>();
  for (const row of rows) {
    const relation = String(row.rel);
    const [ref, trial] = [Number(row.ref_n), Number(row.trial_n)];
    const what = ref > trial ? 'lost' : ref === 0 ? 'unexpected' : 'doubled';
    let d = byRelation.get(relation);
    if (!d) {
      d = { relation, lost: 0, doubled: 0, unexpected: 0, samples: [] };
      byRelation.set(relation, d);
    }
    d[what] += Math.abs(ref - trial);
    if (d.samples.length < 3)
      d.samples.push(`${what} ×${Math.abs(ref - trial)}: ${String(row.r).slice(0, 300)}`);
  }
  return [...byRelation.values()];
}

/** Files a killed process may leave and the next one must clean: every `*.tmp` in the project. */
export async function strayTempFiles(project: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await visit(path);
      else if (e.name.endsWith('.tmp')) out.push(relative(project, path));
    }
  };
  await visit(project);
  return out;
}

/** Lake files no manifest lists (written by a killed process, never visible to readers). */
export async function unlistedLakeFiles(project: string): Promise<string[]> {
  const store = new LocalObjectStore(join(project, '.tributary', 'lake'));
  const objects = await store.list('');
  const listed = new Set<string>();
  for (const o of objects.filter((x) => x.key.endsWith('/_manifest.json'))) {
    listed.add(o.key);
    const m = (await readManifest<RawManifest & TableManifest>(store, o.key))!;
    for (const b of Array.isArray(m.batches) ? m.batches : []) listed.add(b.key);
    for (const f of [...(m.files ?? []), ...(m.quarantine ?? [])]) listed.add(f.key);
  }
  // `_manifest.json` and the other `_*.json` beside it (e.g. `_foreign_keys.json`) are metadata.
  const metadata = (key: string) => /(^|\/)_[^/]*\.json$/.test(key);
  return objects.map((o) => o.key).filter((k) => !listed.has(k) && !metadata(k));
}

/** Whether a file exists. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
