// Test-only fault, loaded with `node --import` into a collector the test starts (never in the
// product): while the file named by TRIBUTARY_TEST_FULL_MARKER exists, fs.write to any file under
// TRIBUTARY_TEST_FULL_DIR fails with ENOSPC, as on a full disk. The bad-input test uses it when it
// may not mount a small tmpfs (which needs root); with root it fills a real tmpfs instead.
import fs from 'node:fs';
import process from 'node:process';
import { syncBuiltinESMExports } from 'node:module';

const dir = process.env.TRIBUTARY_TEST_FULL_DIR;
const marker = process.env.TRIBUTARY_TEST_FULL_MARKER;

if (dir && marker) {
  const realWrite = fs.write;
  fs.write = function write(fd, ...args) {
    const callback = args[args.length - 1];
    if (typeof fd === 'number' && typeof callback === 'function' && fs.existsSync(marker)) {
      let path = '';
      try {
        path = fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        // not a file this fault is about
      }
      if (path.startsWith(dir)) {
        const err = Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC',
          errno: -28,
          syscall: 'write',
        });
        process.nextTick(callback, err);
        return;
      }
    }
    return realWrite.call(fs, fd, ...args);
  };
  syncBuiltinESMExports();
}
