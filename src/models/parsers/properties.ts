/**
 * Properties files (dbt's SchemaParser input): the `.yml` files under the model, seed, snapshot,
 * analysis, macro and test paths, read into an index of entries by the resource they describe
 * (`data_tests:` entries describe singular tests, as in dbt-core 1.9). Descriptions
 * (`doc()`) and where sources live (target, var, env_var) are rendered first, as dbt does.
 */
import { join } from 'node:path';
import { TributaryError } from '../../core/index.js';
import { yamlContext } from '../dbt-project.js';
import { findDoc, packageVars } from '../lookup.js';
import {
  emptyPropertyIndex,
  lineOf,
  parsePositioned,
  type PropertyEntry,
  type PropertyIndex,
  type PropsFile,
} from './property-entries.js';
import { readPlainYaml } from './plain-yaml.js';
import type { ParseSession } from './session.js';
import { asArray, asObject, asString, walkFolder } from './util.js';

const SECTIONS = ['models', 'seeds', 'snapshots', 'analyses', 'sources', 'data_tests'] as const;

/** Reads every properties file of the project into an index; problems go to the session. */
export async function readProperties(s: ParseSession): Promise<PropertyIndex> {
  const { project } = s;
  const index = emptyPropertyIndex();
  const roots = [
    ...project.modelPaths,
    ...project.seedPaths,
    ...project.snapshotPaths,
    ...project.analysisPaths,
    // dbt reads macro properties (`macros:`) from yml files beside the macros too.
    ...project.macroPaths,
    // and singular tests' (`data_tests:`) from yml files beside the tests (dbt-core 1.9).
    ...project.testPaths,
  ];
  for (const root of new Set(roots)) {
    for (const path of await walkFolder(join(project.dir, root), ['.yml', '.yaml'])) {
      const file = s.rel(path);
      const text = s.read(path);
      const props = loadYaml(s, file, text);
      if (!props) continue;
      const { data } = props;
      if (!(await s.collect(file, () => renderFile(s, file, data)))) continue;
      indexEntries(s, props, index);
      describeMacros(s, data);
    }
  }
  return index;
}

/** `macros:` entries document a project macro: its description and arguments, as dbt lists them. */
function describeMacros(s: ParseSession, data: Record<string, unknown>): void {
  for (const raw of asArray(data.macros)) {
    const entry = asObject(raw);
    const macro = s.manifest.macros.get(`macro.${s.project.name}.${asString(entry.name)}`);
    if (!macro) continue;
    macro.description = asString(entry.description);
    macro.arguments = asArray(entry.arguments).map((a) => {
      const arg = asObject(a);
      return {
        name: asString(arg.name),
        type: typeof arg.type === 'string' ? arg.type : null,
        description: asString(arg.description),
      };
    });
  }
}

/**
 * Reads a properties file as dbt does (YAML 1.1, PyYAML's booleans); invalid YAML is a problem
 * naming the file, line and column, and the file is left out.
 */
