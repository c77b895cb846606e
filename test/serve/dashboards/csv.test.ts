/** Tile CSV export: RFC 4180 text a spreadsheet opens safely. */
import { describe, expect, it } from 'vitest';
import { tileCsv } from '../../../src/serve/dashboards/index.js';
import type { SqlColumn } from '../../../src/serve/types.js';

const col = (name: string, kind: SqlColumn['kind'] = 'string'): SqlColumn => ({
  name,
  type: kind === 'number' ? 'INTEGER' : 'VARCHAR',
  kind,
});

describe('tile CSV', () => {
  it('writes a header and one CRLF-terminated line per row', () => {
    const csv = tileCsv({
      columns: [col('month'), col('revenue')],
      rows: [
        { month: '2024-01', revenue: '100.50' },
        { month: '2024-02', revenue: '7.00' },
      ],
    });
    expect(csv).toBe('month,revenue\r\n2024-01,100.50\r\n2024-02,7.00\r\n');
  });

  it('quotes fields with commas, quotes and line breaks, doubling quotes', () => {
    const csv = tileCsv({
      columns: [col('store'), col('note')],
      rows: [{ store: 'The "Harbor" Shop, Boston', note: 'line one\nline two' }],
    });
    expect(csv).toBe('store,note\r\n"The ""Harbor"" Shop, Boston","line one\nline two"\r\n');
  });

  it('writes nulls as empty fields, numbers and booleans as text, and quotes odd headers', () => {
    const csv = tileCsv({
      columns: [col('a, b'), col('n', 'number'), col('ok', 'boolean')],
      rows: [{ 'a, b': null, n: 3.5, ok: true }],
    });
    expect(csv).toBe('"a, b",n,ok\r\n,3.5,true\r\n');
  });

  it('keeps text that a spreadsheet would run as a formula from being one, but not negative numbers', () => {
    const csv = tileCsv({
      columns: [col('name'), col('delta')],
      rows: [
        { name: '=HYPERLINK("http://x","y")', delta: '-12.50' },
        { name: '@SUM(A1)', delta: '+3' },
        { name: '-x', delta: -4 },
      ],
    });
    expect(csv.split('\r\n')).toEqual([
      'name,delta',
      `"'=HYPERLINK(""http://x"",""y"")",-12.50`,
      "'@SUM(A1),+3",
      "'-x,-4",
      '',
    ]);
    expect(tileCsv({ columns: [col('f')], rows: [{ f: '=1+1' }] }, { escapeFormulas: false })).toBe(
      'f\r\n=1+1\r\n',
    );
  });
});
