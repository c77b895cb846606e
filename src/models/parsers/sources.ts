/**
 * Sources (dbt's SourcePatcher): each table of each `sources:` entry of the properties files
 * becomes a source node with its relation, freshness rules and loaded_at_field. Parsed before
 * any node, since nodes' source() calls resolve against them.
 */
import type { FreshnessRule, SourceNode } from '../types.js';
import { DEFAULT_QUOTE_POLICY, mergeQuotePolicy } from '../relation.js';
import { relationName } from './resolve.js';
import { testsFor } from './test-specs.js';
import { columnsOf, lineOf, type PropertyEntry } from './property-entries.js';
import type { ParseSession } from './session.js';
import { asArray, asObject, asString } from './util.js';

/** Adds the source tables every `sources:` entry declares. */
export function parseSources(s: ParseSession): void {
  for (const item of s.properties.sources) addSources(s, item);
}

/** Queues the generic tests declared on source tables (after the nodes' own, as dbt orders them). */
export function queueSourceTests(s: ParseSession): void {
  const { project, manifest } = s;
  for (const item of s.properties.sources) {
    const sourceName = asString(item.entry.name);
    asArray(item.entry.tables).forEach((rawTable, ti) => {
      const table = asObject(rawTable);
      const src = manifest.sources.get(
        `source.${project.name}.${sourceName}.${asString(table.name)}`,
      );
      if (!src) return;
      s.pendingTests.push(...testsFor(item, src, table, ['tables', ti]));
    });
  }
}

function freshnessRule(v: unknown): FreshnessRule | null {
  const o = asObject(v);
  if (o.count === undefined || o.count === null) return null;
  const period = asString(o.period, 'day').replace(/s$/, '') as FreshnessRule['period'];
  return { count: Number(o.count), period };
}

function addSources(s: ParseSession, item: PropertyEntry): void {
  const { manifest, project } = s;
  const src = item.entry;
  const sourceName = asString(src.name);
  const sourceFreshness = src.freshness === undefined ? undefined : asObject(src.freshness);
  const sourceConfigEnabled = asObject(src.config).enabled;
  asArray(src.tables).forEach((raw, ti) => {
    const t = asObject(raw);
    const name = asString(t.name);
    const where = () => ({
      file: item.props.file,
      line: lineOf(item.props, ['sources', item.index, 'tables', ti]),
    });
    if (!name) {
      s.problems.push({
        message: `source ${sourceName} has a table with no name`,
        location: where(),
      });
      return;
    }
    const id = `source.${project.name}.${sourceName}.${name}`;
    if (manifest.sources.has(id)) {
      s.problems.push({
        message: `source ${sourceName}.${name} is declared twice`,
        location: where(),
      });
      return;
    }
    const schema = asString(src.schema, sourceName);
    const identifier = asString(t.identifier, name);
    // dbt: a source without `database:` is in the target's database.
    const database =
      (src.database as string | undefined) ??
      (s.opts.target.database as string | null | undefined) ??
      null;
    // dbt: source.quoting.merged(table.quoting); the project's quoting: does not apply.
    const quoting = { database: null, schema: null, identifier: null } as SourceNode['quoting'];
    for (const level of [asObject(src.quoting), asObject(t.quoting)])
      for (const k of ['database', 'schema', 'identifier'] as const)
        if (typeof level[k] === 'boolean') quoting[k] = level[k];
    const fresh =
      t.freshness === undefined
        ? sourceFreshness
        : t.freshness === null
          ? undefined
          : asObject(t.freshness);
    manifest.sources.set(id, {
      unique_id: id,
      resource_type: 'source',
      package_name: project.name,
      source_name: sourceName,
      name,
      identifier,
      schema,
      database,
      relation_name: relationName(
        s.opts.dialect,
        database,
        schema,
        identifier,
        mergeQuotePolicy(DEFAULT_QUOTE_POLICY, quoting),
      ),
      quoting,
      loader: asString(src.loader),
      description: asString(t.description),
      source_description: asString(src.description),
      columns: columnsOf(t.columns),
      loaded_at_field:
        (t.loaded_at_field as string | undefined) ??
        (src.loaded_at_field as string | undefined) ??
        null,
      freshness: fresh
        ? {
            warn_after: freshnessRule(fresh.warn_after),
            error_after: freshnessRule(fresh.error_after),
            filter: (fresh.filter as string | undefined) ?? null,
          }
        : null,
      original_file_path: item.props.file,
      fqn: [project.name, sourceName, name],
      tags: [...asArray(src.tags), ...asArray(t.tags)].map(String),
      meta: { ...asObject(src.meta), ...asObject(t.meta) },
      config: { enabled: sourceConfigEnabled !== false && asObject(t.config).enabled !== false },
    });
  });
}
