/**
 * Every artifact Tributary writes validates against dbt's published JSON schemas (manifest v12,
 * run-results v6, catalog v1, sources v3, read from ../shared/dbt-schemas/): the fixture projects
 * built, seeded, snapshotted and checked for freshness on each engine, then each artifact read back
 * and validated. Without the schemas folder the suite says it did not run (under CI=true it fails).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openDbtProject,
  sourceFreshness,
  writeCatalog,
  writeManifest,
} from '../../src/models/index.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl } from '../services.js';
import { DbtFixture, describeEachEngine, type EngineName } from './dbt.js';
import {
  dbtSchemasAvailable,
  formatArtifactErrors,
  validateArtifact,
  type ArtifactKind,
} from './dbt-schemas.js';
import { dbtUtilsThere, scratchDbtUtilsProject } from '../shared-material.js';

const schemas = dbtSchemasAvailable();

const FILES: Record<ArtifactKind, string> = {
  manifest: 'manifest.json',
  'run-results': 'run_results.json',
  catalog: 'catalog.json',
  sources: 'sources.json',
};

/** Reads target/<artifact> of a fixture and expects dbt's schema to accept it. */
function expectValid(f: DbtFixture, kind: ArtifactKind): Record<string, unknown> {
  const json = JSON.parse(f.read(join('target', FILES[kind]))) as Record<string, unknown>;
  const errors = validateArtifact(kind, json);
  expect(errors, `${f.fixture} ${FILES[kind]}:\n${formatArtifactErrors(errors)}`).toEqual([]);
  return json;
}

/** The catalog name dbt's adapter gives the fixture's target. */
const catalogOf = (engine: EngineName) =>
  engine === 'duckdb' ? 'warehouse' : new URL(postgresTestUrl).pathname.slice(1);

