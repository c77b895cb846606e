/**
 * Macros and docs blocks (dbt's MacroParser and DocumentationParser): the internal macros (dbt's global project and the adapter's), then
 * each project's own (the root's and every installed package's) from its macro paths and from
 * test-paths/generic (where dbt keeps custom generic tests), and `{% docs %}` blocks from macro
 * files and from .md files.
 */
import { join } from 'node:path';
import { internalMacros } from '../global-macros/index.js';
import type { ParseSession } from './session.js';
import { walkFolder } from './util.js';

/** Adds dbt's own macros (package `dbt`), parsed once per adapter. */
export function addBuiltinMacros(s: ParseSession): void {
  for (const [name, def] of internalMacros(s.opts.dispatchPrefixes))
    s.macros.internal.set(name, def);
}

/** Adds the macros of the project being parsed (defined twice in one project is a problem). */
export async function parseMacros(s: ParseSession): Promise<void> {
  const { project, macros, manifest } = s;
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
      manifest.macros.set(`macro.${project.name}.${name}`, {
        unique_id: `macro.${project.name}.${name}`,
        name,
        package_name: project.name,
        original_file_path: file,
        line: def.line,
        arguments: def.params.map((param: { name: string }) => ({ name: param.name })),
      });
    }
    for (const [name, block] of tpl.docs) addDoc(s, name, block, file);
  }
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
