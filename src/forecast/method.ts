/**
 * The forecast method seam. Every method (naive, seasonal naive, SES/Holt/damped, ETS, Theta,
 * MSTL, Croston/TSB, Comb…) is one `ForecastMethod`; backtests, `auto` selection, reconciliation
 * and the pipeline step call methods only through this interface, and one conformance suite
 * (test/forecast/method-conformance.test.ts) runs every registered method against it.
 *
 * Contract, for every method:
 * - `forecast(y, h, options)` is a pure function of its arguments: the same input gives the same
 *   output (no wall clock, no unseeded randomness), and it never mutates `y`. The one exception
 *   is `options.memory`, which a method may read and add to (see there).
 * - `y` holds finite numbers, oldest first, one value per period, already gap-filled by the
 *   caller; its length is at least `minLength(options)`. Called with a shorter series a method
 *   throws a TributaryError (code `INPUT`) rather than guessing; callers check `minLength` first
 *   and fall back to a simpler method (and say which).
 * - The result has exactly `h` finite point forecasts. For each requested interval level it has
 *   `h` lower and upper bounds with lower <= point <= upper, and a wider level never gives a
 *   narrower band. A method without intervals of its own returns none (`capabilities.intervals`
 *   is false); the backtest then derives empirical bands from its in-sample errors.
 * - Methods for non-negative quantities (demand) do not clamp on their own: the caller clamps
 *   points and bounds at zero when the forecast declares `non_negative` (the default).
 */
export interface ForecastOptions {
  /**
   * Season lengths in periods, shortest first (e.g. [7] for daily data with a weekly cycle,
   * [24, 168] for hourly). Empty or [1]: no seasonality.
   */
  seasonPeriods: readonly number[];
  /** Prediction interval levels in percent, e.g. [80, 95]. May be empty. */
  levels: readonly number[];
  /**
   * Per-series memory the caller may pass with every call for one series, oldest training data
   * first (the engine does: one per series, through its backtest windows, then the final fit).
   * A method may record a choice made on one call (AutoETS's model form) under its own name and,
   * on a later call whose series extends the remembered one, re-estimate only that choice. Values
   * only flow from shorter training data to longer, so no backtest window sees values after its
   * origin. Without it every call is a full, independent fit.
   */
  memory?: Map<string, unknown>;
}

export interface IntervalBand {
  level: number;
  lower: number[];
  upper: number[];
}

export interface ForecastResult {
  /** Point forecasts for the next h periods. */
  mean: number[];
  /** One band per requested level, in the order asked; empty when the method has none. */
  intervals: IntervalBand[];
  /**
   * One-step in-sample fitted values, aligned with `y` (NaN where the method has none, e.g. the
   * first season of seasonal naive). Used for residual-based intervals and diagnostics.
   */
  fitted?: number[];
}

export interface MethodCapabilities {
  /** Produces its own prediction intervals. */
  intervals: boolean;
  /** Models seasonality (uses `seasonPeriods`). */
  seasonal: boolean;
  /** Handles several season lengths at once (MSTL). */
  multiSeasonal: boolean;
  /** Built for intermittent demand (mostly zeros): Croston, SBA, TSB. */
  intermittent: boolean;
  /**
   * Costs tens of milliseconds per fit on two years of daily data where the others take a few
   * milliseconds or less: callers forecasting many series under a time budget may leave it out of
   * `auto`'s candidates. Absent means cheap. (No registered method is expensive since ets and
   * mstl moved from augurs to our own AutoETS and STL, about 2–5 ms per fit.)
   */
  expensive?: boolean;
}

export interface ForecastMethod {
  /** The name used in forecasts/*.yml `methods:` and in result tables (`snake_case`). */
  readonly name: string;
  readonly capabilities: MethodCapabilities;
  /** Shortest series this method accepts with these options. */
  minLength(options: ForecastOptions): number;
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult;
}
