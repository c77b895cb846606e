/**
 * What one role's SQL may name in the sandbox, checked on the statement's parse tree (DuckDB's
 * `json_serialize_sql`), never on its text: a comment, a quoted identifier or an alias cannot
 * hide a call. The policy is plain JSON, so it can travel with a sandbox's open options. Only
 * the user's statement is checked: views defined by the pipeline keep reading their files (and
 * DuckDB's allowed_directories decides which folders any of it may touch).
 */
import { TributaryError } from '../../core/index.js';
import {
  FILE_NAME,
  anchorRelativeFiles,
  namesInSerializedSql,
  type StatementNames,
} from './sql-ast.js';

export interface SandboxPolicy {
  /** Whose rules these are, as named in refusals ("viewer"). */
  role: string;
  /**
   * Table functions this role may call (lower case); any other is refused with
   * `otherTableFunctions`. Absent: every table function not in `refusedFunctions`.
   */
  tableFunctions?: string[];
  /** Why a table function outside `tableFunctions` is refused (who may). */
  otherTableFunctions?: string;
  /** Functions (table or scalar, lower case) refused, each with why and who may. */
  refusedFunctions: Record<string, string>;
  /**
   * Relations refused, each with why and who may: `schema.*` (a whole schema), `schema.name`,
   * or a bare `name` (that name in any schema, e.g. DuckDB's `duckdb_views` view).
   */
  refusedRelations: Record<string, string>;
  /** Why a file named in FROM (`FROM 'x.csv'`) is refused; absent: allowed where DuckDB lets it. */
  filesByName?: string;
  /**
   * Absolute folders shown as something else in error messages and result values, longest
   * first (e.g. the lake folder as '' so paths read lake-relative).
   */
  pathAliases?: [string, string][];
  /**
   * Relative file paths in the user's SQL are taken relative to this folder (the lake), for
   * the file functions named in `fileFunctions`, and for files named in FROM.
   */
  filesRelativeTo?: string;
  /** The table functions that read files (lower case): their first argument is a path. */
  fileFunctions?: string[];
  /** A query asking a longer timeoutMs is refused. */
  maxTimeoutMs?: number;
}

const refuse = (message: string, hint?: string) =>
  new TributaryError(message, { code: 'INPUT', ...(hint ? { hint } : {}) });

function relationRefusal(policy: SandboxPolicy, schema: string, name: string): string | undefined {
  const rules = policy.refusedRelations;
  const s = schema.toLowerCase();
  const n = name.toLowerCase();
  return (s ? (rules[`${s}.${n}`] ?? rules[`${s}.*`]) : undefined) ?? rules[n];
}

/** The first thing in `names` the policy refuses, as a refusal; undefined when all may run. */
export function policyRefusal(
  policy: SandboxPolicy,
  names: StatementNames,
): TributaryError | undefined {
  const hint = 'query the warehouse tables and views instead (`tributary catalog` lists them)';
  for (const fn of [...names.tableFunctions, ...names.functions]) {
    const why = policy.refusedFunctions[fn.toLowerCase()];
    if (why) return refuse(`refused: ${fn}() ${why}`, hint);
  }
  if (policy.tableFunctions) {
    const open = new Set(policy.tableFunctions);
    for (const fn of names.tableFunctions)
      if (!open.has(fn.toLowerCase()))
        return refuse(
          `refused: the table function ${fn}() ${policy.otherTableFunctions ?? `is not open to the ${policy.role} role`}`,
          `open to ${policy.role}: ${policy.tableFunctions.join(', ')}`,
        );
  }
  for (const r of names.relations) {
    // A refused name stays refused even where a WITH clause of the same name might shadow it
    // (deciding the WITH's scope here would be a second parser to get right).
    const why = relationRefusal(policy, r.schema, r.name);
    const shown = r.schema ? `${r.schema}.${r.name}` : r.name;
    if (why) return refuse(`refused: ${shown} ${why}`, hint);
    if (policy.filesByName && FILE_NAME.test(r.name))
      return refuse(`refused: FROM '${r.name}' ${policy.filesByName}`, hint);
  }
  return undefined;
}

/** Checks a serialized statement against the policy; throws the refusal. */
export function checkStatement(policy: SandboxPolicy, serialized: unknown): void {
  let names: StatementNames;
  try {
    names = namesInSerializedSql(serialized);
  } catch (err) {
    // What cannot be checked does not run (fail closed).
    throw refuse(
      `refused: this statement could not be checked against the ${policy.role} role's read rules (${err instanceof Error ? err.message : String(err)})`,
      'write one plain SELECT',
    );
  }
  const refusal = policyRefusal(policy, names);
  if (refusal) throw refusal;
}

/** Anchors relative file paths at `filesRelativeTo` (in place); whether anything changed. */
export function anchorFiles(policy: SandboxPolicy, serialized: unknown): boolean {
  if (!policy.filesRelativeTo) return false;
  return anchorRelativeFiles(
    serialized,
    new Set(policy.fileFunctions ?? []),
    policy.filesRelativeTo,
  );
}

/** `timeoutMs` over the role's cap: refused, naming the cap. */
export function checkTimeout(policy: SandboxPolicy | undefined, timeoutMs: number): void {
  if (policy?.maxTimeoutMs !== undefined && timeoutMs > policy.maxTimeoutMs)
    throw refuse(
      `refused: timeoutMs ${timeoutMs} is over the ${policy.role} role's cap of ${policy.maxTimeoutMs} ms`,
      `ask for at most ${policy.maxTimeoutMs} ms, or use a token with a higher role`,
    );
}

/** Text with each aliased absolute folder replaced (error messages, result values). */
export function hidePaths(text: string, aliases: [string, string][] | undefined): string {
  if (!aliases?.length) return text;
  let out = text;
  for (const [path, alias] of aliases) out = out.split(path).join(alias);
  return out;
}

/**
 * Rows with every string (nested too) passed through hidePaths, changed in place (the rows are
 * the reader's fresh copies); a string without an aliased folder is left as it is.
 */
export function hidePathsInRows<T>(rows: T[], aliases: [string, string][] | undefined): T[] {
  if (!aliases?.length) return rows;
  const fix = (v: unknown): unknown => {
    if (typeof v === 'string')
      return aliases.some(([path]) => v.includes(path)) ? hidePaths(v, aliases) : v;
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = fix(o[k]);
    }
    return v;
  };
  for (const r of rows) fix(r);
  return rows;
}
