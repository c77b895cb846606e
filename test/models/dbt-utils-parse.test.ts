/**
 * Smoke test on a real package: dbt-utils' own test project (integration_tests/, Apache-2.0, read
 * from ../shared/dbt-utils and never copied into the repo) parses with dbt-utils installed in its
 * dbt_packages/, as `dbt deps` would place it (its packages.yml says `local: ../`). Running the
 * suite is another test's; this one proves every macro, model, seed and test of it loads. When the
 * shared copy is absent the test says so and does not run.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDbtProject } from '../../src/models/index.js';
import { tempDir } from '../helpers.js';
import { dbtUtilsThere, scratchDbtUtilsProject } from '../shared-material.js';

const available = dbtUtilsThere('dbt-utils parse smoke test');

describe.skipIf(!available)("dbt-utils' integration_tests project", () => {
  const tmp = tempDir('trib-dbt-utils-');
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('parses with dbt_utils installed in dbt_packages/, without a problem', async () => {
    const project = scratchDbtUtilsProject(tmp, join(tmp, 'warehouse.duckdb'));
    const opened = await openDbtProject(project, { profilesDir: project });
    try {
      const { manifest, packages, warnings } = opened.parsed;
      expect([...packages.keys()]).toEqual(['dbt_utils']);
      expect(
        warnings.filter(
          (w) => w.message.includes('require-dbt-version') || w.message.includes('requires dbt'),
        ),
      ).toEqual([]);
      // Its schema.yml describes a model that does not exist: dbt warns and goes on.
      expect(warnings.some((w) => w.message.includes('test_unpivot_original_api'))).toBe(true);
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
