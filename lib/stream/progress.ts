/**
 * Byte counting on a stream, for progress reports and transfer statistics.
 *
 * @module
 */

/**
 * A pass-through stream that reports the size of every chunk passing through it.
 *
 * @example Counting the bytes of a download
 * ```ts
 * import { progressStream } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * let total = 0;
 * const counted = new Blob(["hello"]).stream().pipeThrough(progressStream((n) => (total += n)));
 * assert.equal(await new Response(counted).text(), "hello");
 * assert.equal(total, 5);
 * ```
 *
 * @param onBytes Called with each chunk's byte count, before the chunk is passed on; an
 * exception it throws errors the stream.
 * @returns The transform stream.
 */
export function progressStream(
  onBytes: (bytes: number) => void,
): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      onBytes(chunk.byteLength);
      controller.enqueue(chunk);
    },
  });
}
