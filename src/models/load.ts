/**
 * Reading a project's SQL models, their schema.yml tests and report queries into nodes with
 * dependencies. Every problem in every file is collected, so one run shows them all.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { z } from 'zod';
import { TributaryError, isErrno } from '../core/index.js';
import { parseYaml, ProblemsError, type Problem } from '../project/index.js';
import { scanTemplate, type ModelConfig } from './resolver.js';

export interface ModelNode {
  name: string;
  /** Path relative to the project folder. */
  file: string;
  sql: string;
  config: ModelConfig;
  refs: string[];
  sources: { source: string; table: string }[];
  description?: string;
}

export type TestKind = 'unique' | 'not_null' | 'accepted_values' | 'relationships';

export interface ModelTest {
  /** e.g. `unique_sales_fact_sale_key`, as dbt names them. */
  name: string;
  model: string;
  column: string;
  kind: TestKind;
  severity: 'error' | 'warn';
  values?: (string | number | boolean)[];
  to?: string;
  field?: string;
  file: string;
}

export interface ReportNode {
  name: string;
  file: string;
  sql: string;
  refs: string[];
  sources: { source: string; table: string }[];
}

export interface ModelSet {
  models: ModelNode[];
  tests: ModelTest[];
  reports: ReportNode[];
}

const severity = z.enum(['error', 'warn']).default('error');
const testConfig = z.object({ severity }).strict().optional();
const testSchema = z.union([
  z.enum(['unique', 'not_null']),
  z.object({ unique: z.object({ config: testConfig }).strict().nullable() }).strict(),
  z.object({ not_null: z.object({ config: testConfig }).strict().nullable() }).strict(),
  z
    .object({
      accepted_values: z
        .object({
          values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
          config: testConfig,
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      relationships: z.object({ to: z.string(), field: z.string(), config: testConfig }).strict(),
    })
    .strict(),
]);
const schemaYml = z
  .object({
    version: z.literal(2),
    models: z
      .array(
        z
          .object({
            name: z.string(),
            description: z.string().optional(),
            columns: z
              .array(
                z
                  .object({
                    name: z.string(),
                    description: z.string().optional(),
                    tests: z.array(testSchema).optional(),
                    data_tests: z.array(testSchema).optional(),
                  })
                  .strict(),
              )
              .default([]),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

async function walk(dir: string, exts: string[]): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return []; // a missing models/ or reports/ folder is an empty one
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && exts.some((x) => e.name.endsWith(x)))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Loads models, tests and reports; throws one error listing every problem. */
export async function loadModels(
  projectDir: string,
  modelDirs: string[],
  reportDirs: string[],
): Promise<ModelSet> {
  const problems: Problem[] = [];
  const models: ModelNode[] = [];
  const tests: ModelTest[] = [];
  const reports: ReportNode[] = [];
  const rel = (p: string) => relative(projectDir, p);
  const collect = <T>(file: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof TributaryError) {
        problems.push({ message: err.message, location: err.location ?? { file } });
        return undefined;
      }
      throw err;
    }
  };

  for (const dir of modelDirs) {
    for (const path of await walk(dir, ['.sql'])) {
      const sql = await readFile(path, 'utf8');
      const scan = collect(rel(path), () => scanTemplate(rel(path), sql));
      if (!scan) continue;
      const name = basename(path, '.sql');
      const clash = models.find((m) => m.name === name);
      if (clash) {
        problems.push({
          message: `model name ${name} is also used by ${clash.file}`,
          location: { file: rel(path) },
        });
        continue;
      }
      models.push({
        name,
        file: rel(path),
        sql,
        config: scan.config,
        refs: scan.refs,
        sources: scan.sources,
      });
    }
  }
  for (const dir of modelDirs) {
    for (const path of await walk(dir, ['.yml', '.yaml'])) {
      const parsed = parseYaml(rel(path), await readFile(path, 'utf8'), schemaYml);
      problems.push(...parsed.problems);
      for (const [mi, m] of (parsed.value?.models ?? []).entries()) {
        const model = models.find((x) => x.name === m.name);
        if (!model) {
          problems.push({
            message: `schema.yml describes model ${m.name}, which has no .sql file`,
            location: { file: rel(path), path: `models.${mi}.name` },
          });
          continue;
        }
        if (m.description) model.description = m.description;
        for (const col of m.columns) {
          for (const t of [...(col.tests ?? []), ...(col.data_tests ?? [])]) {
            tests.push(toTest(t, m.name, col.name, rel(path)));
          }
        }
      }
    }
  }
  for (const dir of reportDirs) {
    for (const path of await walk(dir, ['.sql'])) {
      const sql = await readFile(path, 'utf8');
      const scan = collect(rel(path), () => scanTemplate(rel(path), sql));
      if (scan)
        reports.push({
          name: basename(path, '.sql'),
          file: rel(path),
          sql,
          refs: scan.refs,
          sources: scan.sources,
        });
    }
  }
  const names = new Set(models.map((m) => m.name));
  for (const node of [...models, ...reports]) {
    for (const r of node.refs) {
      if (!names.has(r))
        problems.push({ message: `ref('${r}') names no model`, location: { file: node.file } });
    }
  }
  for (const t of tests) {
    if (t.to && !names.has(t.to))
      problems.push({
        message: `relationships test points to ref('${t.to}'), which names no model`,
        location: { file: t.file },
      });
  }
  if (problems.length) throw new ProblemsError(problems);
  return { models, tests, reports };
}

function toTest(
  t: z.output<typeof testSchema>,
  model: string,
  column: string,
  file: string,
): ModelTest {
  const base = { model, column, file };
  if (typeof t === 'string')
    return { ...base, kind: t, severity: 'error', name: `${t}_${model}_${column}` };
  if ('unique' in t)
    return {
      ...base,
      kind: 'unique',
      severity: t.unique?.config?.severity ?? 'error',
      name: `unique_${model}_${column}`,
    };
  if ('not_null' in t)
    return {
      ...base,
      kind: 'not_null',
      severity: t.not_null?.config?.severity ?? 'error',
      name: `not_null_${model}_${column}`,
    };
  if ('accepted_values' in t) {
    const a = t.accepted_values;
    return {
      ...base,
      kind: 'accepted_values',
      severity: a.config?.severity ?? 'error',
      values: a.values,
      name: `accepted_values_${model}_${column}`,
    };
  }
  const r = t.relationships;
  const to = /^ref\(\s*['"]([^'"]+)['"]\s*\)$/.exec(r.to.trim())?.[1] ?? r.to;
  return {
    ...base,
    kind: 'relationships',
    severity: r.config?.severity ?? 'error',
    to,
    field: r.field,
    name: `relationships_${model}_${column}__${to}`,
  };
}
