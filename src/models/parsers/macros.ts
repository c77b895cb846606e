/**
 * Macros and docs blocks (dbt's MacroParser and DocumentationParser): the internal macros (dbt's global project and the adapter's), then
 * each project's own (the root's and every installed package's) from its macro paths and from
 * test-paths/generic (where dbt keeps custom generic tests), and `{% docs %}` blocks from macro
 * files and from .md files.
 */
import { join } from 'node:path';
import type { MacroDefinition } from '../../jinja/index.js';
import { internalMacroSource, internalMacros } from '../global-macros/index.js';
import { macroBlock } from './macro-sql.js';
import type { ParseSession } from './session.js';
import { walkFolder } from './util.js';

/** Adds dbt's own macros (package `dbt`), parsed once per adapter. */
export function addBuiltinMacros(s: ParseSession): void {
  for (const [name, def] of internalMacros(s.opts.dispatchPrefixes)) {
    s.macros.internal.set(name, def);
    s.macros.version++;
    const source = internalMacroSource(def.file);
    if (source) addMacro(s, source.package, name, def, def.file, source.text);
  }
}

/** Adds the macros of the project being parsed (defined twice in one project is a problem). */
export async function parseMacros(s: ParseSession): Promise<void> {
  const { project, macros } = s;
  const files = [
    ...(
      await Promise.all(project.macroPaths.map((p) => walkFolder(join(project.dir, p), ['.sql'])))
    ).flat(),
    ...(
      await Promise.all(
        project.testPaths.map((p) => walkFolder(join(project.dir, p, 'generic'), ['.sql'])),
      )
    ).flat(),
  ];
  for (const path of files) {
    const file = s.rel(path);
    const text = s.read(path);
    const tpl = await s.collect(file, () => s.env.parse(text, s.templateName(file)));
    if (!tpl) continue;
    for (const [name, def] of tpl.macros) {
      if (!macros.add(project.name, def)) {
        s.problems.push({
          message: `macro ${name} is defined twice in ${project.name}`,
          location: { file, line: def.line },
        });
        continue;
      }
      addMacro(s, project.name, name, def, file, text);
    }
    for (const [name, block] of tpl.docs) addDoc(s, name, block, file);
  }
}

/** Lists a macro in the manifest as `macro.<package>.<name>`, with its block's text. */
function addMacro(
  s: ParseSession,
  pkg: string,
  name: string,
  def: MacroDefinition,
  file: string,
  text: string,
): void {
  s.manifest.macros.set(`macro.${pkg}.${name}`, {
    unique_id: `macro.${pkg}.${name}`,
    name,
    package_name: pkg,
    original_file_path: file,
    line: def.line,
    macro_sql: macroBlock(text, def.line),
    arguments: [],
    description: '',
  });
}

/** Adds the docs blocks of .md files anywhere under the docs paths (else the model paths). */
export async function parseDocs(s: ParseSession): Promise<void> {
  const { project } = s;
  const roots = project.docsPaths.length ? project.docsPaths : project.modelPaths;
  for (const root of roots) {
    for (const path of await walkFolder(join(project.dir, root), ['.md'])) {
      const file = s.rel(path);
      const tpl = await s.collect(file, () => s.env.parse(s.read(path), file));
      for (const [name, text] of tpl?.docs ?? []) addDoc(s, name, text, file);
    }
  }
}

function addDoc(s: ParseSession, name: string, text: string, file: string): void {
  const { project } = s;
  s.manifest.docs.set(`doc.${project.name}.${name}`, {
    unique_id: `doc.${project.name}.${name}`,
    name,
    package_name: project.name,
    original_file_path: file,
    block_contents: text.trim(),
  });
}
