/** `tributary init`: a new project folder from a template. */
import { Option, type Command } from 'commander';
import { cp, mkdir, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { TributaryError } from '../../core/index.js';
import { CONFIG_FILE } from '../../project/index.js';
import { print } from '../context.js';
import { templateDir } from '../paths.js';

const TEMPLATES = ['ecommerce'] as const;

/** Copies a template into `dir` (created if needed); refuses to overwrite an existing project. */
export async function initProject(dirArg: string, template: string): Promise<string> {
  if (!(TEMPLATES as readonly string[]).includes(template)) {
    throw new TributaryError(`unknown template ${template}`, {
      code: 'USAGE',
      hint: `templates: ${TEMPLATES.join(', ')}`,
    });
  }
  const dir = resolve(dirArg);
  if (existsSync(join(dir, CONFIG_FILE))) {
    throw new TributaryError(`${dir} already holds a project (${CONFIG_FILE} exists)`, {
      code: 'USAGE',
      hint: 'choose another folder, or work in this one with --project',
    });
  }
  await mkdir(dir, { recursive: true });
  const source = templateDir(template);
  // The generator's and the CRM stand-in's code ship with Tributary, not with each project.
  const entries = (await readdir(source)).filter((e) => e !== 'generator' && e !== 'crm');
  const clashes = entries.filter((e) => existsSync(join(dir, e)));
  if (clashes.length) {
    throw new TributaryError(`${dir} already has ${clashes.join(', ')}; init would overwrite it`, {
      code: 'USAGE',
      hint: 'init into a new or empty folder',
    });
  }
  for (const entry of entries) {
    await cp(join(source, entry), join(dir, entry), { recursive: true });
  }
  // The landing folder is where files are dropped; an empty one says so better than a missing one.
  await mkdir(join(dir, 'landing'), { recursive: true });
  return dir;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a project folder from a template')
    .argument('[dir]', 'folder to create', '.')
    .addOption(
      new Option('-t, --template <name>', 'template').choices([...TEMPLATES]).default('ecommerce'),
    )
    .action(async (dir: string, opts: { template: string }) => {
      const created = await initProject(dir, opts.template);
      print(
        `created ${opts.template} project in ${relative(process.cwd(), created) || '.'}\nnext: tributary -p ${relative(process.cwd(), created) || '.'} generate && tributary -p ${relative(process.cwd(), created) || '.'} run`,
      );
    });
}
