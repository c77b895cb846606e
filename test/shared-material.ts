/**
 * Where the workplace's read-only shared material is: dbt-utils at a fixed commit (issue 14's
 * proof) and dbt's published artifact schemas. Tests read it there and never copy it into the
 * repository. TRIBUTARY_SHARED_DIR wins; else `../shared` beside the checkout; else
 * `/work/shared`, where this machine keeps it, so a checkout made elsewhere (CI clones main into
 * a scratch folder) still finds it. Suites needing it say plainly that they did not run when it
 * is absent, and fail under CI=true.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

function candidates(): string[] {
  const fromEnv = process.env.TRIBUTARY_SHARED_DIR;
  if (fromEnv) return [resolve(fromEnv)];
  return [resolve(import.meta.dirname, '../../shared'), '/work/shared'];
}

/** The shared folder, or the first place looked at when none exists (for the message). */
export function sharedDir(): string {
  const all = candidates();
  return all.find((d) => existsSync(d)) ?? all[0]!;
}

/** A path inside the shared folder. */
export function sharedPath(...parts: string[]): string {
  return resolve(sharedDir(), ...parts);
}

/** dbt-utils at the shared commit: the package, with its own integration_tests project inside. */
export const DBT_UTILS = sharedPath('dbt-utils');

/**
 * Whether dbt-utils' integration_tests are there. When they are not, `what` did not run: under
 * CI=true that throws (those suites must run there), elsewhere it is said on the console.
 */
export function dbtUtilsThere(what: string): boolean {
  if (existsSync(resolve(DBT_UTILS, 'integration_tests', 'dbt_project.yml'))) return true;
  const why = `${what}: dbt-utils' integration_tests are not at ${DBT_UTILS}`;
  if (process.env.CI === 'true') throw new Error(`${why}, and on CI it must run`);
  console.warn(`${why}: it did not run`);
  return false;
}

/**
 * A scratch copy of dbt-utils under `tmp` whose integration_tests project has dbt_utils in
 * dbt_packages/ (the package without its own test project, as deps would link it) and a
 * profiles.yml on the DuckDB file `duckdbFile`. Returns the project's folder.
 */
export function scratchDbtUtilsProject(tmp: string, duckdbFile: string): string {
  const repo = resolve(tmp, 'dbt-utils');
  cpSync(DBT_UTILS, repo, { recursive: true });
  const project = resolve(repo, 'integration_tests');
  const ownTests = resolve(DBT_UTILS, 'integration_tests');
  mkdirSync(resolve(project, 'dbt_packages'));
  cpSync(DBT_UTILS, resolve(project, 'dbt_packages', 'dbt_utils'), {
    recursive: true,
    filter: (p) => p !== ownTests && !p.startsWith(`${ownTests}/`),
  });
  writeFileSync(
    resolve(project, 'profiles.yml'),
    `integration_tests:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n      path: ${JSON.stringify(duckdbFile)}\n`,
  );
  return project;
}
