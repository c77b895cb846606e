/** `tributary schedules`: the schedules of tributary.yml with their next ticks. */
import type { Command } from 'commander';
import { compileSchedule, loadAssetGraph } from '../../orchestrator/index.js';
import { column as col, print, type CliContext } from '../context.js';
import { formatTable } from '../output.js';

/** Each schedule with its cron, zone, catch-up policy and next ticks (no lock needed). */
async function listSchedules(projectDir: string, count = 3) {
  const { project } = await loadAssetGraph(projectDir);
  return Object.entries(project.config.schedules).map(([name, cfg]) => {
    const cron = compileSchedule(name, cfg);
    return {
      name,
      cron: cfg.cron,
      timezone: cfg.timezone,
      catchUp: cfg.catch_up,
      enabled: cfg.enabled,
      select: cfg.select,
      next: cfg.enabled ? cron.nextRuns(count).map((d) => d.toISOString()) : [],
    };
  });
}

export function registerSchedules(program: Command, cli: CliContext): void {
  program
    .command('schedules')
    .description('list the schedules of tributary.yml with their next ticks')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const schedules = await listSchedules(cli.project());
      if (opts.json) return print(JSON.stringify(schedules, null, 2));
      if (!schedules.length) return print('no schedules in tributary.yml');
      print(
        formatTable(
          [col('schedule'), col('cron'), col('timezone'), col('catch_up'), col('next')],
          schedules.map((s) => ({
            schedule: s.name,
            cron: s.cron,
            timezone: s.timezone,
            catch_up: s.catchUp,
            next: s.enabled ? (s.next[0] ?? null) : 'disabled',
          })),
        ),
      );
    });
}
