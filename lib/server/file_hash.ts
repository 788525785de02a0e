/**
 * Checksums for the HASH command (draft-bryan-ftpext-hash): SHA-256, SHA-1 and MD5 through
 * `node:crypto`, CRC-32 (IEEE 802.3, as in zip and gzip) computed here. Files are hashed as
 * they stream, never loaded whole.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** The algorithms HASH offers, the default first (FEAT marks it with `*`). */
export const HASH_ALGORITHMS: readonly string[] = ["SHA-256", "SHA-1", "MD5", "CRC32"];

const NODE_NAMES: Record<string, string> = { "SHA-256": "sha256", "SHA-1": "sha1", "MD5": "md5" };

/**
 * Hashes a stream.
 *
 * @param algorithm One of {@linkcode HASH_ALGORITHMS}.
 * @param source The bytes.
 * @param signal Stops reading.
 * @returns The digest as lower-case hex.
 * @throws {RangeError} For an unknown algorithm.
 */
export async function hashStream(
  algorithm: string,
  source: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): Promise<string> {
  const update = hasher(algorithm);
  const reader = source.getReader();
  try {
    while (true) {
      signal?.throwIfAborted();
      const { value, done } = await reader.read();
      if (done) break;
      update.add(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
  return update.hex();
}

interface Hasher {
  add(bytes: Uint8Array): void;
  hex(): string;
}

function hasher(algorithm: string): Hasher {
  if (algorithm === "CRC32") {
    let crc = 0xffffffff;
    return {
      add(bytes) {
        crc = crc32Update(crc, bytes);
      },
      hex: () => ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0"),
    };
  }
  const name = NODE_NAMES[algorithm];
  if (!name) throw new RangeError(`Unknown hash algorithm "${algorithm}"`);
  const hash = createHash(name);
  return { add: (bytes) => hash.update(bytes), hex: () => hash.digest("hex") };
}

let table: Uint32Array | undefined;

/** Reflected CRC-32 with polynomial 0xEDB88320, one table lookup per byte. */
function crc32Update(crc: number, bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc;
}
