/**
 * The web UI's value formatting (web/src/format.ts), in Node without a browser: numbers that
 * arrive as exact strings (BIGINT, DECIMAL), nulls, objects, timestamps and durations.
 *
 * The functions format in the runtime's default locale, as the browser does; where grouping or
 * decimal separators matter, the expected text is built with Intl in that same locale, so the
 * assertions hold in any locale and still check which options were used.
 */
import { describe, expect, it } from 'vitest';
import {
  formatAxis,
  formatCell,
  formatCount,
  formatDuration,
  formatMs,
  formatTime,
  formatValue,
  sqlName,
  toNumber,
} from '../../web/src/format';

const nf = (n: number, options: Intl.NumberFormatOptions = {}) =>
  new Intl.NumberFormat(undefined, options).format(n);

describe('toNumber', () => {
  it('reads numbers, numeric strings and bigints', () => {
    expect(toNumber(42)).toBe(42);
    expect(toNumber('-12.50')).toBe(-12.5);
    expect(toNumber(' 7 ')).toBe(7);
    expect(toNumber('.5')).toBe(0.5);
    expect(toNumber('1e3')).toBe(1000);
    expect(toNumber(12345678901234567890n)).toBe(12345678901234567000);
  });

  it('refuses what is not a finite number', () => {
    for (const v of [null, undefined, '', '  ', 'abc', '12abc', '0x10', 'Infinity', NaN, true, {}])
      expect(toNumber(v), String(v)).toBeNull();
    expect(toNumber(Number.POSITIVE_INFINITY)).toBeNull();
    // a numeric string too large for a double is not a number either, as an Infinity number is not
    expect(toNumber('1e400')).toBeNull();
  });
});

describe('formatValue', () => {
  it('shows null and undefined as an em dash, and text that is not a number as it is', () => {
    expect(formatValue(null)).toBe('—');
    expect(formatValue(undefined, 'currency')).toBe('—');
    expect(formatValue('North')).toBe('North');
  });

  it('formats exact DECIMAL strings as currency: cents below 1,000, whole units above', () => {
    const currency = (n: number, digits: number) =>
      nf(n, { style: 'currency', currency: 'USD', maximumFractionDigits: digits });
    expect(formatValue('999.99', 'currency')).toBe(currency(999.99, 2));
    expect(formatValue('123456.78', 'currency')).toBe(currency(123456.78, 0));
    expect(formatValue('-1500.5', 'currency')).toBe(currency(-1500.5, 0));
    expect(formatValue(5, 'currency', 'EUR')).toBe(
      nf(5, { style: 'currency', currency: 'EUR', maximumFractionDigits: 2 }),
    );
  });

  it('falls back to a plain number for a currency code Intl does not know', () => {
    expect(formatValue(12.5, 'currency', 'not-a-code')).toBe(
      nf(12.5, { maximumFractionDigits: 2 }),
    );
  });

  it('reads percent values as fractions', () => {
    expect(formatValue(0.25, 'percent')).toBe(nf(0.25, { style: 'percent' }));
    expect(formatValue('0.1234', 'percent')).toBe(
      nf(0.1234, { style: 'percent', maximumFractionDigits: 1 }),
    );
  });

  it('rounds other numbers to two decimals', () => {
    expect(formatValue('1234567.891')).toBe(nf(1234567.89));
    expect(formatValue(0)).toBe(nf(0));
  });
});

describe('formatAxis', () => {
  it('shortens large values, keeps small ones, and prefixes currency', () => {
    expect(formatAxis(12_500)).toBe(nf(12_500, { notation: 'compact', maximumFractionDigits: 1 }));
    expect(formatAxis(9_999)).toBe(nf(9_999));
    expect(formatAxis(-2_000_000, 'currency')).toBe(
      '$' + nf(-2_000_000, { notation: 'compact', maximumFractionDigits: 1 }),
    );
  });

  it('writes percent to one decimal without Intl', () => {
    expect(formatAxis(0.256, 'percent')).toBe('25.6%');
    expect(formatAxis(1, 'percent')).toBe('100%');
    expect(formatAxis(-0.05, 'percent')).toBe('-5%');
  });
});

