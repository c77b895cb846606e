/**
 * The dbt verbs' console as dbt-core 1.9 prints it: one line per node as it finishes
 * (`1 of 5 OK created sql view model main.stg_orders ...... [OK in 0.05s]`, dbt's
 * LogModelResult, LogTestResult, LogSeedResult, LogSnapshotResult and SkippingDetails, padded
 * with dots to 80 columns), then the run's summary (FinishedRunningStats, EndOfRunSummary with
 * each error's detail, StatsLine). `--log-format text` prefixes each line with the UTC time as dbt
 * does; `--log-format json` prints each event as one JSON object shaped as dbt's structured logs;
 * `--quiet` keeps only error-level events, as dbt's does.
 */
import {
  adapterResponse,
  compiledFile,
  type Node,
  type NodeResult,
  type ParsedProject,
  type RunSummary,
} from '../models/index.js';
import type { Output } from './output.js';

export type LogFormat = 'text' | 'json';

type Level = 'info' | 'warn' | 'error';
type Colour = 'green' | 'red' | 'yellow';

/** One of dbt's events: its name and code, level, message and structured data. */
interface DbtEvent {
  name: string;
  code: string;
  level: Level;
  /** The message without colour (JSON `msg`). */
  msg: string;
  /** The message as a terminal shows it (coloured where dbt colours it); else `msg`. */
  text?: string;
  data: Record<string, unknown>;
  thread?: string;
  /** dbt's TextOnly(): blank lines that only the text log prints. */
  textOnly?: boolean;
}

export interface DbtConsoleOptions {
  format: LogFormat;
  quiet: boolean;
  output: Output;
  fullRefresh?: boolean;
  write(line: string): void;
  /** The clock, for tests. */
  now?: () => Date;
}

/** dbt's printer width: lines are padded with dots to 80 columns. */
const PRINTER_WIDTH = 80;

/** dbt's format_fancy_output_line: `<i> of <n> <msg> ....... [<status> in <t>s]`. */
function fancyLine(
  msg: string,
  status: string,
  index: number | null,
  total: number | null,
  executionTime?: number,
): string {
  const progress = index === null || total === null ? '' : `${index} of ${total} `;
  const justified = `${progress}${msg}`.padEnd(PRINTER_WIDTH, '.');
  const time = executionTime === undefined ? '' : ` in ${executionTime.toFixed(2)}s`;
  return `${justified} [${status}${time}]`;
}

/** Keys sorted at every level, as dbt's json.dumps(sort_keys=True). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** dbt's naive timestamps (no zone) with microseconds. */
const naive = (iso: string | undefined) => (iso ? iso.replace('Z', '000') : '');

/** The dbt verbs' console for one run: `plan`, then `result` per node, then `summary`. */
export class DbtConsole {
  private invocationId = '';
  private total = 0;
  private index = 0;
  private readonly results = new Map<string, NodeResult>();
  private readonly nodes = new Map<string, Node>();
  private parentMap: ReadonlyMap<string, string[]> = new Map();
  private adapterType = '';
  /** The target's database: dbt leaves it out of node names when a node is in it. */
  private database: string | null = null;

  constructor(private readonly opts: DbtConsoleOptions) {}

  private project: ParsedProject | undefined;

  /** The project being run: its adapter, its target's database and its parent map. */
  useProject(pp: ParsedProject): void {
    this.project = pp;
    this.adapterType = pp.target.type;
    this.database = typeof pp.target.database === 'string' ? pp.target.database : null;
    this.parentMap = pp.manifest.parentMap;
  }

  /** Where a node's compiled SQL was written, relative to the project (dbt's compiled_path). */
  compiledPath(node: Node): string | undefined {
    return this.project ? compiledFile(this.project, node) : undefined;
  }

  parentsOf(id: string): string[] {
    return this.parentMap.get(id) ?? [];
  }

  /** Colours `text` on a terminal (dbt's red/green/yellow). */
  paint(colour: Colour, text: string): string {
    return this.opts.output.paint(colour, text);
  }

  /** The nodes about to run; ephemeral models never run in dbt, so they are not counted. */
  plan(plan: { nodes: Node[]; invocationId: string }): void {
    this.invocationId = plan.invocationId;
    for (const n of plan.nodes) this.nodes.set(n.unique_id, n);
    this.total = plan.nodes.filter((n) => !isEphemeral(n)).length;
  }

  node(id: string): Node | undefined {
    return this.nodes.get(id);
  }

  /** A node finished: its line, numbered in completion order. */
  result(result: NodeResult, node: Node): void {
    this.results.set(result.unique_id, result);
    if (isEphemeral(node)) return;
    this.index++;
    this.emit(nodeEvent(result, node, { index: this.index, total: this.total, c: this }));
  }

