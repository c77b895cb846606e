/**
 * The node-independent functions of dbt's base context (dbt-core `context/base.py` and
 * `context/exceptions_jinja.py`): modules (datetime, pytz, re, itertools), tojson/fromjson,
 * toyaml/fromyaml, set/set_strict, zip/zip_strict, local_md5, diff_of_two_dicts,
 * try_or_compiler_error, print and the `exceptions` namespace, with dbt's defaults and errors.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { TributaryError } from '../core/index.js';
import { PyFloat, isDict, pyIter, pyRepr, pyStr, splitArgs, tuple } from '../jinja/index.js';
import { datetimeModule, pytzModule, PyDate } from './pymodules/datetime.js';
import { itertoolsModule } from './pymodules/itertools.js';
import { reModule } from './pymodules/re.js';
import { DBT_YAML } from './parsers/property-entries.js';
import type { Manifest } from './types.js';
import type { WarnErrorPolicy } from './warn-error.js';

function compilationError(message: string): TributaryError {
  return new TributaryError(`compilation error: ${message}`, { code: 'CONFIG' });
}

/** Python's json string escaping with ensure_ascii (non-ASCII as \uXXXX). */
function jsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Python's json.dumps (default separators `, ` and `: `); TypeError for what JSON cannot hold. */
export function jsonDumps(v: unknown, sortKeys = false): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' || v instanceof PyFloat) {
    const n = Number(v);
    if (Number.isNaN(n)) return 'NaN';
    if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
    return pyRepr(v);
  }
  if (typeof v === 'string') return jsonString(v);
  if (Array.isArray(v) || v instanceof Set)
    return `[${[...v].map((x) => jsonDumps(x, sortKeys)).join(', ')}]`;
  if (isDict(v)) {
    const keys = Object.keys(v);
    if (sortKeys) keys.sort();
    return `{${keys.map((k) => `${jsonString(k)}: ${jsonDumps(v[k], sortKeys)}`).join(', ')}}`;
  }
  throw compilationError(`Object of type ${pyTypeName(v)} is not JSON serializable`);
}

function pyTypeName(v: unknown): string {
  if (v instanceof PyDate) return v.constructor.name === 'PyDateTime' ? 'datetime' : 'date';
  return (v as { constructor?: { name?: string } })?.constructor?.name ?? typeof v;
}

/** Plain data for YAML: Python values as the yaml library can write them (YAML 1.1, PyYAML's). */
function yamlPlain(v: unknown): unknown {
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v) || v instanceof Set) return [...v].map(yamlPlain);
  if (isDict(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, yamlPlain(x)]));
  if (v instanceof PyDate) return v.isoformat();
  return v;
}

/** Python's set(), with the methods templates call on sets; prints as `{1, 2}`. */
export class PySet extends Set<unknown> {
  __repr__(): string {
    return this.size ? `{${[...this].map((x) => pyRepr(x)).join(', ')}}` : 'set()';
  }
  __len__(): number {
    return this.size;
  }
  __eq__(other: unknown): boolean {
    return other instanceof Set && other.size === this.size && [...this].every((x) => other.has(x));
  }
  union(...others: unknown[]): PySet {
    return new PySet([...this, ...others.flatMap((o) => pyIter(o))]);
  }
  intersection(...others: unknown[]): PySet {
    const sets = others.map((o) => new Set(pyIter(o)));
    return new PySet([...this].filter((x) => sets.every((s) => s.has(x))));
  }
  difference(...others: unknown[]): PySet {
    const sets = others.map((o) => new Set(pyIter(o)));
    return new PySet([...this].filter((x) => !sets.some((s) => s.has(x))));
  }
  symmetric_difference(other: unknown): PySet {
    const o = new Set(pyIter(other));
    return new PySet([
      ...[...this].filter((x) => !o.has(x)),
      ...[...o].filter((x) => !this.has(x)),
    ]);
  }
  issubset(other: unknown): boolean {
    const o = new Set(pyIter(other));
    return [...this].every((x) => o.has(x));
  }
  issuperset(other: unknown): boolean {
    return pyIter(other).every((x) => this.has(x));
  }
  isdisjoint(other: unknown): boolean {
    return !pyIter(other).some((x) => this.has(x));
  }
  update(...others: unknown[]): void {
    for (const o of others) for (const x of pyIter(o)) super.add(x);
  }
  discard(x: unknown): void {
    super.delete(x);
  }
  remove(x: unknown): void {
    if (!super.delete(x)) throw compilationError(`KeyError: ${pyRepr(x)}`);
  }
  copy(): PySet {
    return new PySet(this);
  }
}

