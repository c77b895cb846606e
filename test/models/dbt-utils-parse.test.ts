/**
 * Smoke test on a real package: dbt-utils' own test project (integration_tests/, Apache-2.0, read
 * from ../shared/dbt-utils and never copied into the repo) parses with dbt-utils installed in its
 * dbt_packages/, as `dbt deps` would place it (its packages.yml says `local: ../`). Running the
 * suite is another test's; this one proves every macro, model, seed and test of it loads. When the
 * shared copy is absent the test says so and does not run.
 */
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDbtProject } from '../../src/models/index.js';
import { ProblemsError } from '../../src/project/index.js';
import { tempDir } from '../helpers.js';

const DBT_UTILS = resolve(import.meta.dirname, '../../../shared/dbt-utils');
const available = existsSync(join(DBT_UTILS, 'integration_tests', 'dbt_project.yml'));
if (!available) console.warn(`dbt-utils parse smoke test did not run: ${DBT_UTILS} is not there`);

/**
 * Parse problems that belong to other parts of issue 14, not to loading packages: dbt Relations
 * (`_is_relation` checks a Relation's metadata) and `modules` are part 3's, `dbt.string_literal`
 * and `dbt.escape_single_quotes` part 7's. Any other problem fails this test; once those parts
 * are merged this list is to be emptied, and the parse must then succeed outright.
 */
const GAPS_OWNED_ELSEWHERE = [
  /in macro _is_relation: compilation error: Macro \w+ expected a Relation/,
  /'modules' is undefined/,
  /has no attribute '(string_literal|escape_single_quotes)'/,
];

describe.skipIf(!available)("dbt-utils' integration_tests project", () => {
  const tmp = tempDir('trib-dbt-utils-');
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('parses with dbt_utils installed in dbt_packages/, without a problem', async () => {
    const repo = join(tmp, 'dbt-utils');
    cpSync(DBT_UTILS, repo, { recursive: true });
    const project = join(repo, 'integration_tests');
    const ownTests = join(DBT_UTILS, 'integration_tests');
    mkdirSync(join(project, 'dbt_packages'));
    cpSync(DBT_UTILS, join(project, 'dbt_packages', 'dbt_utils'), {
      recursive: true,
      filter: (p) => p !== ownTests && !p.startsWith(`${ownTests}/`),
    });
    writeFileSync(
      join(project, 'profiles.yml'),
      `integration_tests:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n      path: ${JSON.stringify(join(tmp, 'warehouse.duckdb'))}\n`,
    );
    const logs: string[] = [];
    let opened;
    try {
      opened = await openDbtProject(project, { profilesDir: project, log: (m) => logs.push(m) });
    } catch (err) {
      if (!(err instanceof ProblemsError)) throw err;
      const unexpected = err.problems
        .map((p) => `${p.location.file ?? ''}:${p.location.line ?? ''}: ${p.message}`)
        .filter((text) => !GAPS_OWNED_ELSEWHERE.some((gap) => gap.test(text)));
      expect(unexpected).toEqual([]);
      return;
    }
    try {
      const { manifest, packages, warnings } = opened.parsed;
      expect([...packages.keys()]).toEqual(['dbt_utils']);
      expect(
        warnings.filter((w) => w.includes('require-dbt-version') || w.includes('requires dbt')),
      ).toEqual([]);
      const byType = (t: string) =>
        [...manifest.nodes.values()].filter(
          (n) => n.resource_type === t && n.package_name === 'dbt_utils_integration_tests',
        ).length;
      expect(byType('seed')).toBeGreaterThan(60);
      expect(byType('model')).toBeGreaterThan(40);
      expect(byType('test')).toBeGreaterThan(100);
      expect(manifest.macros.has('macro.dbt_utils.star')).toBe(true);
    } finally {
      await opened.close();
    }
  });
});
