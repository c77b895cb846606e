/**
 * The fast reader of plain properties YAML (src/models/parsers/plain-yaml.ts) against the `yaml`
 * package read as dbt reads it (YAML 1.1, PyYAML's booleans): on every text it takes, the values
 * are the same; what it is not sure of it leaves to `yaml` (undefined), invalid YAML included.
 * Checked on hand-written edge cases, on every .yml of the repository's tests and templates and
 * of the shared dbt-utils copy, and on a few thousand generated documents.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { readPlainYaml } from '../../src/models/parsers/plain-yaml.js';
import { DBT_YAML } from '../../src/models/parsers/property-entries.js';
import { sharedDir } from '../shared-material.js';

/** `yaml`'s values for a text, or undefined when it reports an error. */
function reference(text: string): unknown {
  const doc = parseDocument(text, DBT_YAML);
  if (doc.errors.length) return undefined;
  return doc.toJS({ maxAliasCount: -1 });
}

/** Checks the reader on `text`; true when it took it (false: left to `yaml`). */
function check(text: string): boolean {
  const fast = readPlainYaml(text);
  if (fast === undefined) return false;
  expect(fast, text).toStrictEqual(reference(text));
  return true;
}

const TAKEN = [
  'version: 2\nmodels:\n  - name: m\n    description: Model m.\n    columns:\n      - name: id\n        tests:\n          - unique\n          - not_null\n',
  'models:\n- name: m\n  columns:\n  - name: id\n',
  'a: 1\nb: -12\nc: 0\nd: yes\ne: Off\nf: y\ng: n\nh: ~\ni:\nj: null\nk: TRUE\n',
  "a: 'it''s'\nb: \"x # y\"\nc: 'a: b'\nd: \"\"\ne: ''\n",
  'a: x # comment\nb: x#y\n# whole line\n\nc:   spaced   \n',
  'tests:\n  - dbt_utils.expression_is_true: { expression: "id >= 0" }\n  - accepted_values: {values: [a, b, "c d", 1, yes]}\n',
  'a: []\nb: {}\nc: [[1, 2], {x: y}]\nd: {"q": \'v\', k: [ ]}\n',
  'd: |\n  line one\n  # not a comment\n\n  line three\ne: after\n',
  'd: |-\n  kept\n  lines\n',
  'd: >\n  folded\n  text\n\n  para\n',
  'd: >-\n  folded\n  text\n',
  'x:\n  - a\n  -\n  - b\n',
  'url: http://example.com/a:b\ntext: a, b [c] {d}\n"quoted key": 1\n\'single\': 2\n',
  'x:\n  y:\n    z: 1\n  w: 2\nv: 3\n',
  'd: |\n  no final newline',
  'd: >\n  a\n\n\n  b\n',
  'd: |\n    deeper\n    block\ne: 1\n',
  'a:  \n  b: 1\n',
];

const LEFT = [
  'a: &x 1\nb: *x\n',
  'a: !!str 1\n',
  '<<: {a: 1}\n',
  'a: 1.5\n',
  'a: 0755\n',
  'a: 1:30\n',
  'a: 2024-01-01\n',
  'a: 1_000\n',
  'yes: 1\n',
  'a: 1\na: 2\n',
  'a: "esc\\n"\n',
  'a: multi\n  line\n',
  'a: "multi\n  line"\n',
  '---\na: 1\n',
  'a:\t1\n',
  'a: b: c\n',
  'a: [1, 2,]\n',
  'a: [1,\n  2]\n',
  'a: |+\n  keep\n\n',
  'a: |2\n   x\n',
  'a: >\n  x\n    more\n  y\n',
  '- a\n- b\n',
  'a: -1.5\n',
  'a: .inf\n',
  '__proto__: 1\n',
  'a:\n  b: 1\n c: 2\n',
  'a: 1\n  b: 2\n',
  'key :\n',
  '12: a\n',
  '',
];

