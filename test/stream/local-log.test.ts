/**
 * What only the local segment log has: torn and corrupt tails cut on open, segment files rolled
 * by size and read through the sparse index, the pid lock, a disk that fails a group write, reads
 * that never see an unsynced group, and a real process SIGKILLed while it appends (every record
 * it was told is durable is there after reopening, intact).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  constants,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import {
  LocalSegmentLog,
  nodeSegmentIo,
  shardIdOf,
  type LocalSegmentLogOptions,
  type LogRecord,
  type SegmentIo,
  type StreamLog,
} from '../../src/stream/index.js';
import { tempDir } from '../helpers.js';

const DAY = 24 * 3_600_000;
const opened: StreamLog[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const log of opened.splice(0)) await log.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function logDir(): string {
  const dir = tempDir('trib-local-log-');
  dirs.push(dir);
  return dir;
}

async function openLog(
  dir: string,
  options: LocalSegmentLogOptions = {},
): Promise<LocalSegmentLog> {
  const log = await LocalSegmentLog.open(dir, { retentionIntervalMs: 0, ...options });
  opened.push(log);
  return log;
}

async function closeLog(log: StreamLog): Promise<void> {
  await log.close();
  opened.splice(opened.indexOf(log), 1);
}

const shard0 = shardIdOf(0);
const records = (n: number, prefix: string, size = 0) =>
  Array.from({ length: n }, (_, i) => ({
    partitionKey: `k${i}`,
    data: Buffer.from(`${prefix}-${i}`.padEnd(size, '.')),
  }));

async function readAll(log: StreamLog, stream: string, shardId = shard0): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let from: Parameters<StreamLog['read']>[2] = { type: 'oldest' };
  for (;;) {
    const page = await log.read(stream, shardId, from, { maxRecords: 500 });
    if (page.records.length === 0) return out;
    out.push(...page.records);
    from = page.next;
  }
}

const segmentFiles = (dir: string, stream: string) => {
  const folder = join(dir, 'streams', stream, 'shard-000000000000');
  return readdirSync(folder)
    .filter((n) => n.endsWith('.seg'))
    .sort()
    .map((n) => join(folder, n));
};

const okSequences = (outcomes: Awaited<ReturnType<StreamLog['append']>>) =>
  outcomes.map((o) => (o.ok ? o.sequenceNumber : `refused: ${o.message}`));

describe('local segment log: recovery of a torn tail', () => {
  it('cuts a frame torn by a crash mid-write and keeps every whole one', async () => {
    const dir = logDir();
    const log = await openLog(dir);
    await log.createStream('s', { shards: 1, maxAgeMs: DAY });
    const seqs = okSequences(await log.append('s', records(10, 'r', 40)));
    await closeLog(log);
    const [file] = segmentFiles(dir, 's');
    truncateSync(file!, statSync(file!).size - 7);
    const again = await openLog(dir);
    expect(again.recovered).toEqual([
      expect.objectContaining({ stream: 's', shardId: shard0, cutBytes: expect.any(Number) }),
    ]);
    expect(again.recovered[0]!.cutBytes).toBeGreaterThan(40);
    const kept = await readAll(again, 's');
    expect(kept.map((r) => r.sequenceNumber)).toEqual(seqs.slice(0, 9));
    expect(kept[8]!.data.toString()).toBe('r-8'.padEnd(40, '.'));
    // The cut is on disk: appends go on after the last whole frame, numbers keep increasing.
    const more = okSequences(await again.append('s', records(2, 'more')));
    expect(BigInt(more[0]!)).toBeGreaterThan(BigInt(seqs[8]!));
    await closeLog(again);
    const third = await openLog(dir);
    expect(third.recovered).toEqual([]);
    expect((await readAll(third, 's')).map((r) => r.sequenceNumber)).toEqual([
      ...seqs.slice(0, 9),
      ...more,
    ]);
  });

  it('cuts a last frame whose checksum does not match, and zeros left by a crash', async () => {
    const dir = logDir();
    const log = await openLog(dir);
    await log.createStream('s', { shards: 1, maxAgeMs: DAY });
    const seqs = okSequences(await log.append('s', records(5, 'c', 30)));
    await closeLog(log);
    const [file] = segmentFiles(dir, 's');
    const bytes = readFileSync(file!);
    bytes[bytes.length - 3] ^= 0xff; // one flipped bit pattern inside the last record's data
    writeFileSync(file!, Buffer.concat([bytes, Buffer.alloc(4096)]));
    const again = await openLog(dir);
    expect(again.recovered[0]?.problem).toMatch(/checksum/);
    const kept = await readAll(again, 's');
    expect(kept.map((r) => r.sequenceNumber)).toEqual(seqs.slice(0, 4));
    // The last frame: 8 header + 18 fixed + key 'k4' + 30 data bytes.
    expect(statSync(file!).size).toBe(bytes.length - 58);
    await closeLog(again);
    // Zeros alone (a file extended but never written) are cut as well.
    writeFileSync(file!, Buffer.concat([readFileSync(file!), Buffer.alloc(100)]));
    const third = await openLog(dir);
    expect(third.recovered[0]?.cutBytes).toBe(100);
    expect((await readAll(third, 's')).length).toBe(4);
  });
});

describe('local segment log: segments and index', () => {
  it('rolls segments by size and reads from any sequence number, before and after reopening', async () => {
    const dir = logDir();
    const log = await openLog(dir, { segmentBytes: 4096 });
    await log.createStream('s', { shards: 1, maxAgeMs: DAY });
    const seqs: string[] = [];
    for (let call = 0; call < 40; call++)
      seqs.push(...okSequences(await log.append('s', records(5, `c${call}`, 100))));
    expect(segmentFiles(dir, 's').length).toBeGreaterThan(5);
    const check = async (l: StreamLog) => {
      for (const i of [0, 37, 101, 150, 199]) {
        const page = await l.read(
          's',
          shard0,
          { type: 'at', sequenceNumber: seqs[i]! },
          { maxRecords: 3 },
        );
        expect(page.records.map((r) => r.sequenceNumber)).toEqual(seqs.slice(i, i + 3));
        expect(page.records[0]!.data.toString()).toMatch(
          new RegExp(`^c${Math.floor(i / 5)}-${i % 5}\\.`),
        );
      }
      expect((await readAll(l, 's')).map((r) => r.sequenceNumber)).toEqual(seqs);
    };
    await check(log);
    await closeLog(log);
    await check(await openLog(dir, { segmentBytes: 4096 }));
  });
});

describe('local segment log: retention on its own', () => {
  it('deletes expired segments on its timer, an idle shard included', async () => {
    const dir = logDir();
    const log = await openLog(dir, { retentionIntervalMs: 100 });
    await log.createStream('s', { shards: 1, maxAgeMs: 300 });
    await log.append('s', records(20, 'old', 100));
    const withData = () => segmentFiles(dir, 's').filter((f) => statSync(f).size > 0);
    expect(withData().length).toBe(1);
    const deadline = Date.now() + 5000;
    while (withData().length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(withData()).toEqual([]);
    expect((await log.read('s', shard0, { type: 'oldest' })).records).toEqual([]);
    // The shard goes on: new records after the removed ones, numbered after them.
    const [outcome] = await log.append('s', records(1, 'new'));
    expect(outcome).toMatchObject({ ok: true, sequenceNumber: expect.stringMatching(/21$/) });
  });
});

describe('local segment log: retention after a reopen', () => {
  it('removes expired segments written before the log was opened', async () => {
    const dir = logDir();
    const log = await openLog(dir, { segmentBytes: 4096 });
    await log.createStream('s', { shards: 1, maxAgeMs: 1200 });
    for (let call = 0; call < 20; call++) await log.append('s', records(5, `old${call}`, 200));
    const before = segmentFiles(dir, 's').length;
    expect(before).toBeGreaterThan(3);
    await closeLog(log);
    await new Promise((r) => setTimeout(r, 1300));
    const again = await openLog(dir, { segmentBytes: 4096 });
    const fresh = okSequences(await again.append('s', records(3, 'fresh', 200)));
    await again.enforceRetention('s');
    expect(segmentFiles(dir, 's').length).toBeLessThan(before);
    expect((await readAll(again, 's')).map((r) => r.sequenceNumber)).toEqual(fresh);
    const first = await again.read('s', shard0, {
      type: 'after',
      sequenceNumber: fresh[0]!.slice(0, 13) + '0'.repeat(20),
    });
    expect(first.trimmedBefore).toBe(fresh[0]);
  });
});

describe('local segment log: single owner', () => {
  it('refuses a second opener, naming the pid that holds the log, and releases on close', async () => {
    const dir = logDir();
    const log = await openLog(dir);
    const err = await LocalSegmentLog.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).code).toBe('LOCKED');
    expect((err as TributaryError).message).toContain(String(process.pid));
    await closeLog(log);
    expect(readdirSync(dir)).not.toContain('LOCK');
    await closeLog(await openLog(dir));
  });

  it('refuses while another live process holds the lock, and takes over a dead one', async () => {
    const dir = logDir();
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'LOCK'), `${sleeper.pid}\n`);
      const err = await LocalSegmentLog.open(dir).catch((e: unknown) => e);
      expect((err as TributaryError).message).toContain(`process ${sleeper.pid}`);
    } finally {
      sleeper.kill('SIGKILL');
    }
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(dir, 'LOCK'), `${dead}\n`);
    await openLog(dir);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
  });
});

/** Real file operations, except that write number `failAt` writes half its bytes and fails. */
function diskFullAt(failAt: number, truncateFails = false): SegmentIo {
  let writes = 0;
  return {
    async write(fd, bytes, position) {
      if (++writes !== failAt) return nodeSegmentIo.write(fd, bytes, position);
      await nodeSegmentIo.write(fd, bytes.subarray(0, bytes.length >> 1), position);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
    datasync: nodeSegmentIo.datasync,
    truncate(fd, length) {
      if (truncateFails && writes === failAt)
        return Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
      return nodeSegmentIo.truncate(fd, length);
    },
  };
}

describe('local segment log: a disk that fails', () => {
  for (const truncateFails of [false, true]) {
    it(`fails only that group's records as UNAVAILABLE and keeps working (${truncateFails ? 'cut fails too: new segment' : 'partial write cut'})`, async () => {
      const dir = logDir();
      const log = await openLog(dir, { io: diskFullAt(2, truncateFails) });
      await log.createStream('s', { shards: 1, maxAgeMs: DAY });
      const first = okSequences(await log.append('s', records(3, 'a', 200)));
      const failed = await log.append('s', records(3, 'b', 200));
      for (const outcome of failed) {
        expect(outcome).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
        if (!outcome.ok) expect(outcome.message).toMatch(/disk is full/);
      }
      const after = okSequences(await log.append('s', records(3, 'c', 200)));
      const expected = [...first, ...after];
      expect((await readAll(log, 's')).map((r) => r.data.toString()[0])).toEqual([...'aaaccc']);
      await closeLog(log);
      const again = await openLog(dir);
      expect(again.recovered).toEqual([]);
      expect((await readAll(again, 's')).map((r) => r.sequenceNumber)).toEqual(expected);
      expect(segmentFiles(dir, 's').length).toBe(truncateFails ? 2 : 1);
    });
  }

  it('never lets a read see a group before its O_DSYNC write returned', async () => {
    const dir = logDir();
    let hold: (() => void) | undefined;
    let writing = false;
    let datasyncs = 0;
    const io: SegmentIo = {
      ...nodeSegmentIo,
      syncedWrites: true,
      async write(fd, bytes, position) {
        writing = true;
        await new Promise<void>((r) => (hold = r));
        return nodeSegmentIo.write(fd, bytes, position);
      },
      datasync(fd) {
        datasyncs++;
        return nodeSegmentIo.datasync(fd);
      },
    };
    const log = await openLog(dir, { io });
    await log.createStream('s', { shards: 1, maxAgeMs: DAY });
    const pending = log.append('s', records(4, 'x'));
    while (!writing) await new Promise((r) => setTimeout(r, 5));
    expect((await log.read('s', shard0, { type: 'oldest' })).records).toEqual([]);
    hold!();
    const seqs = okSequences(await pending);
    expect((await readAll(log, 's')).map((r) => r.sequenceNumber)).toEqual(seqs);
    // The write was the sync (the segment is open O_DSYNC): no fdatasync after it.
    expect(datasyncs).toBe(0);
    if (process.platform === 'linux') {
      const fdFlags = readFileSync(`/proc/self/fdinfo/${openSegmentFd(dir)}`, 'utf8');
      const flags = parseInt(/flags:\s+(\d+)/.exec(fdFlags)![1]!, 8);
      expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
    }
  });

  it('never lets a read see a group before its fdatasync returned', async () => {
    const dir = logDir();
    let hold: (() => void) | undefined;
    let written = false;
    const io: SegmentIo = {
      ...nodeSegmentIo,
      syncedWrites: false,
      async write(fd, bytes, position) {
        await nodeSegmentIo.write(fd, bytes, position);
        written = true;
      },
      async datasync(fd) {
        if (hold === undefined) await new Promise<void>((r) => (hold = r));
        return nodeSegmentIo.datasync(fd);
      },
    };
    const log = await openLog(dir, { io });
    await log.createStream('s', { shards: 1, maxAgeMs: DAY });
    const pending = log.append('s', records(4, 'x'));
    while (!written) await new Promise((r) => setTimeout(r, 5));
    expect((await log.read('s', shard0, { type: 'oldest' })).records).toEqual([]);
    expect((await log.read('s', shard0, { type: 'latest' })).lastSequenceNumber).toBeUndefined();
    hold!();
    const seqs = okSequences(await pending);
    expect((await readAll(log, 's')).map((r) => r.sequenceNumber)).toEqual(seqs);
  });
});

/** The descriptor this process holds open on a segment of `dir` (Linux: /proc/self/fd). */
function openSegmentFd(dir: string): number {
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(resolve(dir)) && target.endsWith('.seg')) return Number(fd);
    } catch {
      // closed meanwhile
    }
  }
  throw new Error(`no segment of ${dir} is open`);
}

