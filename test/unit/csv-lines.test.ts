import { describe, expect, it } from 'vitest';
import { CsvLineCalculator, ndjsonLines, parseFirstRecord } from '../../src/quality/index.js';

const csv = { delimiter: ',', quote: '"', escape: '"', header: true as const };

describe('CSV header parsing', () => {
  it('splits a plain header', () => {
    expect(parseFirstRecord('a,b,c\n1,2,3\n', csv, true)).toEqual(['a', 'b', 'c']);
  });
  it('honours quotes, doubled quotes and delimiters inside quotes', () => {
    expect(parseFirstRecord('"a,1","b ""x""",c\r\n', csv, true)).toEqual(['a,1', 'b "x"', 'c']);
  });
  it('accepts a header-only file without a final newline', () => {
    expect(parseFirstRecord('a,b', csv, true)).toEqual(['a', 'b']);
  });
  it('says undefined when the first line is cut off', () => {
    expect(parseFirstRecord('a,b', csv, false)).toBeUndefined();
    expect(parseFirstRecord('"a,b', csv, true)).toBeUndefined();
  });
});

describe('CSV line numbers', () => {
  it('is the record number plus the header when no record spans lines', () => {
    expect(new CsvLineCalculator([], []).lineOfRecord(5)).toBe(6);
  });
  it('adds the embedded newlines of earlier records', () => {
    const calc = new CsvLineCalculator([{ record: 2, extra: 2 }], []);
    expect(calc.lineOfRecord(2)).toBe(3);
    expect(calc.lineOfRecord(3)).toBe(6);
  });
  it('counts malformed records that the reader dropped', () => {
    // records: 1 ok, 2 malformed (2 lines), 3 ok -> accepted record 2 is the file's third record
    const calc = new CsvLineCalculator([], [{ position: 2, newlines: 1 }]);
    expect(calc.positionOf(2)).toBe(3);
    expect(calc.lineOfRecord(2)).toBe(5);
    expect(calc.lineOfPosition(2)).toBe(3);
  });
});

describe('NDJSON lines', () => {
  it('are the record numbers when no line is blank', () => {
    expect(ndjsonLines([1, 3, 4], [])).toEqual([1, 3, 4]);
  });
  it('count the blank lines a reader skipped before each record', () => {
    // lines: 1 rec 1, 2 blank, 3 rec 2, 4 blank, 5 blank, 6 rec 3, 7 rec 4
    expect(ndjsonLines([1, 2, 3, 4], [2, 4, 5])).toEqual([1, 3, 6, 7]);
  });
});
