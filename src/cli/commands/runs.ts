/** `tributary runs`: run history, and one run's steps (from the server when one holds the project). */
import { TributaryError } from '../../core/index.js';
import type { RunRecord, StepRecord } from '../../state/index.js';
import { withProject } from '../remote.js';

export async function readRuns(
  projectDir: string,
  runId?: string,
  limit = 20,
): Promise<{ runs: RunRecord[]; steps?: StepRecord[] }> {
  const missing = () =>
    new TributaryError(`no run ${runId}`, {
      code: 'NOT_FOUND',
      hint: 'run `tributary runs` to list runs',
    });
  return withProject(
    projectDir,
    'runs',
    async (ws) => {
      if (!runId) return { runs: await ws.state.listRuns(limit) };
      const run = await ws.state.getRun(runId);
      if (!run) throw missing();
      return { runs: [run], steps: await ws.state.listSteps(runId) };
    },
    async (api) => {
      if (!runId) return { runs: await api.get<RunRecord[]>(`/api/runs?limit=${limit}`) };
      const { run, steps } = await api.get<{ run: RunRecord; steps: StepRecord[] }>(
        `/api/runs/${encodeURIComponent(runId)}`,
      );
      return { runs: [run], steps };
    },
  );
}
