/**
 * Properties files are read as dbt reads them (PyYAML's SafeLoader, YAML 1.1): `yes`/`no`/
 * `on`/`off` are booleans but `y`/`n` stay strings, `0755` is octal, `1:30` sexagesimal, `<<`
 * merges; invalid YAML is a problem naming the file, its line and column.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import { openDbtProject } from '../../src/models/index.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir('trib-props-yaml-');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function project(name: string, yml: string): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'models'), { recursive: true });
  writeFileSync(join(dir, 'dbt_project.yml'), `name: p\nprofile: p\n`);
  writeFileSync(
    join(dir, 'profiles.yml'),
    `p:\n  target: dev\n  outputs:\n    dev: { type: duckdb, path: ':memory:' }\n`,
  );
  writeFileSync(join(dir, 'models', 'm.sql'), 'select 1 as y\n');
  writeFileSync(join(dir, 'models', 'schema.yml'), yml);
  return dir;
}

describe('properties files read as YAML 1.1 (PyYAML)', () => {
  it('resolves 1.1 booleans, octal, sexagesimal and merge keys, but not y/n', async () => {
    const dir = project(
      'ok',
      [
        'version: 2',
        'defaults: &defaults',
        '  owner: data',
        'models:',
        '  - name: m',
        '    config:',
        '      meta:',
        '        <<: *defaults',
        '        a: yes',
        '        b: Off',
        '        c: ON',
        '        d: "yes"',
        '        e: y',
        '        f: n',
        '        g: 0755',
        '        h: 1:30',
        '        i: ~',
        '        j: no',
        '    columns:',
        '      - name: y',
        '      - name: n',
        '',
      ].join('\n'),
    );
    const opened = await openDbtProject(dir, { profilesDir: dir });
    try {
      const node = opened.parsed.manifest.nodes.get('model.p.m')!;
      expect(node.meta).toEqual({
        owner: 'data',
        a: true,
        b: false,
        c: true,
        d: 'yes',
        e: 'y',
        f: 'n',
        g: 493,
        h: 90,
        i: null,
        j: false,
      });
      expect(Object.keys(node.columns)).toEqual(['y', 'n']);
    } finally {
      await opened.close();
    }
  });

  it('takes an anchor used more than a hundred times, as PyYAML does', async () => {
    const models = Array.from(
      { length: 150 },
      (_, i) => `  - { name: m${i || ''}, columns: *cols }`,
    );
    const dir = project(
      'aliases',
      ['version: 2', 'common: &cols', '  - name: y', 'models:', ...models, ''].join('\n'),
    );
    const opened = await openDbtProject(dir, { profilesDir: dir });
    try {
      expect(Object.keys(opened.parsed.manifest.nodes.get('model.p.m')!.columns)).toEqual(['y']);
      expect(opened.parsed.warnings.filter((w) => w.message.includes('matches no'))).toHaveLength(
        149,
      );
    } finally {
      await opened.close();
    }
  });

  it('reports invalid YAML with the file, line and column, and a duplicate key', async () => {
    const cases = [
      ['version: 2\nmodels:\n  - name: m\n    description: "unclosed\n', 5, /closing "quote$/],
      ['version: 2\nmodels:\n  - name: m\n    description: a\n    description: b\n', 5, /unique/],
    ] as const;
    for (const [i, [yml, line, message]] of cases.entries()) {
      const dir = project(`bad${i}`, yml);
      const err = await openDbtProject(dir, { profilesDir: dir }).then(
        async (o) => {
          await o.close();
          return undefined;
        },
        (e: unknown) => e as TributaryError,
      );
      expect(err).toBeInstanceOf(TributaryError);
      expect(err!.message).toMatch(/^invalid YAML: /);
      expect(err!.message).toMatch(message);
      expect(err!.location).toMatchObject({ file: 'models/schema.yml', line });
    }
  });
});
