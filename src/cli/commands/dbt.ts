/**
 * dbt's verbs on a project folder: build, run, test, seed, snapshot, compile, ls, docs generate
 * and source freshness. A plain dbt project uses its profiles.yml; a Tributary project (with
 * tributary.yml) builds in its own warehouse under the project lock, whatever profiles.yml says.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TributaryError, type ProgressReporter } from '../../core/index.js';
import type { Engine } from '../../engines/index.js';
import {
  listNodes,
  openDbtProject,
  runVerb,
  sourceFreshness,
  writeCatalog,
  writeManifest,
  type DbtVerb,
  type ParsedProject,
  type RunSummary,
} from '../../models/index.js';
import { openWorkspace } from '../../orchestrator/index.js';
import { CONFIG_FILE } from '../../project/index.js';
import type { Output } from '../output.js';

export interface DbtCliOptions {
  projectDir: string;
  profilesDir?: string;
  target?: string;
  select?: string[];
  exclude?: string[];
  threads?: number;
  fullRefresh?: boolean;
  /** --vars as YAML/JSON text. */
  vars?: Record<string, unknown>;
  progress: ProgressReporter;
}

/** True when the folder is a Tributary pipeline (its models build in the pipeline's warehouse). */
export function isPipelineProject(dir: string): boolean {
  return existsSync(join(resolve(dir), CONFIG_FILE));
}

/** Opens the project the dbt verbs act on, runs `fn`, and closes everything. */
async function withDbt<T>(
  opts: DbtCliOptions,
  fn: (pp: ParsedProject, engine: Engine) => Promise<T>,
): Promise<T> {
  if (isPipelineProject(opts.projectDir)) {
    if (opts.target)
      throw new TributaryError('--target does not apply to a Tributary project', {
        code: 'USAGE',
        hint: "the models build in tributary.yml's warehouse; run dbt verbs on a folder without tributary.yml to use profiles.yml",
      });
    const ws = await openWorkspace(opts.projectDir, 'dbt');
    try {
      if (opts.vars) Object.assign(ws.models.project.vars, opts.vars);
      return await fn(ws.models, ws.warehouse);
    } finally {
      await ws.close();
    }
  }
  const opened = await openDbtProject(opts.projectDir, {
    ...(opts.profilesDir ? { profilesDir: opts.profilesDir } : {}),
    ...(opts.target ? { target: opts.target } : {}),
    ...(opts.vars ? { vars: opts.vars } : {}),
    log: (m) => opts.progress.log(m),
  });
  try {
    return await fn(opened.parsed, opened.engine);
  } finally {
    await opened.close();
  }
}

/** Runs one of the executing verbs. */
export async function runDbtVerb(verb: DbtVerb, opts: DbtCliOptions): Promise<RunSummary> {
  return withDbt(opts, (pp, engine) =>
    runVerb(pp, engine, {
      verb,
      select: opts.select ?? [],
      exclude: opts.exclude ?? [],
      ...(opts.threads ? { threads: opts.threads } : {}),
      fullRefresh: Boolean(opts.fullRefresh),
      progress: opts.progress,
      log: (m) => opts.progress.log(m),
      onResult: (r, node, i, total) => {
        if (r.status === 'error' || r.status === 'fail' || r.status === 'warn')
          opts.progress.log(
            `${i} of ${total} ${r.status.toUpperCase()} ${node.resource_type} ${node.name}: ${r.message.split('\n')[0]}`,
          );
      },
    }),
  );
}

/** The one-screen summary dbt users expect: what failed, then the totals. */
export function formatRunSummaryDbt(summary: RunSummary, out: Output): string {
  const lines: string[] = [];
  for (const r of summary.results) {
    if (r.status === 'error' || r.status === 'fail')
      lines.push(
        `${out.paint('red', r.status.toUpperCase())} ${r.unique_id}\n  ${r.message.replaceAll('\n', '\n  ')}`,
      );
    else if (r.status === 'warn')
      lines.push(`${out.paint('yellow', 'WARN')} ${r.unique_id}: ${r.message}`);
  }
  const c = summary.counts;
  const pass = (c.success ?? 0) + (c.pass ?? 0);
  const total = summary.results.length;
  lines.push(
    `${summary.success ? out.paint('green', 'Done.') : out.paint('red', 'Done with failures.')} PASS=${pass} WARN=${c.warn ?? 0} ERROR=${(c.error ?? 0) + (c.fail ?? 0)} SKIP=${c.skipped ?? 0} TOTAL=${total} in ${summary.elapsed.toFixed(2)}s`,
  );
  return lines.join('\n');
}

export type LsOutput = 'name' | 'selector' | 'path' | 'json';

/** `ls`: the selected nodes, as dbt prints them. */
export async function listDbt(
  opts: DbtCliOptions & { resourceType?: string[]; output: LsOutput },
): Promise<string> {
  return withDbt(opts, async (pp) => {
    const nodes = listNodes(pp, {
      select: opts.select ?? [],
      exclude: opts.exclude ?? [],
      ...(opts.resourceType?.length ? { resourceType: opts.resourceType } : {}),
    });
    return nodes
      .map((n) => {
        switch (opts.output) {
          case 'name':
            return n.name;
          case 'path':
            return n.original_file_path;
          case 'json':
            return JSON.stringify({
              name: n.name,
              resource_type: n.resource_type,
              unique_id: n.unique_id,
              original_file_path: n.original_file_path,
              config: { materialized: n.config.materialized, tags: n.config.tags },
              tags: n.tags,
              depends_on: n.depends_on,
            });
          default:
            return n.fqn.join('.');
        }
      })
      .join('\n');
  });
}

/** `docs generate`: manifest.json and catalog.json (columns read from the warehouse). */
export async function docsGenerate(opts: DbtCliOptions): Promise<string[]> {
  return withDbt(opts, async (pp, engine) => {
    const id = `docs-${Date.now()}`;
    return [await writeManifest(pp, id), await writeCatalog(pp, engine, id)];
  });
}

/** `source freshness`: writes target/sources.json and returns each source's status. */
export async function freshnessDbt(opts: DbtCliOptions) {
  return withDbt(opts, (pp, engine) =>
    sourceFreshness(pp, engine, { select: opts.select ?? [], exclude: opts.exclude ?? [] }),
  );
}
