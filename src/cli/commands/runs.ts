/** `tributary runs`: run history, and one run's steps. */
import { TributaryError } from '../../core/index.js';
import { openWorkspace } from '../../orchestrator/index.js';
import type { RunRecord, StepRecord } from '../../state/index.js';

export async function readRuns(
  projectDir: string,
  runId?: string,
  limit = 20,
): Promise<{ runs: RunRecord[]; steps?: StepRecord[] }> {
  const ws = await openWorkspace(projectDir, 'runs');
  try {
    const runs = await ws.state.listRuns(runId ? 1000 : limit);
    if (!runId) return { runs };
    const run = runs.find((r) => r.runId === runId);
    if (!run)
      throw new TributaryError(`no run ${runId}`, {
        code: 'USAGE',
        hint: 'run `tributary runs` to list runs',
      });
    return { runs: [run], steps: await ws.state.listSteps(runId) };
  } finally {
    await ws.close();
  }
}
