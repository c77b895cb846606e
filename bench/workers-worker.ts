/**
 * One worker process of bench/workers.ts: claims no-op tasks of the run `bench` from the shared
 * queue in a PostgreSQL schema until none is left to finish, then prints one JSON line (its CPU,
 * peak memory and how many tasks it completed). The no-op keeps one log line per task in memory
 * with its time, as bench:orchestrate's does.
 *   node dist/bench/workers-worker.js <postgres url> <schema> <worker name> <slots> [single]
 * `single` completes each task on its own (the queue without completeMany), as before batching.
 */
import { runQueueWorker, type TaskQueue } from '../src/dag/index.js';
import { openPostgres } from '../src/engines/index.js';
import { WorkQueue, type Claim } from '../src/state/index.js';

const [url, schema, name, slotsArg, completions] = process.argv.slice(2);
const engine = await openPostgres({ url: url!, schema: schema! });
const queue = await WorkQueue.open(engine);
const lines: { at: number; line: string }[] = [];
const cpu0 = process.cpuUsage();
const stop = new AbortController();
let started = false;
const taskQueue: TaskQueue<Claim> =
  completions === 'single'
    ? {
        claim: (w, n) => queue.claim(w, n),
        heartbeat: (w, c) => queue.heartbeat(w, c),
        complete: (w, c, status, message) => queue.complete(w, c, status, message),
        release: (w, c) => queue.release(w, c),
      }
    : queue;
const stats = await runQueueWorker(taskQueue, {
  worker: name!,
  slots: Number(slotsArg),
  stop: stop.signal,
  async execute(claim) {
    lines.push({ at: performance.now(), line: `ran ${claim.task}` });
    return { status: 'succeeded' };
  },
  onIdle: async () => {
    // Done once the run is there (workers start before it is enqueued) and nothing is left.
    if (!started) started = (await queue.tasks('bench', 1)).length > 0;
    return started && (await queue.unfinished('bench')) === 0;
  },
});
const cpu = process.cpuUsage(cpu0);
await engine.close();
console.log(
  JSON.stringify({
    worker: name,
    ...stats,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    lines: lines.length,
  }),
);
