/** `tributary schema`: the JSON Schemas of the project's files, for editors. */
import type { Command } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { jsonSchemas } from '../../project/index.js';
import { print } from '../context.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description(
      'write the JSON Schemas of tributary.yml, contract, dashboard and sync files, for editors',
    )
    .option('-o, --out <dir>', 'folder to write them into (default: print tributary.schema.json)')
    .action(async (opts: { out?: string }) => {
      const schemas = jsonSchemas();
      if (!opts.out) return print(JSON.stringify(schemas['tributary.schema.json'], null, 2));
      await mkdir(resolve(opts.out), { recursive: true });
      for (const [name, schema] of Object.entries(schemas)) {
        await writeFile(join(resolve(opts.out), name), `${JSON.stringify(schema, null, 2)}\n`);
      }
      print(`wrote ${Object.keys(schemas).join(', ')} to ${opts.out}`);
    });
}
