/**
 * Loads a project's syncs (`syncs/*.yml`, the name is the file stem), validated with every problem
 * of every file collected and reported at its file, line and YAML path, as dashboards are. Each
 * mapped field keeps its line, so compile-time checks against the model and the destination
 * (orchestrator/syncs.ts) can name it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { TributaryError, isErrno } from '../../core/index.js';
import { ProblemsError, parseYaml, type Problem } from '../yaml.js';
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
  const lineOf = (path: (string | number)[]) => parsed.lineOf?.(path) ?? 1;
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
    ...(s.enabled ? {} : { enabled: false }),
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
      ...(s.enabled ? {} : { enabled: lineOf(['enabled']) }),
    },
  };
  return { sync, problems: [] };
}

/**
 * Reads and validates every `syncs/*.yml` (and `.yaml`) of a project, sorted by name. A project
 * without the folder has no syncs. Throws one ProblemsError listing every problem.
 */
export async function loadSyncs(
  projectDir: string,
  destinations: readonly string[],
): Promise<SyncDefinition[]> {
  const dir = join(projectDir, SYNCS_DIR);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const files = entries
    .filter((e) => ['.yml', '.yaml'].includes(extname(e)) && !e.startsWith('.'))
    .sort();
  const problems: Problem[] = [];
  const syncs: SyncDefinition[] = [];
  const seen = new Map<string, string>();
  for (const entry of files) {
    const name = entry.slice(0, -extname(entry).length);
    const file = `${SYNCS_DIR}/${entry}`;
    if (!SYNC_NAME.test(name)) {
      problems.push({
        message: `sync file names are lower-case letters, digits and _ (the name is a warehouse table and a URL part); rename ${entry}`,
        location: { file },
      });
      continue;
    }
    const other = seen.get(name);
    if (other) {
      problems.push({
        message: `sync ${name} is defined twice (${other} and ${file}); remove one`,
        location: { file },
      });
      continue;
    }
    seen.set(name, file);
    const result = parseSync(name, file, await readFile(join(dir, entry), 'utf8'), destinations);
    problems.push(...result.problems);
    if (result.sync) syncs.push(result.sync);
  }
  if (problems.length) throw new ProblemsError(problems);
  return syncs.sort((a, b) => a.name.localeCompare(b.name));
}

/** The sync of that name, or a NOT_FOUND error listing the names there are. */
export function findSync(syncs: readonly SyncDefinition[], name: string): SyncDefinition {
  const found = syncs.find((s) => s.name === name);
  if (found) return found;
  throw new TributaryError(`no sync named ${name}`, {
    code: 'NOT_FOUND',
    hint: syncs.length
      ? `syncs: ${syncs.map((s) => s.name).join(', ')}`
      : `add one as ${SYNCS_DIR}/${name}.yml`,
  });
}
