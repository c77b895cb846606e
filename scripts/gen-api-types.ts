/**
 * `npm run gen:api-types`: writes web/src/api-schema.ts, the web UI's API types, from the
 * server's OpenAPI description (scripts/api-types.ts). Run it after changing a route's schema.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { API_TYPES_FILE, generateApiTypes } from './api-types.js';

const root = resolve(import.meta.dirname, '../..');
const text = await generateApiTypes(root);
const file = resolve(root, API_TYPES_FILE);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, text);
process.stdout.write(`wrote ${API_TYPES_FILE}\n`);
