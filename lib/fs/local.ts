/**
 * A {@linkcode FileSystem} on a local directory, confined to it: `..`, absolute paths, NUL
 * bytes and symbolic links that point outside never reach a file outside the root. Every
 * operation works on the resolved real path after checking that it lies inside the root's real
 * path; links that stay inside the root are followed.
 *
 * @module
 */

import { constants, type Dir, lstatSync, realpathSync, type Stats, statSync } from "node:fs";
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
/** Directory entries read, and stat'ed in parallel, at a time while listing. */
const LIST_BATCH = 256;
/**
 * How long a stat may be handed to `openRead` in place of resolving the path again: long
 * enough for the command that made it, short enough that a link swapped into the path later
 * is seen (resolving and opening are never one step; this keeps the gap that short).
 */
const STAT_REUSE_MS = 1000;

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

/** Options of {@linkcode LocalFileSystem}. */
export interface LocalFileSystemOptions {
  /**
   * Look paths up (`realpath`, `stat`, `lstat`: path checks, SIZE, MDTM, listings) with
   * synchronous calls instead of through the runtime's thread pool. On a local disk with its
   * metadata cached a lookup then costs a few microseconds instead of tens (the hand-off to
   * the pool and back dominates; measured 3 to 6 times less CPU), but a slow or hung file
   * system (network mounts) stalls every session while one lookup waits, as in
   * single-threaded servers such as pyftpdlib. File contents are always read and written
   * asynchronously. Default `false`.
   */
  syncLookups?: boolean;
}

/** The metadata calls a {@linkcode LocalFileSystem} makes, asynchronous or not. */
interface Lookups {
  realpath(path: string): Promise<string>;
  stat(path: string): Promise<Stats>;
  lstat(path: string): Promise<Stats>;
}

const ASYNC_LOOKUPS: Lookups = { realpath, stat, lstat };

/** The same calls made synchronously, failing as the asynchronous ones do (a rejection). */
const SYNC_LOOKUPS: Lookups = {
  realpath: (path) => settle(() => realpathSync.native(path)),
  stat: (path) => settle(() => statSync(path)),
  lstat: (path) => settle(() => lstatSync(path)),
};

function settle<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** A file system rooted at a local directory. */
export class LocalFileSystem implements FileSystem {
  readonly #root: string;
  readonly #lookups: Lookups;
  #realRoot: Promise<string> | undefined;
  /**
   * Where each stat this file system returned was found: its virtual path and the real path it
   * resolved to (inside the root), so that `openRead(path, { stat })` opens it without resolving
   * the path again. Only stats made here are in it, and only for the path they were made for.
   */
  readonly #found = new WeakMap<FileStat, { path: string; real: string; at: number }>();

  /**
   * Creates a file system whose `/` is `root`.
   *
   * @param root A local directory (it must exist when the first operation runs).
   * @param options How paths are looked up.
   */
  constructor(root: string, options: LocalFileSystemOptions = {}) {
    this.#root = root;
    this.#lookups = options.syncLookups ? SYNC_LOOKUPS : ASYNC_LOOKUPS;
  }

  /** The local directory this file system serves. */
  get root(): string {
    return this.#root;
  }

