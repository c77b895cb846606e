/**
 * dbt's published JSON schemas for its artifacts (manifest v12, run-results v6, catalog v1,
 * sources v3), read from ../shared/dbt-schemas/ (Apache-2.0, from dbt-core; never copied into
 * this repository), and `validateArtifact` to check a written artifact against them. Without the
 * folder the suites that need it say plainly that they did not run; under CI=true they must run.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath } from '../shared-material.js';

export type ArtifactKind = 'manifest' | 'run-results' | 'catalog' | 'sources';

/** The schema file of each artifact kind, under the schemas folder. */
export const SCHEMA_FILES: Record<ArtifactKind, string> = {
  manifest: 'manifest/v12.json',
  'run-results': 'run-results/v6.json',
  catalog: 'catalog/v1.json',
  sources: 'sources/v3.json',
};

/** The schemas folder: TRIBUTARY_DBT_SCHEMAS, else dbt-schemas in the shared folder. */
export const DBT_SCHEMAS_DIR = process.env.TRIBUTARY_DBT_SCHEMAS ?? sharedPath('dbt-schemas');

/**
 * Whether the schemas are there. Under CI=true their absence throws (the suites must run);
 * elsewhere it says why the suites did not run and returns false, for `describe.skipIf`.
 */
export function dbtSchemasAvailable(): boolean {
  const missing = Object.values(SCHEMA_FILES).filter((f) => !existsSync(join(DBT_SCHEMAS_DIR, f)));
  if (!missing.length) return true;
  const why = `dbt's JSON schemas are not at ${DBT_SCHEMAS_DIR} (missing ${missing.join(', ')})`;
  if (process.env.CI === 'true')
    throw new Error(`${why}, and on CI the artifact schema suites must run`);
  console.warn(`${why}: the artifact schema suites did not run`);
  return false;
}

// ajv-formats is CommonJS: its default export arrives as the module object under NodeNext.
const addFormats = ((addFormatsPlugin as unknown as { default?: unknown }).default ??
  addFormatsPlugin) as (ajv: Ajv2020) => Ajv2020;

const validators = new Map<ArtifactKind, ValidateFunction>();

function validator(kind: ArtifactKind): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    const schema = JSON.parse(
      readFileSync(join(DBT_SCHEMAS_DIR, SCHEMA_FILES[kind]), 'utf8'),
    ) as object;
    // strict off: dbt's schemas carry keywords ajv does not know (e.g. `title` on $refs is fine,
    // but some union shapes trip strictTypes); allErrors so one run lists every problem.
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
    v = ajv.compile(schema);
    validators.set(kind, v);
  }
  return v;
}

/** One schema error: where in the artifact (a JSON path like `$.nodes["model.x.y"].config`), and what. */
export interface ArtifactError {
  path: string;
  message: string;
}

/** A JSON pointer (`/nodes/model.x.y/config`) as a JSON path (`$.nodes["model.x.y"].config`). */
function jsonPath(pointer: string): string {
  let out = '$';
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(key)
      ? `[${key}]`
      : /^[A-Za-z_]\w*$/.test(key)
        ? `.${key}`
        : `[${JSON.stringify(key)}]`;
  }
  return out;
}

function artifactError(e: ErrorObject): ArtifactError {
  const p = e.params as Record<string, unknown>;
  let message = e.message ?? e.keyword;
  if (e.keyword === 'additionalProperties')
    message = `has a property dbt's schema forbids: ${String(p.additionalProperty)}`;
  if (e.keyword === 'required')
    message = `lacks ${String(p.missingProperty)}, which dbt's schema requires`;
  if (e.keyword === 'enum') message += `: ${JSON.stringify(p.allowedValues)}`;
  return { path: jsonPath(e.instancePath), message };
}

/**
 * ajv reports the errors of every branch of an `anyOf` (a manifest node is checked as each of
 * dbt's eight node types). Keeps, for each anyOf, only the branch with the fewest errors (the
 * node type it is meant to be), outer anyOfs first; drops the anyOf's own summary error then.
 */
function bestBranches(errors: ErrorObject[]): ErrorObject[] {
  let kept = errors;
  const sites = errors
    .filter((e) => e.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const site of sites) {
    const prefix = `${site.schemaPath}/`;
    const branchOf = (e: ErrorObject): number | undefined =>
      e.schemaPath.startsWith(prefix) &&
      (e.instancePath === site.instancePath || e.instancePath.startsWith(`${site.instancePath}/`))
        ? Number(e.schemaPath.slice(prefix.length).split('/')[0])
        : undefined;
    const counts = new Map<number, number>();
    for (const e of kept) {
      const b = branchOf(e);
      if (b !== undefined) counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    if (!counts.size) continue;
    const best = [...counts].sort((a, b) => a[1] - b[1])[0]![0];
    kept = kept.filter((e) => {
      if (e === site) return false;
      const b = branchOf(e);
      return b === undefined || b === best;
    });
  }
  return kept;
}

/**
 * Validates an artifact against dbt's schema for its kind. Returns every error, each with the
 * JSON path of the offending value; an empty list when the artifact is valid. Of an `anyOf`, only
 * the closest branch's errors are kept (bestBranches); the list is capped at `limit`.
 */
export function validateArtifact(kind: ArtifactKind, json: unknown, limit = 50): ArtifactError[] {
  const v = validator(kind);
  if (v(json)) return [];
  const seen = new Set<string>();
  const out: ArtifactError[] = [];
  for (const e of bestBranches(v.errors ?? [])) {
    const d = artifactError(e);
    const key = `${d.path} ${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
    if (out.length >= limit) break;
  }
  return out;
}

/** The errors as lines (`$.path: message`), for an assertion message. */
export function formatArtifactErrors(errors: ArtifactError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('\n');
}
