/**
 * The types of the forecast engine's one entry point, `forecastSeries` (engine.ts): what the
 * pipeline step hands in (series and a spec) and what it gets back (forecasts, backtest rows, the
 * chosen method). Pure data: no SQL, no files. fc-pipeline builds the warehouse tables from these
 * shapes, so fields are only ever added (optional), never renamed.
 */
import type { IntervalBand } from './method.js';

/** The frequencies a forecast file may declare; used to name future periods. */
export type ForecastFrequency = 'hour' | 'day' | 'week' | 'month';

/** One time series, already aggregated per period and gap-filled (or not) by the caller. */
export interface SeriesInput {
  /**
   * The series' key values, e.g. `{category: 'Shoes'}`. With a hierarchy, a series at level i
   * carries the keys of levels 1..i and none below (the `total` level has `{}`); see
   * `ForecastSpec.hierarchy`.
   */
  keys: Record<string, string>;
  /** ISO period starts, oldest first, one per value. */
  periods: string[];
  /** Finite values, one per period (gaps already filled when the file asks `fill_gaps: zero`). */
  values: number[];
}

export interface BacktestSpec {
  /** Number of rolling origins N (0: no backtest; `auto` then keeps the first candidate). */
  windows: number;
  /** Periods between consecutive origins S (usually the horizon). */
  step: number;
}

export interface ForecastSpec {
  /** Periods to forecast, h >= 1. */
  horizon: number;
  /** Season lengths in periods, shortest first; [] or [1] for none. */
  seasonPeriods: number[];
  /** Prediction interval levels in percent, e.g. [80, 95]. */
  levels: number[];
  /**
   * Method names (see methods/index.ts) to backtest and choose among, or `'auto'` for the
   * default candidate set (engine.ts `autoCandidates`). `['auto']` means the same as `'auto'`.
   */
  methods: string[] | 'auto';
  backtest: BacktestSpec;
  /** Clamp points and bounds at zero (demand). */
  nonNegative: boolean;
  /** Average the best k methods by backtest score instead of picking one (k >= 2). */
  combineTop?: number;
  /**
   * With `auto` and no `combineTop`: `hedge` (default) averages the pool half and half with the
   * median of ETS, OTM, damped and Comb; `pool` averages the methods whose backtest score is
   * within 5% of the best (at most 3; intermittent series are pooled among the demand-rate
   * methods and never hedged); `best` takes the single best. See auto.ts.
   */
  selection?: 'hedge' | 'pool' | 'best';
  /** Also return the whole-series forecast of every candidate, not only the chosen one. */
  keepAllMethods?: boolean;
  /**
   * Hierarchy levels from the top, e.g. `['total', 'category', 'product']`; the key names are the
   * levels after `total`. When set, the chosen forecasts are reconciled bottom-up so products
   * sum to categories and categories to the total.
   */
  hierarchy?: string[];
  /** Reconciliation method when `hierarchy` is set (default `bottom_up`). */
  reconcile?: 'bottom_up' | 'mint_shrink';
  /**
   * Leave methods marked `capabilities.expensive` (tens of ms per fit; none registered now) out
   * of the `auto` candidates, for many series under a time budget. Explicit method lists are
   * not affected.
   */
  autoSkipExpensive?: boolean;
  /** When given, each result carries the ISO starts of its future periods. */
  frequency?: ForecastFrequency;
  /**
   * `clean`: one-off outliers are replaced before every fit, the backtest windows' included
   * (outliers.ts: robust seasonal + trend, remainders beyond 3 IQR); the actuals scored and
   * written stay raw. `keep`: fits see the raw values. Default: engine.ts `DEFAULT_OUTLIERS`.
   */
  outliers?: 'clean' | 'keep';
}

/** A value the fits saw replaced (`outliers: clean`). */
export interface ReplacedOutlier {
  /** The period of the value (its ISO start). */
  period: string;
  /** As observed. */
  value: number;
  /** What the fits saw instead. */
  replacement: number;
}

