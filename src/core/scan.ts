/**
 * One streaming pass over a landed file: its SHA-256 (the raw batch id) and whether it is valid
 * UTF-8, with the line and column of the first bad byte when it is not. Reading once for both
 * keeps ingest at disk speed.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';

export interface FileScan {
  sha256: string;
  bytes: number;
  /** Where the first invalid UTF-8 byte is, or undefined when the file is valid UTF-8. */
  utf8Error?: { line: number; column: number; offset: number };
}

/** Hashes a file and validates its encoding in one pass. */
export async function scanFile(path: string): Promise<FileScan> {
  const hash = createHash('sha256');
  let bytes = 0;
  let carry: Buffer = Buffer.alloc(0);
  let utf8Error: FileScan['utf8Error'];
  let lines = 1;
  let lastNewline = -1; // absolute offset of the last newline seen before the current chunk
  for await (const chunk of createReadStream(path, {
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (!utf8Error) {
      const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const start = bytes - carry.length; // absolute offset of data[0]
      const cut = completeUtf8Prefix(data);
      const whole = data.subarray(0, cut);
      if (!isUtf8(whole)) {
        utf8Error = locateBadByte(whole, start, lines, lastNewline);
      } else {
        // Count lines only while valid, so an error's line number is exact.
        let i = whole.indexOf(10);
        while (i !== -1) {
          lines++;
          lastNewline = start + i;
          i = whole.indexOf(10, i + 1);
        }
        carry = Buffer.from(data.subarray(cut));
      }
    }
    bytes += chunk.length;
  }
  if (!utf8Error && carry.length) {
    utf8Error = {
      line: lines,
      column: bytes - carry.length - lastNewline,
      offset: bytes - carry.length,
    };
  }
  return { sha256: hash.digest('hex'), bytes, ...(utf8Error ? { utf8Error } : {}) };
}

/** Length of the longest prefix that does not end inside a multi-byte character. */
function completeUtf8Prefix(data: Buffer): number {
  const n = data.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = data[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

function locateBadByte(
  data: Buffer,
  start: number,
  lines: number,
  lastNewline: number,
): { line: number; column: number; offset: number } {
  // Slow path, run once: decode character by character until the decoder refuses a byte.
  let i = 0;
  while (i < data.length) {
    const b = data[i]!;
    const width = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    if (width === 0 || i + width > data.length || !isUtf8(data.subarray(i, i + width))) break;
    if (b === 10) {
      lines++;
      lastNewline = start + i;
    }
    i += width;
  }
  return { line: lines, column: start + i - lastNewline, offset: start + i };
}
