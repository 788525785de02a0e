/**
 * Deno's {@linkcode ClientLocalFiles}: the client's local files through `Deno.*`. Its file
 * reads and writes overlap the socket's (`_deno_fs_file.ts` says why and by how much), and a
 * Deno client that uses them never loads `node:fs` (25–40 ms of start-up).
 *
 * @module
 */

import {
  type ClientLocalFiles,
  type LocalDirEntry,
  type LocalStat,
  localTypeOf,
} from "../lib/client/local_files.ts";
import { type DenoFileInfo, openDenoFile } from "./_deno_fs_file.ts";

/** The calls of the `Deno` namespace used here. */
interface DenoCalls {
  writeFile(path: string, data: Uint8Array): Promise<void>;
  stat(path: string): Promise<DenoFileInfo>;
  readDir(path: string): AsyncIterable<
    { name: string; isFile: boolean; isDirectory: boolean; isSymlink: boolean }
  >;
  mkdir(path: string, options: { recursive: boolean }): Promise<void>;
  remove(path: string, options: { recursive: boolean }): Promise<void>;
  utime(path: string, atime: Date, mtime: Date): Promise<void>;
}

const deno = () => (globalThis as unknown as { Deno: DenoCalls }).Deno;
const missing = (error: unknown) => (error as { code?: string }).code === "ENOENT";

/**
 * The client's local files through `Deno.open`, `Deno.stat` and the rest.
 *
 * @example Registering them (adapters/auto.ts does this in Deno)
 * ```ts
 * import { localFiles, setLocalFiles } from "../lib/client/local_files.ts";
 * import { denoLocalFiles } from "./_deno_client_files.ts";
 * import assert from "node:assert/strict";
 *
 * if ("Deno" in globalThis) setLocalFiles(denoLocalFiles);
 * assert.equal(localFiles() === denoLocalFiles, "Deno" in globalThis);
 * ```
 */
export const denoLocalFiles: ClientLocalFiles = {
  openRead: (path) => openDenoFile(path, { read: true }),
  openWrite: (path, mode) =>
    openDenoFile(path, {
      read: true,
      write: true,
      create: mode === "truncate",
      truncate: mode === "truncate",
    }),
  writeFile: (path, data) => deno().writeFile(path, data),
  stat: async (path) => {
    try {
      const info = await deno().stat(path);
      return {
        // Links are followed: never "link".
        type: localTypeOf(info.isFile, info.isDirectory, false) as LocalStat["type"],
        size: info.size,
        modified: info.mtime ?? new Date(0),
      };
    } catch (error) {
      if (missing(error)) return undefined;
      throw error;
    }
  },
  readDir: async (path) => {
    const entries: LocalDirEntry[] = [];
    for await (const entry of deno().readDir(path)) {
      entries.push({
        name: entry.name,
        type: localTypeOf(entry.isFile, entry.isDirectory, entry.isSymlink),
      });
    }
    return entries;
  },
  mkdir: (path) => deno().mkdir(path, { recursive: true }),
  remove: async (path) => {
    try {
      await deno().remove(path, { recursive: true });
    } catch (error) {
      if (!missing(error)) throw error;
    }
  },
  setModifiedTime: (path, time) => deno().utime(path, time, time),
};
