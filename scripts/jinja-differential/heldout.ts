// Compares src/jinja with a held-out corpus that generate.py wrote somewhere other than the
// committed fixture (`generate.py --seed N --count N --no-hand --out FILE`):
//   node dist/scripts/jinja-differential/heldout.js FILE [REPORT.json]
// Prints how many templates render identically (and with the same error message), then the
// differing ones; REPORT.json, when given, gets every differing outcome.
import { writeFileSync } from 'node:fs';
import { compareCase, loadFixture, type Outcome } from './compare.js';

async function main(): Promise<void> {
  const [file, report] = process.argv.slice(2);
  if (!file) throw new Error('usage: heldout.js FIXTURE.json [REPORT.json]');
  const fixture = loadFixture(file);
  const outcomes: Outcome[] = [];
  for (const c of fixture.cases) outcomes.push(await compareCase(c, fixture.context));
  const differing = outcomes.filter((o) => !o.identical);
  const messages = outcomes.filter((o) => o.sameMessage).length;
  process.stdout.write(
    `${file} (seed ${fixture.seed}): ${outcomes.length - differing.length} of ${outcomes.length} ` +
      `identical, ${messages} with the same output or error message\n`,
  );
  const bySrc = new Map(fixture.cases.map((c) => [c.id, c.src]));
  for (const o of differing.slice(0, 40)) {
    process.stdout.write(
      `- ${o.id}: ${bySrc.get(o.id)}\n    jinja2: ${o.expected}\n    ours:   ${o.actual}\n`,
    );
  }
  if (report) {
    const rows = differing.map((o) => ({ ...o, src: bySrc.get(o.id) }));
    writeFileSync(report, JSON.stringify(rows, null, 1));
  }
}

await main();
