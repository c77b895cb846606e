/**
 * dbt's `--warn-error` and `--warn-error-options`: which warnings become errors, and which are
 * silenced. Every warning Tributary raises while parsing or running a dbt project carries the
 * name of the dbt event it stands for (`LogTestResult`, `JinjaLogWarning`,
 * `ConfigTargetPathDeprecation`…), and goes through `warnOrError` as dbt's warnings go through
 * dbt-common's `warn_or_error`: promoted when the policy includes the name, dropped when it is
 * silenced, printed otherwise.
 *
 * The options resolve as dbt-core 1.9 resolves them: the command line, else the environment
 * (`DBT_WARN_ERROR`, `DBT_WARN_ERROR_OPTIONS`), else the `flags:` of dbt_project.yml
 * (`warn_error`, `warn_error_options`); `--warn-error` and `--warn-error-options` together are
 * a usage error. The options are a YAML mapping with `include` (or its newer name `error`):
 * `all`, `*` or a list of event names; `exclude` (or `warn`): names kept as warnings, only with
 * `include: all`; `silence`: names never printed.
 */
import { parse as parseYamlText } from 'yaml';
import { TributaryError } from '../core/index.js';

/** A warning as dbt would fire it: the event's class name and its message. */
export interface DbtWarning {
  event: string;
  message: string;
}

/** `--warn-error-options` once read: dbt-common's WarnErrorOptions. */
export interface WarnErrorOptions {
  include: 'all' | '*' | string[];
  exclude: string[];
  silence: string[];
}

const INCLUDE_ALL = ['all', '*'];

/** Which warnings are errors and which are silenced, for one invocation. */
export class WarnErrorPolicy {
  constructor(
    /** `--warn-error`: every warning is an error. */
    readonly warnError = false,
    readonly options: WarnErrorOptions = { include: [], exclude: [], silence: [] },
  ) {}

  /** Whether the event `name` is raised as an error (dbt's `WARN_ERROR or options.includes`). */
  errors(name: string): boolean {
    if (this.warnError) return true;
    const { include, exclude } = this.options;
    const included =
      typeof include === 'string' ? INCLUDE_ALL.includes(include) : include.includes(name);
    return included && !exclude.includes(name) && !this.silenced(name);
  }

  /** Whether the event `name` is neither raised nor printed. */
  silenced(name: string): boolean {
    return this.options.silence.includes(name);
  }

  /** `flags.WARN_ERROR_OPTIONS` as dbt's Jinja context shows it. */
  toJSON(): Record<string, unknown> {
    return { ...this.options };
  }
}

const NO_POLICY = new WarnErrorPolicy();

/**
 * Fires a warning as dbt's `warn_or_error` does: an error (naming the event, so it can be
 * excluded) when the policy promotes it, nothing when it is silenced, else `log` gets it.
 */
export function warnOrError(
  warning: DbtWarning,
  policy: WarnErrorPolicy | undefined,
  log: (message: string) => void,
): void {
  const p = policy ?? NO_POLICY;
  if (p.errors(warning.event))
    throw new TributaryError(warning.message, {
      code: 'CONFIG',
      hint: `this warning (${warning.event}) is an error under --warn-error / --warn-error-options; fix it, or keep it a warning with --warn-error-options '{"error": "all", "warn": ["${warning.event}"]}'`,
    });
  if (!p.silenced(warning.event)) log(`warning: ${warning.message}`);
}

/** A list of event names, or `all` / `*` where dbt allows it. */
function names(
  value: unknown,
  key: string,
  from: string,
  allowAll: boolean,
): string[] | 'all' | '*' {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string' && allowAll && INCLUDE_ALL.includes(value))
    return value as 'all' | '*';
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0))
    throw new TributaryError(
      `${from}: \`${key}\` must be ${allowAll ? '"all", "*" or ' : ''}a list of dbt event names, got ${JSON.stringify(value)}`,
      {
        code: 'USAGE',
        hint: `e.g. {"error": ["LogTestResult"], "silence": ["NoNodesForSelectionCriteria"]}`,
      },
    );
  return value as string[];
}

/** One of a key and its newer alias (`include`/`error`, `exclude`/`warn`); both is dbt's error. */
function aliased(map: Record<string, unknown>, primary: string, alt: string): unknown {
  const a = map[primary];
  const b = map[alt];
  const given = (v: unknown) => v !== undefined && v !== null && !(Array.isArray(v) && !v.length);
  if (given(a) && given(b))
    throw new TributaryError(
      `Only \`${alt}\` or \`${primary}\` can be specified in \`warn_error_options\`, not both`,
      { code: 'USAGE' },
    );
  return given(b) ? b : a;
}