  /** `schema.alias`, with the database first when it is not the target's (dbt's node representation). */
  describe(node: Node): string {
    const db = node.database && node.database !== this.database ? `${node.database}.` : '';
    return `${db}${node.schema}.${node.alias}`;
  }

  /** Whether a skipped node's upstream failure was an ephemeral model (dbt's LogSkipBecauseError). */
  skippedForEphemeral(node: Node): boolean {
    const seen = new Set<string>();
    const walk = (id: string): boolean =>
      this.parentsOf(id).some((p) => {
        if (seen.has(p)) return false;
        seen.add(p);
        const up = this.nodes.get(p);
        if (!up || !isEphemeral(up)) return false;
        return this.results.get(p)?.status === 'error' || walk(p);
      });
    return walk(node.unique_id);
  }

  /** The adapter's status text for a node that ran. */
  status(node: Node, result: NodeResult): string {
    return adapterResponse(this.adapterType, node, result, this.opts.fullRefresh)?._message ?? 'OK';
  }

  /** The run's end: counts and time, the errors and warnings with their detail, the totals. */
  summary(summary: RunSummary): void {
    const ephemeral = (r: NodeResult) => {
      const n = this.nodes.get(r.unique_id);
      return !n || isEphemeral(n);
    };
    const ran = summary.results.filter((r) => !ephemeral(r));
    // An ephemeral model that failed is not counted, but its error is what the user must fix.
    const failedEphemerals = summary.results.filter((r) => ephemeral(r) && r.status === 'error');
    for (const e of summaryEvents(ran, failedEphemerals, summary.elapsed, this)) this.emit(e);
  }

  /**
   * A message from the project's Jinja: `log(msg, info=True)` and `print()` (dbt's JinjaLogInfo),
   * or `exceptions.warn` (JinjaLogWarning, which arrives as `warning: …`), printed as dbt does.
   */
  log(message: string): void {
    const warning = message.startsWith('warning: ');
    this.emit({
      name: warning ? 'JinjaLogWarning' : 'JinjaLogInfo',
      code: warning ? 'I061' : 'I062',
      level: warning ? 'warn' : 'info',
      msg: warning ? message.slice('warning: '.length) : message,
      data: { msg: warning ? message.slice('warning: '.length) : message },
    });
  }

  /** Writes an event: as a text line (time, message) or as dbt's JSON log line. */
  emit(event: DbtEvent): void {
    const { opts } = this;
    if (opts.quiet && event.level !== 'error') return;
    const now = (opts.now ?? (() => new Date()))();
    if (opts.format === 'json') {
      if (event.textOnly) return;
      const info = {
        name: event.name,
        code: event.code,
        msg: event.msg,
        level: event.level,
        invocation_id: this.invocationId,
        pid: process.pid,
        thread: event.thread ?? 'MainThread',
        ts: now.toISOString().replace('Z', '000Z'),
        extra: {},
        category: '',
      };
      opts.write(JSON.stringify(sortKeys({ data: event.data, info })));
      return;
    }
    // One time prefix per event, as dbt's text log: a message's further lines carry none.
    opts.write(`${now.toISOString().slice(11, 19)}  ${event.text ?? event.msg}`);
  }
}

const isEphemeral = (n: Node) =>
  n.resource_type === 'model' && n.config.materialized === 'ephemeral';

/** dbt's node_info: what every node event carries. */
function nodeInfo(node: Node, result: NodeResult | undefined): Record<string, unknown> {
  const timing = result?.timing ?? [];
  return {
    node_path: node.path,
    node_name: node.name,
    unique_id: node.unique_id,
    resource_type: node.resource_type,
    materialized: node.config.materialized,
    node_status: result?.status ?? 'started',
    node_started_at: naive(timing[0]?.started_at),
    node_finished_at: naive(timing[timing.length - 1]?.completed_at),
    meta: node.meta,
    node_relation: {
      database: node.database ?? '',
      schema: node.schema,
      alias: node.alias,
      relation_name: node.relation_name ?? '',
    },
  };
}

interface Place {
  index: number;
  total: number;
  c: DbtConsole;
}

/** A fancy line and its coloured twin: the status in brackets coloured, as dbt colours it. */
function fancy(
  p: Place,
  msg: string,
  status: string,
  colour: Colour,
  time?: number,
): { msg: string; text: string } {
  return {
    msg: fancyLine(msg, status, p.index, p.total, time),
    text: fancyLine(msg, p.c.paint(colour, status), p.index, p.total, time),
  };
}

