// Output helpers for the sample-data generator: RFC 4180 field quoting and a buffered file
// writer that batches rows into large chunks and honours stream backpressure.

import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { once } from 'node:events';
import { rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE = /"/g;

/** Quotes a CSV field when it contains a comma, double quote or line break (RFC 4180). */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(QUOTE, '""')}"` : value;
}

const FLUSH_AT = 1 << 20;

/**
 * Appends text to a file by encoding it straight into a large Buffer (no string ropes to
 * flatten); `add` says when the chunk is full and the caller should `await flush()`.
 */
export class ChunkedWriter {
  private readonly stream: WriteStream;
  private buffer = Buffer.allocUnsafe(FLUSH_AT * 2);
  private used = 0;
  private failure: Error | undefined;

  /** Written under a hidden temporary name, renamed into place by close(): a run that lands
   * files while generation is under way never sees half a file. */
  private readonly tmpPath: string;

  constructor(private readonly path: string) {
    this.tmpPath = join(dirname(path), `.${basename(path)}.tmp`);
    this.stream = createWriteStream(this.tmpPath, { highWaterMark: FLUSH_AT });
    this.stream.on('error', (err) => {
      this.failure = err;
    });
  }

  /** Buffers `text` as UTF-8; returns true when the caller should `await flush()`. */
  add(text: string): boolean {
    const worst = text.length * 3; // UTF-8 bytes per UTF-16 code unit are at most 3
    if (worst > this.buffer.length - this.used) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + worst));
      this.buffer.copy(bigger, 0, 0, this.used);
      this.buffer = bigger;
    }
    this.used += this.buffer.write(text, this.used);
    return this.used >= FLUSH_AT;
  }

  /** Hands the buffered chunk to the stream, waiting for it to drain if it is full. */
  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.used === 0) return;
    const chunk = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(FLUSH_AT * 2);
    this.used = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  /** Flushes what is left and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    if (!this.stream.closed) await once(this.stream, 'close');
    if (this.failure) throw this.failure;
    await rename(this.tmpPath, this.path);
  }
}
