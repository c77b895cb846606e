/**
 * YAML documents validated by zod, with every problem reported at its line and column. All
 * problems in a file are collected (not just the first), so one edit cycle fixes them all.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { TributaryError, isErrno, type ErrorLocation } from '../core/index.js';

export interface Problem {
  message: string;
  location: ErrorLocation;
}

/** Several problems found at once, shown one per line. */
export class ProblemsError extends TributaryError {
  constructor(readonly problems: Problem[]) {
    super(
      problems.length === 1
        ? problems[0]!.message
        : `${problems.length} problems:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
      { code: 'CONFIG', location: problems.length === 1 ? problems[0]!.location : undefined },
    );
  }
}

function formatProblem(p: Problem): string {
  const { file, line, column, path } = p.location;
  const where = [file, line, column].filter((x) => x !== undefined).join(':');
  return `${where}${path ? ` (${path})` : ''}: ${p.message}`;
}

export interface ParsedYaml<T> {
  value?: T;
  problems: Problem[];
  /**
   * The line and column of the deepest node of a path that exists in the document, for checks
   * made after validation (e.g. a name that must exist elsewhere in the project).
   */
  locate?: (path: readonly (string | number)[]) => { line?: number; column?: number };
}

export interface ParseYamlOptions {
  /**
   * Replace `${NAME}` and `${NAME:-default}` in string values with environment variables (as
   * docker compose does), so a URL or port can differ per machine. An unset variable without a
   * default is a problem naming it. Secrets have their own `{ env: NAME }` form and never pass here.
   */
  interpolateEnv?: boolean;
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function interpolate(
  value: unknown,
  path: string[],
  missing: { name: string; path: string[] }[],
): unknown {
  if (typeof value === 'string')
    return value.replace(ENV_REF, (_all, name: string, fallback: string | undefined) => {
      const v = process.env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      missing.push({ name, path });
      return '';
    });
  if (Array.isArray(value))
    return value.map((v, i) => interpolate(v, [...path, String(i)], missing));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k], missing)]),
    );
  return value;
}

/** Parses YAML text and validates it; problems carry the file, line, column and config path. */
export function parseYaml<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
  options: ParseYamlOptions = {},
): ParsedYaml<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = doc.errors.map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return {
      message: e.message.split('\n')[0]!,
      location: { file, line: pos.line, column: pos.col },
    };
  });
  if (problems.length) return { problems };
  let data: unknown = doc.toJS() ?? {};
  if (options.interpolateEnv) {
    const missing: { name: string; path: string[] }[] = [];
    data = interpolate(data, [], missing);
    for (const m of missing)
      problems.push({
        message: `environment variable ${m.name} is not set (write \${${m.name}:-default} to give a default)`,
        location: { file, ...positionOf(doc, m.path, lineCounter), path: m.path.join('.') },
      });
    if (problems.length) return { problems };
  }
  const result = schema.safeParse(data);
  if (result.success)
    return {
      value: result.data,
      problems,
      locate: (path) => positionOf(doc, path.map(String), lineCounter),
    };
  for (const issue of result.error.issues) {
    const path = issue.path.map(String);
    const pos = positionOf(doc, path, lineCounter);
    problems.push({
      message: issue.message,
      location: { file, ...pos, path: path.join('.') || undefined },
    });
  }
  return { problems };
}

/** The line and column of the deepest node of `path` that exists in the document. */
function positionOf(
  doc: Document,
  path: string[],
  lineCounter: LineCounter,
): { line?: number; column?: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const pos = lineCounter.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

/** Reads a YAML file; a missing file is a problem naming the file, not a stack trace. */
export async function readYamlFile<S extends z.ZodType>(
  file: string,
  displayName: string,
  schema: S,
  options: ParseYamlOptions = {},
): Promise<ParsedYaml<z.output<S>>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT'))
      return { problems: [{ message: 'file not found', location: { file: displayName } }] };
    throw err;
  }
  return parseYaml(displayName, text, schema, options);
}

/** A project folder of YAML files, one named thing per file (dashboards, forecasts, syncs). */
export interface YamlFolder<T> {
  /** The folder, relative to the project: `dashboards`. */
  folder: string;
  /** What one file declares, for messages: `dashboard`. */
  kind: string;
  /** What a file's stem must match, and the rule in words with why (ends the problem). */
  name: { pattern: RegExp; rule: string };
  /** The key two names clash on (default: the name itself). */
  sameName?: (name: string) => string;
  /** Validates one file's text; `file` is relative to the project, for problems. */
  parse(name: string, file: string, text: string): { value?: T; problems: Problem[] };
}

/**
 * Reads and validates every `*.yml` (and `.yaml`) of a project folder, sorted by name; the name
 * of each is its file's stem. A project without the folder has none. Throws one ProblemsError
 * listing every problem of every file, so one edit cycle fixes them all.
 */
export async function loadYamlFolder<T extends { name: string }>(
  projectDir: string,
  spec: YamlFolder<T>,
): Promise<T[]> {
  const dir = join(projectDir, spec.folder);
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
  const values: T[] = [];
  const seen = new Map<string, string>();
  for (const entry of files) {
    const name = entry.slice(0, -extname(entry).length);
    const file = `${spec.folder}/${entry}`;
    if (!spec.name.pattern.test(name)) {
      problems.push({
        message: `${spec.kind} file names are ${spec.name.rule}; rename ${entry}`,
        location: { file },
      });
      continue;
    }
    const key = spec.sameName ? spec.sameName(name) : name;
    const other = seen.get(key);
    if (other) {
      problems.push({
        message: `${spec.kind} ${name} is defined twice (${other} and ${file}); remove one`,
        location: { file },
      });
      continue;
    }
    seen.set(key, file);
    const result = spec.parse(name, file, await readFile(join(dir, entry), 'utf8'));
    problems.push(...result.problems);
    if (result.value) values.push(result.value);
  }
  if (problems.length) throw new ProblemsError(problems);
  return values.sort((a, b) => a.name.localeCompare(b.name));
}

/** The item of that name from a YAML folder, or a NOT_FOUND error listing the names there are. */
export function findInYamlFolder<T extends { name: string }>(
  items: readonly T[],
  name: string,
  spec: Pick<YamlFolder<T>, 'folder' | 'kind'>,
): T {
  const found = items.find((i) => i.name === name);
  if (found) return found;
  throw new TributaryError(`no ${spec.kind} named ${name}`, {
    code: 'NOT_FOUND',
    hint: items.length
      ? `${spec.kind}s: ${items.map((i) => i.name).join(', ')}`
      : `add one as ${spec.folder}/${name}.yml`,
  });
}
