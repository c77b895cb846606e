/**
 * Macros and docs blocks (dbt's MacroParser and DocumentationParser): the built-in macros, then
 * the project's own from its macro paths and from test-paths/generic (where dbt keeps custom
 * generic tests), and `{% docs %}` blocks from macro files and from .md files.
 */
import { join } from 'node:path';
import type { MacroDefinition } from '../../jinja/index.js';
import { BUILTIN_MACROS, BUILTIN_MACROS_FILE } from '../builtins.js';
import { macroBlock } from './macro-sql.js';
import type { ParseSession } from './session.js';
import { walkFolder } from './util.js';

let builtinMacros: ReadonlyMap<string, MacroDefinition> | undefined;

/** Adds the built-in macros, then the project's (same name replaces; defined twice is a problem). */
export async function parseMacros(s: ParseSession): Promise<void> {
  const { project, macros } = s;
  builtinMacros ??= s.env.parse(BUILTIN_MACROS, BUILTIN_MACROS_FILE).macros;
  for (const [name, def] of builtinMacros) {
    macros.set(name, def);
    addMacro(s, 'dbt', name, def, BUILTIN_MACROS_FILE, BUILTIN_MACROS);
  }
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
    const tpl = await s.collect(file, () => s.env.parse(text, file));
    if (!tpl) continue;
    for (const [name, def] of tpl.macros) {
      if (s.projectMacros.has(name)) {
        s.problems.push({
          message: `macro ${name} is defined twice`,
          location: { file, line: def.line },
        });
        continue;
      }
      s.projectMacros.add(name);
      macros.set(name, def);
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