/** A hashable Python value for a set; lists and dicts are not (TypeError in Python). */
function toSet(value: unknown): PySet {
  const items = pyIter(value);
  for (const x of items)
    if (Array.isArray(x) || isDict(x))
      throw compilationError(`unhashable type: '${Array.isArray(x) ? 'list' : 'dict'}'`);
  return new PySet(items);
}

function zipLists(args: unknown[], strict: boolean): unknown[][] {
  const lists = args.map((a) => pyIter(a));
  const n = Math.min(...lists.map((l) => l.length));
  if (strict && lists.some((l) => l.length !== n))
    throw compilationError('zip() arguments have different lengths');
  return Array.from({ length: lists.length ? n : 0 }, (_, i) => tuple(lists.map((l) => l[i])));
}

/** diff_of_two_dicts: the values of each key of a that b lacks, keys compared case-insensitively. */
function diffOfTwoDicts(
  a: Record<string, unknown[]>,
  b: Record<string, unknown[]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const bKeys = new Set(Object.keys(b).map((k) => k.toLowerCase()));
  for (const [k, values] of Object.entries(a)) {
    if (!bKeys.has(k.toLowerCase())) {
      out[k] = values;
      continue;
    }
    const other = new Set((b[k] ?? []).map((x) => String(x).toLowerCase()));
    const diff = values.filter((v) => !other.has(String(v).toLowerCase()));
    if (diff.length) out[k] = diff;
  }
  return out;
}

/** The `exceptions` namespace of dbt's context. */
export function exceptionsNamespace(warn: (message: string) => void): Record<string, unknown> {
  const raise = (kind: string) => (msg: unknown) => {
    throw new TributaryError(`${kind}: ${pyStr(msg)}`, { code: 'CONFIG' });
  };
  return {
    raise_compiler_error: raise('compilation error'),
    raise_not_implemented: raise('not implemented'),
    raise_database_error: raise('database error'),
    raise_dependency_error: raise('dependency error'),
    raise_fail_fast_error: raise('failing early'),
    raise_contract_error: (yaml: unknown, sql: unknown) =>
      raise('contract error')(
        `This model has an enforced contract that failed.\n${pyStr(yaml)}\n${pyStr(sql)}`,
      ),
    missing_relation: (rel: unknown) =>
      raise('compilation error')(`Relation ${pyStr(rel)} not found!`),
    relation_wrong_type: (rel: unknown, expected: unknown) =>
      raise('compilation error')(
        `Trying to create ${pyStr(expected)} ${pyStr(rel)}, but it currently exists as a ${pyStr((rel as { type?: unknown })?.type)}. Either drop ${pyStr(rel)} manually, or run dbt with \`--full-refresh\` and dbt will drop it for you.`,
      ),
    column_type_missing: (names: unknown) =>
      raise('compilation error')(
        `Contracted models require data_type to be defined for each column. Please ensure that the column name and data_type are defined within the YAML configuration for the ${pyStr(names)} column(s).`,
      ),
    warn: (msg: unknown) => {
      warn(pyStr(msg));
      return '';
    },
  };
}

