/**
 * Deno's {@linkcode ClientFileOpener}: the client's local files through `Deno.open`. A
 * `node:fs` file handle in Deno 2.9.6 reads and writes on the event loop's thread
 * (`op_node_fs_write_deferred`): a download's disk writes then wait for its socket reads and
 * the other way round. `Deno.FsFile` does its reads and writes on the runtime's thread pool:
 * measured on a 2-core VM, a 256 MiB download to tmpfs took 0.42 s (median of 4) instead of
 * 0.58 (0.38–0.79), with a third less CPU.
 *
 * @module
 */

import type { ClientFileOpener, ClientLocalFile } from "../lib/client/local_file_opener.ts";

interface DenoFsFile {
  read(buffer: Uint8Array): Promise<number | null>;
  write(buffer: Uint8Array): Promise<number>;
  seek(offset: number, whence: number): Promise<number>;
  truncate(length?: number): Promise<void>;
  close(): void;
}

interface DenoOpen {
  open(
    path: string,
    options: { read?: boolean; write?: boolean; create?: boolean; truncate?: boolean },
  ): Promise<DenoFsFile>;
}

/** `Deno.SeekMode.Start`. */
const FROM_START = 0;

function deno(): DenoOpen {
  return (globalThis as unknown as { Deno: DenoOpen }).Deno;
}

/**
 * A `Deno.FsFile` with positional calls: it keeps its position and seeks only when a call asks
 * for another (the client reads and writes each file from one offset on, one call at a time).
 */
class DenoClientFile implements ClientLocalFile {
  readonly #file: DenoFsFile;
  #position = 0;

  constructor(file: DenoFsFile) {
    this.#file = file;
  }

  async read(buffer: Uint8Array, offset: number, length: number, position: number) {
    await this.#seek(position);
    const bytesRead = (await this.#file.read(buffer.subarray(offset, offset + length))) ?? 0;
    this.#position += bytesRead;
    return { bytesRead };
  }

  async write(buffer: Uint8Array, offset: number, length: number, position: number | null) {
    if (position !== null) await this.#seek(position);
    const bytesWritten = await this.#file.write(buffer.subarray(offset, offset + length));
    this.#position += bytesWritten;
    return { bytesWritten };
  }

  async writev(buffers: Uint8Array[], position: number) {
    let total = 0;
    for (const buffer of buffers) {
      const { bytesWritten } = await this.write(buffer, 0, buffer.length, position + total);
      total += bytesWritten;
      if (bytesWritten < buffer.length) break;
    }
    return { bytesWritten: total };
  }

  truncate(length: number): Promise<void> {
    return this.#file.truncate(length);
  }

  close(): Promise<void> {
    this.#file.close();
    return Promise.resolve();
  }

  async #seek(position: number): Promise<void> {
    if (position === this.#position) return;
    this.#position = await this.#file.seek(position, FROM_START);
  }
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
  openRead: async (path) => new DenoClientFile(await deno().open(path, { read: true })),
  openWrite: async (path, mode) =>
    new DenoClientFile(
      await deno().open(path, {
        read: true,
        write: true,
        create: mode === "truncate",
        truncate: mode === "truncate",
      }),
    ),
};
