/** `tributary partitions`: the status of every partition of a partitioned model. */
import type { Command } from 'commander';
import { partitionStates, type PartitionState } from '../../orchestrator/index.js';
import { column as col, print, type CliContext } from '../context.js';
import { formatTable } from '../output.js';
import { withProject } from '../remote.js';

async function readPartitions(
  projectDir: string,
  asset: string,
): Promise<{ asset: string; partitions: PartitionState[] }> {
  return withProject(
    projectDir,
    'partitions',
    (ws) => partitionStates(ws, asset),
    (api) => api.get(`/api/partitions/${encodeURIComponent(asset)}`),
  );
}

export function registerPartitions(program: Command, cli: CliContext): void {
  program
    .command('partitions')
    .description('show the status of every partition of a partitioned model')
    .argument('<asset>', 'the partitioned model')
    .option('--json', 'print as JSON')
    .action(async (asset: string, opts: { json?: boolean }) => {
      const states = await readPartitions(cli.project(), asset);
      if (opts.json) return print(JSON.stringify(states, null, 2));
      const counts = new Map<string, number>();
      for (const p of states.partitions) counts.set(p.status, (counts.get(p.status) ?? 0) + 1);
      print(
        `${states.asset}: ${states.partitions.length} partitions (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')})\n` +
          formatTable(
            [col('partition'), col('status'), col('run_id'), col('updated_at'), col('message')],
            states.partitions.map((p) => ({
              partition: p.partition,
              status: p.status,
              run_id: p.runId,
              updated_at: p.updatedAt,
              message: p.message?.split('\n')[0] ?? null,
            })),
          ),
      );
    });
}