/** A skipped node: SKIP relation … (or LogSkipBecauseError after an ephemeral model failed). */
function skipEvent(r: NodeResult, node: Node, p: Place): DbtEvent {
  const { index, total } = p;
  if (p.c.skippedForEphemeral(node)) {
    const [schema, relation] = [node.schema, node.alias];
    return {
      name: 'LogSkipBecauseError',
      code: 'Z034',
      level: 'error',
      ...fancy(
        p,
        `SKIP relation ${schema}.${relation} due to ephemeral model error`,
        'ERROR SKIP',
        'red',
      ),
      data: { schema, relation, index, total, status: r.status },
      thread: r.thread_id,
    };
  }
  const refable = ['model', 'seed', 'snapshot'].includes(node.resource_type);
  const msg = refable
    ? `SKIP relation ${p.c.describe(node)}`
    : `SKIP ${node.resource_type} ${node.name}`;
  return {
    name: 'SkippingDetails',
    code: 'Q034',
    level: 'info',
    ...fancy(p, msg, 'SKIP', 'yellow'),
    data: {
      node_info: nodeInfo(node, r),
      resource_type: node.resource_type,
      schema: node.schema,
      node_name: node.name,
      index,
      total,
    },
    thread: r.thread_id,
  };
}

/** A test's line: PASS, WARN <n>, FAIL <n> or ERROR. */
function testEvent(r: NodeResult, node: Node, p: Place): DbtEvent {
  const n = r.failures ?? 0;
  const [label, colour, level]: [string, Colour, Level] =
    r.status === 'error'
      ? ['ERROR', 'red', 'error']
      : r.status === 'pass'
        ? ['PASS', 'green', 'info']
        : r.status === 'warn'
          ? [`WARN ${n}`, 'yellow', 'warn']
          : [`FAIL ${n}`, 'red', 'error'];
  return {
    name: 'LogTestResult',
    code: 'Q007',
    level,
    ...fancy(p, `${label} ${node.name}`, label, colour, r.execution_time),
    data: {
      node_info: nodeInfo(node, r),
      name: node.name,
      status: r.status,
      index: p.index,
      num_models: p.total,
      execution_time: r.execution_time,
      num_failures: n,
    },
    thread: r.thread_id,
  };
}

/** The line of a finished node, by resource type and status, as dbt's runners print it. */
function nodeEvent(r: NodeResult, node: Node, p: Place): DbtEvent {
  if (r.status === 'skipped') return skipEvent(r, node, p);
  if (node.resource_type === 'test') return testEvent(r, node, p);
  const { index, total } = p;
  const where = p.c.describe(node);
  const failed = r.status === 'error';
  const status = failed ? 'ERROR' : p.c.status(node, r);
  const level: Level = failed ? 'error' : 'info';
  const colour: Colour = failed ? 'red' : 'green';
  const time = r.execution_time;
  const common = { node_info: nodeInfo(node, r), index, total, execution_time: time };
  if (node.resource_type === 'seed')
    return {
      name: 'LogSeedResult',
      code: 'Q016',
      level,
      ...fancy(
        p,
        `${failed ? 'ERROR loading' : 'OK loaded'} seed file ${where}`,
        status,
        colour,
        time,
      ),
      data: {
        ...common,
        status: r.status,
        result_message: status,
        schema: node.schema,
        relation: node.alias,
      },
      thread: r.thread_id,
    };
  if (node.resource_type === 'snapshot')
    return {
      name: 'LogSnapshotResult',
      code: 'Q015',
      level,
      ...fancy(
        p,
        `${failed ? 'ERROR snapshotting' : 'OK snapshotted'} ${where}`,
        status,
        colour,
        time,
      ),
      data: { ...common, description: where, status: r.status, cfg: {}, result_message: status },
      thread: r.thread_id,
    };
  const description = `${node.language} ${node.config.materialized} ${node.resource_type} ${where}`;
  return {
    name: 'LogModelResult',
    code: 'Q012',
    level,
    ...fancy(p, `${failed ? 'ERROR creating' : 'OK created'} ${description}`, status, colour, time),
    data: { ...common, description, status: failed ? 'error' : status },
    thread: r.thread_id,
  };
}

const blank = (textOnly: boolean): DbtEvent => ({
  name: 'Formatting',
  code: 'Z017',
  level: 'info',
  msg: '',
  data: { msg: '' },
  textOnly,
});

/** dbt's pluralize: `1 error`, `2 errors`; a test's plural is `data tests` (dbt 1.8+). */
function pluralize(count: number, word: string): string {
  if (count === 1) return `${count} ${word}`;
  if (word === 'test') return `${count} data tests`;
  if (word === 'analysis') return `${count} analyses`;
  return `${count} ${word}s`;
}

