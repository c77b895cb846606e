/**
 * dbt_project.yml, defined once with zod as dbt-core defines it (the Project contract in
 * core/dbt/contracts/project.py and the JSON schema dbt ships in core/dbt/jsonschemas/project/):
 * every top-level key dbt accepts is accepted with dbt's types, and what dbt refuses is refused —
 * an unknown key (a typo such as `model_paths`), a value of the wrong type (`models: "x"`,
 * `model-paths: 3`), a reserved project name, a key given twice under its old and new names.
 * Keys Tributary accepts but does not act on are listed in IGNORED_DBT_PROJECT_KEYS, and in
 * docs/dbt-compatibility.md.
 */
import { z } from 'zod';

/** Keys dbt accepts that Tributary reads and then does nothing with, and why. */
export const IGNORED_DBT_PROJECT_KEYS: Readonly<Record<string, string>> = {
  'config-version': 'only version 2 exists since dbt 1.0',
  'clean-targets': 'there is no `dbt clean`',
  'log-path': 'logs go to stderr and the run history',
  packages: 'packages are not supported',
  'query-comment': 'no comment is added to queries',
  'asset-paths': '`dbt docs serve` is not supported',
  'function-paths': 'user-defined functions are not supported',
  functions: 'user-defined functions are not supported',
  'restrict-access': 'groups and access are not supported',
  'dbt-cloud': 'dbt Cloud settings',
  flags: 'dbt CLI flags (Tributary has its own options)',
  analyses: 'analyses take no project-level config',
  unit_tests: 'unit tests are not supported',
  metrics: 'the semantic layer is not supported',
  'semantic-models': 'the semantic layer is not supported',
  'saved-queries': 'the semantic layer is not supported',
  exposures: 'exposures are not supported',
  sync: 'dbt Cloud settings',
  'project-root': 'the project is the folder dbt_project.yml is in',
};

/** Names dbt refuses for a project: they would shadow its Jinja context (BANNED_PROJECT_NAMES). */
const RESERVED_NAMES = new Set([
  '_sql_results',
  'adapter',
  'api',
  'column',
  'config',
  'context',
  'database',
  'env',
  'env_var',
  'exceptions',
  'execute',
  'flags',
  'fromjson',
  'fromyaml',
  'graph',
  'invocation_id',
  'load_agate_table',
  'load_result',
  'log',
  'model',
  'modules',
  'post_hooks',
  'pre_hooks',
  'ref',
  'render',
  'return',
  'run_started_at',
  'schema',
  'source',
  'sql',
  'sql_now',
  'store_result',
  'store_raw_result',
  'target',
  'this',
  'tojson',
  'toyaml',
  'try_or_compiler_error',
  'var',
  'write',
]);

/** dbt's version pattern: semver, or two numbers (`1.0`). */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)(\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?)?$/;

