/**
 * Checking a transferred file against the server's digest (`HASH`, draft-bryan-ftpext-hash),
 * in the strongest algorithm the server offers.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { replyText } from "../protocol/reply.ts";
import { ChecksumMismatchError } from "./errors.ts";
import { hashLocal } from "./local_file.ts";
import type { RemoteFiles } from "./remote_files.ts";

/** HASH algorithms, strongest first, with their `node:crypto` names. */
const HASH_ALGORITHMS = [
  { name: "SHA-512", crypto: "sha512", hexLength: 128 },
  { name: "SHA-256", crypto: "sha256", hexLength: 64 },
  { name: "SHA-1", crypto: "sha1", hexLength: 40 },
  { name: "MD5", crypto: "md5", hexLength: 32 },
];

/**
 * Compares a local file's digest with the server's `HASH`, in the strongest algorithm the
 * server offers among SHA-512, SHA-256, SHA-1 and MD5. `OPTS HASH` selects it only when it is
 * not the server's current one (marked `*` in FEAT); the cached FEAT is updated to match.
 *
 * @example After a download
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import assert from "node:assert/strict";
 * import { verifyChecksum } from "./checksum.ts";
 * import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["data"]).stream().pipeTo(await client.uploadStream("f.bin"));
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await client.download("f.bin", dir);
 *   assert.equal(await verifyChecksum(client, "f.bin", join(dir, "f.bin")), true); // HASH matched
 *   await writeFile(join(dir, "f.bin"), "other");
 *   await assert.rejects(verifyChecksum(client, "f.bin", join(dir, "f.bin")), {
 *     name: "ChecksumMismatchError",
 *   });
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param remote The client.
 * @param remotePath The remote file.
 * @param localPath The local file.
 * @param signal Cancels the exchanges.
 * @returns `true` when compared, `false` when the server offers no usable HASH algorithm.
 * @throws {ChecksumMismatchError} When the digests differ.
 */
export async function verifyChecksum(
  remote: Pick<RemoteFiles, "features" | "command">,
  remotePath: string,
  localPath: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const features = await remote.features({ signal });
  const offered = features.get("HASH");
  if (offered === undefined) return false;
  const names = offered.split(";").map((a) => a.trim()).filter((a) => a !== "");
  const plain = (name: string) => name.replace(/\*$/, "").toUpperCase();
  const algorithm = HASH_ALGORITHMS.find((a) => names.some((n) => plain(n) === a.name));
  if (!algorithm) return false;
  const current = names.find((n) => n.endsWith("*"));
  if (current === undefined || plain(current) !== algorithm.name) {
    await remote.command(`OPTS HASH ${algorithm.name}`, "2xx", { signal });
    // The cached FEAT now says what the server's would: the next file needs no OPTS HASH.
    features.set(
      "HASH",
      names.map((n) => plain(n) === algorithm.name ? `${algorithm.name}*` : n.replace(/\*$/, ""))
        .join(";"),
    );
  }
  const reply = await remote.command(`HASH ${remotePath}`, "213", { signal });
  const text = replyText(reply);
  const words = text.trim().split(/\s+/);
  // The reply names the algorithm used (`SHA-256 0-49 <digest> name`); trust it over the
  // cache, which a user's own OPTS HASH may have outdated.
  const used = HASH_ALGORITHMS.find((a) => a.name === words[0].toUpperCase()) ?? algorithm;
  const remoteDigest = words.find((w) => w.length === used.hexLength && /^[0-9a-f]+$/i.test(w))
    ?.toLowerCase();
  if (!remoteDigest) throw new ProtocolError(`Cannot parse HASH reply ${JSON.stringify(text)}`);
  const localDigest = await hashLocal(localPath, used.crypto);
  if (localDigest !== remoteDigest) {
    throw new ChecksumMismatchError(remotePath, {
      algorithm: used.name,
      local: localDigest,
      remote: remoteDigest,
    });
  }
  return true;
}