/** A whole-series forecast by one method (or one combination). */
export interface MethodForecast {
  /** Method name, or `combine(a,b,…)` for an average of the best k. */
  method: string;
  mean: number[];
  /** One band per spec level, in the spec's order. */
  intervals: IntervalBand[];
}

/**
 * One method's score on one backtest window. A metric is null when it is undefined for this
 * window (e.g. MASE on a constant training series: its seasonal-naive scale is 0); `note` says
 * why. A window where the method could not run has `skipped` set and every metric null.
 */
export interface BacktestRow {
  /** 1-based window number, oldest origin first. */
  window: number;
  /** Index of the first forecast period in the series (the training set is y[0..origin)). */
  origin: number;
  /** ISO start of the first forecast period of this window. */
  originPeriod: string;
  method: string;
  smape: number | null;
  mase: number | null;
  rmsse: number | null;
  /** Share of actuals inside the band, per spec level (keyed by the level, e.g. 80, 95). */
  coverage: Record<number, number | null>;
  /** MSIS at the widest requested level (M4 uses 95). */
  msis: number | null;
  /** Relative score used by `auto`: (sMAPE/sMAPE_naive2 + MASE/MASE_naive2)/2. */
  owa: number | null;
  skipped?: string;
  note?: string;
}

/** Backtest summary of one method over all windows of a series. */
export interface MethodScore {
  method: string;
  /** Windows the method was scored on. */
  windows: number;
  smape: number | null;
  mase: number | null;
  /** Mean per-window OWA against Naive2; what `auto` ranks by (lower is better). */
  owa: number | null;
  /**
   * Mean per-window RMSSE (M5's metric, scaled by the in-sample one-step naive MSE); what `auto`
   * ranks an intermittent series by. Absent in scores made before it was summarised.
   */
  rmsse?: number | null;
  /** Why the method was not scored on some or all windows. */
  skipped?: string;
}

/** The method used for a series' forecast and why. */
export interface ChosenMethod {
  /** The method name, or `combine(a,b,…)`. */
  method: string;
  /** For a combination: the methods averaged, best first (for a hedged pool: the pool). */
  members?: string[];
  /** For a hedged pool (`selection: 'hedge'`): the anchors whose median is blended in. */
  anchors?: string[];
  /** Mean backtest OWA of the chosen method (null when no window could be scored). */
  owa: number | null;
  smape: number | null;
  mase: number | null;
  /**
   * Set when the chosen method is not the one the backtest or the file asked for: the series
   * was too short (for the method, or for any backtest window) and a simpler one was used.
   */
  fallbackReason: string | null;
}

export interface SeriesForecast {
  keys: Record<string, string>;
  /** ISO starts of the h future periods (only when `spec.frequency` is given). */
  periods?: string[];
  chosen: ChosenMethod;
  /** The forecast to publish: the chosen method's, clamped and reconciled as the spec says. */
  forecast: MethodForecast;
  /** Every candidate's whole-series forecast when `keepAllMethods`; else only the chosen. */
  forecasts: MethodForecast[];
  backtest: BacktestRow[];
  scores: MethodScore[];
  /**
   * Set when `forecast` was changed by hierarchy reconciliation (a parent's points are then the
   * sum of its children's); `chosen` still names the method of its own forecast.
   */
  reconciled?: 'bottom_up' | 'mint_shrink';
  /**
   * Set on every series of a hierarchy: the reconciliation applied to the hierarchy, and when
   * `mint_shrink` was asked but bottom-up used, why (`note`).
   */
  reconciliation?: { method: 'bottom_up' | 'mint_shrink'; note?: string };
  /**
   * With `outliers: clean`: the values of the whole series replaced for the final fit (empty when
   * none); absent with `keep`.
   */
  outliers?: ReplacedOutlier[];
  /**
   * Internal: the chosen method's one-step in-sample residuals, set only when the spec asks
   * `reconcile: 'mint_shrink'`, for `reconcileForecasts` (which removes them).
   */
  residuals?: number[];
}

/** Progress callback: `done` of `total` series finished. */
export type ForecastProgress = (done: number, total: number) => void;