/**
 * Reads warn-error options (YAML text from the command line or the environment, or the mapping
 * under dbt_project.yml's `flags:`) as dbt-core reads them; `from` names where they came from.
 */
export function readWarnErrorOptions(value: unknown, from: string): WarnErrorOptions {
  let map: unknown = value;
  if (typeof value === 'string') {
    try {
      map = parseYamlText(value);
    } catch {
      map = undefined;
    }
    if (!map || typeof map !== 'object' || Array.isArray(map))
      throw new TributaryError(`${from}: String '${value}' is not valid YAML`, {
        code: 'USAGE',
        hint: `give a mapping, e.g. '{"error": "all", "warn": ["LogTestResult"]}'`,
      });
  }
  if (!map || typeof map !== 'object' || Array.isArray(map))
    throw new TributaryError(`${from}: warn_error_options must be a mapping`, { code: 'USAGE' });
  const m = map as Record<string, unknown>;
  for (const key of Object.keys(m))
    if (!['include', 'error', 'exclude', 'warn', 'silence'].includes(key))
      throw new TributaryError(`${from}: unknown key \`${key}\` in warn_error_options`, {
        code: 'USAGE',
        hint: 'the keys are error (or include), warn (or exclude) and silence',
      });
  const include = names(aliased(m, 'include', 'error'), 'error', from, true);
  const exclude = names(aliased(m, 'exclude', 'warn'), 'warn', from, false) as string[];
  const silence = names(m.silence, 'silence', from, false) as string[];
  if (exclude.length && !(typeof include === 'string'))
    throw new TributaryError(
      `${from}: exclude can only be specified if include is one of ['all', '*']`,
      { code: 'USAGE', hint: 'list the warnings to keep under `warn` only with `error: all`' },
    );
  return { include, exclude, silence };
}

/** `DBT_WARN_ERROR`'s value as click reads a boolean environment variable. */
function envBoolean(name: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 't', 'yes', 'y', 'on'].includes(t)) return true;
  if (['0', 'false', 'f', 'no', 'n', 'off', ''].includes(t)) return false;
  throw new TributaryError(`${name}: '${text}' is not a valid boolean`, {
    code: 'USAGE',
    hint: `set ${name}=true or ${name}=false`,
  });
}

/** What the command line said (undefined when it said nothing). */
export interface WarnErrorFlags {
  warnError?: boolean;
  warnErrorOptions?: string;
}

/**
 * The invocation's policy: the command line, else the environment, else dbt_project.yml's
 * `flags:`, each setting taken from the first place that sets it, as dbt-core 1.9 resolves flags.
 */
export function resolveWarnError(
  cli: WarnErrorFlags,
  projectFlags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): WarnErrorPolicy {
  const envWarnError = env.DBT_WARN_ERROR;
  const envOptions = env.DBT_WARN_ERROR_OPTIONS;
  const userWarnError =
    cli.warnError ??
    (envWarnError !== undefined ? envBoolean('DBT_WARN_ERROR', envWarnError) : undefined);
  const userOptions =
    cli.warnErrorOptions !== undefined
      ? readWarnErrorOptions(cli.warnErrorOptions, '--warn-error-options')
      : envOptions !== undefined && envOptions !== ''
        ? readWarnErrorOptions(envOptions, 'DBT_WARN_ERROR_OPTIONS')
        : undefined;
  if (userWarnError !== undefined && userOptions !== undefined)
    throw new TributaryError('warn_error_options: not allowed with argument warn_error', {
      code: 'USAGE',
      hint: 'give --warn-error or --warn-error-options (or their DBT_ environment variables), not both',
    });
  // What the user set wins as a whole; dbt_project.yml's flags apply only when neither is set.
  if (userWarnError !== undefined || userOptions !== undefined)
    return new WarnErrorPolicy(userWarnError ?? false, userOptions);
  const warnError = projectFlags.warn_error === true;
  const options =
    projectFlags.warn_error_options !== undefined && projectFlags.warn_error_options !== null
      ? readWarnErrorOptions(projectFlags.warn_error_options, 'dbt_project.yml flags')
      : undefined;
  return new WarnErrorPolicy(warnError, options);
}
