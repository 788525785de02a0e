/**
 * How the client opens the caller's local files for its downloads and uploads: through
 * `node:fs` by default, through a runtime's own file API where that is faster (the Deno adapter
 * registers Deno's: `node:fs` file handles in Deno read and write on the event loop's thread,
 * so a download's disk writes and its socket reads take turns instead of overlapping).
 * These are the caller's own paths: links are followed, as any program opening a path does.
 *
 * @module
 */

import { open } from "node:fs/promises";
import type { RandomAccessFile } from "../fs/file_handle_streams.ts";

/**
 * An open local file as the client's transfers use it: positional reads and writes, one call
 * at a time (the client never overlaps two calls on one file).
 *
 * @example Writing two pieces at once
 * ```ts
 * import { nodeFileOpener } from "./local_file_opener.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const file = await nodeFileOpener.openWrite(join(dir, "f.txt"), "truncate");
 *   const pieces = [new TextEncoder().encode("ab"), new TextEncoder().encode("cd")];
 *   assert.equal((await file.writev(pieces, 0)).bytesWritten, 4);
 *   await file.close();
 *   assert.equal(await readFile(join(dir, "f.txt"), "utf8"), "abcd");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
export interface ClientLocalFile extends RandomAccessFile {
  /** Writes `buffers` one after the other at `position`; may write less than all of them. */
  writev(buffers: Uint8Array[], position: number): Promise<{ bytesWritten: number }>;
}

/**
 * Opens local files for the client.
 *
 * @example Reading a file through the default opener
 * ```ts
 * import { localFileOpener } from "./local_file_opener.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await writeFile(join(dir, "f.txt"), "hello");
 *   const file = await localFileOpener().openRead(join(dir, "f.txt"));
 *   const buffer = new Uint8Array(8);
 *   const { bytesRead } = await file.read(buffer, 0, 8, 1);
 *   await file.close();
 *   assert.equal(new TextDecoder().decode(buffer.subarray(0, bytesRead)), "ello");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
export interface ClientFileOpener {
  /** Opens an existing file for reading. */
  openRead(path: string): Promise<ClientLocalFile>;
  /**
   * Opens a file for writing: `truncate` creates it or empties it, `update` opens an existing
   * one as it is (a resumed download writes from its offset).
   */
  openWrite(path: string, mode: "truncate" | "update"): Promise<ClientLocalFile>;
}

/**
 * `node:fs/promises` file handles: the default in every runtime but Deno.
 *
 * @example
 * ```ts
 * import { nodeFileOpener } from "./local_file_opener.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(nodeFileOpener.openRead("/no/such/file"), { code: "ENOENT" });
 * ```
 */
export const nodeFileOpener: ClientFileOpener = {
  openRead: (path) => open(path, "r"),
  openWrite: (path, mode) => open(path, mode === "update" ? "r+" : "w"),
};

let current: ClientFileOpener = nodeFileOpener;

/**
 * Makes `opener` the one the client uses (an adapter does this on import).
 *
 * @example
 * ```ts
 * import { localFileOpener, nodeFileOpener, setLocalFileOpener } from "./local_file_opener.ts";
 * import assert from "node:assert/strict";
 *
 * const previous = localFileOpener();
 * setLocalFileOpener(nodeFileOpener);
 * assert.equal(localFileOpener(), nodeFileOpener);
 * setLocalFileOpener(previous);
 * ```
 *
 * @param opener The opener.
 */
export function setLocalFileOpener(opener: ClientFileOpener): void {
  current = opener;
}

/**
 * The opener the client uses.
 *
 * @example
 * ```ts
 * import { localFileOpener } from "./local_file_opener.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof localFileOpener().openRead, "function");
 * ```
 *
 * @returns The registered opener (`node:fs` unless an adapter registered another).
 */
export function localFileOpener(): ClientFileOpener {
  return current;
}
