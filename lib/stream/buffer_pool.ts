/**
 * {@linkcode BufferPool}: a few equal-sized buffers kept for reuse, so that a transfer that
 * reads into its own buffers (a BYOB reader) allocates none after the first ones. A buffer
 * handed out and never given back is simply collected.
 *
 * Why: a download that allocates a new 256 KiB chunk per read leaves its memory to the garbage
 * collector, which the runtimes run only when the memory outside the JS heap has grown by tens
 * of MiB; 32 downloads at once then held ≈ 65 MiB of such chunks in Deno.
 *
 * @module
 */

/**
 * A bounded free list of `ArrayBuffer`s of one size.
 *
 * @example
 * ```ts
 * import { BufferPool } from "./buffer_pool.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new BufferPool({ size: 1024, keep: 1 });
 * const first = pool.take();
 * assert.equal(first.byteLength, 1024);
 * pool.give(first);
 * assert.equal(pool.take(), first); // the same buffer again
 * pool.give(new ArrayBuffer(16)); // not this pool's size: dropped
 * assert.notEqual(pool.take().byteLength, 16);
 * ```
 */
export class BufferPool {
  /** The size of every buffer. */
  readonly size: number;
  readonly #keep: number;
  readonly #free: ArrayBuffer[] = [];

  /**
   * Creates an empty pool.
   *
   * @param options `size`: bytes per buffer; `keep`: how many free buffers are kept at most.
   */
  constructor(options: { size: number; keep: number }) {
    this.size = options.size;
    this.#keep = options.keep;
  }

  /** A free buffer, or a new one. */
  take(): ArrayBuffer {
    return this.#free.pop() ?? new ArrayBuffer(this.size);
  }

  /**
   * Gives a buffer back. A detached buffer, one of another size or one beyond what the pool
   * keeps is dropped.
   *
   * @param buffer A buffer that nothing uses any more.
   */
  give(buffer: ArrayBufferLike): void {
    if (
      buffer instanceof ArrayBuffer && buffer.byteLength === this.size &&
      this.#free.length < this.#keep && !this.#free.includes(buffer)
    ) {
      this.#free.push(buffer);
    }
  }
}
