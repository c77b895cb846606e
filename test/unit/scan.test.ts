import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanFile } from '../../src/core/index.js';
import { tempDir, writeFiles } from '../helpers.js';

describe('scanning a landed file', () => {
  it('hashes the bytes with SHA-256', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'a.csv': 'id\n1\n' });
    const scan = await scanFile(join(dir, 'a.csv'));
    expect(scan.sha256).toBe(createHash('sha256').update('id\n1\n').digest('hex'));
    expect(scan.bytes).toBe(5);
    expect(scan.utf8Error).toBeUndefined();
  });

  it('accepts multi-byte characters split across read chunks', async () => {
    const dir = tempDir();
    const text = `${'a'.repeat((1 << 20) - 1)}é€😀\n`;
    writeFiles(dir, { 'big.csv': text });
    expect((await scanFile(join(dir, 'big.csv'))).utf8Error).toBeUndefined();
  });

  it('finds the line and column of the first byte that is not UTF-8', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'latin1.csv': Buffer.concat([
        Buffer.from('id,name\n1,ok\n2,caf'),
        Buffer.from([0xe9]),
        Buffer.from('\n'),
      ]),
    });
    expect((await scanFile(join(dir, 'latin1.csv'))).utf8Error).toMatchObject({
      line: 3,
      column: 6,
    });
  });

  it('flags a file that ends inside a multi-byte character', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'cut.csv': Buffer.concat([Buffer.from('ab\n'), Buffer.from([0xe2, 0x82])]) });
    expect((await scanFile(join(dir, 'cut.csv'))).utf8Error).toMatchObject({ line: 2, column: 1 });
  });
});
