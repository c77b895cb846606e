/**
 * Selection study, step 1 (collect): for every series of the bench sets, hold out the last h
 * values, run every `auto` candidate at W rolling origins on the rest (step h) and on the whole
 * rest, and write each forecast with its actuals to a JSON file, so selection rules can be
 * compared offline (bench/forecast-select.ts) without refitting.
 *   node dist/bench/forecast-select-collect.js --set <index> --windows 6 --out /tmp/fcsel
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchArgs } from './args.js';
import { backtestOrigins } from '../src/forecast/backtest.js';
import { runMethod } from '../src/forecast/bands.js';
import { autoCandidates } from '../src/forecast/engine.js';
import { methodByName } from '../src/forecast/methods/index.js';
import { scaleSeason, seasonalNaiveMae } from '../src/forecast/metrics.js';
import { realSets, syntheticSets, templateSets } from './forecast-sets.js';

const { values: args } = benchArgs(
  {
    options: {
      set: { type: 'string' },
      windows: { type: 'string', default: '6' },
      out: { type: 'string', default: '/tmp/fcsel' },
      scale: { type: 'string', default: '0.3' },
    },
  },
  import.meta.url,
);

export interface Fold {
  origin: number;
  actual: number[];
  /** In-sample seasonal-naive MAE of the training part (MASE's scale). */
  scale: number;
  forecasts: Record<string, number[] | null>;
}

export interface StudySeries {
  key: string;
  candidates: string[];
  folds: Fold[];
  hold: Fold;
}

function fold(
  train: readonly number[],
  actual: number[],
  candidates: readonly string[],
  h: number,
  seasons: number[],
): Fold {
  const forecasts: Record<string, number[] | null> = {};
  const options = { seasonPeriods: seasons, levels: [80, 95] };
  for (const name of candidates) {
    const method = methodByName(name);
    if (train.length < method.minLength(options)) {
      forecasts[name] = null;
      continue;
    }
    try {
      forecasts[name] = runMethod(method, train, h, options, true).mean;
    } catch {
      forecasts[name] = null;
    }
  }
  return {
    origin: train.length,
    actual,
    scale: seasonalNaiveMae(train, scaleSeason(seasons)),
    forecasts,
  };
}

async function main(): Promise<void> {
  const sets = [...syntheticSets(), ...(await templateSets(Number(args.scale))), ...realSets()];
  const index = Number(args.set);
  const set = sets[index]!;
  const h = set.spec.horizon;
  const seasons = set.spec.seasonPeriods;
  const windows = Number(args.windows);
  const out: StudySeries[] = [];
  for (const s of set.series) {
    const train = s.values.slice(0, -h);
    const candidates = autoCandidates(train, seasons);
    if (!candidates.includes('naive2')) candidates.push('naive2');
    if (!candidates.includes('seasonal_naive')) candidates.push('seasonal_naive');
    const folds = backtestOrigins(train.length, h, windows, h).map((o) =>
      fold(train.slice(0, o), train.slice(o, o + h), candidates, h, seasons),
    );
    const hold = fold(train, s.values.slice(-h), candidates, h, seasons);
    out.push({ key: JSON.stringify(s.keys), candidates, folds, hold });
  }
  mkdirSync(args.out!, { recursive: true });
  writeFileSync(
    join(args.out!, `set-${index}.json`),
    JSON.stringify({ name: set.name, horizon: h, seasons, series: out }),
  );
  console.log(`set ${index} (${set.name}): ${out.length} series`);
}

await main();
