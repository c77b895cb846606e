/**
 * web/src/api-schema.ts is generated from the server's OpenAPI description; this regenerates it
 * in memory and fails when the committed file differs, so a route schema changed without
 * `npm run gen:api-types` cannot leave the UI type-checking against an API that is gone.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, generateApiTypes } from '../../scripts/api-types.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the web UI API types', () => {
  it(`${API_TYPES_FILE} is what the server's OpenAPI description generates`, async () => {
    const committed = readFileSync(resolve(ROOT, API_TYPES_FILE), 'utf8');
    const generated = await generateApiTypes(ROOT);
    expect(
      committed === generated,
      `${API_TYPES_FILE} is out of date with the route schemas: run npm run gen:api-types`,
    ).toBe(true);
  });
});