/** `Finished running 3 view models, 2 data tests in 0 hours 0 minutes and 1.23 seconds (1.23s).` */
function finishedEvent(nodes: Node[], elapsed: number): DbtEvent {
  const counts = new Map<string, number>();
  for (const n of nodes) {
    const kind = n.resource_type === 'model' ? `${n.config.materialized} model` : n.resource_type;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const statLine = [...counts].map(([k, v]) => pluralize(v, k)).join(', ');
  const minutes = Math.floor(elapsed / 60);
  const execution = ` in ${Math.floor(minutes / 60)} hours ${minutes % 60} minutes and ${(elapsed - minutes * 60).toFixed(2)} seconds`;
  return {
    name: 'FinishedRunningStats',
    code: 'E047',
    level: 'info',
    msg: `Finished running ${statLine}${execution} (${elapsed.toFixed(2)}s).`,
    data: { stat_line: statLine, execution, execution_time: elapsed },
  };
}

/** What dbt prints after each failed or warned node: where, then the message. */
function detailEvents(r: NodeResult, node: Node, warning: boolean, c: DbtConsole): DbtEvent[] {
  const info = nodeInfo(node, r);
  const events: DbtEvent[] = [blank(false)];
  if (r.status === 'error') {
    events.push({
      name: 'RunResultError',
      code: 'Z024',
      level: 'error',
      msg: `  ${r.message}`,
      data: { msg: r.message, node_info: info },
    });
    return events;
  }
  const what = `${node.resource_type} ${node.name} (${node.original_file_path})`;
  const head = warning ? `Warning in ${what}` : `Failure in ${what}`;
  events.push({
    name: warning ? 'RunResultWarning' : 'RunResultFailure',
    code: warning ? 'Z021' : 'Z022',
    level: warning ? 'warn' : 'error',
    msg: head,
    text: c.paint(warning ? 'yellow' : 'red', head),
    data: {
      resource_type: node.resource_type,
      node_name: node.name,
      path: node.original_file_path,
      node_info: info,
    },
  });
  events.push(
    warning
      ? {
          name: 'RunResultWarningMessage',
          code: 'Z046',
          level: 'warn',
          msg: r.message,
          data: { msg: r.message, node_info: info },
        }
      : {
          name: 'RunResultError',
          code: 'Z024',
          level: 'error',
          msg: `  ${r.message}`,
          data: { msg: r.message, node_info: info },
        },
  );
  const path = r.compiled_code !== null ? c.compiledPath(node) : undefined;
  if (path)
    events.push(blank(true), {
      name: 'SQLCompiledPath',
      code: 'Z026',
      level: 'info',
      msg: `  compiled Code at ${path}`,
      data: { path, node_info: info },
    });
  return events;
}

/** The events after the last node: counts and time, the end-of-run summary, the totals. */
function summaryEvents(
  results: NodeResult[],
  uncounted: NodeResult[],
  elapsed: number,
  c: DbtConsole,
): DbtEvent[] {
  const nodeOf = (r: NodeResult) => c.node(r.unique_id)!;
  const errors = [
    ...uncounted.filter((r) => c.node(r.unique_id)),
    ...results.filter((r) => r.status === 'error' || r.status === 'fail'),
  ];
  const warnings = results.filter((r) => r.status === 'warn');
  const events: DbtEvent[] = [blank(false), finishedEvent(results.map(nodeOf), elapsed)];
  const end =
    errors.length > 0
      ? {
          text: `Completed with ${pluralize(errors.length, 'error')} and ${pluralize(warnings.length, 'warning')}:`,
          colour: 'red' as const,
        }
      : warnings.length > 0
        ? {
            text: `Completed with ${pluralize(warnings.length, 'warning')}:`,
            colour: 'yellow' as const,
          }
        : { text: 'Completed successfully', colour: 'green' as const };
  events.push(blank(true), {
    name: 'EndOfRunSummary',
    code: 'Z030',
    level: 'info',
    msg: end.text,
    text: c.paint(end.colour, end.text),
    data: { num_errors: errors.length, num_warnings: warnings.length, keyboard_interrupt: false },
  });
  for (const r of errors) events.push(...detailEvents(r, nodeOf(r), false, c));
  for (const r of warnings) events.push(...detailEvents(r, nodeOf(r), true, c));
  const counted = [...results, ...uncounted.filter((r) => c.node(r.unique_id))];
  const stats = { pass: 0, warn: 0, error: 0, skip: 0, noop: 0, total: counted.length };
  for (const r of counted) {
    if (r.status === 'error' || r.status === 'fail') stats.error++;
    else if (r.status === 'skipped') stats.skip++;
    else if (r.status === 'warn') stats.warn++;
    else stats.pass++;
  }
  events.push(blank(true), {
    name: 'StatsLine',
    code: 'Z023',
    level: 'info',
    msg: `Done. PASS=${stats.pass} WARN=${stats.warn} ERROR=${stats.error} SKIP=${stats.skip} NO-OP=${stats.noop} TOTAL=${stats.total}`,
    data: { stats },
  });
  return events;
}
