/**
 * A {@linkcode FileSystem} on a local directory, confined to it: `..`, absolute paths, NUL
 * bytes, Windows separators and drive marks in names, and symbolic links that point outside
 * never reach a file outside the root. Every operation works on the resolved real path after
 * checking that it lies inside the root's real path; links that stay inside the root are
 * followed. Files are opened without following a link in the last component, so that a link
 * swapped in after the check fails instead of leading out.
 *
 * The disk is reached through the running runtime's {@linkcode LocalFileAccess} (Deno's own
 * lookups in Deno, `node:fs` elsewhere), taken from the registry when the file system is made.
 *
 * @module
 */

import path from "node:path";
import { PathError, type PathErrorKind } from "../errors.ts";
import { defaultFileAccess } from "../file_access_registry.ts";
import type {
  DirEntry,
  FileStat,
  FileSystem,
  MkdirOptions,
  OpenReadOptions,
  OpenWriteOptions,
} from "./file_system.ts";
import { readableFromHandle, writableToHandle } from "./file_handle_streams.ts";
import type { LocalFile, LocalFileAccess, LocalWriteMode } from "./local_file_access.ts";
import { LocalRoot } from "./local_path.ts";
import { resolveVirtualPath } from "./virtual_path.ts";

/** Bytes per file read and per file write: data moves in chunks of at least 64 KiB. */
const CHUNK = 256 * 1024;
/** Directory entries looked up at a time while listing. */
const LIST_BATCH = 512;
/**
 * How long a stat may be handed to `openRead` in place of resolving the path again: long
 * enough for the command that made it, short enough that a link swapped into the path later
 * is seen (resolving and opening are never one step; this keeps the gap that short).
 */
const STAT_REUSE_MS = 1000;
/** The largest file {@linkcode LocalFileSystem.prepareRead} opens ahead. */
const PREPARE_UP_TO = 64 * 1024;
/** Reads prepared at once, at most (each holds a descriptor and up to 64 KiB). */
const MAX_PREPARED = 256;

/** A file found by a recent stat: its real path, and the stat. */
interface KnownFile {
  real: string;
  stat: FileStat;
}

/** A read opened ahead, and the timer that closes it when nothing asks for it. */
interface PreparedRead {
  opening: Promise<ReadableStream<Uint8Array>>;
  timer: ReturnType<typeof setTimeout>;
}

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

/** The error code of a failed file call, if it has one. */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Converts an error of a file call into a {@linkcode PathError}.
 *
 * @param error What the call threw.
 * @param path The virtual path concerned.
 * @returns The error to throw.
 */
function toPathError(error: unknown, path: string): unknown {
  if (error instanceof PathError) return error;
  const code = codeOf(error);
  if (code === undefined) return error;
  return new PathError(ERRNO_KINDS[code] ?? "io", path, { cause: error });
}

/** Whether a path resolution follows a symbolic link in the last component. */
type FinalLink = "follow" | "keep";

/**
 * Options of {@linkcode LocalFileSystem}.
 *
 * @example Synchronous lookups on a local disk
 * ```ts
 * import { LocalFileSystem } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "ftp-"));
 * try {
 *   await writeFile(join(dir, "a.txt"), "hello");
 *   const fs = new LocalFileSystem(dir, { syncLookups: true });
 *   assert.equal((await fs.stat("/a.txt")).size, 5);
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
export interface LocalFileSystemOptions {
  /**
   * Look paths up (`realpath`, `stat`, `lstat`, directory reads: path checks, SIZE, MDTM,
   * listings) with synchronous calls on the event loop instead of through the runtime's thread
   * pool. On a local disk with its metadata cached a lookup then costs a few microseconds
   * instead of tens (the hand-off to the pool and back dominates): measured on a 2-core VM,
   * `lstat` takes 4-5 µs of CPU instead of 45-60 in Deno, 3 instead of 20-50 in Bun, and the
   * server's CPU for 500 small RETRs (SIZE, MDTM, RETR each) falls by a quarter in Deno.
   * (Listings are made with blocking calls by default too, on a worker thread.) But a slow or
   * hung file system (network mounts) then stalls every session while one lookup waits, as in
   * single-threaded servers such as pyftpdlib. File contents are always read and written
   * asynchronously. Default `false`.
   */
  syncLookups?: boolean;
}

