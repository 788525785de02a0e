/**
 * {@linkcode LocalFileAccess} through `node:fs`, which Deno, Bun and Node all provide: the
 * default everywhere, and the one Node and Bun use (Bun's `node:fs` is its native file API;
 * it has no faster call for stat, open or read).
 *
 * @module
 */

import { constants, lstatSync, opendirSync, realpathSync, statSync } from "node:fs";
import {
  type FileHandle,
  lstat,
  mkdir,
  open,
  opendir,
  readlink,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
  utimes,
} from "node:fs/promises";
import type { LocalFileAccess, LocalWriteMode } from "./local_file_access.ts";
import { type ListingLookups, listWithLookups } from "./local_listing.ts";
import { listInWorker } from "./listing_worker.ts";
import { fileStatOf, NodeFdFile } from "./node_fd_file.ts";

/**
 * Open flags. `O_NOFOLLOW` turns a link in the last component into `ELOOP`: the caller
 * resolved and checked the path, and a link swapped in since must not lead elsewhere.
 * `O_NONBLOCK` keeps an open for a mode change from waiting on a FIFO; `O_NOCTTY` keeps a
 * terminal from becoming the process's. (Windows lacks some: they count as 0 there.)
 */
const {
  O_APPEND,
  O_CREAT,
  O_EXCL,
  O_NOCTTY = 0,
  O_NOFOLLOW = 0,
  O_NONBLOCK = 0,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
} = constants;
const OPEN_READ = O_RDONLY | O_NOFOLLOW;
const OPEN_WRITE: Record<LocalWriteMode, number> = {
  "truncate": O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
  "append": O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW,
  "update": O_RDWR | O_CREAT | O_NOFOLLOW,
  "create-new": O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
};
const OPEN_FOR_MODE = O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;

async function* readDirNames(path: string, batchSize: number): AsyncIterable<string[]> {
  const dir = await opendir(path, { bufferSize: batchSize });
  try {
    while (true) {
      const batch: string[] = [];
      while (batch.length < batchSize) {
        const entry = await dir.read();
        if (entry === null) break;
        batch.push(entry.name);
      }
      if (batch.length > 0) yield batch;
      if (batch.length < batchSize) return;
    }
  } finally {
    await dir.close().catch(() => {});
  }
}

async function* readDirNamesSync(path: string, batchSize: number): AsyncIterable<string[]> {
  const dir = opendirSync(path, { bufferSize: batchSize });
  try {
    while (true) {
      const batch: string[] = [];
      while (batch.length < batchSize) {
        const entry = dir.readSync();
        if (entry === null) break;
        batch.push(entry.name);
      }
      if (batch.length > 0) yield batch;
      if (batch.length < batchSize) return;
    }
  } finally {
    dir.closeSync();
  }
}

/**
 * Opens a path without following a link, readable if it may be read, else writable: a handle
 * to change its mode through.
 */
async function openForModeChange(path: string): Promise<FileHandle> {
  try {
    return await open(path, O_RDONLY | OPEN_FOR_MODE);
  } catch (error) {
    if ((error as { code?: string }).code !== "EACCES") throw error;
    return await open(path, O_WRONLY | OPEN_FOR_MODE);
  }
}

/**
 * Runs a synchronous call and reports its outcome as a promise, failing as the asynchronous
 * call does (a rejection, not an exception).
 *
 * @param call The synchronous call.
 * @returns Its result.
 */
export function settled<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Local file access through `node:fs/promises`.
 *
 * @example Reading a directory's metadata
 * ```ts
 * import { nodeFileAccess } from "./node_file_access.ts";
 * import assert from "node:assert/strict";
 * import { tmpdir } from "node:os";
 *
 * const info = await nodeFileAccess.stat(tmpdir());
 * assert.equal(info.type, "dir");
 * ```
 */
export const nodeFileAccess: LocalFileAccess = {
  realpath: (path) => realpath(path),
  stat: async (path) => fileStatOf(await stat(path)),
  lstat: async (path) => fileStatOf(await lstat(path)),
  listDir: (path, batchSize) =>
    listInWorker("node", path, {
      batchSize,
      fallback: () =>
        listWithLookups({ ...nodeFileAccess, readDir: readDirNames }, path, { batchSize }),
    }),
  openRead: (path) => NodeFdFile.open(path, OPEN_READ),
  openWrite: (path, mode) => NodeFdFile.open(path, OPEN_WRITE[mode], 0o666),
  mkdir: async (path, recursive) => {
    await mkdir(path, { recursive });
  },
  rename,
  unlink,
  rmdir: (path) => rmdir(path),
  readlink: (path) => readlink(path),
  chmod: async (path, mode) => {
    const handle = await openForModeChange(path);
    try {
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
  },
  setModifiedTime: async (path, mtime) => {
    await utimes(path, (await stat(path)).atime, mtime);
  },
  withSyncLookups: () => nodeFileAccessSyncLookups,
};

const syncLookups: ListingLookups = {
  realpath: (path) => settled(() => realpathSync.native(path)),
  stat: (path) => settled(() => fileStatOf(statSync(path))),
  lstat: (path) => settled(() => fileStatOf(lstatSync(path))),
  readDir: readDirNamesSync,
};

const nodeFileAccessSyncLookups: LocalFileAccess = {
  ...nodeFileAccess,
  realpath: syncLookups.realpath,
  stat: syncLookups.stat,
  lstat: syncLookups.lstat,
  listDir: (path, batchSize) => listWithLookups(syncLookups, path, { batchSize }),
  withSyncLookups: () => nodeFileAccessSyncLookups,
};
