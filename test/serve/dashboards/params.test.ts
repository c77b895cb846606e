/** The SQL parameter scanner: parameters are found in code, never in strings, identifiers or comments. */
import { describe, expect, it } from 'vitest';
import { scanSql, sqlParameterNames } from '../../../src/serve/dashboards/index.js';
import { withoutTrailingSemicolon } from '../../../src/project/dashboards/params.js';

describe('scanning SQL for parameters', () => {
  it('finds named parameters in order of first use, each once', () => {
    expect(
      sqlParameterNames(
        'select * from t where d between $period_from and $period_to and ($region is null or r = $region)',
      ),
    ).toEqual(['period_from', 'period_to', 'region']);
  });

  it('ignores $words inside string literals, with doubled quotes', () => {
    expect(sqlParameterNames(`select 'cost: $price', 'it''s $x' || $real from t`)).toEqual([
      'real',
    ]);
  });

  it('ignores $words inside E-strings with backslash-escaped quotes', () => {
    expect(sqlParameterNames(`select E'a\\' $inside' as s, $outside`)).toEqual(['outside']);
  });

  it('ignores $words inside quoted identifiers', () => {
    expect(sqlParameterNames(`select "amount $usd" as "a ""$b""", $c from t`)).toEqual(['c']);
  });

  it('ignores $words inside line and nested block comments', () => {
    const sql = `select 1 -- where r = $region\n, $a /* $b /* nested $c */ still $d */ , $e`;
    expect(sqlParameterNames(sql)).toEqual(['a', 'e']);
    expect(scanSql(sql).comments).toHaveLength(2);
  });

  it('ignores dollar-quoted strings, with and without a tag', () => {
    expect(sqlParameterNames(`select $$ $a $$, $tag$ $b $tag$, $c`)).toEqual(['c']);
  });

  it('keeps a $ inside an identifier part of the identifier', () => {
    expect(sqlParameterNames('select col$x, $y from t')).toEqual(['y']);
  });

  it('reports positional parameters ($1 and ?) apart from named ones', () => {
    const scan = scanSql(`select $1, ? , '?' from t where a = $name`);
    expect(scan.positional).toHaveLength(2);
    expect(scan.named.map((p) => p.name)).toEqual(['name']);
  });

  it('reports statement separators outside strings, and strings that never end', () => {
    expect(scanSql(`select ';' ; select 2`).semicolons).toEqual([11]);
    expect(scanSql(`select 'open`).unterminated).toEqual({ what: 'string literal', offset: 7 });
    expect(scanSql(`select /* open`).unterminated?.what).toBe('block comment');
  });

  it('drops a final semicolon but keeps one inside a string', () => {
    expect(withoutTrailingSemicolon('select 1 ;  \n')).toBe('select 1');
    expect(withoutTrailingSemicolon(`select ';'`)).toBe(`select ';'`);
  });
});
