/**
 * A {@linkcode FileSystem} on a local directory, confined to it: `..`, absolute paths, NUL
 * bytes and symbolic links that point outside never reach a file outside the root. Every
 * operation works on the resolved real path after checking that it lies inside the root's real
 * path; links that stay inside the root are followed.
 *
 * @module
 */

import { constants, type Dirent, type Stats } from "node:fs";
import {
  chmod,
  lstat,
  mkdir,
  open,
  opendir,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
  utimes,
} from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { PathError, type PathErrorKind } from "../errors.ts";
import type {
  DirEntry,
  FileStat,
  FileSystem,
  FileType,
  MkdirOptions,
  OpenReadOptions,
  OpenWriteOptions,
} from "./file_system.ts";
import { readableFromHandle, writableToHandle } from "./file_handle_streams.ts";
import { resolveVirtualPath } from "./virtual_path.ts";

/** Bytes per file read and per file write: data moves in chunks of at least 64 KiB. */
const CHUNK = 256 * 1024;

/**
 * Open flags. Paths are opened after their links were resolved and checked, so the last
 * component is never a link: `O_NOFOLLOW` turns a link swapped in meanwhile into an error
 * instead of a way out of the root.
 */
const { O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } = constants;
const OPEN_READ = O_RDONLY | O_NOFOLLOW;
const OPEN_APPEND = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW;
const OPEN_TRUNCATE = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW;
const OPEN_RESUME = O_RDWR | O_NOFOLLOW;
const OPEN_CREATE = O_WRONLY | O_CREAT | O_EXCL;

const ERRNO_KINDS: Record<string, PathErrorKind> = {
  ENOENT: "not-found",
  EEXIST: "exists",
  ENOTDIR: "not-a-directory",
  EISDIR: "is-a-directory",
  ENOTEMPTY: "not-empty",
  EACCES: "permission-denied",
  EPERM: "permission-denied",
  EROFS: "permission-denied",
  ENOSPC: "no-space",
  EDQUOT: "no-space",
  ENAMETOOLONG: "invalid-path",
  EINVAL: "invalid-path",
  ELOOP: "invalid-path",
};

/**
 * Converts an error of node:fs into a {@linkcode PathError}.
 *
 * @param error What node:fs threw.
 * @param path The virtual path concerned.
 * @returns The error to throw.
 */
function toPathError(error: unknown, path: string): unknown {
  if (error instanceof PathError) return error;
  const code = (error as { code?: string })?.code;
  if (typeof code !== "string") return error;
  return new PathError(ERRNO_KINDS[code] ?? "io", path, undefined, { cause: error });
}

/** Whether a path resolution follows a symbolic link in the last component. */
type FinalLink = "follow" | "keep";

/** A file system rooted at a local directory. */
export class LocalFileSystem implements FileSystem {
  readonly #root: string;
  #realRoot: Promise<string> | undefined;

  /**
   * Creates a file system whose `/` is `root`.
   *
   * @param root A local directory (it must exist when the first operation runs).
   */
  constructor(root: string) {
    this.#root = root;
  }

  /** The local directory this file system serves. */
  get root(): string {
    return this.#root;
  }

  /** Reads metadata, following links that stay inside the root. */
  async stat(path: string): Promise<FileStat> {
    const real = await this.#resolve(path, "follow");
    try {
      return toFileStat(await stat(real));
    } catch (error) {
      throw toPathError(error, path);
    }
  }