/**
 * A file system rooted at a local directory.
 *
 * @example Serving a directory, and what an upload leaves in it
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { LocalFileSystem, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "ftp-"));
 * try {
 *   await using server = new Server({
 *     users: [new User({ login: "alice", password: "secret" })],
 *     fileSystem: new LocalFileSystem(dir),
 *   });
 *   await server.start("127.0.0.1", 0);
 *   await using client = await Client.connect("127.0.0.1", server.address.port);
 *   await client.login("alice", "secret");
 *   await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
 *   assert.equal(await readFile(join(dir, "a.txt"), "utf8"), "hello");
 *   await assert.rejects(client.downloadStream("../etc/passwd")); // confined to `dir`
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
export class LocalFileSystem implements FileSystem {
  readonly #root: string;
  readonly #files: LocalFileAccess;
  #localRoot: Promise<LocalRoot> | undefined;
  /**
   * Where each stat this file system returned was found: its virtual path and the real path it
   * resolved to (inside the root), so that `openRead(path, { stat })` opens it without resolving
   * the path again. Only stats made here are in it, and only for the path they were made for.
   */
  readonly #found = new WeakMap<FileStat, { path: string; real: string; at: number }>();
  /** Reads opened ahead ({@linkcode LocalFileSystem.prepareRead}), by the stat they are for. */
  readonly #prepared = new Map<FileStat, PreparedRead>();

  /**
   * Creates a file system whose `/` is `root`. It reaches the disk through the running
   * runtime's fastest calls (registered by the entry points; `node:fs` otherwise).
   *
   * @param root A local directory (it must exist when the first operation runs).
   * @param options How paths are looked up.
   */
  constructor(root: string, options: LocalFileSystemOptions = {}) {
    this.#root = root;
    const files = defaultFileAccess();
    this.#files = options.syncLookups ? files.withSyncLookups() : files;
  }

  /** The local directory this file system serves. */
  get root(): string {
    return this.#root;
  }

  /** Reads metadata, following links that stay inside the root. */
  async stat(path: string): Promise<FileStat> {
    const virtual = resolveVirtualPath("/", path);
    const root = await this.#rootOnce();
    const local = root.toLocal(virtual);
    // The path resolved and stat'ed at once: one wait on the runtime's thread pool, not two
    // (≈60 µs each). The stat follows the same links realpath does; it is only used when
    // realpath found a path inside the root, and otherwise the lookup is made again, one step
    // after the other, for the exact failure.
    const [resolved, looked] = await Promise.allSettled([
      this.#files.realpath(local),
      this.#files.stat(local),
    ]);
    let real: string;
    let info: FileStat;
    if (
      resolved.status === "fulfilled" && looked.status === "fulfilled" &&
      root.contains(resolved.value)
    ) {
      real = resolved.value;
      info = looked.value;
    } else {
      real = await this.#resolve(virtual, "follow");
      try {
        info = await this.#files.stat(real);
      } catch (error) {
        throw toPathError(error, path);
      }
    }
    this.#found.set(info, { path: virtual, real, at: performance.now() });
    return info;
  }

  /**
   * The virtual path that `path` names once its links are followed; for a path that does not
   * exist (yet), its deepest existing ancestor resolved and the rest appended.
   *
   * @throws {PathError} `permission-denied` when a link in it leads out of the root.
   */
  async realPath(path: string): Promise<string> {
    const real = await this.#resolve(path, "follow");
    return (await this.#rootOnce()).toVirtual(real);
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
   * broken or escaping links show as type `link` and are never followed. The entries are
   * looked up off the event loop (`listing_worker.ts`) in batches of 512.
   */
  async *list(path: string): AsyncIterable<DirEntry> {
    const real = await this.#resolve(path, "follow");
    const root = await this.#rootOnce();
    try {
      for await (const batch of this.#files.listDir(real, LIST_BATCH)) {
        for (const { name, stat, target } of batch) {
          yield { name, stat: target && root.contains(target.path) ? target.stat : stat };
        }
      }
    } catch (error) {
      throw toPathError(error, path);
    }
  }

  /** Creates a directory (with its missing parents when `parents` is set). */
  async mkdir(path: string, options: MkdirOptions = {}): Promise<void> {
    const real = await this.#resolve(path, "keep");
    try {
      await this.#files.mkdir(real, options.parents === true);
    } catch (error) {
      throw toPathError(error, path);
    }
  }

  /** Removes an empty directory. */
  async rmdir(path: string): Promise<void> {
    const real = await this.#resolve(path, "keep");
    if (real === (await this.#rootOnce()).path) throw new PathError("permission-denied", path);
    try {
      await this.#files.rmdir(real);
    } catch (error) {
      throw toPathError(error, path);
    }
  }

  /** Removes a file (or a symbolic link itself, never its target). */
  async unlink(path: string): Promise<void> {
    const real = await this.#resolve(path, "keep");
    try {
      if ((await this.#files.lstat(real)).type === "dir") {
        throw new PathError("is-a-directory", path);
      }
      await this.#files.unlink(real);
    } catch (error) {
      throw toPathError(error, path);
    }
  }

  /**
   * Renames inside the root. A symbolic link keeps its target text, which a relative link
   * reads from its new place: a rename after which the link would lead out of the root is
   * refused (`permission-denied`).
   */
  async rename(from: string, to: string): Promise<void> {
    const source = await this.#resolve(from, "keep");
    const target = await this.#resolve(to, "keep");
    const root = await this.#rootOnce();
    if (source === root.path || target === root.path) {
      throw new PathError("permission-denied", from);
    }
    let info: FileStat;
    try {
      info = await this.#files.lstat(source);
    } catch (error) {
      throw toPathError(error, from);
    }
    if (info.type === "link") await this.#checkLinkMove(source, target, to);
    try {
      await this.#files.rename(source, target);
    } catch (error) {
      throw toPathError(error, (error as { path?: string })?.path === target ? to : from);
    }
  }

  /**
   * Opens a file for reading from `offset` as a byte stream (chunks of 256 KiB for a default
   * reader; a BYOB reader's buffers are filled in place). The first chunk is read as the file
   * opens, so that it is there when the consumer asks. Given the
   * `stat` that {@linkcode LocalFileSystem.stat} returned for this path, it opens the real path
   * found then: no second resolution, no second stat; and a read prepared for that stat
   * ({@linkcode LocalFileSystem.prepareRead}) is the stream.
   */
  async openRead(path: string, options: OpenReadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const virtual = resolveVirtualPath("/", path);
    const known = this.#recent(virtual, options.stat);
    if (known?.stat.type === "dir") throw new PathError("is-a-directory", path);
    const prepared = known && !options.offset ? this.#takePrepared(known.stat) : undefined;
    if (prepared) {
      // A prepared open that failed is made again, for the failure of this very call.
      const stream = await prepared.catch(() => undefined);
      if (stream) return stream;
    }
    return await this.#open(path, known ?? { real: await this.#resolve(virtual, "follow") }, {
      offset: options.offset,
    });
  }

  /**
   * Opens the file that `stat` (made by {@linkcode LocalFileSystem.stat} for `path`, just now)
   * found, and starts reading it, for an `openRead(path, { stat })` to come; only for files up
   * to 64 KiB, whose reads a lookup's wait would double. The prepared read is closed when the
   * returned function is called, and after 1 s when nothing asked for it.
   */
  prepareRead(path: string, stat: FileStat): (() => void) | undefined {
    const known = this.#recent(resolveVirtualPath("/", path), stat);
    if (
      !known || stat.type !== "file" || stat.size > PREPARE_UP_TO || this.#prepared.has(stat) ||
      this.#prepared.size >= MAX_PREPARED
    ) return undefined;
    const opening = this.#open(path, known, {});
    opening.catch(() => {});
    const drop = () => void this.#takePrepared(stat)?.then((stream) => stream.cancel(), () => {});
    this.#prepared.set(stat, { opening, timer: setTimeout(drop, STAT_REUSE_MS) });
    return drop;
  }

  /** The real path and stat that `stat` found for `virtual`, if it did, recently. */
  #recent(virtual: string, stat: FileStat | undefined): KnownFile | undefined {
    const found = stat && this.#found.get(stat);
    return found?.path === virtual && performance.now() - found.at < STAT_REUSE_MS
      ? { real: found.real, stat: stat! }
      : undefined;
  }

  /** The prepared read for `stat`, no longer kept. */
  #takePrepared(stat: FileStat): Promise<ReadableStream<Uint8Array>> | undefined {
    const prepared = this.#prepared.get(stat);
    if (!prepared) return undefined;
    this.#prepared.delete(stat);
    clearTimeout(prepared.timer);
    return prepared.opening;
  }

  /** Opens a real path for reading (a known stat spares the check of what it is). */
  async #open(
    path: string,
    file: { real: string; stat?: FileStat },
    options: { offset?: number },
  ): Promise<ReadableStream<Uint8Array>> {
    const known = file.stat;
    let handle: LocalFile;
    let size: number | undefined;
    try {
      handle = await this.#files.openRead(
        file.real,
        known?.type === "file" ? known.size : undefined,
      );
    } catch (error) {
      throw toPathError(error, path);
    }
    if (known) {
      if (known.type === "file") size = known.size;
    } else {
      let info: FileStat;
      try {
        info = await handle.stat();
      } catch (error) {
        await handle.close().catch(() => {});
        throw toPathError(error, path);
      }
      if (info.type === "dir") {
        await handle.close().catch(() => {});
        throw new PathError("is-a-directory", path);
      }
      if (info.type === "file") size = info.size;
    }
    return readableFromHandle(handle, {
      offset: options.offset,
      chunkSize: CHUNK,
      size,
      mapError: (error) => toPathError(error, path),
      readAhead: true,
    });
  }

  /**
   * Opens a file for writing: truncating, at `offset` (kept bytes before it), appending, or
   * only as a new file (`createNew`: `exists` when anything is at the path). Writes are
   * gathered into 256 KiB; aborting keeps what was received.
   */
  async openWrite(
    path: string,
    options: OpenWriteOptions = {},
  ): Promise<WritableStream<Uint8Array>> {
    const real = await this.#resolve(path, "follow");
    const offset = options.offset ?? 0;
    const mode: LocalWriteMode = options.createNew
      ? "create-new"
      : options.append
      ? "append"
      : offset > 0
      ? "update"
      : "truncate";
    let file: LocalFile;
    try {
      file = await this.#files.openWrite(real, mode);
    } catch (error) {
      throw toPathError(error, path);
    }
    return writableToHandle(file, {
      position: options.append ? null : offset,
      gather: CHUNK,
      mapError: (error) => toPathError(error, path),
    });
  }

  /** Sets the modification time, keeping the access time. */
  async setModifiedTime(path: string, time: Date): Promise<void> {
    const real = await this.#resolve(path, "follow");
    try {
      await this.#files.setModifiedTime(real, time);
    } catch (error) {
      throw toPathError(error, path);
    }
  }

  /**
   * Changes permission bits (at most `0o7777`) through a handle opened without following
   * links: a symbolic link is refused (`permission-denied`), its target is never changed.
   */
  async chmod(path: string, mode: number): Promise<void> {
    const real = await this.#resolve(path, "keep");
    try {
      await this.#files.chmod(real, mode & 0o7777);
    } catch (error) {
      if (codeOf(error) === "ELOOP") {
        throw new PathError("permission-denied", path, {
          message: `Is a symbolic link: "${path}"`,
          cause: error,
        });
      }
      throw toPathError(error, path);
    }
  }

  /** A stat, or `undefined` where the path (or a directory on the way) does not exist. */
  async #tryStat(path: string): Promise<FileStat | undefined> {
    try {
      return await this.stat(path);
    } catch (error) {
      if (error instanceof PathError && ABSENT.has(error.kind)) return undefined;
      throw error;
    }
  }

  #rootOnce(): Promise<LocalRoot> {
    this.#localRoot ??= this.#files.realpath(this.#root).then(
      (real) => new LocalRoot(real, path),
      (error) => {
        this.#localRoot = undefined;
        throw toPathError(error, "/");
      },
    );
    return this.#localRoot;
  }

  /**
   * Maps a virtual path to a real path inside the root. The existing part of the path is
   * resolved with realpath (so every link in it is followed and checked); the missing rest is
   * appended. With `keep`, a link in the last component is not followed (unlink, rename,
   * chmod). The result is checked once more after the last join.
   */
  async #resolve(path: string, finalLink: FinalLink): Promise<string> {
    const virtual = resolveVirtualPath("/", path);
    const root = await this.#rootOnce();
    const local = root.toLocal(virtual);
    const keepLast = finalLink === "keep" && virtual !== "/";
    const { real, missing } = await this.#realOf(
      keepLast ? root.platform.dirname(local) : local,
      { virtual, stop: root.path },
    );
    if (!root.contains(real)) {
      throw new PathError("permission-denied", virtual, {
        message: `Path leaves the root: "${virtual}"`,
      });
    }
    if (keepLast) missing.push(root.platform.basename(local));
    const resolved = root.joinInside(real, missing);
    if (resolved === undefined) {
      throw new PathError("permission-denied", virtual, {
        message: `Path leaves the root: "${virtual}"`,
      });
    }
    return resolved;
  }

  /**
   * Resolves the deepest existing ancestor of a local path (the path itself when it exists)
   * and returns it with the names below it that do not exist. Only a path that is absent is
   * passed over: a dangling link, or one that cannot be looked up (permission denied), fails.
   */
  async #realOf(
    local: string,
    { virtual, stop }: { virtual: string; stop?: string },
  ): Promise<{ real: string; missing: string[] }> {
    const { platform } = await this.#rootOnce();
    const missing: string[] = [];
    let existing = local;
    // How often a path that appeared between realpath and lstat is looked up again.
    let retries = 2;
    while (true) {
      try {
        return { real: await this.#files.realpath(existing), missing };
      } catch (error) {
        const parent = platform.dirname(existing);
        if (codeOf(error) !== "ENOENT" || existing === stop || parent === existing) {
          throw toPathError(error, virtual);
        }
      }
      // Absent, or a link to nothing: a create would follow that link anywhere.
      let found: FileStat;
      try {
        found = await this.#files.lstat(existing);
      } catch (error) {
        if (codeOf(error) !== "ENOENT") throw toPathError(error, virtual);
        missing.unshift(platform.basename(existing));
        existing = platform.dirname(existing);
        continue;
      }
      // Created between the two calls (a concurrent upload): resolve it again.
      if (retries-- > 0) continue;
      throw new PathError("permission-denied", virtual, {
        message: found.type === "link"
          ? `Dangling link: "${virtual}"`
          : `Path keeps changing: "${virtual}"`,
      });
    }
  }

  /** Refuses to move a link to where its target, read from there, is outside the root. */
  async #checkLinkMove(source: string, target: string, to: string): Promise<void> {
    const root = await this.#rootOnce();
    const refuse = () =>
      new PathError("permission-denied", to, {
        message: `The link would lead out of the root: "${to}"`,
      });
    let text: string;
    try {
      text = await this.#files.readlink(source);
    } catch (error) {
      throw toPathError(error, to);
    }
    const landing = root.platform.resolve(root.platform.dirname(target), text);
    let found: { real: string; missing: string[] };
    try {
      found = await this.#realOf(landing, { virtual: to });
    } catch {
      throw refuse();
    }
    if (!root.contains(found.real) || root.joinInside(found.real, found.missing) === undefined) {
      throw refuse();
    }
  }
}

/** The failures of a lookup that mean the path is not there (rather than unreachable). */
const ABSENT: ReadonlySet<PathErrorKind> = new Set(["not-found", "not-a-directory"]);
