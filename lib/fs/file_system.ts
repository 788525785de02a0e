/**
 * The `FileSystem` contract (aioftp's PathIO in Web-Streams form). Paths are absolute virtual
 * POSIX paths (`"/dir/file"`); an implementation maps them onto its storage and never lets one
 * reach outside it. Failures are {@linkcode PathError}s whose `kind` the server maps to replies.
 *
 * @module
 */

/**
 * What a path is.
 *
 * @example
 * ```ts
 * import { type FileType, MemoryFileSystem } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const fs = new MemoryFileSystem();
 * await fs.mkdir("/docs");
 * const type: FileType = (await fs.stat("/docs")).type;
 * assert.equal(type, "dir");
 * ```
 */
export type FileType = "file" | "dir" | "link" | "other";

/**
 * Metadata of one path.
 *
 * @example A file just written
 * ```ts
 * import { type FileStat, MemoryFileSystem } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const fs = new MemoryFileSystem();
 * await new Blob(["hello"]).stream().pipeTo(await fs.openWrite("/a.txt"));
 * const stat: FileStat = await fs.stat("/a.txt");
 * assert.equal(stat.type, "file");
 * assert.equal(stat.size, 5);
 * assert.equal(stat.mode, 0o644);
 * ```
 */
export interface FileStat {
  /** The kind of entry (symbolic links are followed where the target is inside the root). */
  type: FileType;
  /** Size in bytes (0 for directories where the back-end has no size). */
  size: number;
  /** Last modification. */
  mtime: Date;
  /** Creation or inode change time, where known. */
  ctime?: Date;
  /** Unix permission bits (`0o644`), without the file-type bits. */
  mode: number;
  /** Number of hard links (1 where unknown). */
  nlink: number;
}

/**
 * One directory entry with its metadata.
 *
 * @example Listing a directory
 * ```ts
 * import { type DirEntry, MemoryFileSystem } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const fs = new MemoryFileSystem();
 * await fs.mkdir("/docs");
 * await new Blob(["hi"]).stream().pipeTo(await fs.openWrite("/docs/a.txt"));
 * const entries: DirEntry[] = await Array.fromAsync(fs.list("/docs"));
 * assert.deepEqual(entries.map((e) => [e.name, e.stat.size]), [["a.txt", 2]]);
 * ```
 */
export interface DirEntry {
  /** The entry's name (no slashes). */
  name: string;
  /** Its metadata. */
  stat: FileStat;
}

/**
 * Options of {@linkcode FileSystem.openRead}.
 *
 * @example Reading from an offset, as a resumed download does
 * ```ts
 * import { MemoryFileSystem } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const fs = new MemoryFileSystem();
 * await new Blob(["hello world"]).stream().pipeTo(await fs.openWrite("/a.txt"));
 * const rest = await fs.openRead("/a.txt", { offset: 6 });
 * assert.equal(await new Response(rest).text(), "world");
 * ```
 */
export interface OpenReadOptions {
  /** Byte offset to start at (REST); an offset past the end gives an empty stream. */
  offset?: number;
  /**
   * The file's metadata, as this file system's {@linkcode FileSystem.stat} just returned it for
   * the same path (the server's path check found it): a back-end may then skip its own lookup,
   * so that a transfer costs one stat. A back-end uses only a stat it produced itself for this
   * path and otherwise looks the path up as usual; a stat saying `dir` is refused
   * (`is-a-directory`).
   */
  stat?: FileStat;
}

/**
 * Options of {@linkcode FileSystem.openWrite}.
 *
 * @example Appending, as APPE does
 * ```ts
 * import { MemoryFileSystem } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const fs = new MemoryFileSystem();
 * await new Blob(["one\n"]).stream().pipeTo(await fs.openWrite("/log.txt"));
 * await new Blob(["two\n"]).stream().pipeTo(await fs.openWrite("/log.txt", { append: true }));
 * assert.equal(await new Response(await fs.openRead("/log.txt")).text(), "one\ntwo\n");
 * ```
 */
export interface OpenWriteOptions {
  /** Byte offset to write at, keeping the bytes before it (REST + STOR). */
  offset?: number;
  /** Append to the end (APPE). */
  append?: boolean;
  /**
   * Create the file, and fail with a {@linkcode PathError} `exists` when anything is at the
   * path already (an exclusive create, `O_EXCL`: STOU never truncates a concurrent upload).
   */
  createNew?: boolean;
}