describe.skipIf(!schemas)('artifacts against dbt schemas', () => {
  describeEachEngine('shop: build and docs generate', (engine) => {
    let f: DbtFixture;
    beforeAll(async () => {
      f = new DbtFixture('shop', engine);
      await f.run('build');
      await f.with((p) => writeCatalog(p.parsed, p.engine, 'docs-test'));
    });
    afterAll(() => f.cleanup());

    it('manifest.json validates against manifest v12', () => {
      expectValid(f, 'manifest');
    });
    it('run_results.json validates against run-results v6', () => {
      expectValid(f, 'run-results');
    });
    it('run_results.json has no ephemeral model, which dbt never runs', () => {
      const doc = expectValid(f, 'run-results') as { results: { unique_id: string }[] };
      const ids = doc.results.map((r) => r.unique_id);
      expect(ids).toContain('model.shop.customer_revenue');
      expect(ids).not.toContain('model.shop.int_paid_orders');
    });
    it('catalog.json validates against catalog v1', () => {
      expectValid(f, 'catalog');
    });

    it('fills database, relation_name and macros as dbt does', () => {
      const m = expectValid(f, 'manifest') as {
        nodes: Record<string, { database: string; relation_name: string | null }>;
        macros: Record<string, { package_name: string; path: string; macro_sql: string }>;
        docs: Record<string, { resource_type: string; path: string }>;
        metadata: Record<string, unknown>;
      };
      const db = catalogOf(engine);
      expect(m.nodes['model.shop.stg_orders']).toMatchObject({
        database: db,
        relation_name: `"${db}"."${f.schema}"."stg_orders"`,
      });
      expect(m.macros['macro.shop.cents_to_units']).toMatchObject({
        package_name: 'shop',
        path: 'macros/units.sql',
      });
      expect(m.macros['macro.shop.cents_to_units']!.macro_sql).toMatch(
        /^\{%-? *macro cents_to_units\([\s\S]*endmacro *-?%\}$/,
      );
      expect(m.macros['macro.dbt.generate_schema_name']).toMatchObject({ package_name: 'dbt' });
      expect(m.docs['doc.shop.customers_doc']).toMatchObject({ resource_type: 'doc' });
      expect(m.metadata).toMatchObject({ adapter_type: engine, project_name: 'shop' });
    });
  });

  describeEachEngine(
    'failing: seed, then build with a failing test and skipped nodes',
    (engine) => {
      let f: DbtFixture;
      beforeAll(async () => {
        f = new DbtFixture('failing', engine);
      });
      afterAll(() => f.cleanup());

      it('seed writes a manifest and run results dbt accepts', async () => {
        await f.run('seed');
        expectValid(f, 'manifest');
        expectValid(f, 'run-results');
      });
      it('build, with fail and skipped results, too', async () => {
        const s = await f.run('build', { threads: 2 });
        expect(s.results.map((r) => r.status)).toEqual(expect.arrayContaining(['fail', 'skipped']));
        expectValid(f, 'manifest');
        expectValid(f, 'run-results');
      });
    },
  );

  describeEachEngine('snapshots: snapshot', (engine) => {
    let f: DbtFixture;
    beforeAll(async () => {
      f = new DbtFixture('snapshots', engine);
      const src = f.rel('customers', 'raw');
      await f.exec(
        `CREATE SCHEMA "${f.schema}_raw"`,
        `CREATE TABLE ${src} (id integer, email varchar, updated_at timestamp)`,
        `INSERT INTO ${src} VALUES (1, 'ada@example.com', TIMESTAMP '2024-01-01 00:00:00')`,
      );
      await f.run('snapshot');
      await f.with((p) => writeCatalog(p.parsed, p.engine, 'docs-test'));
    });
    afterAll(() => f.cleanup());

    it('manifest, run results and catalog validate', () => {
      expectValid(f, 'manifest');
      expectValid(f, 'run-results');
      expectValid(f, 'catalog');
    });
  });

  describeEachEngine('incremental: run and source freshness', (engine) => {
    let f: DbtFixture;
    const now = new Date('2024-06-01T14:00:00Z');
    beforeAll(async () => {
      f = new DbtFixture('incremental', engine);
      const raw = f.rel('raw_events', 'raw');
      await f.exec(
        `CREATE SCHEMA "${f.schema}_raw"`,
        `CREATE TABLE ${raw} (id integer, account varchar, kind varchar, amount integer, loaded_at timestamp)`,
        `INSERT INTO ${raw} VALUES (1, 'a', 'click', 1, TIMESTAMP '2024-06-01 12:00:00')`,
        `CREATE TABLE ${f.rel('accounts', 'raw')} (id integer, loaded_at timestamp)`,
      );
      await f.run('run');
    });
    afterAll(() => f.cleanup());

    it('manifest and run results validate', () => {
      expectValid(f, 'manifest');
      expectValid(f, 'run-results');
    });

    it('sources.json validates, with a stale source and a runtime error', async () => {
      await f.with((p) => sourceFreshness(p.parsed, p.engine, {}, now));
      const doc = expectValid(f, 'sources') as { results: Record<string, unknown>[] };
      expect(doc.results[0]).toMatchObject({
        unique_id: 'source.incr.raw.events',
        status: 'warn',
        max_loaded_at: '2024-06-01T12:00:00.000+00:00',
        max_loaded_at_time_ago_in_s: 7200,
      });
      await f.exec(`DROP TABLE ${f.rel('raw_events', 'raw')}`);
      await f.with((p) => sourceFreshness(p.parsed, p.engine, {}, now));
      const broken = expectValid(f, 'sources') as { results: Record<string, unknown>[] };
      expect(broken.results[0]).toMatchObject({ status: 'runtime error' });
      expect(Object.keys(broken.results[0]!).sort()).toEqual(['error', 'status', 'unique_id']);
    });
  });

  describe('validateArtifact', () => {
    it('names the JSON path of what dbt forbids or lacks', () => {
      const f = new DbtFixture('failing', 'duckdb');
      return f
        .run('seed')
        .then(() => {
          const m = JSON.parse(readFileSync(join(f.dir, 'target/manifest.json'), 'utf8')) as {
            nodes: Record<string, Record<string, unknown>>;
            docs: Record<string, unknown>;
          };
          m.nodes['model.failing.greetings']!.extra_field = 1;
          delete m.nodes['seed.failing.people']!.checksum;
          const errors = validateArtifact('manifest', m);
          const text = formatArtifactErrors(errors);
          expect(text).toContain(
            `$.nodes["model.failing.greetings"]: has a property dbt's schema forbids: extra_field`,
          );
          expect(text).toContain(
            `$.nodes["seed.failing.people"]: lacks checksum, which dbt's schema requires`,
          );
        })
        .finally(() => f.cleanup());
    });
  });

  /** dbt-utils' own test project (read from ../shared/dbt-utils, copied to a temp folder). */
  const utilsThere = dbtUtilsThere('the dbt-utils manifest check');

  describe.skipIf(!utilsThere)("dbt-utils' integration_tests, with dbt_utils installed", () => {
    const tmp = tempDir('trib-artifacts-utils-');
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it("writes a manifest dbt accepts, listing the package's macros and nodes", async () => {
      const project = scratchDbtUtilsProject(tmp, join(tmp, 'utils.duckdb'));
      const opened = await openDbtProject(project, { profilesDir: project });
      try {
        const path = await writeManifest(opened.parsed, 'utils-test');
        const m = JSON.parse(readFileSync(path, 'utf8')) as {
          macros: Record<string, { package_name: string; path: string; macro_sql: string }>;
          nodes: Record<string, { package_name: string; database: string }>;
        };
        const errors = validateArtifact('manifest', m);
        expect(errors, formatArtifactErrors(errors)).toEqual([]);
        expect(m.macros['macro.dbt_utils.star']).toMatchObject({
          package_name: 'dbt_utils',
          path: 'macros/sql/star.sql',
        });
        expect(m.macros['macro.dbt_utils.star']!.macro_sql).toMatch(/^\{% macro star\(/);
        expect(Object.values(m.macros).every((x) => x.macro_sql.length > 0)).toBe(true);
        expect(Object.values(m.nodes).every((n) => n.database === 'utils')).toBe(true);
      } finally {
        await opened.close();
      }
    });
  });
});
