/**
 * Buffers kept for reuse instead of allocated again: memory a fresh buffer would cost the kernel
 * mapping and zeroing its pages as they are first written (bench:stream, issue 15). Best fit (the
 * smallest spare buffer that fits), bounded in bytes; buffers under `minBytes` are not worth
 * keeping. Request bodies (collector/body.ts) and the log's staging buffers (local/frame.ts) each
 * keep one.
 */
export class BufferPool {
  private readonly buffers: Buffer[] = [];
  private held = 0;

  constructor(
    /** Bytes kept at most: beyond them a buffer given back is left to the garbage collector. */
    private readonly maxBytes: number,
    /** Smaller buffers are never kept. */
    private readonly minBytes: number,
  ) {}

  /** A spare buffer of at least `bytes` (the smallest such), or undefined. */
  take(bytes: number): Buffer | undefined {
    let best = -1;
    for (let i = 0; i < this.buffers.length; i++) {
      const length = this.buffers[i]!.length;
      if (length >= bytes && (best < 0 || length < this.buffers[best]!.length)) best = i;
    }
    if (best < 0) return undefined;
    const [buffer] = this.buffers.splice(best, 1);
    this.held -= buffer!.length;
    return buffer;
  }

  /**
   * Takes back a buffer nothing reads or writes any more (its whole memory); false when it is
   * left to the garbage collector (too small, or the pool is full).
   */
  give(buffer: Buffer): boolean {
    if (buffer.length < this.minBytes || this.held + buffer.length > this.maxBytes) return false;
    this.buffers.push(buffer);
    this.held += buffer.length;
    return true;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.held;
  }
}
