/**
 * The calls a {@linkcode LocalFileSystem} makes on the local disk, as one small contract, so
 * that each runtime can make them its fastest way: `node:fs` by default (Node, Bun), Deno's
 * own API for lookups where it is cheaper (`adapters/_deno_files.ts`). Paths are real local
 * paths; confinement is the caller's job, except that opening and changing modes never follow
 * a symbolic link in the last component. Failures are errors with a Node-style `code`
 * (`"ENOENT"`, `"ELOOP"`...), which every runtime's file API gives.
 *
 * @module
 */

import type { RandomAccessFile } from "./file_handle_streams.ts";
import type { FileStat } from "./file_system.ts";

/** One entry of a local directory with its metadata. */
export interface LocalListedEntry {
  /** The entry's name. */
  name: string;
  /** The entry's own metadata (a link's, not its target's). */
  stat: FileStat;
  /** For a symbolic link that resolves: its canonical target and the target's metadata. */
  target?: { path: string; stat: FileStat };
}

/** An open local file. */
export interface LocalFile extends RandomAccessFile {
  /** The open file's metadata. */
  stat(): Promise<FileStat>;
  /** Its file descriptor, where it has one. */
  readonly fd?: number;
}

/**
 * How a file is opened for writing: `truncate` (created when missing), `append` (created
 * when missing), `update` (kept as it is, created when missing), or `create-new` (created,
 * failing with `EEXIST` when anything exists at the path, a link included).
 */
export type LocalWriteMode = "truncate" | "append" | "update" | "create-new";

/** Local file access, the way one runtime makes it fastest. */
export interface LocalFileAccess {
  /** The canonical path: every link followed, `.` and `..` resolved. */
  realpath(path: string): Promise<string>;
  /** Metadata, following links. */
  stat(path: string): Promise<FileStat>;
  /** Metadata of the path itself (a link is not followed). */
  lstat(path: string): Promise<FileStat>;
  /**
   * A directory's entries with their metadata, in batches of at most `batchSize`, in no
   * particular order; the directory is read as the batches are consumed. Entries that vanish
   * meanwhile are left out.
   */
  listDir(path: string, batchSize: number): AsyncIterable<LocalListedEntry[]>;
  /**
   * Opens a file for reading; fails with `ELOOP` when the last component is a link. `size`,
   * when the caller just stat'ed the file, lets an access open large files its faster way.
   */
  openRead(path: string, size?: number): Promise<LocalFile>;
  /**
   * Opens a file for writing (mode `0o666` before the umask when it is created); fails with
   * `ELOOP` when the last component is a link.
   */
  openWrite(path: string, mode: LocalWriteMode): Promise<LocalFile>;
  /** Creates a directory (with its missing parents when `recursive`). */
  mkdir(path: string, recursive: boolean): Promise<void>;
  /** Renames a file, directory or link (a link itself, not its target). */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file or a link (never a directory). */
  unlink(path: string): Promise<void>;
  /** Removes an empty directory. */
  rmdir(path: string): Promise<void>;
  /** The target a symbolic link holds, as written in it. */
  readlink(path: string): Promise<string>;
  /**
   * Sets the permission bits of a file or directory through a handle opened without following
   * links: a link in the last component fails with `ELOOP`, and is never changed itself.
   */
  chmod(path: string, mode: number): Promise<void>;
  /** Sets the modification time, keeping the access time, following links. */
  setModifiedTime(path: string, mtime: Date): Promise<void>;
  /**
   * The same access with the lookups (`realpath`, `stat`, `lstat`, `listDir`) made as
   * synchronous calls on the event loop: a few microseconds each instead of tens, but a slow
   * or hung disk then stalls the whole process while one lookup waits.
   */
  withSyncLookups(): LocalFileAccess;
}
