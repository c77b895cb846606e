#!/usr/bin/env node
// The `tributary` command: runs the compiled CLI (npm run build writes dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'error: tributary is not built yet\n  hint: run `npm run build` in the tributary folder\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
