/**
 * TYPE A line-end conversion: files keep Unix LF line ends, the data connection carries CRLF
 * (RFC 959 NVT-ASCII).
 *
 * @module
 */

const CR = 0x0d;
const LF = 0x0a;

/**
 * For downloads: turns every LF not already preceded by CR into CRLF.
 *
 * @returns The converting stream.
 */
export function lfToCrlf(): TransformStream<Uint8Array, Uint8Array> {
  let previous = 0;
  return new TransformStream({
    transform(chunk, controller) {
      if (chunk.length === 0) return;
      const before = previous;
      previous = chunk[chunk.length - 1];
      const isBare = (i: number) => (i > 0 ? chunk[i - 1] : before) !== CR;
      let bare = 0;
      for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) if (isBare(i)) bare++;
      if (bare === 0) {
        controller.enqueue(chunk);
        return;
      }
      const out = new Uint8Array(chunk.length + bare);
      let o = 0;
      let start = 0;
      for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) {
        if (!isBare(i)) continue;
        out.set(chunk.subarray(start, i), o);
        o += i - start;
        out[o++] = CR;
        start = i;
      }
      out.set(chunk.subarray(start), o);
      controller.enqueue(out);
    },
  });
}

/**
 * For uploads: turns CRLF into LF (a lone CR stays).
 *
 * @returns The converting stream.
 */
export function crlfToLf(): TransformStream<Uint8Array, Uint8Array> {
  let heldCr = false;
  return new TransformStream({
    transform(chunk, controller) {
      if (chunk.length === 0) return;
      const out = new Uint8Array(chunk.length + 1);
      let o = 0;
      if (heldCr && chunk[0] !== LF) out[o++] = CR;
      heldCr = chunk[chunk.length - 1] === CR;
      const end = heldCr ? chunk.length - 1 : chunk.length;
      let start = 0;
      for (let i = chunk.indexOf(CR); i >= 0 && i < end; i = chunk.indexOf(CR, i + 1)) {
        if (chunk[i + 1] !== LF) continue;
        out.set(chunk.subarray(start, i), o);
        o += i - start;
        start = i + 1;
      }
      out.set(chunk.subarray(start, end), o);
      o += end - start;
      if (o > 0) controller.enqueue(out.subarray(0, o));
    },
    flush(controller) {
      if (heldCr) controller.enqueue(Uint8Array.of(CR));
    },
  });
}
