/**
 * Executing one node: compile it against the live warehouse (is_incremental() and run_query()
 * need it), run its hooks and materialization or test, and report a dbt-shaped result. Both the
 * dbt verbs (runner.ts) and the pipeline's orchestrator call this, so a model behaves the same
 * whichever way it is run.
 */
import { randomUUID } from 'node:crypto';
import { relative, sep } from 'node:path';
import { TributaryError, describeError } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import { compileNode } from './compile.js';
import { defaultConfig } from './config.js';
import { nodeGlobals, type CompileRuntime } from './context.js';
import { runDataTest } from './data-test.js';
import { materializeModel } from './materialize.js';
import type { ParsedProject } from './parse.js';
import { loadSeed } from './seeds.js';
import { runSnapshot } from './snapshot.js';
import { newNode, type Node } from './types.js';

export type NodeStatus = 'success' | 'error' | 'skipped' | 'pass' | 'fail' | 'warn';

export interface NodeResult {
  unique_id: string;
  status: NodeStatus;
  message: string;
  failures: number | null;
  rows: number | null;
  compiled_code: string | null;
  relation_name: string | null;
  timing: { name: 'compile' | 'execute'; started_at: string; completed_at: string }[];
  execution_time: number;
  thread_id: string;
  /** The error, kept for the CLI (with its location) when status is error. */
  error?: unknown;
}

export interface SessionOptions {
  fullRefresh?: boolean;
  /** `--store-failures`: tests without a store_failures config keep their failing rows. */
  storeFailures?: boolean;
  which?: string;
  log?: (message: string) => void;
  /** Snapshot time for the check strategy; defaults to now. */
  now?: Date;
  /** Vars over the project's (a partition's window, like --vars). */
  vars?: Record<string, unknown>;
  /**
   * Suffix of incremental staging tables (`<model>__dbt_tmp<suffix>`), so partitions of one
   * model built side by side do not share one.
   */
  tempSuffix?: string;
}

/** A parsed project ready to compile and run against an engine. */
export class DbtSession {
  readonly invocationId = randomUUID();
  readonly runStartedAt = new Date();

  constructor(
    readonly pp: ParsedProject,
    readonly opts: SessionOptions = {},
  ) {}

  /** The compile runtime for one engine session (each worker thread has its own). */
  runtime(engine: Engine | undefined): CompileRuntime {
    let rt = this.runtimes.get(engine);
    if (!rt) this.runtimes.set(engine, (rt = this.makeRuntime(engine)));
    return rt;
  }

  private readonly runtimes = new Map<Engine | undefined, CompileRuntime>();

  private makeRuntime(engine: Engine | undefined): CompileRuntime {
    const { pp } = this;
    return {
      project: this.opts.vars
        ? {
            ...pp.project,
            vars: { ...pp.project.vars, ...this.opts.vars },
            cliVars: { ...pp.project.cliVars, ...this.opts.vars },
          }
        : pp.project,
      packages: pp.packages,
      manifest: pp.manifest,
      dialect: pp.dialect,
      target: pp.target,
      dispatchPrefixes: pp.dispatchPrefixes,
      macros: pp.macros,
      ...(engine ? { engine } : {}),
      fullRefresh: Boolean(this.opts.fullRefresh),
      storeFailures: Boolean(this.opts.storeFailures),
      which: this.opts.which ?? 'run',
      invocationId: this.invocationId,
      runStartedAt: this.runStartedAt,
      log: this.opts.log ?? (() => undefined),
      ...(pp.warnError ? { warnError: pp.warnError } : {}),
      renderString: (text, file, globals) => pp.env.parseOnce(text, file).render(globals),
    };
  }

  /** Compiles a node to SQL (no execution besides what its Jinja runs, e.g. run_query). */
  async compile(engine: Engine | undefined, node: Node): Promise<string> {
    if (node.resource_type === 'seed') return '';
    return (await compileNode(this.pp, this.runtime(engine), node)).sql;
  }

