/**
 * The single-owner lock of a local stream log: a `LOCK` file holding the owner's pid, created
 * exclusively. Two processes appending to one log would interleave frames and hand out the same
 * sequence numbers, so a second opener is refused with the pid that holds the log; a lock left by
 * a process that no longer runs (a crash, a SIGKILL) is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TributaryError, isErrno } from '../../core/errors.js';

/** Whether a process with this pid runs (EPERM: it runs, as another user). */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

/** Takes the lock of the log in `dir`; returns the function that releases it. */
export async function acquireLogLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return async () => {
        // Only our own lock is removed, so a log taken over after a hang is not unlocked by us.
        const holder = await readFile(path, 'utf8').catch(() => '');
        if (Number(holder.trim()) === process.pid) await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue; // released between our two steps: try again
    if (text.trim() === '' && attempt < 3) {
      // Created a moment ago and not written yet, or left empty by a crash: look again shortly.
      await sleep(100);
      continue;
    }
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 0 && processRuns(pid)) {
      throw new TributaryError(
        `the stream log in ${dir} is in use by process ${pid}${pid === process.pid ? ' (this process: close the other log first)' : ''}`,
        {
          code: 'LOCKED',
          hint: `stop that process (one collector per log), or remove ${path} if it is not a Tributary process`,
        },
      );
    }
    // A dead owner (or an empty lock from a crash mid-create): take the log over.
    await unlink(path).catch((e: unknown) => {
      if (!isErrno(e, 'ENOENT')) throw e;
    });
  }
  throw new TributaryError(`could not take the lock of the stream log in ${dir}`, {
    code: 'LOCKED',
    hint: 'another process keeps taking it; make sure only one collector uses this log',
  });
}