  /** Reads metadata, following links that stay inside the root. */
  async stat(path: string): Promise<FileStat> {
    const virtual = resolveVirtualPath("/", path);
    const real = await this.#resolve(virtual, "follow");
    let info: FileStat;
    try {
      info = toFileStat(await this.#lookups.stat(real));
    } catch (error) {
      throw toPathError(error, path);
    }
    this.#found.set(info, { path: virtual, real, at: performance.now() });
    return info;
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
   * broken or escaping links show as type `link` and are never followed. Entries are read and
   * stat'ed in batches of 256, the stats of a batch in parallel.
   */
  async *list(path: string): AsyncIterable<DirEntry> {
    const real = await this.#resolve(path, "follow");
    const rootReal = await this.#rootReal();
    let dir: Dir;
    try {
      dir = await opendir(real, { bufferSize: LIST_BATCH });
    } catch (error) {
      throw toPathError(error, path);
    }
    try {
      while (true) {
        const names: string[] = [];
        try {
          while (names.length < LIST_BATCH) {
            const entry = await dir.read();
            if (entry === null) break;
            names.push(entry.name);
          }
        } catch (error) {
          throw toPathError(error, path);
        }
        if (names.length === 0) return;
        const stats = await Promise.all(
          names.map((name) => entryStat(this.#lookups, real, name, rootReal)),
        );
        for (let i = 0; i < names.length; i++) {
          const info = stats[i];
          if (info !== undefined) yield { name: names[i], stat: info };
        }
        if (names.length < LIST_BATCH) return;
      }
    } finally {
      await dir.close().catch(() => {});
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
      if ((await this.#lookups.lstat(real)).isDirectory()) {
        throw new PathError("is-a-directory", path);
      }
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

  /**
   * Opens a file for reading from `offset`, in chunks of 256 KiB with one read ahead. Given the
   * `stat` that {@linkcode LocalFileSystem.stat} returned for this path, it opens the real path
   * found then: no second resolution, no second stat.
   */
  async openRead(path: string, options: OpenReadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const virtual = resolveVirtualPath("/", path);
    const found = options.stat && this.#found.get(options.stat);
    // A stat found here, just now, for this very path: its real path was resolved and checked.
    const known = found?.path === virtual && performance.now() - found.at < STAT_REUSE_MS
      ? options.stat
      : undefined;
    if (known?.type === "dir") throw new PathError("is-a-directory", path);
    const real = known ? found!.real : await this.#resolve(virtual, "follow");
    let handle: FileHandle;
    let size: number | undefined;
    try {
      handle = await open(real, OPEN_READ);
    } catch (error) {
      throw toPathError(error, path);
    }
    if (known) {
      if (known.type === "file") size = known.size;
    } else {
      let info: Stats;
      try {
        info = await handle.stat();
      } catch (error) {
        await handle.close().catch(() => {});
        throw toPathError(error, path);
      }
      if (info.isDirectory()) {
        await handle.close().catch(() => {});
        throw new PathError("is-a-directory", path);
      }
      if (info.isFile()) size = info.size;
    }
    return readableFromHandle(handle, {
      offset: options.offset,
      chunkSize: CHUNK,
      readAhead: 1,
      size,
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
      await utimes(real, (await this.#lookups.stat(real)).atime, time);
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
    const cut = finalLink === "keep" ? virtual.lastIndexOf("/") : virtual.length;
    const last = finalLink === "keep" && virtual !== "/" ? virtual.slice(cut + 1) : undefined;
    const head = virtual.slice(0, cut);
    let existing = head === "" || head === "/"
      ? rootReal
      : sep === "/"
      ? (rootReal === "/" ? head : rootReal + head) // `head` is normal: no join needed
      : join(rootReal, head);
    const missing: string[] = [];
    let real: string;
    while (true) {
      try {
        real = await this.#lookups.realpath(existing);
        break;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== "ENOENT" || existing === rootReal) throw toPathError(error, path);
        // A dangling link would let a create follow it anywhere: refuse it.
        if (await this.#lookups.lstat(existing).then(() => true, () => false)) {
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

/** Whether a real path is the root or below it (both are canonical: realpath made them). */
function isInside(root: string, path: string): boolean {
  if (path === root) return true;
  if (sep === "/") return path.startsWith(root.endsWith("/") ? root : root + "/");
  // Elsewhere (Windows: drive letters, case) relative() knows the rules.
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep);
}

/**
 * The metadata a listing shows for one entry: the entry's own (`lstat`), or for a link whose
 * target is inside the root, the target's; `undefined` when the entry vanished meanwhile.
 */
async function entryStat(
  lookups: Lookups,
  dir: string,
  name: string,
  rootReal: string,
): Promise<FileStat | undefined> {
  const full = join(dir, name);
  try {
    let info = await lookups.lstat(full);
    if (info.isSymbolicLink()) {
      const target = await lookups.realpath(full).catch(() => undefined);
      if (target !== undefined && isInside(rootReal, target)) info = await lookups.stat(target);
    }
    return toFileStat(info);
  } catch {
    return undefined; // removed while listing
  }
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