  /** Whether the path exists inside the root. */
  async exists(path: string): Promise<boolean> {
    return (await this.#tryStat(path)) !== undefined;
  }

  /** Whether the path is a regular file. */
  async isFile(path: string): Promise<boolean> {
    return (await this.#tryStat(path))?.type === "file";
  }

  /** Whether the path is a directory. */
  async isDir(path: string): Promise<boolean> {
    return (await this.#tryStat(path))?.type === "dir";
  }

  /**
   * Lists a directory. Links whose target is inside the root show the target's metadata;
   * broken or escaping links show as type `link` and are never followed.
   */
  async *list(path: string): AsyncIterable<DirEntry> {
    const real = await this.#resolve(path, "follow");
    const rootReal = await this.#rootReal();
    let dir;
    try {
      dir = await opendir(real, { bufferSize: 256 });
    } catch (error) {
      throw toPathError(error, path);
    }
    // for-await closes the directory handle when iteration ends or is abandoned.
    for await (const entry of dir as AsyncIterable<Dirent>) {
      const full = join(real, entry.name);
      let info: Stats;
      try {
        info = await lstat(full);
        if (info.isSymbolicLink()) {
          const target = await realpath(full).catch(() => undefined);
          if (target !== undefined && isInside(rootReal, target)) info = await stat(target);
        }
      } catch {
        continue; // removed while listing
      }
      yield { name: entry.name, stat: toFileStat(info) };
    }
  }

  /** Creates a directory (with its missing parents when `parents` is set). */
  async mkdir(path: string, options: MkdirOptions = {}): Promise<void> {
    const real = await this.#resolve(path, "keep");
    try {
      await mkdir(real, { recursive: options.parents === true });
    } catch (error) {
      throw toPathError(error, path);
    }
  }

  /** Removes an empty directory. */
  async rmdir(path: string): Promise<void> {
    const real = await this.#resolve(path, "keep");
    if (real === await this.#rootReal()) throw new PathError("permission-denied", path);
    try {
      await rmdir(real);
    } catch (error) {
      throw toPathError(error, path);
    }
  }

  /** Removes a file (or a symbolic link itself, never its target). */
  async unlink(path: string): Promise<void> {
    const real = await this.#resolve(path, "keep");
    try {
      if ((await lstat(real)).isDirectory()) throw new PathError("is-a-directory", path);
      await unlink(real);
    } catch (error) {
      throw toPathError(error, path);
    }
  }

  /** Renames inside the root. */
  async rename(from: string, to: string): Promise<void> {
    const source = await this.#resolve(from, "keep");
    const target = await this.#resolve(to, "keep");
    const rootReal = await this.#rootReal();
    if (source === rootReal || target === rootReal) throw new PathError("permission-denied", from);
    try {
      await rename(source, target);
    } catch (error) {
      throw toPathError(error, (error as { path?: string })?.path === target ? to : from);
    }
  }

  /** Opens a file for reading from `offset`, in chunks of 256 KiB with one read ahead. */
  async openRead(path: string, options: OpenReadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const real = await this.#resolve(path, "follow");
    let handle: FileHandle;
    try {
      handle = await open(real, OPEN_READ);
      if ((await handle.stat()).isDirectory()) {
        await handle.close();
        throw new PathError("is-a-directory", path);
      }
    } catch (error) {
      throw toPathError(error, path);
    }
    return readableFromHandle(handle, {
      offset: options.offset,
      chunkSize: CHUNK,
      readAhead: 1,
      mapError: (error) => toPathError(error, path),
    });
  }

  /**
   * Opens a file for writing: truncating, at `offset` (kept bytes before it), or appending.
   * Writes are gathered into 256 KiB; aborting keeps what was received.
   */
  async openWrite(
    path: string,
    options: OpenWriteOptions = {},
  ): Promise<WritableStream<Uint8Array>> {
    const real = await this.#resolve(path, "follow");
    const offset = options.offset ?? 0;
    let handle: FileHandle;
    try {
      if (options.append) handle = await open(real, OPEN_APPEND, 0o666);
      else if (offset > 0) handle = await openForResume(real);
      else handle = await open(real, OPEN_TRUNCATE, 0o666);
    } catch (error) {
      throw toPathError(error, path);
    }
    return writableToHandle(handle, {
      position: options.append ? null : offset,
      gather: CHUNK,
      mapError: (error) => toPathError(error, path),
    });
  }

  /** Sets the modification time, keeping the access time. */
  async setModifiedTime(path: string, time: Date): Promise<void> {
    const real = await this.#resolve(path, "follow");
    try {
      await utimes(real, (await stat(real)).atime, time);
    } catch (error) {
      throw toPathError(error, path);
    }
  }

  /** Changes permission bits. */
  async chmod(path: string, mode: number): Promise<void> {
    const real = await this.#resolve(path, "follow");
    try {
      await chmod(real, mode & 0o7777);
    } catch (error) {
      throw toPathError(error, path);
    }
  }

  async #tryStat(path: string): Promise<FileStat | undefined> {
    try {
      return await this.stat(path);
    } catch (error) {
      if (error instanceof PathError && error.kind !== "io") return undefined;
      throw error;
    }
  }

  #rootReal(): Promise<string> {
    this.#realRoot ??= realpath(this.#root).catch((error) => {
      this.#realRoot = undefined;
      throw toPathError(error, "/");
    });
    return this.#realRoot;
  }

  /**
   * Maps a virtual path to a real path inside the root. The existing part of the path is
   * resolved with realpath (so every link in it is followed and checked); the missing rest is
   * appended. With `keep`, a link in the last component is not followed (unlink, rename).
   */
  async #resolve(path: string, finalLink: FinalLink): Promise<string> {
    const virtual = resolveVirtualPath("/", path);
    const rootReal = await this.#rootReal();
    const parts = virtual.split("/").filter(Boolean);
    const last = finalLink === "keep" ? parts.pop() : undefined;
    let existing = join(rootReal, ...parts);
    const missing: string[] = [];
    let real: string;
    while (true) {
      try {
        real = await realpath(existing);
        break;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== "ENOENT" || existing === rootReal) throw toPathError(error, path);
        // A dangling link would let a create follow it anywhere: refuse it.
        if (await lstat(existing).then(() => true, () => false)) {
          throw new PathError("permission-denied", virtual, `Dangling link: "${virtual}"`);
        }
        missing.unshift(existing.slice(dirname(existing).length + 1));
        existing = dirname(existing);
      }
    }
    if (!isInside(rootReal, real)) {
      throw new PathError("permission-denied", virtual, `Path leaves the root: "${virtual}"`);
    }
    const resolved = join(real, ...missing);
    return last === undefined ? resolved : join(resolved, last);
  }
}

function isInside(root: string, path: string): boolean {
  if (path === root) return true;
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep);
}

function toFileStat(info: Stats): FileStat {
  let type: FileType = "other";
  if (info.isFile()) type = "file";
  else if (info.isDirectory()) type = "dir";
  else if (info.isSymbolicLink()) type = "link";
  return {
    type,
    size: type === "dir" ? 0 : info.size,
    mtime: info.mtime,
    ctime: info.ctime,
    mode: info.mode & 0o7777,
    nlink: info.nlink,
  };
}

/**
 * Opens a file to write at an offset without truncating it; creates it when it does not exist.
 * Any other failure is reported, never answered by truncating the file that REST meant to keep.
 */
async function openForResume(real: string): Promise<FileHandle> {
  try {
    return await open(real, OPEN_RESUME);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
    return await open(real, OPEN_CREATE, 0o666);
  }
}
