/**
 * What a properties file's entries are, apart from reading them (properties.ts): the shapes the
 * parse session and every parser share, a node's line in its file and its documented columns.
 * Kept apart so the session can use them without importing the parsers that use the session.
 */
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { ColumnDoc } from '../types.js';
import { asArray, asObject, asString } from './util.js';

/**
 * A YAML properties file. It is read with js-yaml (about ten times faster than a positioned
 * parse, which matters at 10,000 models); the positioned parse runs only when an error needs
 * the line of an entry.
 */
export interface PropsFile {
  file: string;
  text: string;
  data: Record<string, unknown>;
  positions?: { doc: Document; lines: LineCounter };
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
  if (!props.positions) {
    const lines = new LineCounter();
    props.positions = { doc: parseDocument(props.text, { lineCounter: lines }), lines };
  }
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
