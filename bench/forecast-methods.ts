/**
 * `npm run bench:forecast-methods`: fit time of every registered forecast method on two-year
 * daily series (730 values, weekly cycle, trend, noise; 10% of them intermittent), horizon 28,
 * levels 80 and 95, season periods [7] and [7, 365] (the default for two years of daily data).
 * Prints CPU milliseconds per fit (median over the series, after a warm-up) and the ratio to seasonal
 * naive measured in the same run, and what the speed case (1,000 series × 4 fits: three
 * backtest windows and the final fit) would cost per method on one core. Two reference rows time
 * @bsull/augurs's AutoETS and MSTL, which `ets` and `mstl` used before our own AutoETS and STL.
 *   npm run bench:forecast-methods -- --series 20
 */
import { loadavg } from 'node:os';
import { benchArgs } from './args.js';
import { seededRandom } from '../src/core/index.js';
import { METHODS, type ForecastMethod, type ForecastOptions } from '../src/forecast/index.js';
import { autoEts as augursAutoEts, mstl as augursMstl, withFreed } from '../src/forecast/augurs.js';
import { seasonallyAdjust } from '../src/forecast/seasonality.js';

const { values } = benchArgs(
  { options: { series: { type: 'string', default: '20' } } },
  import.meta.url,
);
const SERIES = Number(values.series);

function dailySeries(seed: number): number[] {
  const random = seededRandom(seed);
  const week = [0.8, 0.9, 0.95, 1.0, 1.1, 1.35, 0.9];
  const level = 20 + 200 * random();
  const slope = (random() - 0.3) * 0.1;
  if (seed % 10 === 0) {
    return Array.from({ length: 730 }, () => (random() < 0.15 ? 1 + Math.floor(random() * 5) : 0));
  }
  return Array.from({ length: 730 }, (_, t) =>
    Math.max(
      0,
      (level + slope * t) * week[t % 7]! * (1 + 0.1 * Math.sin((2 * Math.PI * t) / 365)) +
        level * 0.15 * (random() - 0.5),
    ),
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * References, not registered methods: @bsull/augurs's AutoETS (on the same seasonally adjusted
 * series our `ets` fits) and MSTL, which `ets` and `mstl` used before our own replaced them.
 */
const AUGURS: ForecastMethod[] = [
  {
    name: 'augurs ets',
    capabilities: { intervals: true, seasonal: true, multiSeasonal: true, intermittent: false },
    minLength: () => 8,
    forecast(y, h, options) {
      const { adjusted } = seasonallyAdjust(y, options.seasonPeriods);
      const AutoETS = augursAutoEts();
      return withFreed(new AutoETS(1, 'ZZN'), (m) => {
        m.fit(adjusted);
        return { mean: m.predict(h, 0.95).point, intervals: [] };
      });
    },
  },
  {
    name: 'augurs mstl',
    capabilities: { intervals: true, seasonal: true, multiSeasonal: true, intermittent: false },
    minLength: () => 8,
    forecast(y, h, options) {
      const MSTL = augursMstl();
      return withFreed(MSTL.ets(options.seasonPeriods.filter((p) => 2 * p <= y.length)), (m) => {
        m.fit(Float64Array.from(y));
        return { mean: m.predict(h, 0.95).point, intervals: [] };
      });
    },
  },
];

const series = Array.from({ length: SERIES }, (_, i) => dailySeries(i + 1));
const optionSets: Array<[string, ForecastOptions]> = [
  ['[7]', { seasonPeriods: [7], levels: [80, 95] }],
  ['[7, 365]', { seasonPeriods: [7, 365], levels: [80, 95] }],
];
console.log(`forecast methods: ${SERIES} series of 730 daily values, h = 28, levels 80/95`);
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (2 cores, shared)`,
);
for (const [label, options] of optionSets) {
  const times = new Map<string, number>();
  for (const [name, method] of [...METHODS, ...AUGURS.map((m) => [m.name, m] as const)]) {
    method.forecast(series[0]!, 28, options); // warm-up: JIT and WebAssembly instantiation
    const perSeries: number[] = [];
    for (const y of series) {
      // CPU time of this process, not wall time: the machine is shared, and wall time would
      // count other processes' turns on the two cores.
      const start = process.cpuUsage();
      method.forecast(y, 28, options);
      const used = process.cpuUsage(start);
      perSeries.push((used.user + used.system) / 1000);
    }
    times.set(name, median(perSeries));
  }
  const reference = times.get('seasonal_naive')!;
  console.log(`\nseason periods ${label}`);
  console.log(
    'method          CPU ms/fit   × seasonal_naive   1,000 series × 4 fits (s, one core)',
  );
  for (const [name, ms] of times) {
    console.log(
      `${name.padEnd(15)} ${ms.toFixed(3).padStart(11)}   ${(ms / reference).toFixed(1).padStart(16)}   ${((ms * 4000) / 1000).toFixed(1).padStart(10)}`,
    );
  }
}
