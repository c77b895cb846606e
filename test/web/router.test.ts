/**
 * The UI's hash routing (web/src/router.ts), in Node: paths with encoded segments, query values,
 * malformed escapes, and links that read back as the route they were built from.
 */
import { describe, expect, it } from 'vitest';
import { href, parseHash } from '../../web/src/router';

describe('hash routes', () => {
  it('reads an empty hash as the root', () => {
    expect(parseHash('')).toMatchObject({ path: [], raw: '/' });
    expect(parseHash('#')).toMatchObject({ path: [], raw: '/' });
  });

  it('decodes segments and reads the query', () => {
    const r = parseHash('#/runs/run_1?step=model%3Arevenue&x=');
    expect(r.path).toEqual(['runs', 'run_1']);
    expect(r.query.get('step')).toBe('model:revenue');
    expect(r.query.get('x')).toBe('');
    expect(r.raw).toBe('/runs/run_1?step=model%3Arevenue&x=');
  });

  it('keeps a segment with a malformed escape as it is instead of throwing', () => {
    expect(parseHash('#/catalog/%E0%A4%A/x').path).toEqual(['catalog', '%E0%A4%A', 'x']);
  });

  it('builds links that read back as the same segments and values, leaving empty ones out', () => {
    const segments = ['catalog', 'warehouse', 'main.fct sales/ü?#'];
    const link = href(segments, { table: 'a&b=c', empty: '', none: undefined });
    expect(link).not.toMatch(/empty|none/);
    const r = parseHash(link);
    expect(r.path).toEqual(segments);
    expect([...r.query]).toEqual([['table', 'a&b=c']]);
    expect(href(['runs'])).toBe('#/runs');
  });
});
