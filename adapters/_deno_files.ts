/**
 * Deno's {@linkcode LocalFileAccess}: lookups (`realPath`, `stat`, `lstat`, and the listings'
 * `readDir` and `lstat`) through Deno's own file API, everything else through `node:fs` as
 * elsewhere. Listings are made on a worker with `Deno.readDirSync` and `Deno.lstatSync`
 * (`listing_worker.ts`).
 *
 * Measured in Deno 2.9.6 (CPU per call, a 2-core VM, metadata cached): `Deno.lstat` 45–60 µs
 * against 65–77 µs for `node:fs/promises` (the node layer converts Deno's result into a
 * `Stats` object); synchronously `Deno.lstatSync` 2.5–5 µs against 8–14 µs for `lstatSync`. Opening is not faster natively
 * (`Deno.open` + read + close cost what `node:fs` does, 95–135 µs) and `Deno.open` cannot
 * refuse a link in the last component (no `O_NOFOLLOW`): opening it safely would take an
 * extra `fstat` (+80 µs). So files are opened, read and written through `node:fs`; but a large
 * file being read is then reopened through `/proc/self/fd` as a `Deno.FsFile`, whose reads
 * overlap the socket's writes (`_deno_fs_file.ts`), where the process may read `/proc`.
 *
 * @module
 */

import type { LocalFile, LocalFileAccess } from "../lib/fs/local_file_access.ts";
import { type ListingLookups, listWithLookups } from "../lib/fs/local_listing.ts";
import { listInWorker } from "../lib/fs/listing_worker.ts";
import { nodeFileAccess, settled } from "../lib/fs/node_file_access.ts";
import { type DenoFileInfo, fileStatOf, openDenoFile } from "./_deno_fs_file.ts";

interface DenoDirEntry {
  name: string;
}

interface DenoFiles {
  realPath(path: string): Promise<string>;
  realPathSync(path: string): string;
  stat(path: string): Promise<DenoFileInfo>;
  statSync(path: string): DenoFileInfo;
  lstat(path: string): Promise<DenoFileInfo>;
  lstatSync(path: string): DenoFileInfo;
  readDir(path: string): AsyncIterable<DenoDirEntry>;
  readDirSync(path: string): Iterable<DenoDirEntry>;
  permissions: { querySync(descriptor: { name: "read"; path: string }): { state: string } };
}

function deno(): DenoFiles {
  return (globalThis as unknown as { Deno: DenoFiles }).Deno;
}

async function* readDirNames(path: string, batchSize: number): AsyncIterable<string[]> {
  let batch: string[] = [];
  for await (const entry of deno().readDir(path)) {
    batch.push(entry.name);
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function* readDirNamesSync(path: string, batchSize: number): AsyncIterable<string[]> {
  let batch: string[] = [];
  for (const entry of deno().readDirSync(path)) {
    batch.push(entry.name);
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Files at least this large are read through a `Deno.FsFile` (reopening one costs an open
 * and a close more, ≈0.1–0.2 ms: the time a read of 1 MiB takes).
 */
const REOPEN_FROM = 1024 * 1024;
/** Where an open file descriptor can be opened again, as the very file it is. */
const OWN_FDS = "/proc/self/fd";
let canReopen: boolean | undefined;

/**
 * A file opened with `O_NOFOLLOW` through `node:fs`, opened again through its descriptor as a
 * `Deno.FsFile` (the same file, whatever its path leads to now). Only where reading
 * `/proc/self/fd` is allowed without a prompt and works; else the file as it is.
 */
async function reopenForReading(file: LocalFile): Promise<LocalFile> {
  canReopen ??= deno().permissions.querySync({ name: "read", path: OWN_FDS }).state === "granted";
  if (!canReopen || file.fd === undefined) return file;
  let reopened: LocalFile;
  try {
    reopened = await openDenoFile(`${OWN_FDS}/${file.fd}`, { read: true });
  } catch {
    canReopen = false;
    return file;
  }
  // The reopened file holds the file open; a failure to close the first one loses nothing.
  await file.close().catch(() => {});
  return reopened;
}

/**
 * Local file access with Deno's own lookups.
 *
 * @example Registering it (adapters/auto_file_access.ts does this in Deno)
 * ```ts
 * import { defaultFileAccess, setDefaultFileAccess } from "../lib/file_access_registry.ts";
 * import { denoFileAccess } from "./_deno_files.ts";
 * import assert from "node:assert/strict";
 *
 * if ("Deno" in globalThis) setDefaultFileAccess(denoFileAccess);
 * assert.equal(defaultFileAccess() === denoFileAccess, "Deno" in globalThis);
 * ```
 */
export const denoFileAccess: LocalFileAccess = {
  ...nodeFileAccess,
  realpath: (path) => deno().realPath(path),
  openRead: async (path, size) => {
    const file = await nodeFileAccess.openRead(path);
    return size !== undefined && size >= REOPEN_FROM ? await reopenForReading(file) : file;
  },
  stat: async (path) => fileStatOf(await deno().stat(path)),
  lstat: async (path) => fileStatOf(await deno().lstat(path)),
  listDir: (path, batchSize) =>
    listInWorker("deno", path, {
      batchSize,
      fallback: () =>
        listWithLookups({ ...denoFileAccess, readDir: readDirNames }, path, { batchSize }),
    }),
  withSyncLookups: () => denoFileAccessSyncLookups,
};

const syncLookups: ListingLookups = {
  realpath: (path) => settled(() => deno().realPathSync(path)),
  stat: (path) => settled(() => fileStatOf(deno().statSync(path))),
  lstat: (path) => settled(() => fileStatOf(deno().lstatSync(path))),
  readDir: readDirNamesSync,
};

const denoFileAccessSyncLookups: LocalFileAccess = {
  ...denoFileAccess,
  realpath: syncLookups.realpath,
  stat: syncLookups.stat,
  lstat: syncLookups.lstat,
  listDir: (path, batchSize) => listWithLookups(syncLookups, path, { batchSize }),
  withSyncLookups: () => denoFileAccessSyncLookups,
};
