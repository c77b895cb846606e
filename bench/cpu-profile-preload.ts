/**
 * A CPU profile of a process started by a bench, where `--cpu-prof` cannot be passed (Node 20
 * refuses it in NODE_OPTIONS): `NODE_OPTIONS=--import=<this file, built>` with
 * `BENCH_CPU_PROF_DIR=<folder>` samples the process (and each worker thread, which runs this
 * too) with the inspector every BENCH_CPU_PROF_INTERVAL_US (default 500) µs and writes
 * `<folder>/<pid>-<thread>.cpuprofile` when it exits. Summarise with cpuprofile-summary.js.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  const interval = Number(process.env.BENCH_CPU_PROF_INTERVAL_US ?? 500);
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval });
  session.post('Profiler.start');
  // A same-thread session answers synchronously, so the profile can be written at exit.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err)
        writeFileSync(
          join(dir, `${process.pid}-${threadId}.cpuprofile`),
          JSON.stringify(result.profile),
        );
    });
  });
}
