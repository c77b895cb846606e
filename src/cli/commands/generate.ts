/** `tributary generate`: the template's deterministic sample data, written to the landing folder. */
import type { Command } from 'commander';
import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { writeFileAtomic, type ProgressReporter } from '../../core/index.js';
import { loadProject } from '../../project/index.js';
import {
  generateEcommerce,
  type GenerateReport,
} from '../../../templates/ecommerce/generator/index.js';
import { TributaryError } from '../../core/index.js';
import { column, integer, positiveNumber, print, type CliContext } from '../context.js';
import { formatTable } from '../output.js';

export interface GenerateOptions {
  scale?: number;
  seed?: number;
  progress: ProgressReporter;
}

export interface GenerateOutcome {
  outDir: string;
  reportFile: string;
  report: GenerateReport;
}

/** Writes the sample data a project's `generator:` block describes; flags override it. */
export async function generateForProject(
  projectDir: string,
  options: GenerateOptions,
): Promise<GenerateOutcome> {
  const project = await loadProject(projectDir);
  const gen = project.config.generator;
  if (!gen) {
    throw new TributaryError('this project has no generator: block in tributary.yml', {
      code: 'CONFIG',
      hint: 'add `generator: { template: ecommerce }` or drop your own files into the landing folder',
    });
  }
  const scale = options.scale ?? gen.scale;
  const seed = options.seed ?? gen.seed;
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new TributaryError(`--scale must be a positive number, not ${scale}`, { code: 'USAGE' });
  const outDir = resolve(project.dir, gen.out);
  await mkdir(outDir, { recursive: true });
  const report = await generateEcommerce({
    outDir,
    scale,
    seed,
    onProgress: (done, total, label) =>
      options.progress.update({ label: `generate ${label}`, done, total, unit: 'rows' }),
  });
  const reportFile = join(project.paths.work, 'generated.json');
  await writeFileAtomic(reportFile, JSON.stringify(report, null, 1));
  return { outDir, reportFile, report };
}

export function registerGenerate(program: Command, cli: CliContext): void {
  program
    .command('generate')
    .description("write the template's deterministic sample data into the landing folder")
    .option('--scale <factor>', 'scale factor: 1 = 100k orders, 250k order lines', positiveNumber)
    .option('--seed <n>', 'random seed (same seed, same bytes)', integer)
    .option('--json', 'print the generation report as JSON')
    .action(async (opts: { scale?: number; seed?: number; json?: boolean }) => {
      const p = cli.progress();
      const outcome = await generateForProject(cli.project(), { progress: p, ...opts });
      p.clear();
      if (opts.json) return print(JSON.stringify(outcome.report, null, 2));
      const files = outcome.report.files.map((f) => ({
        file: f.name,
        table: f.table,
        records: f.records,
        bytes: f.bytes,
      }));
      print(
        `${formatTable(
          [column('file'), column('table'), column('records', 'number'), column('bytes', 'number')],
          files,
        )}\nwrote ${relative(process.cwd(), outcome.outDir)}; defects injected and expected results: ${relative(process.cwd(), outcome.reportFile)}`,
      );
    });
}
