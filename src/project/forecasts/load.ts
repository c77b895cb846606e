/**
 * Loads a project's forecasts (`forecasts/*.yml`, the name is the file stem), validated with every
 * problem of every file collected and reported at its file, line and YAML path, as dashboards are.
 */
import type { ErrorLocation } from '../../core/index.js';
import { withoutTrailingSemicolon } from '../dashboards/params.js';
import {
  findInYamlFolder,
  loadYamlFolder,
  parseYaml,
  type Problem,
  type YamlFolder,
} from '../yaml.js';
import { forecastSchema, parseRef, SQL_REF, TOTAL_LEVEL, type Frequency } from './schema.js';

/** The folder of a project that holds forecast files. */
export const FORECASTS_DIR = 'forecasts';

/** Where a forecast reads its data: a model, or a query (which may name models). */
export type ForecastSource = { kind: 'ref'; model: string } | { kind: 'sql'; sql: string };

export interface Forecast {
  /** The file stem: `forecasts/demand_daily.yml` is `demand_daily`; also its table's name. */
  name: string;
  /** The file, relative to the project (for messages). */
  file: string;
  description?: string;
  source: ForecastSource;
  /** Models the source names (`ref('x')`, or `{{ ref('x') }}` in its SQL). */
  refs: string[];
  timeColumn: string;
  target: string;
  /** Key columns of the series, coarsest first (a hierarchy's levels without `total`). */
  keys: string[];
  /**
   * Set for a hierarchy: its levels, coarsest first; `total` (when listed) is the grand total.
   * Every level is a prefix of `keys` (`total` the empty prefix).
   */
  hierarchy?: string[];
  frequency: Frequency;
  horizon: number;
  /** Method names, or ['auto']. */
  methods: string[];
  combineTop?: number;
  /** With auto: average the near-best methods (`pool`) or take the best (`best`). */
  selection: 'hedge' | 'pool' | 'best';
  /** With a hierarchy: how forecasts are made coherent. */
  reconcile: 'bottom_up' | 'mint_shrink';
  levels: number[];
  backtest: { windows: number; step: number };
  fillGaps: 'zero' | 'none';
  /** Season lengths as declared; undefined means the frequency's defaults. */
  seasonPeriods?: number[];
  nonNegative: boolean;
  keepAllMethods: boolean;
  /** Outlier cleaning before fitting; undefined means the engine's default (`clean`). */
  outliers?: 'clean' | 'keep';
  tags: string[];
  /** Where a YAML path of the file is (file, line, column), for problems found after loading. */
  at(path: readonly (string | number)[]): ErrorLocation;
}

/** Validates one forecast file's text; `file` names it in problems. */
export function parseForecast(
  name: string,
  file: string,
  text: string,
): { forecast?: Forecast; problems: Problem[] } {
  const parsed = parseYaml(file, text, forecastSchema);
  if (!parsed.value) return { problems: parsed.problems };
  const f = parsed.value;
  const locate = parsed.locate!;
  const source: ForecastSource =
    typeof f.source === 'string'
      ? { kind: 'ref', model: parseRef(f.source)! }
      : { kind: 'sql', sql: withoutTrailingSemicolon(f.source.sql) };
  const refs =
    source.kind === 'ref'
      ? [source.model]
      : [...new Set([...source.sql.matchAll(SQL_REF)].map((m) => m[2]!))];
  const forecast: Forecast = {
    name,
    file,
    ...(f.description !== undefined ? { description: f.description } : {}),
    source,
    refs,
    timeColumn: f.time_column,
    target: f.target,
    keys: (f.hierarchy ?? f.group_by ?? []).filter((k) => k !== TOTAL_LEVEL),
    ...(f.hierarchy ? { hierarchy: f.hierarchy } : {}),
    frequency: f.frequency,
    horizon: f.horizon,
    methods: f.methods,
    ...(f.combine_top !== undefined ? { combineTop: f.combine_top } : {}),
    selection: f.selection,
    reconcile: f.reconcile,
    levels: [...f.levels].sort((a, b) => a - b),
    backtest: { windows: f.backtest.windows, step: f.backtest.step ?? f.horizon },
    fillGaps: f.fill_gaps,
    ...(f.season_periods ? { seasonPeriods: f.season_periods } : {}),
    nonNegative: f.non_negative,
    keepAllMethods: f.keep_all_methods,
    ...(f.outliers !== undefined ? { outliers: f.outliers } : {}),
    tags: f.tags,
    at: (path) => ({ file, ...locate(path), path: path.join('.') }),
  };
  return { forecast, problems: [] };
}

const FORECASTS: YamlFolder<Forecast> = {
  folder: FORECASTS_DIR,
  kind: 'forecast',
  name: {
    pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
    rule: "letters, digits and _, not starting with a digit (the name is its table's name)",
  },
  // Table names clash regardless of case.
  sameName: (name) => name.toLowerCase(),
  parse: (name, file, text) => {
    const { forecast, problems } = parseForecast(name, file, text);
    return { value: forecast, problems };
  },
};

/**
 * Reads and validates every `forecasts/*.yml` (and `.yaml`) of a project, sorted by name. A
 * project without the folder has no forecasts. Throws one ProblemsError listing every problem.
 */
export function loadForecasts(projectDir: string): Promise<Forecast[]> {
  return loadYamlFolder(projectDir, FORECASTS);
}

/** The forecast of that name, or a NOT_FOUND error listing the names there are. */
export function findForecast(forecasts: readonly Forecast[], name: string): Forecast {
  return findInYamlFolder(forecasts, name, FORECASTS);
}

/** The tables a forecast writes, in the models' schema: forecasts, backtest scores, methods. */
export function forecastTables(name: string): {
  forecast: string;
  backtest: string;
  methods: string;
} {
  return { forecast: name, backtest: `${name}_backtest`, methods: `${name}_methods` };
}
