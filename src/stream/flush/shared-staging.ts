/**
 * Shared staging memory between the collector's main thread and its flusher thread, by id. The
 * local log builds its groups in SharedArrayBuffers (local/frame.ts StagingPool); each one is
 * sent to the flusher thread once, with the first group in it, and after that groups go as
 * (id, offset, length) and come back as ids, so no ArrayBuffer is created or detached per group
 * on either side (transferring a buffer each way per group kept both isolates in full garbage
 * collections, issue 15).
 *
 * The main thread's side: which memory the current thread has been sent, and which it holds (lent,
 * not given back yet). A thread that ends holds nothing any more: `reset` returns what it held.
 */
import type { SharedFrames } from './thread-protocol.js';

export class SharedStagingLedger {
  private nextId = 1;
  private readonly ids = new WeakMap<SharedArrayBuffer, number>();
  /** Memory the thread holds, by id, until it gives it back. */
  private readonly lent = new Map<number, SharedArrayBuffer>();
  /** Ids whose memory the current thread has been sent. */
  private readonly known = new Set<number>();

  /** A reference to `bytes` (a view of shared memory) for the thread, which holds it from now on. */
  lend(bytes: Uint8Array & { buffer: SharedArrayBuffer }): SharedFrames {
    const memory = bytes.buffer;
    let id = this.ids.get(memory);
    if (id === undefined) this.ids.set(memory, (id = this.nextId++));
    this.lent.set(id, memory);
    const frames: SharedFrames = { id, offset: bytes.byteOffset, length: bytes.byteLength };
    if (!this.known.has(id)) {
      this.known.add(id);
      frames.memory = memory;
    }
    return frames;
  }

  /** The memory the thread gives back, or undefined when it was not lent (or is forgotten). */
  takeBack(id: number): SharedArrayBuffer | undefined {
    const memory = this.lent.get(id);
    this.lent.delete(id);
    return memory;
  }

  /** The thread is told to drop `id`'s memory: it will be sent again if ever lent again. */
  forget(id: number): void {
    this.known.delete(id);
  }

  /** The thread ended: it knows no memory now, and everything it held is free again. */
  reset(): SharedArrayBuffer[] {
    const held = [...this.lent.values()];
    this.lent.clear();
    this.known.clear();
    return held;
  }
}
