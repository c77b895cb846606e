// The compiled-SQL writer: files on worker threads (batches) or in-process (a few), written aside
// and renamed, unchanged files left alone, failures reported with the file.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import { CompiledWriter } from '../../src/models/compiled-writer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trib-compiled-writer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function allFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

describe('CompiledWriter', () => {
  it('writes many files in many folders on threads, with no temp file left', async () => {
    const writer = new CompiledWriter(2);
    const expected: string[] = [];
    for (let i = 0; i < 250; i++) {
      const rel = join(`f${i % 7}`, `sub${i % 3}`, `m${i}.sql`);
      writer.write(join(dir, rel), `select ${i}\n`);
      expected.push(rel);
    }
    expect(await writer.close()).toBe(250);
    expect(allFiles(dir)).toEqual(expected.sort());
    expect(readFileSync(join(dir, 'f3', 'sub1', 'm10.sql'), 'utf8')).toBe('select 10\n');
  });

  it('leaves unchanged files alone and replaces changed ones, threads or not', async () => {
    for (const count of [3, 100]) {
      const root = join(dir, `n${count}`);
      const first = new CompiledWriter(2);
      for (let i = 0; i < count; i++) first.write(join(root, `m${i}.sql`), `select ${i}\n`);
      expect(await first.close()).toBe(count);
      const before = statSync(join(root, 'm0.sql'));
      const second = new CompiledWriter(2);
      for (let i = 0; i < count; i++)
        second.write(join(root, `m${i}.sql`), i === 1 ? 'select changed\n' : `select ${i}\n`);
      expect(await second.close()).toBe(1);
      expect(statSync(join(root, 'm0.sql')).ino).toBe(before.ino);
      expect(readFileSync(join(root, 'm1.sql'), 'utf8')).toBe('select changed\n');
      expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
  });

  it('keeps the last text written to one file', async () => {
    const writer = new CompiledWriter(2);
    for (let i = 0; i < 70; i++) writer.write(join(dir, 'same.sql'), `select ${i}\n`);
    await writer.close();
    expect(readFileSync(join(dir, 'same.sql'), 'utf8')).toBe('select 69\n');
  });

  it('fails naming the file it could not write, threads or not', async () => {
    writeFileSync(join(dir, 'blocker'), 'a file where a folder should be');
    for (const count of [1, 40]) {
      const writer = new CompiledWriter(1);
      for (let i = 0; i < count; i++) writer.write(join(dir, 'blocker', `m${i}.sql`), 'select 1\n');
      const err = await writer.close().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TributaryError);
      expect((err as TributaryError).message).toContain(join(dir, 'blocker', 'm0.sql'));
    }
  });

  it('without threads, writes each file at once and throws its failure there', async () => {
    writeFileSync(join(dir, 'blocker'), 'x');
    const writer = new CompiledWriter(0);
    writer.write(join(dir, 'a', 'm.sql'), 'select 1\n');
    expect(readFileSync(join(dir, 'a', 'm.sql'), 'utf8')).toBe('select 1\n');
    expect(() => writer.write(join(dir, 'blocker', 'm.sql'), 'select 1\n')).toThrow(
      /blocker\/m\.sql/,
    );
    await expect(writer.close()).rejects.toBeInstanceOf(TributaryError);
  });

  it('throws an earlier failure on the next write', async () => {
    writeFileSync(join(dir, 'blocker'), 'x');
    const writer = new CompiledWriter(1);
    const bad = () => {
      for (let i = 0; i < 32; i++) writer.write(join(dir, 'blocker', `m${i}.sql`), 'select 1\n');
    };
    bad();
    let thrown: unknown;
    for (let round = 0; round < 200 && !thrown; round++) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        writer.write(join(dir, 'ok.sql'), 'select 1\n');
      } catch (e) {
        thrown = e;
      }
    }
    expect(thrown).toBeInstanceOf(TributaryError);
    await expect(writer.close()).rejects.toBeInstanceOf(TributaryError);
  });

  it('stages a missing compiled folder and renames it into place whole at close', async () => {
    const root = join(dir, 'target', 'compiled');
    mkdirSync(join(dir, 'target'));
    // A staging folder left by a process that is gone is removed; one of a live process is not.
    const stale = join(dir, 'target', '.compiled-999999999-1.staging');
    const live = join(dir, 'target', `.compiled-${process.pid}-999.staging`);
    mkdirSync(join(stale, 'x'), { recursive: true });
    mkdirSync(live);
    for (const threads of [2, 0]) {
      rmSync(root, { recursive: true, force: true });
      const writer = new CompiledWriter(threads, root);
      for (let i = 0; i < 100; i++)
        writer.write(join(root, `f${i % 3}`, `m${i}.sql`), `select ${i}\n`);
      writer.write(join(root, 'f0', 'm0.sql'), 'select last\n');
      // Nothing is shown before close, then all of it at once.
      expect(existsSync(root)).toBe(false);
      expect(await writer.close()).toBe(101);
      expect(allFiles(root)).toHaveLength(100);
      expect(readFileSync(join(root, 'f0', 'm0.sql'), 'utf8')).toBe('select last\n');
      expect(readdirSync(join(dir, 'target')).sort()).toEqual(
        ['compiled', `.compiled-${process.pid}-999.staging`].sort(),
      );
    }
    const outside = new CompiledWriter(0, join(dir, 'missing'));
    expect(() => outside.write(join(dir, 'elsewhere.sql'), 'x')).toThrow(/is not under/);
  });

  it('moves staged files one by one when the compiled folder appeared meanwhile', async () => {
    const root = join(dir, 'compiled');
    const writer = new CompiledWriter(1, root);
    for (let i = 0; i < 40; i++) writer.write(join(root, 'a', `m${i}.sql`), `select ${i}\n`);
    mkdirSync(join(root, 'a'), { recursive: true });
    writeFileSync(join(root, 'a', 'm1.sql'), 'select old\n');
    writeFileSync(join(root, 'a', 'other.sql'), 'select other\n');
    expect(await writer.close()).toBe(40);
    expect(allFiles(root)).toHaveLength(41);
    expect(readFileSync(join(root, 'a', 'm1.sql'), 'utf8')).toBe('select 1\n');
    expect(readdirSync(dir).sort()).toEqual(['compiled']);
  });

  it('shows no staged file when a write fails, and names the file as it would be', async () => {
    const root = join(dir, 'compiled');
    const writer = new CompiledWriter(1, root);
    writer.write(join(root, 'ok.sql'), 'select 1\n');
    writer.write(join(root, 'ok.sql', 'm.sql'), 'select 1\n');
    const err = await writer.close().catch((e: unknown) => e);
    expect((err as TributaryError).message).toContain(join(root, 'ok.sql', 'm.sql'));
    expect(readdirSync(dir)).toEqual([]);
  });
});