describe('plain YAML reader', () => {
  it('reads the plain block YAML of properties files as `yaml` does', () => {
    for (const text of TAKEN) expect(check(text), text).toBe(true);
  });

  it('leaves anchors, tags, numbers past small integers, escapes, continuations and errors to `yaml`', () => {
    for (const text of LEFT) expect(readPlainYaml(text), text).toBeUndefined();
  });

  it("gives `yaml`'s values for every .yml of the tests, the templates and dbt-utils", () => {
    const root = join(import.meta.dirname, '../..');
    const folders = [join(root, 'test'), join(root, 'templates'), join(sharedDir(), 'dbt-utils')];
    const files: string[] = [];
    const walk = (dir: string) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names) {
        if (name === 'node_modules' || name === 'target' || name === '.git') continue;
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.ya?ml$/.test(name)) files.push(path);
      }
    };
    for (const f of folders) walk(f);
    expect(files.length).toBeGreaterThan(20);
    let taken = 0;
    for (const f of files) if (check(readFileSync(f, 'utf8'))) taken++;
    // Most of them are plain: the fast path is not a dead branch.
    expect(taken).toBeGreaterThan(files.length / 2);
  });

  it('agrees with `yaml` on generated documents', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const pick = <T>(xs: T[]): T => xs[rand(xs.length)]!;
    // Half the documents are mostly plain words (taken), half mostly tricky ones (left).
    let tricky = 2;
    const plain = ['id', 'name', 'Model 1.', 'x#y', 'http://h/p', 'dbt_utils.x', 'é', 'a, b'];
    const word = () => (rand(tricky) === 0 ? pick(words) : pick(plain));
    const words = [
      'id',
      'name',
      'yes',
      'No',
      'ON',
      'off',
      'y',
      'n',
      'true',
      'False',
      'null',
      '~',
      '0',
      '7',
      '-3',
      '-0',
      '1.5',
      '0755',
      '1:30',
      '2024-01-02',
      'a b',
      'x#y',
      'a #b',
      'a: b',
      'a:b',
      'http://h/p',
      '*x',
      '&y',
      '!t',
      '%p',
      '@q',
      '`r',
      '-z',
      '- z',
      '?',
      ':',
      '>',
      '|',
      '.inf',
      '=',
      '<<',
      "it's",
      'say "hi"',
      'back\\slash',
      '[1]',
      '{a}',
      'a,b',
      'é',
      '',
      ' lead',
      'trail ',
      '__proto__',
      'constructor',
      'dbt_utils.x',
      '+m',
    ];
    const scalar = (): string => {
      const w = word();
      switch (rand(4)) {
        case 0:
          return `'${w.replace(/'/g, "''")}'`;
        case 1:
          return `"${w.replace(/"/g, '\\"')}"`;
        default:
          return w;
      }
    };
    const key = (): string =>
      rand(tricky) === 0 ? (rand(5) === 0 ? scalar() : pick(words.slice(0, 24))) : `k${rand(60)}`;
    const flowValue = (depth: number): string => {
      const r = rand(depth > 1 ? 1 : 4);
      if (r === 1)
        return `[${Array.from({ length: rand(4) }, () => flowValue(depth + 1)).join(', ')}]`;
      if (r === 2)
        return `{${Array.from({ length: rand(4) }, () => `${key()}: ${flowValue(depth + 1)}`).join(', ')}}`;
      return scalar();
    };
    const block = (indent: string, depth: number): string[] => {
      const out: string[] = [];
      const seq = depth > 0 && rand(2) === 0;
      for (let i = 0, n = 1 + rand(4); i < n; i++) {
        const lead = seq ? `${indent}- ` : `${indent}${key()}:`;
        const r = rand(depth > 2 ? 3 : 6);
        if (r === 0) out.push(`${lead}${seq ? '' : ' '}${scalar()}${rand(4) ? '' : ' # c'}`);
        else if (r === 1) out.push(`${lead}${seq ? '' : ' '}${flowValue(0)}`);
        else if (r === 2) {
          out.push(`${lead}${seq ? '' : ' '}${pick(['|', '|-', '>', '>-'])}`);
          for (let j = 0, m = 1 + rand(3); j < m; j++)
            out.push(rand(4) === 0 ? '' : `${indent}  ${word() || 'w'} ${word()}`);
        } else if (r === 3) out.push(lead);
        else {
          out.push(lead);
          out.push(...block(`${indent}${pick(['  ', '    ', ' '])}`, depth + 1));
        }
      }
      return out;
    };
    let taken = 0;
    for (let i = 0; i < 4000; i++) {
      tricky = i % 2 ? 2 : 30;
      if (check(`${block('', 0).join('\n')}\n`)) taken++;
    }
    expect(taken).toBeGreaterThan(500);
  });
});
