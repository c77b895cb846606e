/**
 * dbt's Jinja context objects through real model renders, on each engine: Relations (create,
 * include, quote, incorporate, equality, printing with the catalog first), adapter introspection
 * (get_relation, get_columns_in_relation and Column, list_relations_without_caching, DDL
 * methods), agate tables from run_query and statement/load_result, and the base context's
 * modules and functions. Each probe model prints `key=value` lines; compiling runs them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbtFixture, describeEachEngine, resultOf } from './dbt.js';

/** `key=value` lines of a compiled probe, as a map. */
function lines(sql: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of sql.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1);
  }
  return out;
}

const PROBES: Record<string, string> = {
  relation_api: `
{%- set r = api.Relation.create(database=target.database, schema=target.schema, identifier='people', type='table') -%}
{%- set bare = api.Relation.create(identifier='x') -%}
render={{ r }}
render_method={{ r.render() }}
parts={{ r.database == target.database }},{{ r.schema }},{{ r.identifier }},{{ r.name }},{{ r.type }}
kinds={{ r.is_table }},{{ r.is_view }},{{ r.is_cte }}
no_db={{ r.include(database=False) }}
only_id={{ r.include(database=False, schema=False) }}
unquoted={{ r.quote(identifier=False) }}
incorporated={{ r.incorporate(path={"identifier": "other"}, type='view') }}
incorporated_type={{ r.incorporate(type='view').type }}
without_identifier={{ r.without_identifier() }}
bare={{ bare }}|{{ bare.schema }}|{{ bare.database }}
eq={{ r == api.Relation.create(database=target.database, schema=target.schema, identifier='people', type='table') }}
ne={{ r == r.include(database=False) }}
is_relation={{ is_relation(r) }},{{ is_relation('x') }}
as_dict={{ r['path']['schema'] == target.schema }},{{ r['quote_policy'] }}
mapping={{ r is mapping }},{{ r.get('metadata', {}).get('type', '').endswith('Relation') }}
getattr={{ r.get('identifier') }},{{ r['schema'] == target.schema }},{{ r.get('is_table') }},{{ r.get('nope', 'fallback') }},{{ r.get('include')(database=False, schema=False) }}
repr={{ [r] }}
this={{ this }},{{ this.identifier }},{{ this.type }}
cte={{ api.Relation.add_ephemeral_prefix('m') }}
`,
  adapter_probe: `
{%- set found = adapter.get_relation(database=target.database, schema=target.schema, identifier='people') -%}
{%- set missing = adapter.get_relation(target.database, target.schema, 'no_such_table') -%}
{%- set loaded = load_relation(api.Relation.create(database=target.database, schema=target.schema, identifier='people')) -%}
found={{ found }},{{ found.type }}
missing={{ missing is none }}
loaded={{ loaded }},{{ loaded.type }}
view_type={{ adapter.get_relation(target.database, target.schema, 'people_view').type }}
type={{ adapter.type() }}
quote={{ adapter.quote('a b') }}
{%- set cols = adapter.get_columns_in_relation(found) %}
names={{ cols | map(attribute='name') | join(',') }}
quoted={{ cols[0].quoted }}
{%- for c in cols %}
col_{{ c.name }}={{ c.is_string() }},{{ c.is_number() }},{{ c.is_integer() }},{{ c.is_float() }},{{ c.is_numeric() }}
{%- endfor %}
listed={{ adapter.list_relations_without_caching(found.without_identifier()) | map(attribute='identifier') | sort | join(',') }}
exists={{ adapter.already_exists(target.schema, 'people') }},{{ adapter.already_exists(target.schema, 'nope') }}
missing_cols={{ adapter.get_missing_columns(found, api.Relation.create(schema=target.schema, identifier='people_view')) | map(attribute='name') | join(',') }}
labels={{ api.Column.translate_type('string') }},{{ api.Column.translate_type('datetime') }},{{ api.Column.create('c', 'STRING').dtype }}
col_api={{ api.Column('c', 'varchar', 20).data_type }},{{ api.Column.from_description('n', 'numeric(10,2)').data_type }},{{ api.Column.string_type(30) }}
`,
  agate_probe: `
{%- set t = run_query("select id, name, score, born, big from " ~ api.Relation.create(schema=target.schema, identifier='people') ~ " order by id") -%}
names={{ t.column_names | join(',') }}
len={{ t | length }},{{ t.rows | length }},{{ t.columns | length }}
by_name={{ t.columns['name'].values() | join('|') }}
by_pos={{ t.columns[0].values() | list }}
col_name={{ t.columns[1].name }}
row0={{ t.rows[0][1] }},{{ t.rows[0]['name'] }},{{ t.rows[0].name }}
sum={{ t.columns['id'].values() | sum }}
score={{ t.rows[0]['score'] }},{{ t.rows[0]['score'] * 2 }}
date={{ t.rows[0]['born'] }},{{ t.rows[0]['born'].year }},{{ t.rows[0]['born'].strftime('%d/%m/%Y') }}
{%- for row in t.rows %}
iter_{{ loop.index }}={% for v in row %}{{ v }};{% endfor %}
{%- endfor %}
{%- call statement('counted', fetch_result=True) -%}
select count(*) as n from {{ api.Relation.create(schema=target.schema, identifier='people') }}
{%- endcall -%}
{%- set res = load_result('counted') %}
stmt={{ res['data'][0][0] }},{{ res.table.columns['n'].values()[0] + 0 }},{{ res.response is not none }}
{%- do t.print_table() %}
avg={{ run_query('select avg(id) as a from ' ~ api.Relation.create(schema=target.schema, identifier='people')).columns[0].values()[0] * 2 }}
chained={{ t.select(['name', 'id']).order_by('id', reverse=True).limit(1).rows[0].values() }},{{ t.exclude(['big']).column_names | length }}
`,
  ddl_probe: `
{%- set extra = api.Relation.create(database=target.database, schema=target.schema ~ '_extra', identifier='t1') -%}
{%- do adapter.create_schema(extra) %}
schema_exists={{ adapter.check_schema_exists(target.database, target.schema ~ '_extra') }}
{%- do run_query('create table ' ~ extra ~ ' (a integer)') %}
created={{ adapter.get_relation(extra.database, extra.schema, 't1') is not none }}
{%- set renamed = extra.incorporate(path={'identifier': 't2'}) -%}
{%- do adapter.rename_relation(extra, renamed) %}
renamed={{ adapter.get_relation(extra.database, extra.schema, 't1') is none }},{{ adapter.get_relation(extra.database, extra.schema, 't2') is not none }}
{%- do adapter.drop_relation(renamed) %}
dropped={{ adapter.get_relation(extra.database, extra.schema, 't2') is none }}
{%- do adapter.drop_schema(extra) %}
schema_dropped={{ adapter.check_schema_exists(target.database, target.schema ~ '_extra') }}
{%- do adapter.create_schema(extra) %}
recreated={{ adapter.check_schema_exists(target.database, target.schema ~ '_extra') }}
info={{ extra.information_schema('columns') }}
exec={{ adapter.execute('select 7 as x', fetch=True)[1].columns[0].values()[0] }}
seedcol={{ adapter.quote_seed_column('a', False) }},{{ adapter.quote_seed_column('a') }}
varchar={{ adapter.get_columns_in_relation(api.Relation.create(schema=target.schema, identifier='people'))[1].data_type }}
{%- set narrow = api.Relation.create(schema=target.schema, identifier='narrow') -%}
{%- set wide = api.Relation.create(schema=target.schema, identifier='wide') -%}
{%- do run_query('create table ' ~ narrow ~ ' (s varchar(5))') -%}
{%- do run_query('create table ' ~ wide ~ ' (s varchar(12))') -%}
{%- do adapter.expand_target_column_types(from_relation=wide, to_relation=narrow) %}
expanded={{ adapter.get_columns_in_relation(narrow)[0].data_type }}
{%- do run_query('insert into ' ~ narrow ~ " values ('a'); insert into " ~ narrow ~ " values ('b')") -%}
{%- set before = run_query('select count(*) as n from ' ~ narrow).columns[0].values()[0] -%}
{%- do adapter.truncate_relation(narrow) %}
truncated={{ before }},{{ run_query('select count(*) as n from ' ~ narrow).columns[0].values()[0] }}
schemas={{ target.schema in adapter.list_schemas(target.database) }},{{ adapter.quote_as_configured('x', 'identifier') }}
`,
  modules_probe: `
{%- set d = modules.datetime.date(2024, 2, 28) -%}
{%- set dt = modules.datetime.datetime(2024, 3, 1, 13, 5, 9) -%}
date={{ d }},{{ d + modules.datetime.timedelta(days=2) }},{{ (dt - modules.datetime.datetime(2024, 2, 29)).days }}
strftime={{ dt.strftime('%Y-%m-%d %H:%M:%S %A %b %j') }}
iso={{ dt.isoformat() }},{{ dt }}
parsed={{ modules.datetime.datetime.strptime('2023-07-04 10:30', '%Y-%m-%d %H:%M') }}
cmp={{ d < modules.datetime.date(2024, 3, 1) }}
utc={{ modules.datetime.datetime(2024, 1, 1, tzinfo=modules.pytz.utc) }},{{ modules.pytz.timezone('Europe/Paris').localize(dt).isoformat() }}
now_type={{ modules.datetime.datetime.now().year > 2000 }}
re_sub={{ modules.re.sub('(?P<w>[a-z]+)_(\\\\d+)', '\\\\g<w>-\\\\2', 'abc_12 x_3') }}
re_match={{ modules.re.match('(\\\\w+)@(\\\\w+)', 'me@host').group(2) }},{{ modules.re.match('x', 'yx') is none }},{{ modules.re.search('x', 'yx') is not none }}
re_findall={{ modules.re.findall('\\\\d+', 'a1b22c333') }}
re_compile={{ modules.re.compile('^ab', modules.re.IGNORECASE).match('ABc') is not none }}
re_escape={{ modules.re.escape('a.b*c') }}
re_split={{ modules.re.split('[,;]', 'a,b;c') }}
product={{ modules.itertools.product([1, 2], ['a']) | list }}
combos={{ modules.itertools.combinations([1, 2, 3], 2) | list }}
chain={{ modules.itertools.chain([1], [2, 3]) | list }}
zip={{ zip([1, 2, 3], ['a', 'b']) | list }}
tojson={{ tojson({'a': [1, 2.5, none, true], 'b': 'é'}) }}
fromjson={{ fromjson('{"k": [1, 2]}')['k'][1] }},{{ fromjson('nope', 'fallback') }}
toyaml={{ toyaml({'a': 1, 'b': [1, 2]}) | replace('\n', '/') }}
fromyaml={{ fromyaml('a: [1, 2]\nb: x')['a'][1] }}
md5={{ local_md5('abc') }}
set={{ set([1, 2, 2, 3]) | length }},{{ 2 in set([1, 2]) }}
diff={{ diff_of_two_dicts({'a': ['x', 'y'], 'b': ['z']}, {'a': ['X']}) }}
started={{ run_started_at.year > 2000 }},{{ run_started_at.tzinfo }}
graph={{ graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | map(attribute='name') | select('equalto', 'modules_probe') | list }}
flags={{ flags.WHICH }},{{ flags.FULL_REFRESH }}
`,
};

