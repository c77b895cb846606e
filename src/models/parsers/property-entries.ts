/**
 * What a properties file's entries are, apart from reading them (properties.ts): the shapes the
 * parse session and every parser share, a node's line in its file and its documented columns.
 * Kept apart so the session can use them without importing the parsers that use the session.
 */
import {
  LineCounter,
  parseDocument,
  type Document,
  type ParseOptions,
  type ScalarTag,
  type Tags,
} from 'yaml';
import type { ColumnDoc } from '../types.js';
import { asArray, asObject, asString } from './util.js';

/**
 * A YAML properties file: its text, its values and the parsed document they came from (which
 * gives an entry's line when a message needs it).
 */
export interface PropsFile {
  file: string;
  text: string;
  data: Record<string, unknown>;
  positions?: { doc: Document; lines: LineCounter };
}

/**
 * Booleans as PyYAML (dbt's reader) resolves them: YAML 1.1's words, but not its single letters
 * `y`/`n` (a column named `y` stays a string), which the `yaml` package's 1.1 schema takes.
 */
const PY_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PY_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
const pyBooleans = (tags: Tags): Tags =>
  tags.map((t) =>
    typeof t === 'object' && t.tag === 'tag:yaml.org,2002:bool' && !t.collection
      ? ({ ...t, test: t.identify?.(true) ? PY_TRUE : PY_FALSE } as ScalarTag)
      : t,
  );

/**
 * YAML as dbt reads it (PyYAML's SafeLoader, YAML 1.1): `yes`/`no`/`on`/`off` are booleans,
 * `0755` octal, `1:30` sexagesimal, `<<` merges, dates are dates; duplicate keys are an error.
 */
export const DBT_YAML: ParseOptions & { version: '1.1'; customTags: (tags: Tags) => Tags } = {
  version: '1.1',
  customTags: pyBooleans,
};

/** Parses a properties file's text with positions (errors are in `doc.errors`). */
export function parsePositioned(text: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  return { doc: parseDocument(text, { ...DBT_YAML, lineCounter: lines }), lines };
}

/** One entry of a properties file's models/seeds/snapshots/analyses/sources list. */
export interface PropertyEntry {
  props: PropsFile;
  index: number;
  section: string;
  entry: Record<string, unknown>;
}

/** The entries of every properties file, by what they describe. */
export interface PropertyIndex {
  /** `<section>:<name>` → entries (more than one is a problem reported when applied). */
  byName: Map<string, PropertyEntry[]>;
  sources: PropertyEntry[];
  /** Snapshots defined in YAML (dbt 1.9+: a `relation:` instead of a .sql file). */
  yamlSnapshots: PropertyEntry[];
}

/** An index with nothing in it. */
export function emptyPropertyIndex(): PropertyIndex {
  return { byName: new Map(), sources: [], yamlSnapshots: [] };
}

/** The line of the YAML node at `path` in a properties file (parsed with positions on demand). */
export function lineOf(props: PropsFile, path: (string | number)[]): number | undefined {
  const node = nodeAt(props, path) as { range?: [number, number, number] } | undefined;
  return node?.range ? props.positions!.lines.linePos(node.range[0]).line : undefined;
}

/** The YAML node at `path` of a properties file, as written (parsed with positions on demand). */
export function nodeAt(props: PropsFile, path: (string | number)[]): unknown {
  props.positions ??= parsePositioned(props.text);
  return props.positions.doc.getIn(path, true);
}

/** The columns of a properties entry, by name. */
export function columnsOf(raw: unknown): Record<string, ColumnDoc> {
  const out: Record<string, ColumnDoc> = {};
  for (const c of asArray(raw)) {
    const col = asObject(c);
    const name = asString(col.name);
    if (!name) continue;
    out[name] = {
      name,
      description: asString(col.description),
      data_type: (col.data_type as string | undefined) ?? null,
      meta: asObject(col.meta),
      tags: asArray(col.tags).map(String),
    };
  }
  return out;
}
