/**
 * Dead letters of the orchestrator (the seeds' SQS dead-letter queue behind the S3 → Lambda
 * trigger), the writing side: a triggered run that failed, or could not start, is kept as an
 * `event` entry with what it was asked to run. Replaying entries is replay.ts: it needs the
 * runner, where writing needs only a run's request and result (types), so the two stay apart.
 */
import { describeError } from '../core/index.js';
import type { DeadLetter } from '../notify/index.js';
import type { RunResult } from './runner.js';
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
