/**
 * Combination study, step 1 (collect): runs `auto` on every bench set at the held-out origins of
 * bench:forecast (`--origins k`, one horizon apart) with `keepAllMethods`, and writes one JSON line
 * per series and origin: the set, the series' index in its set, the hold-out actuals, Naive2's
 * sMAPE and MASE there, MASE's scale, every candidate's forecast from the same training values,
 * auto's forecast, its pool and anchors, and every method's backtest score. Rules that combine the
 * candidates differently can then be scored offline (`node` on the lines) without refitting.
 *   node dist/bench/forecast-study.js [--only a,b,c] [--file real.json] [--origins 4] --out rows.jsonl
 */
import { writeFileSync } from 'node:fs';
import { benchArgs } from './args.js';
import { METHODS } from '../src/forecast/methods/index.js';
import { forecastSeriesParallel } from '../src/forecast/parallel.js';
import { mase, scaleSeason, seasonalNaiveMae, smape } from '../src/forecast/metrics.js';
import { runMethod } from '../src/forecast/bands.js';
import type { BenchSet } from './forecast-sets.js';
import { fileSets, realSets, syntheticSets, templateSets } from './forecast-sets.js';

const { values: args } = benchArgs(
  {
    options: {
      only: { type: 'string', default: 'a,b,c' },
      file: { type: 'string' },
      origins: { type: 'string', default: '4' },
      scale: { type: 'string', default: '0.3' },
      workers: { type: 'string', default: '2' },
      out: { type: 'string', default: '/tmp/forecast-study.jsonl' },
    },
  },
  import.meta.url,
);

async function collect(set: BenchSet, lines: string[]): Promise<void> {
  const h = set.spec.horizon;
  const m = scaleSeason(set.spec.seasonPeriods);
  const naive2 = METHODS.get('naive2')!;
  for (let o = 0; o < Number(args.origins); o++) {
    const cut = (values: readonly number[]): number => values.length - h * (o + 1);
    const kept = set.series
      .map((s, index) => ({ s, index }))
      .filter(({ s }) => cut(s.values) >= 2 * h + 2);
    if (kept.length === 0) break;
    const training = kept.map(({ s }) => ({
      ...s,
      periods: s.periods.slice(0, cut(s.values)),
      values: s.values.slice(0, cut(s.values)),
    }));
    const results = await forecastSeriesParallel(
      training,
      { ...set.spec, keepAllMethods: true },
      undefined,
      { workers: Number(args.workers) },
    );
    kept.forEach(({ s, index }, i) => {
      const train = training[i]!.values;
      const actual = s.values.slice(cut(s.values), cut(s.values) + h);
      const options = { seasonPeriods: set.spec.seasonPeriods, levels: [] };
      const n2 = runMethod(naive2, train, h, options, set.spec.nonNegative).mean;
      const r = results[i]!;
      const forecasts: Record<string, number[]> = {};
      for (const f of r.forecasts)
        if (!f.method.startsWith('combine(')) forecasts[f.method] = f.mean;
      const scores: Record<string, number | null> = {};
      for (const sc of r.scores) scores[sc.method] = sc.owa;
      lines.push(
        JSON.stringify({
          set: set.name,
          index,
          key: JSON.stringify(s.keys),
          origin: o,
          actual,
          n2smape: smape(actual, n2),
          n2mase: mase(actual, n2, train, m),
          scale: seasonalNaiveMae(train, m),
          auto: r.forecast.mean,
          chosen: r.chosen.method,
          members: r.chosen.members ?? [r.chosen.method],
          anchors: r.chosen.anchors ?? [],
          forecasts,
          scores,
        }),
      );
    });
  }
}

async function main(): Promise<void> {
  const only = new Set(args.only!.split(','));
  const sets: BenchSet[] = [];
  if (only.has('a')) sets.push(...syntheticSets());
  if (only.has('b')) sets.push(...(await templateSets(Number(args.scale))));
  if (only.has('c')) sets.push(...realSets());
  if (args.file) sets.push(...fileSets(args.file));
  const lines: string[] = [];
  for (const set of sets) {
    const t0 = performance.now();
    await collect(set, lines);
    console.log(`${set.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  writeFileSync(args.out!, lines.map((l) => `${l}\n`).join(''));
}

await main();