  /** Compiles and runs one node on `engine`; failures become an `error` result, never a throw. */
  async execute(
    engine: Engine,
    node: Node,
    threadId = 'Thread-1',
    options: { compileOnly?: boolean } = {},
  ): Promise<NodeResult> {
    const started = new Date();
    const result: NodeResult = {
      unique_id: node.unique_id,
      status: 'success',
      message: '',
      failures: null,
      rows: null,
      compiled_code: null,
      relation_name: node.relation_name,
      timing: [],
      execution_time: 0,
      thread_id: threadId,
    };
    let phase: 'compile' | 'execute' = 'compile';
    let phaseStart = started;
    const endPhase = () => {
      const now = new Date();
      result.timing.push({
        name: phase,
        started_at: phaseStart.toISOString(),
        completed_at: now.toISOString(),
      });
      phaseStart = now;
    };
    try {
      const sql = await this.compile(engine, node);
      result.compiled_code = node.resource_type === 'seed' ? null : sql;
      endPhase();
      if (options.compileOnly) {
        result.message = 'compiled';
        result.execution_time = (Date.now() - started.getTime()) / 1000;
        return result;
      }
      phase = 'execute';
      const rt = this.runtime(engine);
      await this.runHooks(engine, rt, node, 'pre_hook');
      switch (node.resource_type) {
        case 'model': {
          const out = await materializeModel(engine, node, sql, {
            fullRefresh: Boolean(this.opts.fullRefresh),
            ...(this.opts.tempSuffix ? { tempSuffix: this.opts.tempSuffix } : {}),
          });
          result.message = out.message;
          result.rows = out.rows ?? null;
          break;
        }
        case 'seed': {
          const out = await loadSeed(engine, node);
          result.message = out.message;
          result.rows = out.rows ?? null;
          break;
        }
        case 'snapshot': {
          const out = await runSnapshot(engine, node, sql, this.opts.now ?? new Date());
          result.message = out.message;
          result.rows = out.rows ?? null;
          break;
        }
        case 'test': {
          const out = await runDataTest(engine, rt, node, sql);
          result.status = out.status;
          result.failures = out.failures;
          result.message = out.message;
          if (out.relation) result.relation_name = out.relation;
          break;
        }
        case 'analysis':
          result.message = 'compiled';
          break;
      }
      await this.runHooks(engine, rt, node, 'post_hook');
      endPhase();
    } catch (err) {
      endPhase();
      result.status = 'error';
      result.error = blame(node, err);
      result.message = describeError(result.error);
    }
    result.execution_time = (Date.now() - started.getTime()) / 1000;
    return result;
  }

  /**
   * on-run-start / on-run-end: each hook rendered (with `results` for on-run-end, as in dbt)
   * and run; a failing hook is an error naming the dbt_project.yml it is in. Installed packages'
   * hooks run too, each in its package's context, before the root project's (dbt orders hooks by
   * package name with the root project last).
   */
  async runProjectHooks(
    engine: Engine,
    which: 'on-run-start' | 'on-run-end',
    results: NodeResult[] = [],
  ): Promise<void> {
    // Python's string order (code points), as dbt sorts them.
    const packages = [...this.pp.packages.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const project of [...packages, this.pp.project]) {
      const hooks = which === 'on-run-start' ? project.onRunStart : project.onRunEnd;
      if (!hooks.length) continue;
      const file =
        project === this.pp.project
          ? 'dbt_project.yml'
          : `${relative(this.pp.project.dir, project.dir).split(sep).join('/')}/dbt_project.yml`;
      await this.runHookList(engine, project.name, file, which, hooks, results);
    }
  }

  private async runHookList(
    engine: Engine,
    packageName: string,
    file: string,
    which: 'on-run-start' | 'on-run-end',
    hooks: string[],
    results: NodeResult[],
  ): Promise<void> {
    const rt = this.runtime(engine);
    const operation = newNode({
      unique_id: `operation.${packageName}.${which}`,
      resource_type: 'analysis',
      package_name: packageName,
      name: which,
      path: 'dbt_project.yml',
      original_file_path: 'dbt_project.yml',
      fqn: [packageName, which],
      raw_code: '',
      checksum: { name: 'sha256', checksum: '' },
      config: defaultConfig('analysis'),
      schema: this.pp.target.schema,
    });
    for (const [i, hook] of hooks.entries()) {
      try {
        const globals = nodeGlobals(
          rt,
          operation,
          {
            execute: true,
            state: { ephemerals: [], statements: new Map() },
          },
          {
            results,
            schemas: [...new Set([...this.pp.manifest.nodes.values()].map((n) => n.schema))],
          },
        );
        const sql = (await rt.renderString(hook, file, globals)).trim();
        if (sql) await engine.exec(sql);
      } catch (err) {
        throw new TributaryError(`${which} hook ${i + 1} failed: ${describeError(err)}`, {
          code: 'CONFIG',
          location: { file, path: `${which}.${i}` },
          cause: err,
        });
      }
    }
  }

  private async runHooks(
    engine: Engine,
    rt: CompileRuntime,
    node: Node,
    which: 'pre_hook' | 'post_hook',
  ) {
    for (const hook of node.config[which]) {
      const sql = (
        await rt.renderString(
          hook,
          node.original_file_path,
          nodeGlobals(rt, node, {
            execute: true,
            state: { ephemerals: [], statements: new Map() },
          }),
        )
      ).trim();
      if (sql) await engine.exec(sql);
    }
  }
}

/**
 * An error of a node names the node: `<type> <unique_id> (<file>)` leads the message, and the
 * location stays where the error happened (a macro's file and line) or, for an engine error with
 * no location, the node's own file.
 */
function blame(node: Node, err: unknown): unknown {
  const who = `${node.resource_type} ${node.unique_id} (${node.original_file_path})`;
  if (err instanceof TributaryError) {
    return new TributaryError(`in ${who}: ${err.message}`, {
      code: err.code,
      location: err.location?.file
        ? err.location
        : {
            file: node.original_file_path,
            ...(node.line ? { line: node.line } : {}),
            ...err.location,
          },
      ...(err.hint ? { hint: err.hint } : {}),
      cause: err,
    });
  }
  const first = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  return new TributaryError(`in ${who}: ${first}`, {
    code: 'ENGINE',
    location: { file: node.original_file_path },
    cause: err,
  });
}