/** How a value reads in an error: `"x"`, `3`, `a list`, `a mapping`, `nothing`. */
function shown(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

const expected = (what: string) => ({
  error: (issue: { input?: unknown }) => `expected ${what}, got ${shown(issue.input)}`,
});

const folder = z.string(expected('a folder name')).nullish();
const folders = z
  .array(z.string(expected('a folder name')), expected('a list of folders, like [models]'))
  .nullish();
const mapping = z.record(z.string(), z.unknown(), expected('a mapping')).nullish();
const configTree = z
  .record(z.string(), z.unknown(), expected('a mapping of folders and +configs'))
  .nullish();
const stringOrList = z
  .union([z.string(), z.array(z.string())], expected('a string or a list of strings'))
  .nullish();
const flag = z.boolean(expected('true or false')).nullish();

const name = z
  .string(expected('a project name'))
  .regex(
    /^[A-Za-z_]\w*$/,
    'expected a name made of letters, digits and _, not starting with a digit',
  )
  .refine((n) => !RESERVED_NAMES.has(n), {
    error: (issue) => `${String(issue.input)} is a reserved word and cannot name a project`,
  });

/** The checks dbt runs on the project name before anything else (vars are keyed by it). */
export const dbtProjectNameSchema = name;

/** The whole file, checked after rendering: strict at the top level, as dbt is. */
export const dbtProjectSchema = z
  .object({
    name,
    version: z
      .union(
        [z.string().regex(SEMVER, 'expected a version like 1.0.0 or 1.0'), z.number()],
        expected('a version like 1.0.0'),
      )
      .nullish(),
    'config-version': z.number(expected('2')).int().nullish(),
    profile: z.string(expected('a profile name')).nullish(),
    'model-paths': folders,
    'source-paths': folders,
    'seed-paths': folders,
    'data-paths': folders,
    'snapshot-paths': folders,
    'macro-paths': folders,
    'test-paths': folders,
    'analysis-paths': folders,
    'docs-paths': folders,
    'asset-paths': folders,
    'function-paths': folders,
    'clean-targets': folders,
    'target-path': folder,
    'log-path': folder,
    'packages-install-path': folder,
    'project-root': folder,
    'on-run-start': stringOrList,
    'on-run-end': stringOrList,
    'require-dbt-version': stringOrList,
    vars: mapping,
    models: configTree,
    seeds: configTree,
    snapshots: configTree,
    sources: configTree,
    tests: configTree,
    data_tests: configTree,
    analyses: configTree,
    unit_tests: configTree,
    metrics: configTree,
    'semantic-models': configTree,
    'saved-queries': configTree,
    exposures: configTree,
    functions: configTree,
    quoting: z
      .object(
        {
          database: flag,
          schema: flag,
          identifier: flag,
          project: flag,
          snowflake_ignore_case: flag,
        },
        expected('a mapping of database, schema, identifier: true or false'),
      )
      .strict()
      .nullish(),
    dispatch: z
      .array(
        z
          .object(
            {
              macro_namespace: z.string(expected('a macro namespace')),
              search_order: z.array(z.string(), expected('a list of package names')),
            },
            expected('a mapping with macro_namespace and search_order'),
          )
          .loose(),
        expected('a list of {macro_namespace, search_order}'),
      )
      .nullish(),
    'query-comment': z
      .union(
        [
          z.string(),
          z
            .object({
              comment: z.string().nullish(),
              append: z.boolean().nullish(),
              'job-label': z.boolean().nullish(),
            })
            .strict(),
        ],
        expected('a comment, or a mapping of comment, append and job-label'),
      )
      .nullish(),
    'restrict-access': flag,
    'dbt-cloud': mapping,
    flags: mapping,
    sync: mapping,
    packages: z.array(z.unknown(), expected('a list of packages')).nullish(),
  })
  .strict()
  .superRefine((p, ctx) => {
    // dbt refuses a key given under both its deprecated and its current name.
    for (const [old, current] of [
      ['source-paths', 'model-paths'],
      ['data-paths', 'seed-paths'],
    ] as const)
      if (p[old] !== undefined && p[current] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [old],
          message: `${old} and ${current} cannot both be defined (${old} is the old name of ${current})`,
          params: { hint: `keep ${current} and remove ${old}` },
        });
    if (p.tests && Object.keys(p.tests).length && p.data_tests && Object.keys(p.data_tests).length)
      ctx.addIssue({
        code: 'custom',
        path: ['tests'],
        message:
          'tests and data_tests cannot both be defined (tests is the old name of data_tests)',
        params: { hint: 'move the configs under tests: into data_tests:' },
      });
  });

/** Every top-level key dbt_project.yml may have. */
export const DBT_PROJECT_KEYS: readonly string[] = Object.keys(dbtProjectSchema.shape);

const EXAMPLES: Record<string, string> = {
  name: 'name: my_project',
  version: "version: '1.0.0'",
  'config-version': 'config-version: 2',
  profile: 'profile: my_profile',
  vars: 'vars: {start_date: 2024-01-01}',
  quoting: 'quoting: {identifier: false}',
  dispatch: 'dispatch: [{macro_namespace: dbt_utils, search_order: [my_project, dbt_utils]}]',
  'query-comment': "query-comment: 'run by {{ target.name }}'",
  'restrict-access': 'restrict-access: true',
  packages: 'packages: [{package: dbt-labs/dbt_utils, version: 1.3.0}]',
};

/** A one-line example of how `key` is written, for the hint of an error about its value. */
export function dbtProjectKeyExample(key: string): string | undefined {
  if (EXAMPLES[key]) return EXAMPLES[key];
  const field = (dbtProjectSchema.shape as Record<string, z.ZodType>)[key];
  if (field === undefined) return undefined;
  if (field === folders) return `${key}: [folder]`;
  if (field === folder) return `${key}: folder`;
  if (field === configTree) return `${key}: {my_project: {+enabled: true}}`;
  if (field === stringOrList) return `${key}: ['...', '...']`;
  if (field === mapping) return `${key}: {key: value}`;
  return undefined;
}
