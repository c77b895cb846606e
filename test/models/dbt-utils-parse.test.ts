/**
 * Smoke test on a real package: dbt-utils' own test project (integration_tests/, Apache-2.0, read
 * from ../shared/dbt-utils and never copied into the repo) parses with dbt-utils installed in its
 * dbt_packages/, as `dbt deps` would place it (its packages.yml says `local: ../`). Running the
 * suite is another test's; this one proves every macro, model, seed and test of it loads. When the
 * shared copy is absent the test says so and does not run.
 */
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDbtProject } from '../../src/models/index.js';
import { tempDir } from '../helpers.js';
import { sharedPath } from '../shared-material.js';

const DBT_UTILS = sharedPath('dbt-utils');
const available = existsSync(join(DBT_UTILS, 'integration_tests', 'dbt_project.yml'));
if (!available) {
  const why = `dbt-utils parse smoke test: ${DBT_UTILS} is not there`;
  if (process.env.CI === 'true') throw new Error(`${why}, and on CI it must run`);
  console.warn(`${why}: it did not run`);
}

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
    const opened = await openDbtProject(project, { profilesDir: project });
    try {
      const { manifest, packages, warnings } = opened.parsed;
      expect([...packages.keys()]).toEqual(['dbt_utils']);
      expect(
        warnings.filter((w) => w.includes('require-dbt-version') || w.includes('requires dbt')),
      ).toEqual([]);
      // Its schema.yml describes a model that does not exist: dbt warns and goes on.
      expect(warnings.some((w) => w.includes('test_unpivot_original_api'))).toBe(true);
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
