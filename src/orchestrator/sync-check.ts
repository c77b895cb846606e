/**
 * `tributary sync <name> --check`: a sync's mapping checked without sending anything. Its columns
 * against its source's columns as parsing derives them (the same check every command makes when
 * the project opens; here it also says when parsing cannot list them and the check waits for the
 * run), and its destination fields and mode against the destination's schema API when the
 * destination answers (when it does not, the report says so: the run checks them again before
 * sending).
 */
import { describeError } from '../core/index.js';
import { openDuckDB } from '../engines/index.js';
import type { Problem, SyncDefinition } from '../project/index.js';
import { staticSyncSourceColumns, type StaticSourceColumns } from './column-lineage.js';
import {
  checkSyncMapping,
  sourceLabel,
  staticColumnProblems,
  upstreamAssets,
} from './sync-assets.js';
import { describeObject, findSyncDefinition, openFor } from './syncs.js';
import type { Workspace } from './workspace.js';

export interface SyncCheckReport {
  sync: string;
  file: string;
  /** One line on how the columns were checked. */
  columns: string;
  /** One line on how the destination fields were checked. */
  destination: string;
  /** Every problem found, each at its line of the sync file. */
  problems: Problem[];
}

/** The problems checkSyncMapping finds on the destination side (fields, match field, mode). */
const DESTINATION_PATHS = /^(match\.destination|fields\.\d+\.destination|mode)$/;

async function destinationProblems(
  ws: Workspace,
  sync: SyncDefinition,
): Promise<{ line: string; problems: Problem[] }> {
  let destination;
  try {
    destination = await openFor(ws, sync);
  } catch (err) {
    return {
      line: `destination ${sync.destination} cannot be opened (${describeError(err).split('\n')[0]}); its fields are checked when the sync runs`,
      problems: [],
    };
  }
  try {
    const fields = await describeObject(sync, destination, ws);
    const problems = checkSyncMapping(
      sync,
      { columns: [], label: sourceLabel(sync) },
      fields,
      destination.capabilities,
    ).filter((p) => DESTINATION_PATHS.test(p.location.path ?? ''));
    const line = destination.capabilities.openSchema
      ? `destination ${sync.destination} (${destination.type}) has no schema API: it takes any field`
      : `checked against the schema of ${sync.object} at ${sync.destination} (${destination.type}, ${fields.length} fields)`;
    return { line, problems };
  } catch (err) {
    return {
      line: `${(err instanceof Error ? err.message : String(err)).split('\n')[0]}; its fields are checked when the sync runs`,
      problems: [],
    };
  } finally {
    await destination.close();
  }
}

function columnsLine(sync: SyncDefinition, source: StaticSourceColumns): string {
  return source.columns
    ? `checked against ${sourceLabel(sync)} (${source.columns.length} columns, derived by parsing its SQL)`
    : `the columns of ${sourceLabel(sync)} cannot be derived by parsing (${source.reason}); they are checked against the built relation when the sync runs`;
}

/** Checks one sync's mapping; sends nothing and writes nothing. */
export async function checkSync(ws: Workspace, name: string): Promise<SyncCheckReport> {
  const sync = findSyncDefinition(ws, name);
  const asset = ws.graph.assets.get(`sync:${sync.name}`)!;
  const parser = await openDuckDB({ path: ':memory:' });
  let source: StaticSourceColumns;
  try {
    const sources = await staticSyncSourceColumns(
      { project: ws.project, models: ws.models, graph: ws.graph, syncs: [sync], parser },
      upstreamAssets(ws.graph, [asset]),
    );
    source = sources.get(sync.name)!;
  } finally {
    await parser.close();
  }
  const destination = await destinationProblems(ws, sync);
  return {
    sync: sync.name,
    file: sync.file,
    columns: columnsLine(sync, source),
    destination: destination.line,
    problems: [...staticColumnProblems(sync, source), ...destination.problems],
  };
}
