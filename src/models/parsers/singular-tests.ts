/**
 * Singular tests (dbt's SingularTestParser): every .sql file under the test paths, outside
 * generic/ (which holds generic test macros), is a test configured by the `tests:` tree, then
 * by its `data_tests:` entry in a properties file (dbt-core 1.9's SingularTestPatchParser:
 * description and `config:`), then by the `config()` call in its own file, which wins.
 */
import { basename, join, relative, sep } from 'node:path';
import type { ParseSession } from './session.js';
import { walkFolder } from './util.js';

/** Adds a test node for every singular test file. */
export async function parseSingularTests(s: ParseSession): Promise<void> {
  const { project } = s;
  for (const root of project.testPaths) {
    const base = join(project.dir, root);
    for (const path of await walkFolder(base, ['.sql'])) {
      const inRoot = relative(base, path).split(sep).join('/');
      if (inRoot.startsWith('generic/')) continue;
      const file = s.rel(path);
      const raw = s.read(path);
      const node = s.makeNode('test', basename(path, '.sql'), file, inRoot, raw, 'tests');
      s.applyProperties(node, 'data_tests');
      const tpl = await s.collect(file, () => s.env.parse(raw, s.templateName(file)));
      // The entry declares no tests of its own: nothing to queue.
      if (tpl) await s.addRendered(node, tpl, file, undefined);
    }
  }
}
