/**
 * Dead letters of the orchestrator (the seeds' SQS dead-letter queue behind the S3 → Lambda
 * trigger): a triggered run that failed, or could not start, is kept as an `event` entry with what
 * it was asked to run; replaying it runs that selection again through the normal runner. Alert
 * notifications that could not be delivered are `notification` entries, replayed by the
 * Notifier. The store's claim makes each replay apply once.
 */
import { TributaryError, describeError } from '../core/index.js';
import type { DeadLetter } from '../notify/index.js';
import { runPipeline, type RunResult } from './runner.js';
import type { RunRequest } from './scheduler.js';
import type { Workspace } from './workspace.js';

/** What an `event` dead letter holds: the run a trigger asked for. */
export interface RunEventPayload {
  trigger: string;
  select: string[];
  exclude: string[];
  command?: string;
  /** The run that failed, when one started. */
  runId?: string;
}

/** Keeps a triggered run that failed (or never started) for replay. */
export async function deadLetterRun(
  ws: Workspace,
  req: RunRequest,
  outcome: { result?: RunResult; error?: unknown },
): Promise<DeadLetter> {
  const payload: RunEventPayload = {
    trigger: req.trigger,
    select: req.select ?? [],
    exclude: req.exclude ?? [],
    ...(req.command ? { command: req.command } : {}),
    ...(outcome.result?.runId ? { runId: outcome.result.runId } : {}),
  };
  const error = outcome.result
    ? `run ${outcome.result.runId} ${outcome.result.status}: ${outcome.result.steps
        .filter((s) => s.status === 'failed')
        .map((s) => `${s.asset}: ${(s.message ?? 'failed').split('\n')[0]}`)
        .join('; ')}`
    : `the run could not start: ${describeError(outcome.error)}`;
  return ws.dlq.add({ kind: 'event', source: req.trigger, payload, error, attempts: 1 });
}

/** Replays one dead letter through the normal path; throws (leaving it pending) when that fails. */
export async function replayDeadLetter(ws: Workspace, id: string): Promise<DeadLetter> {
  return ws.dlq.replay(id, {
    notification: async (entry) => {
      if (!ws.alerts) {
        throw new TributaryError('tributary.yml has no alerts: to send this notification through', {
          code: 'CONFIG',
          hint: 'add the channel back under alerts: channels:, or purge the entry',
        });
      }
      await ws.alerts.redeliver(entry);
    },
    event: async (entry) => {
      const p = entry.payload as RunEventPayload;
      const result = await runPipeline(ws, {
        select: p.select,
        exclude: p.exclude,
        command: `replay ${entry.id}${p.command ? ` (${p.command})` : ''}`,
        trigger: 'replay',
      });
      if (result.status !== 'succeeded') {
        throw new TributaryError(`the replayed run ${result.runId} ${result.status}`, {
          code: 'INPUT',
          hint: `\`tributary runs ${result.runId}\` shows why`,
        });
      }
    },
  });
}
