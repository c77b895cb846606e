/**
 * Loads a project's syncs (`syncs/*.yml`, the name is the file stem), validated with every problem
 * of every file collected and reported at its file, line and YAML path, as dashboards are. Each
 * mapped field keeps its line, so compile-time checks against the model and the destination
 * (orchestrator/syncs.ts) can name it.
 */
import {
  findInYamlFolder,
  loadYamlFolder,
  parseYaml,
  type Problem,
  type YamlFolder,
} from '../yaml.js';
import { syncFileSchema, type SyncDefinition } from './schema.js';

/** The folder of a project that holds sync files. */
export const SYNCS_DIR = 'syncs';

const SYNC_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Validates one sync file's text; `file` names it in problems. `destinations` are the names
 * declared in tributary.yml: a sync naming another is a problem at its `destination:` line.
 */
export function parseSync(
  name: string,
  file: string,
  text: string,
  destinations: readonly string[],
): { sync?: SyncDefinition; problems: Problem[] } {
  const parsed = parseYaml(file, text, syncFileSchema);
  if (!parsed.value) return { problems: parsed.problems };
  const s = parsed.value;
  const lineOf = (path: (string | number)[]) => parsed.locate?.(path).line ?? 1;
  const problems: Problem[] = [];
  if (!destinations.includes(s.destination))
    problems.push({
      message: `no destination named ${s.destination} in tributary.yml; ${
        destinations.length
          ? `declared: ${destinations.join(', ')}`
          : 'declare it under destinations: (type, base_url, token)'
      }`,
      location: { file, line: lineOf(['destination']), path: 'destination' },
    });
  if (problems.length) return { problems };
  const sync: SyncDefinition = {
    name,
    file,
    ...(s.description !== undefined ? { description: s.description } : {}),
    source: s.source,
    destination: s.destination,
    object: s.object,
    mode: s.mode,
    match: s.match,
    fields: s.fields.map((f, i) => ({
      ...(f.source !== undefined ? { source: f.source } : {}),
      destination: f.destination,
      ...(f.cast !== undefined ? { cast: f.cast } : {}),
      ...(f.transform !== undefined ? { transform: f.transform } : {}),
      ...(f.constant !== undefined ? { constant: f.constant } : {}),
      line: lineOf(['fields', i]),
    })),
    ...(s.batch_size !== undefined ? { batchSize: s.batch_size } : {}),
    alert: s.alert.failed_share !== undefined ? { failedShare: s.alert.failed_share } : {},
    lines: {
      source: lineOf(['source']),
      destination: lineOf(['destination']),
      object: lineOf(['object']),
      mode: lineOf(['mode']),
      match: lineOf(['match']),
    },
  };
  return { sync, problems: [] };
}

/** The syncs folder; `destinations` are the names declared in tributary.yml. */
function syncsFolder(destinations: readonly string[]): YamlFolder<SyncDefinition> {
  return {
    folder: SYNCS_DIR,
    kind: 'sync',
    name: {
      pattern: SYNC_NAME,
      rule: 'lower-case letters, digits and _ (the name is a warehouse table and a URL part)',
    },
    parse: (name, file, text) => {
      const { sync, problems } = parseSync(name, file, text, destinations);
      return { value: sync, problems };
    },
  };
}

/**
 * Reads and validates every `syncs/*.yml` (and `.yaml`) of a project, sorted by name. A project
 * without the folder has no syncs. Throws one ProblemsError listing every problem.
 */
export function loadSyncs(
  projectDir: string,
  destinations: readonly string[],
): Promise<SyncDefinition[]> {
  return loadYamlFolder(projectDir, syncsFolder(destinations));
}

/** The sync of that name, or a NOT_FOUND error listing the names there are. */
export function findSync(syncs: readonly SyncDefinition[], name: string): SyncDefinition {
  return findInYamlFolder(syncs, name, { folder: SYNCS_DIR, kind: 'sync' });
}
