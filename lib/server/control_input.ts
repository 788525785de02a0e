/**
 * Control-channel input as the line reader should see it: a bare CR ends a line too.
 *
 * Python's `ftplib.abort()` sends `ABOR\r\n` with `MSG_OOB`, so the final LF travels as TCP
 * urgent data and never reaches a socket without `SO_OOBINLINE` (no runtime here can set it):
 * the server receives `ABOR\r` and nothing more until it answers. Telnet (RFC 854) allows CR
 * only before LF or NUL, so a CR that is not followed by LF can end the command safely.
 *
 * @module
 */

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

/** The output of {@linkcode terminateBareCr}. */
export interface BareCrTerminated {
  /** The connection's bytes with bare CRs terminated. */
  readonly readable: ReadableStream<Uint8Array>;
  /**
   * Gives the connection's stream back (before a TLS upgrade): releases the lock taken on it.
   * Call it only while no read is pending.
   */
  release(): void;
}

/**
 * Wraps a control connection's bytes so that every bare CR (at a chunk's end, or before a byte
 * other than LF) is followed by an LF; the LF that may arrive next is then dropped, and so is
 * the NUL of a Telnet `CR NUL`. Reading is pulled one chunk at a time, so releasing leaves
 * nothing buffered here.
 *
 * @param readable The connection's bytes.
 * @returns The same bytes with bare CRs terminated, and the way to release `readable`.
 */
export function terminateBareCr(readable: ReadableStream<Uint8Array>): BareCrTerminated {
  const reader = readable.getReader();
  let dropNext = false;
  const terminated = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (true) {
        const { value, done } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        let chunk = value;
        if (dropNext && chunk.length > 0) {
          dropNext = false;
          if (chunk[0] === LF || chunk[0] === NUL) chunk = chunk.subarray(1);
        }
        if (chunk.length === 0) continue;
        const fixed = fixBareCr(chunk);
        dropNext = fixed.endsWithBareCr;
        controller.enqueue(fixed.bytes);
        return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return { readable: terminated, release: () => reader.releaseLock() };
}

function fixBareCr(chunk: Uint8Array): { bytes: Uint8Array; endsWithBareCr: boolean } {
  const endsWithBareCr = chunk[chunk.length - 1] === CR;
  let bare = endsWithBareCr;
  // Fast path: every CR is followed by LF (the normal "CMD\r\n").
  for (let i = chunk.indexOf(CR); i >= 0 && !bare; i = chunk.indexOf(CR, i + 1)) {
    bare = chunk[i + 1] !== LF;
  }
  if (!bare) return { bytes: chunk, endsWithBareCr };
  const out: number[] = [];
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    out.push(b);
    if (b !== CR || chunk[i + 1] === LF) continue;
    out.push(LF);
    if (chunk[i + 1] === NUL) i++;
  }
  return { bytes: Uint8Array.from(out), endsWithBareCr };
}
