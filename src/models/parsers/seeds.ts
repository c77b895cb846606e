/**
 * Seeds (dbt's SeedParser): every .csv file under the seed paths is a seed configured by the
 * `seeds:` tree; its checksum is the file's, and its rows are read when it is loaded.
 */
import { basename, extname, join, relative, sep } from 'node:path';
import type { ParseSession } from './session.js';
import { sha256, walkFolder } from './util.js';

/** Adds a node for every seed file. */
export async function parseSeeds(s: ParseSession): Promise<void> {
  const { project } = s;
  for (const root of project.seedPaths) {
    const base = join(project.dir, root);
    for (const path of await walkFolder(base, ['.csv'])) {
      const file = s.rel(path);
      const name = basename(path, extname(path));
      const inRoot = relative(base, path).split(sep).join('/');
      const node = s.makeNode('seed', name, file, inRoot, '', 'seeds');
      node.seed_file = path;
      node.checksum = { name: 'sha256', checksum: sha256(s.read(path)) };
      const item = s.applyProperties(node, 'seeds');
      if (s.addNode(node) && item) s.queueTests(item, node);
    }
  }
}
