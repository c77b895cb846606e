// Builds the real set of issue 16 (bench/RESULTS.md, "The real set, rebuilt outside the repo"):
// the R series (r-series.R's JSON lines) plus vega-datasets@2's unemployed by industry, payroll
// employment by sector, 5 monthly stocks and Mauna Loa CO2; keeps the strictly positive series
// without missing values of at least 20 / 24 / 54 / 80 values (yearly / quarterly / monthly /
// weekly), drops exact duplicates (same frequency and values; the first name in order is kept)
// and writes a JSON array of {name, freq, values} for `npm run bench:forecast -- --file`.
// Usage: node filter.mjs r-series.jsonl vega-package-dir out.json
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

const [rFile, vegaDir, outFile] = process.argv.slice(2);
const MIN_LENGTH = { 1: 20, 4: 24, 12: 54, 52: 80 };
const all = readFileSync(rFile, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l));

const data = join(vegaDir, 'data');
const csv = (file) => {
  const [head, ...rows] = readFileSync(join(data, file), 'utf8').trim().split('\n');
  const cols = head.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i], v])));
};
const num = (v) => (v === undefined || v === '' ? null : Number(v));

// Unemployed (count) by industry, monthly.
const unemployment = JSON.parse(readFileSync(join(data, 'unemployment-across-industries.json')));
const industries = [...new Set(unemployment.map((r) => r.series))];
for (const industry of industries) {
  const rows = unemployment
    .filter((r) => r.series === industry)
    .sort((a, b) => a.year - b.year || a.month - b.month);
  all.push({ name: `vega::unemployed.${industry}`, freq: 12, values: rows.map((r) => r.count) });
}
// Payroll employment by sector (every column but the month; the change column fails positivity).
const employment = csv('us-employment.csv');
for (const col of Object.keys(employment[0]).filter((c) => c !== 'month')) {
  all.push({
    name: `vega::employment.${col}`,
    freq: 12,
    values: employment.map((r) => num(r[col])),
  });
}
// Monthly stock prices, per symbol in file order.
const stocks = csv('stocks.csv');
for (const symbol of [...new Set(stocks.map((r) => r.symbol))]) {
  const values = stocks.filter((r) => r.symbol === symbol).map((r) => num(r.price));
  all.push({ name: `vega::stocks.${symbol}`, freq: 12, values });
}
// Mauna Loa CO2, monthly.
all.push({
  name: 'vega::co2',
  freq: 12,
  values: csv('co2-concentration.csv').map((r) => num(r.CO2)),
});

const seen = new Set();
const kept = [];
for (const s of all) {
  const min = MIN_LENGTH[s.freq];
  if (min === undefined || s.values.length < min) continue;
  if (!s.values.every((v) => v !== null && Number.isFinite(v) && v > 0)) continue;
  const key = `${s.freq}:${s.values.join(',')}`;
  if (seen.has(key)) continue;
  seen.add(key);
  kept.push(s);
}
writeFileSync(outFile, JSON.stringify(kept));
const byFreq = {};
for (const s of kept) byFreq[s.freq] = (byFreq[s.freq] ?? 0) + 1;
process.stdout.write(`${kept.length} series ${JSON.stringify(byFreq)}\n`);
