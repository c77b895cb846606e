import { describe, expect, it } from 'vitest';
import {
  jsonSchemas,
  loadProject,
  ProblemsError,
  parseYaml,
  projectConfigSchema,
} from '../../src/project/index.js';
import { tempDir, writeFiles } from '../helpers.js';

const contract = `primary_key: [id]\ncolumns:\n  - { name: id, type: bigint, required: true }\n`;

async function problemsOf(files: Record<string, string>): Promise<ProblemsError> {
  const dir = tempDir();
  writeFiles(dir, files);
  const err = await loadProject(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProblemsError);
  return err as ProblemsError;
}

describe('project config', () => {
  it('names the file, line, column and path of a value of the wrong kind', () => {
    const text =
      'name: shop\nsources:\n  s:\n    type: files\n    tables:\n      t: { files: "*.csv", format: xml }\n';
    const { problems } = parseYaml('tributary.yml', text, projectConfigSchema);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.location).toMatchObject({
      file: 'tributary.yml',
      line: 6,
      path: 'sources.s.tables.t.format',
    });
    expect(problems[0]!.message).toMatch(/csv|json|ndjson/);
  });

  it('reports YAML syntax errors with their line', () => {
    const { problems } = parseYaml(
      'tributary.yml',
      'name: shop\nsources: [unclosed\n',
      projectConfigSchema,
    );
    expect(problems[0]!.location.file).toBe('tributary.yml');
    expect(problems[0]!.location.line).toBeGreaterThanOrEqual(2);
  });

  it('rejects unknown keys instead of ignoring a typo', () => {
    const { problems } = parseYaml(
      'tributary.yml',
      'name: shop\nsorces: {}\n',
      projectConfigSchema,
    );
    expect(problems[0]!.message).toMatch(/sorces/);
    expect(problems[0]!.location.line).toBe(1);
  });

  it('collects every problem of a project at once', async () => {
    const err = await problemsOf({
      'tributary.yml':
        'name: shop\nsources:\n  s:\n    type: files\n    tables:\n      a: { files: "a.csv" }\n      b: { files: "b.csv" }\n',
      'contracts/a.yml': 'columns:\n  - { name: id, type: bigint, references: nothere.id }\n',
      'contracts/b.yml': 'columns:\n  - { name: id, type: money }\n',
    });
    expect(err.problems.map((p) => p.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/references unknown table nothere/),
        expect.stringMatching(/expected one of string/),
      ]),
    );
  });

  it('says which contract file is missing', async () => {
    const err = await problemsOf({
      'tributary.yml':
        'name: shop\nsources:\n  s:\n    type: files\n    tables:\n      a: { files: "a.csv" }\n',
    });
    expect(err.format()).toMatch(/contracts\/a\.yml.*file not found/);
  });

  it('requires primary key and partition columns to exist and be required', async () => {
    const err = await problemsOf({
      'tributary.yml':
        'name: shop\nsources:\n  s:\n    type: files\n    tables:\n      a: { files: "a.csv" }\n',
      'contracts/a.yml':
        'primary_key: [id, nope]\npartition_by: { column: ts }\ncolumns:\n  - { name: id, type: bigint }\n  - { name: ts, type: string, required: true }\n',
    });
    const messages = err.problems.map((p) => p.message).join('\n');
    expect(messages).toMatch(/primary key column id must be required/);
    expect(messages).toMatch(/primary key column nope is not in columns/);
    expect(messages).toMatch(/partition column ts must be a date or timestamp/);
  });

  it('refuses the same table name in two sources', async () => {
    const err = await problemsOf({
      'tributary.yml':
        'name: shop\nsources:\n  s1:\n    type: files\n    tables:\n      a: { files: "a.csv" }\n  s2:\n    type: files\n    tables:\n      a: { files: "b.csv" }\n',
      'contracts/a.yml': contract,
    });
    expect(err.problems[0]!.message).toMatch(/table name a is used by sources s1 and s2/);
  });

  it('loads a valid project with defaults filled in', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'tributary.yml':
        'name: shop\nsources:\n  s:\n    type: files\n    tables:\n      a: { files: "a*.csv" }\n',
      'contracts/a.yml': contract,
    });
    const project = await loadProject(dir);
    expect(project.tables[0]).toMatchObject({
      id: 's.a',
      format: undefined,
      csv: { delimiter: ',', header: true },
    });
    expect(project.paths.warehouse).toBe(`${dir}/.tributary/warehouse.duckdb`);
  });

  it('takes a PostgreSQL warehouse with its URL from a secret, and says what is missing or misplaced', () => {
    const parse = (warehouse: string) =>
      parseYaml('tributary.yml', `name: shop\nwarehouse: ${warehouse}\n`, projectConfigSchema);
    const ok = parse('{ engine: postgres, url: { env: WH_URL }, schema: analytics }');
    expect(ok.problems).toEqual([]);
    expect(ok.value!.warehouse).toMatchObject({
      engine: 'postgres',
      url: { env: 'WH_URL' },
      schema: 'analytics',
      read_role: 'tributary_reader',
    });
    expect(parse('{}').value!.warehouse.engine).toBe('duckdb');
    const noUrl = parse('{ engine: postgres }').problems;
    expect(noUrl.map((p) => [p.location?.path, p.message])).toEqual([
      ['warehouse.url', expect.stringMatching(/needs warehouse.url/)],
    ]);
    const misplaced = parse('{ url: { env: WH_URL } }').problems;
    expect(misplaced[0]!.location?.path).toBe('warehouse.url');
    expect(misplaced[0]!.message).toMatch(/for engine postgres/);
    // The URL holds a password: never written in tributary.yml itself.
    expect(parse('{ engine: postgres, url: "postgres://u:p@h/db" }').problems).not.toEqual([]);
  });

  it('keeps state in a DuckDB file by default, or on PostgreSQL with a secret URL', () => {
    const parse = (state: string) =>
      parseYaml('tributary.yml', `name: shop\n${state}`, projectConfigSchema);
    expect(parse('').value!.state).toEqual({ store: 'duckdb', path: '.tributary/state.duckdb' });
    expect(parse('state: { path: s.db }\n').value!.state).toEqual({
      store: 'duckdb',
      path: 's.db',
    });
    expect(parse('state: { store: postgres, url: { env: STATE_URL } }\n').value!.state).toEqual({
      store: 'postgres',
      url: { env: 'STATE_URL' },
      schema: 'tributary_state',
    });
    const noUrl = parse('state:\n  store: postgres\n').problems;
    expect(noUrl[0]!.location).toMatchObject({ line: 3, path: 'state.url' });
    const plainUrl = parse('state: { store: postgres, url: "postgres://u:p@h/db" }\n').problems;
    expect(plainUrl[0]!.location.path).toBe('state.url');
    expect(parse('state: { store: duckdb, url: { env: X } }\n').problems[0]!.message).toMatch(
      /url/,
    );
  });

  it('explains how to start when there is no tributary.yml', async () => {
    const err = (await loadProject(tempDir()).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/no tributary\.yml/);
  });
});

