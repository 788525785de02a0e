/**
 * Local file access for uploads and downloads through `node:fs/promises` (which Deno, Bun and
 * Node all provide): files as Web Streams in large chunks (`lib/fs/file_handle_streams.ts`),
 * trees, sizes and checksums. Unlike a `LocalFileSystem`, these paths are the user's own and
 * are not confined.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { readableFromHandle, writableToHandle } from "../fs/file_handle_streams.ts";

/** Chunk size for reading local files (also the write coalescing threshold). */
export const LOCAL_CHUNK_SIZE = 256 * 1024;

/** Options of {@linkcode openLocalReadable}. */
export interface LocalReadOptions {
  /** Byte offset to start at. */
  offset?: number;
  /** Bytes per chunk (default {@linkcode LOCAL_CHUNK_SIZE}). */
  chunkSize?: number;
}

/**
 * Opens a local file as a stream of chunks, reading two chunks ahead.
 *
 * @param path The file.
 * @param options Start offset and chunk size.
 * @returns The stream; cancelling it closes the file.
 */
export async function openLocalReadable(
  path: string,
  options: LocalReadOptions = {},
): Promise<ReadableStream<Uint8Array>> {
  const handle = await open(path, "r");
  return readableFromHandle(handle, {
    offset: options.offset,
    chunkSize: options.chunkSize ?? LOCAL_CHUNK_SIZE,
    readAhead: 2,
  });
}

/** Options of {@linkcode openLocalWritable}. */
export interface LocalWriteOptions {
  /** Keep the first `offset` bytes and write from there (resuming); 0 truncates the file. */
  offset?: number;
}

/**
 * Opens (creating or truncating) a local file for writing as a stream. Small chunks are gathered
 * into writes of {@linkcode LOCAL_CHUNK_SIZE} bytes, and one write runs while the next one is
 * gathered, so the disk and the network work at the same time.
 *
 * @param path The file.
 * @param options Resume offset.
 * @returns The stream; closing it flushes and closes the file, aborting it writes what it
 *   gathered and closes the file.
 */
export async function openLocalWritable(
  path: string,
  options: LocalWriteOptions = {},
): Promise<WritableStream<Uint8Array>> {
  const offset = options.offset ?? 0;
  const handle = await open(path, offset > 0 ? "r+" : "w");
  return writableToHandle(handle, {
    position: offset,
    gather: LOCAL_CHUNK_SIZE,
    truncateOnClose: offset > 0,
  });
}

/** What a local path is. */
export interface LocalStat {
  /** `"file"`, `"dir"` or `"other"` (symbolic links are followed). */
  type: "file" | "dir" | "other";
  /** Size in bytes. */
  size: number;
}

/**
 * Looks up a local path, following symbolic links.
 *
 * @param path The path.
 * @returns Its type and size, or `undefined` when it does not exist.
 */
export async function statLocal(path: string): Promise<LocalStat | undefined> {
  try {
    const info = await stat(path);
    return {
      type: info.isFile() ? "file" : info.isDirectory() ? "dir" : "other",
      size: info.size,
    };
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

/** One entry of a local tree walk. */
export interface LocalTreeEntry {
  /** Path components below the walked directory. */
  parts: string[];
  /** `"file"`, `"dir"`, or `"other"` (a link to a directory, a dangling link, a device...). */
  type: "file" | "dir" | "other";
  /** Size in bytes (files). */
  size: number;
}

/**
 * Lists a local directory tree, parents before children. Symbolic links to files are
 * followed; links to directories are not entered (so a link cycle cannot make the walk
 * endless) and come back as `"other"`, like every entry that is neither file nor directory.
 *
 * @param root The directory.
 * @returns Its entries.
 */
export async function walkLocal(root: string): Promise<LocalTreeEntry[]> {
  const out: LocalTreeEntry[] = [];
  const queue: string[][] = [[]];
  while (queue.length > 0) {
    const parts = queue.shift()!;
    const entries = await readdir(join(root, ...parts), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const child = [...parts, entry.name];
      if (entry.isDirectory()) {
        out.push({ parts: child, type: "dir", size: 0 });
        queue.push(child);
      } else {
        const info = entry.isFile() || entry.isSymbolicLink()
          ? await statLocal(join(root, ...child))
          : undefined;
        if (info?.type === "file") out.push({ parts: child, type: "file", size: info.size });
        else out.push({ parts: child, type: "other", size: 0 });
      }
    }
  }
  return out;
}

/**
 * The digest of a local file.
 *
 * @param path The file.
 * @param algorithm A `node:crypto` hash name (`"sha512"`, `"sha256"`, `"sha1"`, `"md5"`).
 * @returns The digest in lower-case hex.
 */
export async function hashLocal(path: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  const reader = (await openLocalReadable(path, { chunkSize: 1024 * 1024 })).getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    hash.update(value);
  }
  return hash.digest("hex");
}
