/**
 * The calls the client makes on the caller's local files and directories: through `node:fs`
 * by default, through a runtime's own file API where that is faster (the Deno adapter registers
 * Deno's: `node:fs` file handles in Deno read and write on the event loop's thread, so a
 * download's disk writes and its socket reads take turns instead of overlapping, and loading
 * `node:fs` costs a Deno process 25–40 ms of start-up). The `node:fs` calls load on first use,
 * so a client that touches no local file never loads them.
 * These are the caller's own paths: links are followed, as any program opening a path does.
 *
 * @module
 */

import type { RandomAccessFile } from "../fs/file_handle_streams.ts";

/**
 * An open local file as the client's transfers use it: positional reads and writes, one call
 * at a time (the client never overlaps two calls on one file).
 *
 * @example Writing two pieces at once
 * ```ts
 * import { nodeLocalFiles } from "./local_files.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const file = await nodeLocalFiles.openWrite(join(dir, "f.txt"), "truncate");
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
 * A local path as {@linkcode ClientLocalFiles.stat} finds it, links followed.
 *
 * @example
 * ```ts
 * import type { LocalStat } from "./local_files.ts";
 *
 * const info: LocalStat = { type: "file", size: 5, modified: new Date(0) };
 * console.assert(info.size === 5);
 * ```
 */
export interface LocalStat {
  /** `"file"`, `"dir"` or `"other"` (symbolic links are followed). */
  type: "file" | "dir" | "other";
  /** Size in bytes. */
  size: number;
  /** Last modification time. */
  modified: Date;
}

/**
 * One entry of a local directory, its own type (a link is `"link"`, not followed).
 *
 * @example
 * ```ts
 * import type { LocalDirEntry } from "./local_files.ts";
 *
 * const entry: LocalDirEntry = { name: "a.txt", type: "file" };
 * console.assert(entry.type === "file");
 * ```
 */
export interface LocalDirEntry {
  /** The entry's name. */
  name: string;
  /** What it is, as the directory says (links are not followed). */
  type: "file" | "dir" | "link" | "other";
}

/**
 * The client's calls on local files. Failures reject with the system's error and its `code`
 * (`ENOENT`, `EACCES`...), as `node:fs` does.
 *
 * @example Reading a file through the registered calls
 * ```ts
 * import { localFiles } from "./local_files.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await writeFile(join(dir, "f.txt"), "hello");
 *   const file = await localFiles().openRead(join(dir, "f.txt"));
 *   const buffer = new Uint8Array(8);
 *   const { bytesRead } = await file.read(buffer, 0, 8, 1);
 *   await file.close();
 *   assert.equal(new TextDecoder().decode(buffer.subarray(0, bytesRead)), "ello");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
export interface ClientLocalFiles {
  /** Opens an existing file for reading. */
  openRead(path: string): Promise<ClientLocalFile>;
  /**
   * Opens a file for writing: `truncate` creates it or empties it, `update` opens an existing
   * one as it is (a resumed download writes from its offset).
   */
  openWrite(path: string, mode: "truncate" | "update"): Promise<ClientLocalFile>;
  /** Creates or empties a file and writes all of `data` into it, in one call. */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** The path's type, size and time, links followed; `undefined` when nothing is there. */
  stat(path: string): Promise<LocalStat | undefined>;
  /** A directory's entries, in the directory's order. */
  readDir(path: string): Promise<LocalDirEntry[]>;
  /** Creates a directory and its missing parents; an existing one is fine. */
  mkdir(path: string): Promise<void>;
  /** Removes a file or a whole tree; a missing path is fine. */
  remove(path: string): Promise<void>;
  /** Sets a path's modification (and access) time. */
  setModifiedTime(path: string, time: Date): Promise<void>;
}

/**
 * What a path is, from the three facts every runtime's lookups and directory entries report.
 *
 * @example
 * ```ts
 * import { localTypeOf } from "./local_files.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(localTypeOf(false, true, false), "dir");
 * assert.equal(localTypeOf(false, false, true), "link");
 * ```
 *
 * @param isFile A regular file.
 * @param isDirectory A directory.
 * @param isSymlink A symbolic link (never, where links were followed).
 * @returns The type.
 */
export function localTypeOf(
  isFile: boolean,
  isDirectory: boolean,
  isSymlink: boolean,
): LocalDirEntry["type"] {
  if (isFile) return "file";
  if (isDirectory) return "dir";
  return isSymlink ? "link" : "other";
}

let nodeFs: Promise<typeof import("node:fs")> | undefined;
/** `node:fs`, loaded at the first call. */
const loadNodeFs = () => nodeFs ??= import("node:fs");

/**
 * `node:fs`: the default in every runtime but Deno, loaded at its first call.
 *
 * @example
 * ```ts
 * import { nodeLocalFiles } from "./local_files.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(nodeLocalFiles.openRead("/no/such/file"), { code: "ENOENT" });
 * assert.equal(await nodeLocalFiles.stat("/no/such/file"), undefined);
 * ```
 */
export const nodeLocalFiles: ClientLocalFiles = {
  openRead: async (path) => await (await loadNodeFs()).promises.open(path, "r"),
  openWrite: async (path, mode) =>
    await (await loadNodeFs()).promises.open(path, mode === "update" ? "r+" : "w"),
  // The callback form (open, write and close in one call): unlike the promise one it makes no
  // `FileHandle`, which in Node and Deno costs more than a small file's write (measured: 60–70
  // µs of CPU per file less in both; Bun the same either way).
  writeFile: async (path, data) => {
    const { writeFile } = await loadNodeFs();
    await new Promise<void>((resolve, reject) => {
      writeFile(path, data, (error) => error ? reject(error) : resolve());
    });
  },
  stat: async (path) => {
    try {
      const info = await (await loadNodeFs()).promises.stat(path);
      return {
        // Links are followed: never "link".
        type: localTypeOf(info.isFile(), info.isDirectory(), false) as LocalStat["type"],
        size: info.size,
        modified: info.mtime,
      };
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return undefined;
      throw error;
    }
  },
  readDir: async (path) => {
    const entries = await (await loadNodeFs()).promises.readdir(path, { withFileTypes: true });
    return entries.map((entry) => ({
      name: entry.name,
      type: localTypeOf(entry.isFile(), entry.isDirectory(), entry.isSymbolicLink()),
    }));
  },
  mkdir: async (path) => {
    await (await loadNodeFs()).promises.mkdir(path, { recursive: true });
  },
  remove: async (path) => {
    await (await loadNodeFs()).promises.rm(path, { recursive: true, force: true });
  },
  setModifiedTime: async (path, time) => {
    await (await loadNodeFs()).promises.utimes(path, time, time);
  },
};

let current: ClientLocalFiles = nodeLocalFiles;

/**
 * Makes `files` the calls the client uses (an adapter does this on import).
 *
 * @example
 * ```ts
 * import { localFiles, nodeLocalFiles, setLocalFiles } from "./local_files.ts";
 * import assert from "node:assert/strict";
 *
 * const previous = localFiles();
 * setLocalFiles(nodeLocalFiles);
 * assert.equal(localFiles(), nodeLocalFiles);
 * setLocalFiles(previous);
 * ```
 *
 * @param files The calls.
 */
export function setLocalFiles(files: ClientLocalFiles): void {
  current = files;
}

/**
 * The calls the client uses on local files.
 *
 * @example
 * ```ts
 * import { localFiles } from "./local_files.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof localFiles().openRead, "function");
 * ```
 *
 * @returns The registered calls (`node:fs` unless an adapter registered others).
 */
export function localFiles(): ClientLocalFiles {
  return current;
}
