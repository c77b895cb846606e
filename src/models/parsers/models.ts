/**
 * Models and analyses (dbt's ModelParser and AnalysisParser): every .sql file under the model
 * paths is a model configured by the `models:` tree; under the analysis paths, an analysis
 * (compiled, never run, configured by no tree).
 */
import { basename, join, relative, sep } from 'node:path';
import type { ParseSession } from './session.js';
import { walkFolder } from './util.js';

/** Adds a node for every model and analysis file. */
export async function parseModels(s: ParseSession): Promise<void> {
  const { project } = s;
  for (const [type, roots, section] of [
    ['model', project.modelPaths, 'models'],
    ['analysis', project.analysisPaths, 'analyses'],
  ] as const) {
    for (const root of roots) {
      const base = join(project.dir, root);
      for (const path of await walkFolder(base, ['.sql'])) {
        const file = s.rel(path);
        const raw = s.read(path);
        const name = basename(path, '.sql');
        const inRoot = relative(base, path).split(sep).join('/');
        const tree = type === 'model' ? 'models' : undefined;
        const node = s.makeNode(type, name, file, inRoot, raw, tree);
        const item = s.applyProperties(node, section);
        const tpl = await s.collect(file, () => s.env.parse(raw, s.templateName(file)));
        if (tpl) await s.addRendered(node, tpl, file, item);
      }
    }
  }
}