describe('JSON Schema', () => {
  it('is generated from the same definitions that validate', () => {
    const schemas = jsonSchemas() as Record<string, { properties?: Record<string, unknown> }>;
    expect(Object.keys(schemas['tributary.schema.json']!.properties!)).toEqual(
      expect.arrayContaining(['name', 'sources', 'lake', 'warehouse', 'models']),
    );
    expect(Object.keys(schemas['contract.schema.json']!.properties!)).toEqual(
      expect.arrayContaining(['columns', 'primary_key']),
    );
  });
});

describe('environment variables in tributary.yml', () => {
  it('replaces ${NAME} and ${NAME:-default} in string values', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'tributary.yml':
        'name: e\nsources:\n  s:\n    type: files\n    path: ${TRIB_TEST_LANDING:-incoming}\n    tables:\n      t: { files: "${TRIB_TEST_PATTERN}" }\n',
      'contracts/t.yml': 'columns:\n  - { name: id, type: bigint }\n',
    });
    process.env.TRIB_TEST_PATTERN = 't*.csv';
    try {
      const project = await loadProject(dir);
      const t = project.tables[0]!;
      expect(t.kind === 'files' && t.pattern).toBe('t*.csv');
      expect(t.kind === 'files' && t.folder.endsWith('incoming')).toBe(true);
    } finally {
      delete process.env.TRIB_TEST_PATTERN;
    }
  });

  it('names an unset variable without a default, with its line', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'tributary.yml':
        'name: e\nsources:\n  s:\n    type: files\n    tables:\n      t: { files: "${TRIB_TEST_UNSET_VAR}" }\n',
    });
    const err = (await loadProject(dir).catch((e: unknown) => e)) as ProblemsError;
    expect(err.format()).toMatch(
      /tributary\.yml:6:\d+ \(sources\.s\.tables\.t\.files\): environment variable TRIB_TEST_UNSET_VAR is not set/,
    );
  });
});