/**
 * Options of {@linkcode FileSystem.mkdir} (exported as `FileSystemMkdirOptions`).
 *
 * @example Creating missing parents
 * ```ts
 * import { type FileSystemMkdirOptions, MemoryFileSystem } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const fs = new MemoryFileSystem();
 * const options: FileSystemMkdirOptions = { parents: true };
 * await fs.mkdir("/www/img/icons", options);
 * await fs.mkdir("/www/img", options); // exists already: fine with `parents`
 * assert.equal(await fs.isDir("/www/img/icons"), true);
 * ```
 */
export interface MkdirOptions {
  /** Create missing parents, and succeed if the directory exists. */
  parents?: boolean;
}

/**
 * A file store addressed by absolute virtual POSIX paths. A server serves one
 * (`ServerOptions.fileSystem`, or a user's own); `MemoryFileSystem` and `LocalFileSystem`
 * are the two that come with streamftp.
 *
 * @example Code that works on any file system
 * ```ts
 * import { type FileSystem, MemoryFileSystem } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * async function totalSize(fs: FileSystem, dir: string): Promise<number> {
 *   let total = 0;
 *   for await (const { name, stat } of fs.list(dir)) {
 *     total += stat.type === "dir" ? await totalSize(fs, `${dir}/${name}`) : stat.size;
 *   }
 *   return total;
 * }
 * const fs = new MemoryFileSystem();
 * await fs.mkdir("/a/b", { parents: true });
 * await new Blob(["12345"]).stream().pipeTo(await fs.openWrite("/a/b/five.txt"));
 * await new Blob(["123"]).stream().pipeTo(await fs.openWrite("/a/three.txt"));
 * assert.equal(await totalSize(fs, "/a"), 8);
 * ```
 */
export interface FileSystem {
  /**
   * Reads metadata.
   * @throws {PathError} `not-found` when the path does not exist.
   */
  stat(path: string): Promise<FileStat>;
  /**
   * Whether the path exists: `false` when it, or a directory on the way, is absent.
   * @throws {PathError} when it cannot be looked up (`permission-denied`, `invalid-path`, `io`).
   */
  exists(path: string): Promise<boolean>;
  /** Whether the path is a regular file (throws as {@linkcode FileSystem.exists} does). */
  isFile(path: string): Promise<boolean>;
  /** Whether the path is a directory (throws as {@linkcode FileSystem.exists} does). */
  isDir(path: string): Promise<boolean>;
  /**
   * Lists a directory's entries lazily, in no particular order.
   * @throws {PathError} `not-found` or `not-a-directory`.
   */
  list(path: string): AsyncIterable<DirEntry>;
  /** Creates a directory. */
  mkdir(path: string, options?: MkdirOptions): Promise<void>;
  /** Removes an empty directory. */
  rmdir(path: string): Promise<void>;
  /** Removes a file. */
  unlink(path: string): Promise<void>;
  /** Renames a file or directory. */
  rename(from: string, to: string): Promise<void>;
  /** Opens a file for reading from an offset. */
  openRead(path: string, options?: OpenReadOptions): Promise<ReadableStream<Uint8Array>>;
  /**
   * A hint that the file whose `stat` this file system just returned for `path` is likely to
   * be read from its start soon, by `openRead(path, { stat })` (a client that asks `SIZE` and
   * `MDTM` and then sends `RETR`): a back-end may open it and start reading now. Returns what
   * gives the prepared read up when it is not asked for after all (it also ends by itself
   * after a while). Back-ends where opening costs nothing, or has effects, leave it out.
   */
  prepareRead?(path: string, stat: FileStat): (() => void) | undefined;
  /**
   * Opens a file for writing (truncating unless `offset` or `append` is given). Closing the
   * stream commits the data; aborting it keeps what was written so far.
   */
  openWrite(path: string, options?: OpenWriteOptions): Promise<WritableStream<Uint8Array>>;
  /** Sets the modification time (MFMT). */
  setModifiedTime(path: string, time: Date): Promise<void>;
  /** Changes permission bits (SITE CHMOD); back-ends without modes leave it out. */
  chmod?(path: string, mode: number): Promise<void>;
  /**
   * The absolute virtual path that `path` names once symbolic links are followed; for a path
   * that does not exist yet, its deepest existing ancestor resolved and the rest appended.
   * Back-ends without links return the normalized path; the server checks per-path rules on
   * the result too, so that a link cannot lead around them.
   * @throws {PathError} `permission-denied` when a link leads out of the file system.
   */
  realPath?(path: string): Promise<string>;
}