describe('formatCell', () => {
  it('shows null as an em dash, objects as JSON and strings unchanged', () => {
    expect(formatCell(null)).toBe('—');
    expect(formatCell(undefined)).toBe('—');
    expect(formatCell({ a: 1, b: [true, null] })).toBe('{"a":1,"b":[true,null]}');
    expect(formatCell(['x'])).toBe('["x"]');
    expect(formatCell('12345.678')).toBe('12345.678'); // exact DECIMAL text stays exact
    expect(formatCell(false)).toBe('false');
  });

  it('groups integers and keeps up to 15 significant digits of fractions', () => {
    expect(formatCell(1234567)).toBe(nf(1234567));
    expect(formatCell(0.1 + 0.2)).toBe(nf(0.3)); // not 0.30000000000000004
    expect(formatCell(3.14159265358979)).toBe(
      nf(3.14159265358979, { maximumSignificantDigits: 15 }),
    );
  });

  it('keeps a very long text whole (the table cuts it with CSS and a title)', () => {
    const long = 'x'.repeat(10_000);
    expect(formatCell(long)).toBe(long);
  });
});

describe('formatCount', () => {
  it('groups exact BIGINT strings and shows anything else as an em dash', () => {
    expect(formatCount('1234567')).toBe(nf(1234567));
    expect(formatCount(0)).toBe(nf(0));
    expect(formatCount(null)).toBe('—');
    expect(formatCount('n/a')).toBe('—');
  });
});

describe('times and durations', () => {
  it('formats a timestamp in the local time zone, and leaves what is not one as it is', () => {
    const at = '2024-03-05T14:07:09Z';
    expect(formatTime(at)).toBe(
      new Date(at).toLocaleString(undefined, {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      }),
    );
    expect(formatTime('yesterday-ish')).toBe('yesterday-ish');
    expect(formatTime(null)).toBe('—');
    expect(formatTime('')).toBe('—');
  });

  it('writes durations as ms, tenths of seconds, m ss and h mm', () => {
    expect(formatMs(0)).toBe('0 ms');
    expect(formatMs(849.6)).toBe('850 ms');
    expect(formatMs(1_000)).toBe('1.0 s');
    expect(formatMs(12_345)).toBe('12.3 s');
    expect(formatMs(245_000)).toBe('4m 05s');
    expect(formatMs(7_380_000)).toBe('2h 03m');
  });

  it('rounds at the unit boundaries upward into the next unit, never to "60.0 s"', () => {
    expect(formatMs(59_960)).toBe('1m 00s');
    expect(formatMs(59_940)).toBe('59.9 s');
    expect(formatMs(999.6)).toBe('1.0 s');
  });

  it('takes a duration between two timestamps; an unfinished one runs to now', () => {
    expect(formatDuration('2024-01-01T00:00:00Z', '2024-01-01T00:00:01.500Z')).toBe('1.5 s');
    expect(formatDuration('2024-01-01T00:00:00Z', '2024-01-01T02:03:00Z')).toBe('2h 03m');
    expect(formatDuration(new Date(Date.now() - 5 * 60_000).toISOString(), null)).toMatch(
      /^5m 0\ds$/,
    );
    expect(formatDuration(null, '2024-01-01T00:00:00Z')).toBe('—');
    expect(formatDuration('garbage', '2024-01-01T00:00:00Z')).toBe('—');
  });
});

describe('sqlName', () => {
  it('qualifies lake zones as schemas and leaves warehouse names as they are', () => {
    expect(sqlName('processed', 'orders')).toBe('processed.orders');
    expect(sqlName('quarantine', 'orders')).toBe('quarantine.orders');
    expect(sqlName('warehouse', 'main.fct_sales')).toBe('main.fct_sales');
  });
});
