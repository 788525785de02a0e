/**
 * Joining byte chunks, for the places that gather a stream's chunks into one array.
 *
 * @module
 */

/**
 * Joins chunks into one array (a single chunk is returned as is).
 *
 * @param chunks The chunks, in order.
 * @param length Their total length, when the caller already counted it.
 * @returns The bytes.
 */
export function concatBytes(chunks: readonly Uint8Array[], length?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length ?? chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