/** The base context functions that do not depend on a node. */
export function baseFunctions(
  log: (message: string) => void,
  warn: (message: string) => void,
): Record<string, unknown> {
  const withDefault = <T>(fn: () => T, fallback: unknown): T | unknown => {
    try {
      return fn();
    } catch {
      return fallback ?? null;
    }
  };
  return {
    modules: {
      datetime: datetimeModule(),
      pytz: pytzModule(),
      re: reModule(),
      itertools: itertoolsModule(),
    },
    print: (msg: unknown) => {
      log(pyStr(msg));
      return '';
    },
    exceptions: exceptionsNamespace(warn),
    fromjson: (s: unknown, fallback: unknown = null) =>
      withDefault(() => JSON.parse(String(s)) as unknown, fallback),
    tojson: (...raw: unknown[]) => {
      const { args, kwargs } = splitArgs(raw);
      return jsonDumps(args[0], Boolean(kwargs.sort_keys ?? args[2]));
    },
    fromyaml: (s: unknown, fallback: unknown = null) =>
      // dbt's fromyaml is PyYAML's safe_load: PyYAML's booleans (`y`/`n` stay strings) and, unlike
      // dbt's properties files, a repeated key is no error (the last one wins).
      withDefault(
        () => parseYaml(String(s), { ...DBT_YAML, uniqueKeys: false }) as unknown,
        fallback,
      ),
    toyaml: (...raw: unknown[]) => {
      const { args, kwargs } = splitArgs(raw);
      return withDefault(
        () =>
          stringifyYaml(yamlPlain(args[0]), {
            ...DBT_YAML,
            indentSeq: false,
            singleQuote: true,
            sortMapEntries: Boolean(kwargs.sort_keys ?? args[2]),
          }),
        kwargs.default ?? args[1],
      );
    },
    local_md5: (s: unknown) => createHash('md5').update(pyStr(s), 'utf8').digest('hex'),
    set: (value: unknown, fallback: unknown = null) => withDefault(() => toSet(value), fallback),
    set_strict: (value: unknown) => toSet(value),
    zip: (...raw: unknown[]) => {
      const { args, kwargs } = splitArgs(raw);
      return withDefault(() => zipLists(args, false), kwargs.default);
    },
    zip_strict: (...raw: unknown[]) => zipLists(splitArgs(raw).args, true),
    diff_of_two_dicts: (a: Record<string, unknown[]>, b: Record<string, unknown[]>) =>
      diffOfTwoDicts(a, b),
    try_or_compiler_error: async (...raw: unknown[]) => {
      const { args, kwargs } = splitArgs(raw);
      const [message, fn, ...rest] = args;
      try {
        return await (fn as (...a: unknown[]) => unknown)(
          ...rest,
          ...(Object.keys(kwargs).length ? [raw[raw.length - 1]] : []),
        );
      } catch {
        throw compilationError(pyStr(message));
      }
    },
  };
}

/** dbt's `flags`: the invocation's settings, with dbt's defaults for those Tributary has no switch for. */
export function flagsObject(
  fullRefresh: boolean,
  which: string,
  storeFailures = false,
  warnError?: WarnErrorPolicy,
): Record<string, unknown> {
  return {
    FULL_REFRESH: fullRefresh,
    WHICH: which,
    STORE_FAILURES: storeFailures,
    WARN_ERROR: warnError?.warnError ?? false,
    WARN_ERROR_OPTIONS: warnError?.toJSON() ?? { include: [], exclude: [], silence: [] },
    FAIL_FAST: false,
    DEBUG: false,
    QUIET: false,
    EMPTY: false,
    INTROSPECT: true,
    USE_COLORS: true,
    LOG_FORMAT: 'default',
    INDIRECT_SELECTION: 'eager',
    PRINTER_WIDTH: 80,
    PARTIAL_PARSE: false,
    SEND_ANONYMOUS_USAGE_STATS: false,
    WRITE_JSON: true,
    MACRO_DEBUGGING: false,
  };
}

/** What `graph` holds: the manifest's nodes and sources as dicts keyed by unique_id. */
export function graphObject(manifest: Manifest): Record<string, unknown> {
  return {
    nodes: Object.fromEntries(manifest.nodes),
    sources: Object.fromEntries(manifest.sources),
    exposures: {},
    metrics: {},
    groups: {},
    semantic_models: {},
    saved_queries: {},
    unit_tests: {},
  };
}
