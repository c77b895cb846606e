/**
 * The data `bench:serve` queries: the e-commerce template initialised, generated at the chosen
 * scale, run through the whole pipeline and published as a serving snapshot, in
 * bench/.work/serve/sf<N>. Kept between runs: a project whose marker says the same scale and seed
 * and whose snapshot file still exists is reused as it is.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentProgress } from '../src/core/index.js';
import { generateForProject } from '../src/cli/commands/generate.js';
import { initProject } from '../src/cli/commands/init.js';
import {
  openWorkspace,
  publishServingSnapshot,
  runPipeline,
  servingDir,
} from '../src/orchestrator/index.js';

export interface ServeSetup {
  scale: number;
  seed: number;
  /** The project folder. */
  project: string;
  /** Its serving folder (`.tributary/serving`), what QuerySandbox opens. */
  servingDir: string;
  /** The snapshot's database file. */
  snapshotFile: string;
  /** Rows of main.fct_sales in the snapshot. */
  factRows: number;
  /** How long the setup took when it ran (ms), per phase. */
  took: { generateMs: number; pipelineMs: number; publishMs: number };
  createdAt: string;
}

/** The benchmark's project at `scale`: reused when present, else built from nothing. */
export async function ensureServeSetup(
  root: string,
  scale: number,
  seed: number,
  log: (line: string) => void,
): Promise<ServeSetup> {
  const dir = join(root, `sf${scale}`);
  const marker = join(dir, '_setup.json');
  if (existsSync(marker)) {
    const setup = JSON.parse(readFileSync(marker, 'utf8')) as ServeSetup;
    if (setup.scale === scale && setup.seed === seed && existsSync(setup.snapshotFile)) {
      log(`reusing the SF${scale} project in ${dir} (set up ${setup.createdAt})`);
      return setup;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const project = join(dir, 'project');
  await initProject(project, 'ecommerce');
  log(`generating SF${scale} (seed ${seed})…`);
  let t = performance.now();
  await generateForProject(project, { scale, seed, progress: silentProgress });
  const generateMs = performance.now() - t;
  log(`running the pipeline…`);
  const ws = await openWorkspace(project, 'bench:serve');
  try {
    t = performance.now();
    const run = await runPipeline(ws, { progress: silentProgress, command: 'bench:serve' });
    const pipelineMs = performance.now() - t;
    if (run.status !== 'succeeded')
      throw new Error(`the pipeline run ${run.runId} ended ${run.status}; see tributary runs`);
    t = performance.now();
    const snapshot = await publishServingSnapshot(ws, { force: true });
    const publishMs = performance.now() - t;
    const facts = await ws.warehouse.query('select count(*) as n from main.fct_sales');
    const setup: ServeSetup = {
      scale,
      seed,
      project,
      servingDir: servingDir(ws),
      snapshotFile: snapshot.file,
      factRows: Number(facts.rows[0]!.n),
      took: { generateMs, pipelineMs, publishMs },
      createdAt: new Date().toISOString(),
    };
    writeFileSync(marker, JSON.stringify(setup, null, 2));
    log(
      `set up in ${((generateMs + pipelineMs + publishMs) / 1000).toFixed(1)} s (generate ${(generateMs / 1000).toFixed(1)} s, pipeline ${(pipelineMs / 1000).toFixed(1)} s)`,
    );
    return setup;
  } finally {
    await ws.close();
  }
}