describeEachEngine('dbt context objects', (engine) => {
  let f: DbtFixture;
  let probe: Record<string, Record<string, string>>;
  const logs: string[] = [];

  beforeAll(async () => {
    f = new DbtFixture('incremental', engine);
    await f.exec(
      `CREATE SCHEMA IF NOT EXISTS "${f.schema}"`,
      `CREATE TABLE ${f.rel('people')} (id integer, name varchar(20), score decimal(10,2), born date, big bigint, ratio double precision)`,
      `INSERT INTO ${f.rel('people')} VALUES (1, 'ann', 1.50, DATE '2020-01-31', 9007199254740993, 0.5), (2, 'bob', 2.25, DATE '2021-06-01', 5, 2)`,
      `CREATE VIEW ${f.rel('people_view')} AS SELECT id, name FROM ${f.rel('people')}`,
    );
    for (const [name, body] of Object.entries(PROBES))
      f.write(
        `models/probe/${name}.sql`,
        // Introspection returns nothing while parsing (execute is False), as in dbt.
        `{{ config(materialized='view') }}\n{% if execute %}${body}{% endif %}`,
      );
    const s = await f.run('compile', { select: Object.keys(PROBES), log: (m) => logs.push(m) });
    probe = Object.fromEntries(
      Object.keys(PROBES).map((n) => {
        const r = resultOf(s, n);
        if (r.status !== 'success') throw new Error(`${n}: ${r.status} ${r.message ?? ''}`);
        return [n, lines(r.compiled_code!)];
      }),
    );
  });
  afterAll(() => f.cleanup());

  describe('relations', () => {
    it('print database, schema and identifier quoted, the database being the catalog', () => {
      const p = probe.relation_api!;
      const full = `"${f.database}"."${f.schema}"."people"`;
      expect(p.render).toBe(full);
      expect(p.render_method).toBe(full);
      expect(p.parts).toBe(`True,${f.schema},people,people,table`);
      expect(p.kinds).toBe('True,False,False');
      expect(p.this).toBe(`"${f.database}"."${f.schema}"."relation_api",relation_api,view`);
    });

    it('include, quote, incorporate and without_identifier return changed copies', () => {
      const p = probe.relation_api!;
      expect(p.no_db).toBe(`"${f.schema}"."people"`);
      expect(p.only_id).toBe('"people"');
      expect(p.unquoted).toBe(`"${f.database}"."${f.schema}".people`);
      expect(p.incorporated).toBe(`"${f.database}"."${f.schema}"."other"`);
      expect(p.incorporated_type).toBe('view');
      expect(p.without_identifier).toBe(`"${f.database}"."${f.schema}"`);
      expect(p.bare).toBe('"x"|None|None');
      expect(p.cte).toBe('__dbt__cte__m');
    });

    it('compare equal by parts and policies, and are dbt-utils relations (mappings)', () => {
      const p = probe.relation_api!;
      expect(p.eq).toBe('True');
      expect(p.ne).toBe('False');
      expect(p.is_relation).toBe('True,False');
      expect(p.mapping).toBe('True,True');
      // FakeAPIObject: a key is an attribute (getattr), a method comes back bound.
      expect(p.getattr).toBe('people,True,True,fallback,"people"');
      expect(p.as_dict).toBe("True,{'database': True, 'schema': True, 'identifier': True}");
      const cls = engine === 'duckdb' ? 'DuckDBRelation' : 'PostgresRelation';
      expect(p.repr).toBe(`[<${cls} "${f.database}"."${f.schema}"."people">]`);
    });
  });

  describe('adapter', () => {
    it('finds relations with their type, and None for a missing one', () => {
      const p = probe.adapter_probe!;
      expect(p.found).toBe(`"${f.database}"."${f.schema}"."people",table`);
      expect(p.loaded).toBe(`"${f.database}"."${f.schema}"."people",table`);
      expect(p.missing).toBe('True');
      expect(p.view_type).toBe('view');
      expect(p.type).toBe(engine);
      expect(p.quote).toBe('"a b"');
      expect(p.listed).toBe('people,people_view');
      expect(p.exists).toBe('True,False');
      expect(p.missing_cols).toBe('score,born,big,ratio');
    });

    it('describes columns as Column objects with dbt-duckdb / dbt-postgres type rules', () => {
      const p = probe.adapter_probe!;
      expect(p.names).toBe('id,name,score,born,big,ratio');
      expect(p.quoted).toBe('"id"');
      expect(p.col_id).toBe('False,True,True,False,False');
      expect(p.col_name).toBe('True,False,False,False,False');
      expect(p.col_big).toBe('False,True,True,False,False');
      expect(p.col_ratio).toBe('False,True,False,True,False');
      // DuckDB names the type DECIMAL(10,2), which dbt's Column does not count as numeric;
      // PostgreSQL says numeric, with precision and scale beside it.
      expect(p.col_score).toBe(
        engine === 'duckdb' ? 'False,False,False,False,False' : 'False,True,False,False,True',
      );
      // dbt-postgres's Column.TYPE_LABELS adds DATETIME; the base (and dbt-duckdb's) only STRING.
      expect(p.labels).toBe(`TEXT,${engine === 'duckdb' ? 'datetime' : 'TIMESTAMP'},TEXT`);
      expect(p.col_api).toBe('character varying(20),numeric(10,2),character varying(30)');
    });
  });

  it('creates, renames and drops relations and schemas', () => {
    const p = probe.ddl_probe!;
    expect(p.schema_exists).toBe('True');
    expect(p.created).toBe('True');
    expect(p.renamed).toBe('True,True');
    expect(p.dropped).toBe('True');
    expect(p.schema_dropped).toBe('False');
    expect(p.recreated).toBe('True');
    expect(p.info).toBe(`"${f.database}".INFORMATION_SCHEMA.columns`);
    expect(p.exec).toBe('7');
    expect(p.seedcol).toBe('a,"a"');
    // DuckDB keeps no varchar length, so dbt's Column says 256; PostgreSQL has varchar(20).
    expect(p.varchar).toBe(`character varying(${engine === 'duckdb' ? 256 : 20})`);
    expect(p.truncated).toBe('2,0');
    expect(p.schemas).toBe('True,"x"');
    expect(p.expanded).toBe(`character varying(${engine === 'duckdb' ? 256 : 12})`);
  });

  it('loads a named statement result once, as dbt does', async () => {
    f.write(
      'models/probe/load_twice.sql',
      `{{ config(materialized='view') }}
{% if execute %}{% call statement('s1', fetch_result=True) %}select 1 as n{% endcall %}
{{ load_result('s1').data[0][0] }} {{ load_result('s1') }}{% endif %}`,
    );
    const s = await f.run('compile', { select: ['load_twice'] });
    expect(resultOf(s, 'load_twice').message).toMatch(
      /The 'statement' result named 's1' has already been loaded into a variable/,
    );
  });

  it('raises dbt`s errors from exceptions, try_or_compiler_error, zip_strict, set_strict and a case-only name match', async () => {
    const failing: Record<string, [string, RegExp]> = {
      err_compiler: ["{{ exceptions.raise_compiler_error('custom failure') }}", /custom failure/],
      err_not_impl: [
        "{{ exceptions.raise_not_implemented('not here') }}",
        /not implemented: not here/,
      ],
      err_try: [
        "{{ try_or_compiler_error('Bad date given', modules.datetime.datetime.strptime, 'x', '%Y') }}",
        /compilation error: Bad date given/,
      ],
      err_zip: ['{{ zip_strict([1, 2], [1]) }}', /zip\(\) arguments have different lengths/],
      err_set: ['{{ set_strict([[1], [2]]) }}', /unhashable type: 'list'/],
      err_case: [
        "{{ adapter.get_relation(target.database, target.schema, 'PEOPLE') }}",
        /dbt found an approximate match[\s\S]*Searched for: "[^"]+"\."[^"]+"\."PEOPLE"\nFound: "[^"]+"\."[^"]+"\."people"/,
      ],
    };
    for (const [name, [body]] of Object.entries(failing))
      f.write(
        `models/probe/${name}.sql`,
        // At run time, so each fails its own node (unguarded they fail the parse, as in dbt).
        `{{ config(materialized='view') }}\n{% if execute %}${body}{% endif %}`,
      );
    f.write('models/probe/warns.sql', "{{ exceptions.warn('heads up') }}select 1 as x");
    const seen: string[] = [];
    const s = await f.run(
      'compile',
      { select: [...Object.keys(failing), 'warns'], log: (m) => seen.push(m) },
      { log: (m) => seen.push(m) },
    );
    for (const [name, [, message]] of Object.entries(failing)) {
      expect(resultOf(s, name).status).toBe('error');
      expect(resultOf(s, name).message).toMatch(message);
    }
    expect(resultOf(s, 'warns').status).toBe('success');
    expect(seen.some((m) => m.includes('heads up'))).toBe(true);
  });

  describe('agate tables', () => {
    it('index columns and rows by position and name, with typed values', () => {
      const p = probe.agate_probe!;
      expect(p.names).toBe('id,name,score,born,big');
      expect(p.len).toBe('2,2,5');
      expect(p.by_name).toBe('ann|bob');
      expect(p.by_pos).toBe('[1, 2]');
      expect(p.col_name).toBe('name');
      expect(p.row0).toBe('ann,ann,ann');
      expect(p.sum).toBe('3');
      expect(p.score).toBe('1.5,3.0');
      expect(p.date).toBe('2020-01-31,2020,31/01/2020');
      expect(p.iter_2).toBe('2;bob;2.25;2021-06-01;5;');
      expect(p.chained).toBe("('bob', 2),4");
      // PostgreSQL's avg() is a 16-digit numeric; it still does arithmetic.
      expect(p.avg).toBe('3.0');
    });

    it('keeps a BIGINT past 2^53 exact', () => {
      expect(probe.agate_probe!.iter_1).toContain(';9007199254740993;');
    });

    it('load_result gives data, table and response of a statement block', () => {
      expect(probe.agate_probe!.stmt).toBe('2,2,True');
    });

    it('print_table writes agate`s Markdown table to the log', () => {
      const table = logs.find((l) => l.startsWith('| id'));
      expect(table?.split('\n').slice(0, 3)).toEqual([
        '| id | name | score |       born |              big |',
        '| -- | ---- | ----- | ---------- | ---------------- |',
        '|  1 | ann  |  1.50 | 2020-01-31 | 9007199254740993 |',
      ]);
    });
  });

  describe('modules and functions', () => {
    it('datetime and pytz', () => {
      const p = probe.modules_probe!;
      expect(p.date).toBe('2024-02-28,2024-03-01,1');
      expect(p.strftime).toBe('2024-03-01 13:05:09 Friday Mar 061');
      expect(p.iso).toBe('2024-03-01T13:05:09,2024-03-01 13:05:09');
      expect(p.parsed).toBe('2023-07-04 10:30:00');
      expect(p.cmp).toBe('True');
      expect(p.utc).toBe('2024-01-01 00:00:00+00:00,2024-03-01T13:05:09+01:00');
      expect(p.now_type).toBe('True');
      expect(p.started).toBe('True,UTC');
    });

    it('re with Python syntax', () => {
      const p = probe.modules_probe!;
      expect(p.re_sub).toBe('abc-12 x-3');
      expect(p.re_match).toBe('host,True,True');
      expect(p.re_findall).toBe("['1', '22', '333']");
      expect(p.re_compile).toBe('True');
      expect(p.re_escape).toBe('a\\.b\\*c');
      expect(p.re_split).toBe("['a', 'b', 'c']");
    });

    it('itertools, zip, json, yaml, md5, set, diff_of_two_dicts', () => {
      const p = probe.modules_probe!;
      expect(p.product).toBe("[(1, 'a'), (2, 'a')]");
      expect(p.combos).toBe('[(1, 2), (1, 3), (2, 3)]');
      expect(p.chain).toBe('[1, 2, 3]');
      expect(p.zip).toBe("[(1, 'a'), (2, 'b')]");
      expect(p.tojson).toBe('{"a": [1, 2.5, null, true], "b": "\\u00e9"}');
      expect(p.fromjson).toBe('2,fallback');
      expect(p.toyaml).toBe('a: 1/b:/- 1/- 2/');
      expect(p.fromyaml).toBe('2');
      expect(p.md5).toBe('900150983cd24fb0d6963f7d28e17f72');
      expect(p.set).toBe('3,True');
      expect(p.diff).toBe("{'a': ['y'], 'b': ['z']}");
      expect(p.graph).toBe("['modules_probe']");
      expect(p.flags).toBe('compile,False');
    });
  });
});
