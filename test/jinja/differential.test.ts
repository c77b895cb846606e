// The differential corpus: ~1,750 templates rendered by real Jinja2 3.1.6 set up as dbt sets it
// up (scripts/jinja-differential/generate.py, run by hand, wrote the fixture). Every template
// must render identically here, except the ids listed in known-differences.json; a listed id
// that now matches fails too, so the list only ever shrinks.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compareCase,
  loadFixture,
  type Outcome,
} from '../../scripts/jinja-differential/compare.js';

const known = new Set(
  JSON.parse(
    readFileSync(new URL('./differential/known-differences.json', import.meta.url), 'utf8'),
  ) as string[],
);

describe('differential corpus against Jinja2 3.1.6', () => {
  it('renders every template as Jinja2 does, apart from the known differences', async () => {
    const fixture = loadFixture();
    const outcomes: Outcome[] = [];
    for (const c of fixture.cases) outcomes.push(await compareCase(c, fixture.context));
    const differing = outcomes.filter((o) => !o.identical);
    if (process.env.JINJA_DIFF_REPORT) {
      writeFileSync(process.env.JINJA_DIFF_REPORT, JSON.stringify(outcomes, null, 1));
    }
    const identical = outcomes.length - differing.length;
    const messages = outcomes.filter((o) => o.sameMessage).length;
    console.log(
      `jinja differential: ${identical} of ${outcomes.length} identical, ` +
        `${messages} with the same output or error message`,
    );
    const unexpected = differing.filter((o) => !known.has(o.id));
    const nowFixed = outcomes.filter((o) => o.identical && known.has(o.id)).map((o) => o.id);
    expect(unexpected).toEqual([]);
    expect(nowFixed).toEqual([]);
  }, 120_000);
});