/**
 * Compiles the TypeScript the child process needs (src/core, src/stream) to plain JS in a temp
 * folder, since node itself runs no TypeScript; returns that folder.
 */
function compileForChild(): string {
  const root = resolve(import.meta.dirname, '../..');
  const out = tempDir('trib-log-child-');
  dirs.push(out);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  for (const file of [...walk(join(root, 'src/core')), ...walk(join(root, 'src/stream'))]) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    const target = join(out, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(
    join(out, 'append-loop.mjs'),
    `
import { LocalSegmentLog } from './src/stream/local/index.js';
const [dir] = process.argv.slice(2);
const log = await LocalSegmentLog.open(dir, { retentionIntervalMs: 0, segmentBytes: 64 * 1024 });
let next = 0;
async function producer(p) {
  for (;;) {
    const batch = [];
    for (let k = 0; k < 1 + (next % 7); k++) {
      const id = next++;
      batch.push({ partitionKey: 'p' + p + '-' + id, data: Buffer.from(JSON.stringify({ id, pad: 'x'.repeat(id % 300) })) });
    }
    const outcomes = await log.append('s', batch);
    const lines = outcomes.map((o, k) => o.ok ? o.shardId + ' ' + o.sequenceNumber + ' ' + JSON.parse(batch[k].data).id : 'refused ' + o.message);
    process.stdout.write(lines.join('\\n') + '\\n');
  }
}
for (let p = 0; p < 16; p++) void producer(p);
`,
  );
  return out;
}

/** Runs the append loop in a child until it acknowledged `atLeast` records, then SIGKILLs it. */
function appendAndKill(script: string, dir: string, atLeast: number): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.split('\n').length > atLeast) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child ended by itself (${code}): ${err}`));
      // Only whole lines were acknowledgements the child finished printing.
      else resolvePromise(out.split('\n').slice(0, -1));
    });
  });
}

describe('local segment log: SIGKILL while appending', () => {
  it('keeps every acknowledged record intact across three kills', async () => {
    const dir = logDir();
    const setup = await openLog(dir);
    await setup.createStream('s', { shards: 2, maxAgeMs: DAY });
    await closeLog(setup);
    const script = join(compileForChild(), 'append-loop.mjs');
    const acknowledged = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      const lines = await appendAndKill(script, dir, 1500 + round * 700);
      for (const line of lines) {
        const [shardId, seq, id] = line.split(' ');
        expect(shardId, line).toMatch(/^shardId-/);
        acknowledged.set(`${shardId}/${seq}`, Number(id));
      }
      const log = await openLog(dir);
      const stored = new Map<string, number>();
      for (const shardId of [shardIdOf(0), shardIdOf(1)]) {
        const records = await readAll(log, 's', shardId);
        for (let i = 1; i < records.length; i++)
          expect(BigInt(records[i]!.sequenceNumber)).toBeGreaterThan(
            BigInt(records[i - 1]!.sequenceNumber),
          );
        for (const r of records) {
          const parsed = JSON.parse(r.data.toString()) as { id: number; pad: string };
          expect(parsed.pad).toBe('x'.repeat(parsed.id % 300));
          stored.set(`${shardId}/${r.sequenceNumber}`, parsed.id);
        }
      }
      for (const [key, id] of acknowledged) expect(stored.get(key), key).toBe(id);
      await closeLog(log);
    }
    expect(acknowledged.size).toBeGreaterThan(3000);
  }, 60_000);
});