function loadYaml(s: ParseSession, file: string, text: string): PropsFile | null {
  // Plain block YAML (most properties files) is read by a fast reader giving `yaml`'s values;
  // positions are then parsed only when a message needs a line (lineOf).
  const plain = readPlainYaml(text);
  if (plain) return { file, text, data: plain };
  const positions = parsePositioned(text);
  const error = positions.doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    s.problems.push({
      message: `invalid YAML: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      location: { file, ...(at ? { line: at.line, column: at.col } : {}) },
    });
    return null;
  }
  // No alias limit: PyYAML has none, and an alias is the same value, never a copy that grows.
  return { file, text, data: asObject(positions.doc.toJS({ maxAliasCount: -1 })), positions };
}

/** dbt renders descriptions (doc()) and where sources live (target, var, env_var). */
async function renderFile(
  s: ParseSession,
  file: string,
  data: Record<string, unknown>,
): Promise<true> {
  const { project, manifest } = s;
  const vars = packageVars(s.root, project);
  await renderProperties(data, (text) =>
    s.env.parse(text, file).render({
      ...yamlContext(vars, file),
      target: s.opts.target,
      doc: (...args: string[]) => {
        const [pkg, name] = args.length > 1 ? [args[0], args[1]!] : [null, args[0]!];
        const found = findDoc(manifest, name, project.name, pkg);
        if (!found)
          throw new TributaryError(`doc('${args.join("', '")}') names no docs block`, {
            code: 'CONFIG',
          });
        return found.block_contents;
      },
    }),
  );
  return true;
}

function indexEntries(s: ParseSession, pf: PropsFile, index: PropertyIndex): void {
  const { file, data } = pf;
  for (const section of SECTIONS) {
    const list = data[section];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      s.problems.push({
        message: `${section}: must be a list`,
        location: { file, line: lineOf(pf, [section]), path: section },
      });
      continue;
    }
    list.forEach((raw, i) => {
      const entry = asObject(raw);
      const name = asString(entry.name);
      if (!name) {
        s.problems.push({
          message: `${section} entry has no name`,
          location: { file, line: lineOf(pf, [section, i]), path: `${section}.${i}` },
        });
        return;
      }
      const item: PropertyEntry = { props: pf, index: i, section, entry };
      if (section === 'sources') index.sources.push(item);
      else if (section === 'snapshots' && entry.relation !== undefined)
        index.yamlSnapshots.push(item);
      else {
        const key = `${section}:${name}`;
        index.byName.set(key, [...(index.byName.get(key) ?? []), item]);
      }
    });
  }
}

/**
 * Properties that describe nothing are mistakes worth telling about, as warnings (dbt's
 * NoNodeForYamlKey): dbt goes on, and projects (dbt-utils' own tests) ship such entries.
 */
export function reportUnmatched(s: ParseSession): void {
  for (const entries of s.properties.byName.values()) {
    for (const item of entries) {
      const line = lineOf(item.props, [item.section, item.index]);
      s.warnings.push({
        event: 'NoNodeForYamlKey',
        message: `${s.templateName(item.props.file)}${line ? `:${line}` : ''}: ${item.section} entry ${asString(item.entry.name)} matches no ${item.section === 'data_tests' ? 'singular test' : item.section.replace(/s$/, '').replace(/analyse$/, 'analysis')} file (dbt: "Did not find matching node for patch with name '${asString(item.entry.name)}'")`,
      });
    }
  }
}

/** Renders the Jinja in a properties file's descriptions and source locations, in place. */
async function renderProperties(
  data: Record<string, unknown>,
  render: (text: string) => Promise<string>,
): Promise<void> {
  const field = async (o: Record<string, unknown>, key: string) => {
    const v = o[key];
    if (typeof v === 'string' && (v.includes('{{') || v.includes('{%'))) o[key] = await render(v);
  };
  const described = async (o: Record<string, unknown>) => {
    await field(o, 'description');
    for (const c of asArray(o.columns))
      if (c && typeof c === 'object') await described(asObject(c));
  };
  for (const section of ['models', 'seeds', 'snapshots', 'analyses', 'data_tests'])
    for (const e of asArray(data[section]))
      if (e && typeof e === 'object') await described(asObject(e));
  // A singular test's yml config renders like a generic test's (`severity: "{{ ... }}"`).
  for (const e of asArray(data.data_tests)) {
    const config = e && typeof e === 'object' ? asObject(asObject(e).config) : {};
    for (const key of Object.keys(config)) await field(config, key);
  }
  for (const src of asArray(data.sources)) {
    if (!src || typeof src !== 'object') continue;
    const source = asObject(src);
    for (const key of ['schema', 'database', 'loaded_at_field']) await field(source, key);
    await described(source);
    for (const t of asArray(source.tables)) {
      if (!t || typeof t !== 'object') continue;
      await field(asObject(t), 'identifier');
      await field(asObject(t), 'loaded_at_field');
      await described(asObject(t));
    }
  }
}
