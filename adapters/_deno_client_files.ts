/**
 * Deno's {@linkcode ClientFileOpener}: the client's local files through `Deno.open`, whose
 * reads and writes overlap the socket's (`_deno_fs_file.ts` says why and by how much).
 *
 * @module
 */

import type { ClientFileOpener } from "../lib/client/local_file_opener.ts";
import { openDenoFile } from "./_deno_fs_file.ts";

/**
 * Opens the client's local files with `Deno.open`.
 *
 * @example Registering it (adapters/auto.ts does this in Deno)
 * ```ts
 * import { localFileOpener, setLocalFileOpener } from "../lib/client/local_file_opener.ts";
 * import { denoFileOpener } from "./_deno_client_files.ts";
 * import assert from "node:assert/strict";
 *
 * if ("Deno" in globalThis) setLocalFileOpener(denoFileOpener);
 * assert.equal(localFileOpener() === denoFileOpener, "Deno" in globalThis);
 * ```
 */
export const denoFileOpener: ClientFileOpener = {
  openRead: (path) => openDenoFile(path, { read: true }),
  openWrite: (path, mode) =>
    openDenoFile(path, {
      read: true,
      write: true,
      create: mode === "truncate",
      truncate: mode === "truncate",
    }),
};
