/**
 * Snapshots (dbt's SnapshotParser): `{% snapshot %}` blocks in .sql files under the snapshot
 * paths, and snapshots defined in properties YAML with a `relation:` (dbt 1.9+), each
 * configured by the `snapshots:` tree.
 */
import { join, relative, sep } from 'node:path';
import { describe, type ParseSession } from './session.js';
import { asString, walkFolder } from './util.js';

/** Adds a node for every snapshot block and every YAML-defined snapshot. */
export async function parseSnapshots(s: ParseSession): Promise<void> {
  const { project } = s;
  for (const root of project.snapshotPaths) {
    const base = join(project.dir, root);
    for (const path of await walkFolder(base, ['.sql'])) {
      const file = s.rel(path);
      const raw = s.read(path);
      const tpl = await s.collect(file, () => s.env.parse(raw, s.templateName(file)));
      if (!tpl) continue;
      const inRoot = relative(base, path).split(sep).join('/');
      for (const [name, body] of tpl.snapshots) {
        const node = s.makeNode('snapshot', name, file, inRoot, raw, 'snapshots');
        const item = s.applyProperties(node, 'snapshots');
        await s.addRendered(node, body, file, item);
      }
    }
  }
  for (const item of s.properties.yamlSnapshots) {
    const e = item.entry;
    const file = item.props.file;
    const raw = `select * from {{ ${asString(e.relation)} }}`;
    const node = s.makeNode('snapshot', asString(e.name), file, file, raw, 'snapshots');
    describe(node, e);
    const tpl = await s.collect(file, () => s.env.parse(raw, s.templateName(file)));
    if (tpl) await s.addRendered(node, tpl, file, item);
  }
}
