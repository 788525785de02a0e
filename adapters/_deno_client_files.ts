/**
 * Deno's {@linkcode ClientFileOpener}: the client's local files through `Deno.open`, whose
 * reads and writes overlap the socket's (`_deno_fs_file.ts` says why and by how much).
 *
 * @module
 */

import type { ClientFileOpener } from "../lib/client/local_file_opener.ts";
import { DenoFile, type DenoFsFile } from "./_deno_fs_file.ts";

interface DenoOpen {
  open(
    path: string,
    options: { read?: boolean; write?: boolean; create?: boolean; truncate?: boolean },
  ): Promise<DenoFsFile>;
}

function deno(): DenoOpen {
  return (globalThis as unknown as { Deno: DenoOpen }).Deno;
}

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
  openRead: async (path) => new DenoFile(await deno().open(path, { read: true })),
  openWrite: async (path, mode) =>
    new DenoFile(
      await deno().open(path, {
        read: true,
        write: true,
        create: mode === "truncate",
        truncate: mode === "truncate",
      }),
    ),
};
