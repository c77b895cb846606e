/**
 * `tributary schedules`: the schedules of tributary.yml with their next ticks, and, with a state
 * several `serve` replicas share, which of them fires them (the leader).
 */
import type { Command } from 'commander';
import type { Project } from '../../project/index.js';
import {
  compileSchedule,
  loadAssetGraph,
  schedulerRole,
  stateLocation,
} from '../../orchestrator/index.js';
import { Leadership, openStateEngine, type LeaderRecord } from '../../state/index.js';
import { column as col, print, type CliContext } from '../context.js';
import { formatTable } from '../output.js';

/** Each schedule with its cron, zone, catch-up policy and next ticks (no lock needed). */
function listSchedules(project: Project, count = 3) {
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

/**
 * The scheduler's leader as it last recorded itself, when state is shared (PostgreSQL). A state
 * file is the one `serve`'s that has the project open (and locked): it leads, nobody else can.
 */
async function sharedLeader(project: Project): Promise<LeaderRecord | null | undefined> {
  const location = stateLocation(project);
  if (location.store === 'duckdb') return undefined;
  const engine = await openStateEngine(location);
  try {
    return (await Leadership.current(engine, schedulerRole(project.config.name))) ?? null;
  } finally {
    await engine.close();
  }
}

export function registerSchedules(program: Command, cli: CliContext): void {
  program
    .command('schedules')
    .description('list the schedules of tributary.yml with their next ticks')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { project } = await loadAssetGraph(cli.project());
      const schedules = listSchedules(project);
      const leader = await sharedLeader(project);
      if (opts.json)
        return print(
          JSON.stringify(leader === undefined ? schedules : { schedules, leader }, null, 2),
        );
      if (!schedules.length) return print('no schedules in tributary.yml');
      if (leader !== undefined)
        print(
          leader
            ? `fired by ${leader.host} pid ${leader.pid} (leading since ${leader.since}, last seen ${leader.seenAt})`
            : 'no serve has led the schedules yet',
        );
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
