/**
 * An in-memory {@linkcode FileSystem}: one instance is shared by every session of a server, so
 * what one client uploads the next one sees. Modification times are kept per file. The files
 * hold at most a byte quota together, so that clients cannot grow the server without bound.
 *
 * @module
 */

import { PathError } from "../errors.ts";
import type {
  DirEntry,
  FileStat,
  FileSystem,
  MkdirOptions,
  OpenReadOptions,
  OpenWriteOptions,
} from "./file_system.ts";
import { baseName, parentPath, resolveVirtualPath } from "./virtual_path.ts";

interface DirNode {
  type: "dir";
  children: Map<string, Node>;
  mtime: Date;
  ctime: Date;
  mode: number;
}

interface FileNode {
  type: "file";
  /** Storage with spare capacity; bytes past `size` are not part of the file. */
  data: Uint8Array;
  size: number;
  mtime: Date;
  ctime: Date;
  mode: number;
}

type Node = DirNode | FileNode;

/** Chunk size of {@linkcode MemoryFileSystem.openRead} streams. */
const READ_CHUNK = 256 * 1024;
/** The smallest buffer a written file gets. */
const MIN_CAPACITY = 64 * 1024;
/** The default of {@linkcode MemoryFileSystemOptions.maxBytes}: 256 MiB. */
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Options of {@linkcode MemoryFileSystem}.
 *
 * @example A quota of 4 bytes
 * ```ts
 * import { MemoryFileSystem, PathError } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const fs = new MemoryFileSystem({ maxBytes: 4 });
 * await assert.rejects(
 *   new Blob(["hello"]).stream().pipeTo(await fs.openWrite("/a.txt")),
 *   (error) => error instanceof PathError && error.kind === "no-space",
 * );
 * ```
 */
export interface MemoryFileSystemOptions {
  /**
   * Most bytes the files may hold together (their sizes, a gap written over by REST included);
   * a write beyond fails with a {@linkcode PathError} `no-space`, keeping what was written
   * before it. Default 256 MiB; `Infinity` for no limit.
   */
  maxBytes?: number;
}

function newDir(): DirNode {
  const now = new Date();
  return { type: "dir", children: new Map(), mtime: now, ctime: now, mode: 0o755 };
}

function newFile(): FileNode {
  const now = new Date();
  return { type: "file", data: new Uint8Array(0), size: 0, mtime: now, ctime: now, mode: 0o644 };
}

/**
 * A file system kept in memory.
 *
 * @example Serving memory: what one client uploads, the next one downloads
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { MemoryFileSystem, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({
 *   users: [new User()], // anonymous, with every right
 *   fileSystem: new MemoryFileSystem({ maxBytes: 64 * 1024 * 1024 }),
 * });
 * await server.start("127.0.0.1", 0);
 * {
 *   await using writer = await Client.connect("127.0.0.1", server.address.port);
 *   await writer.login();
 *   await new Blob(["hello"]).stream().pipeTo(await writer.uploadStream("a.txt"));
 * }
 * await using reader = await Client.connect("127.0.0.1", server.address.port);
 * await reader.login();
 * assert.equal(await new Response(await reader.downloadStream("a.txt")).text(), "hello");
 * ```
 */
export class MemoryFileSystem implements FileSystem {
  readonly #root: DirNode = newDir();
  readonly #maxBytes: number;
  /** The bytes the files hold (the sum of their sizes). */
  #usedBytes = 0;

  /**
   * Creates an empty file system.
   *
   * @param options The byte quota.
   * @throws {RangeError} When `maxBytes` is negative or not a number.
   */
  constructor(options: MemoryFileSystemOptions = {}) {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!(maxBytes >= 0)) throw new RangeError(`Invalid maxBytes ${maxBytes}`);
    this.#maxBytes = maxBytes;
  }

  /** The bytes the files hold together. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Reads metadata. */
  stat(path: string): Promise<FileStat> {
    return this.#run(() => toStat(this.#lookup(path)));
  }

  /** Whether the path exists. */
  exists(path: string): Promise<boolean> {
    return this.#run(() => this.#find(path) !== undefined);
  }

  /** Whether the path is a file. */
  isFile(path: string): Promise<boolean> {
    return this.#run(() => this.#find(path)?.type === "file");
  }

  /** Whether the path is a directory. */
  isDir(path: string): Promise<boolean> {
    return this.#run(() => this.#find(path)?.type === "dir");
  }

  /** The normalized path: there are no links to follow. */
  realPath(path: string): Promise<string> {
    return this.#run(() => resolveVirtualPath("/", path));
  }

  /** Lists a directory from a snapshot of its entries taken at the first iteration. */
  async *list(path: string): AsyncIterable<DirEntry> {
    const dir = this.#lookupDir(path);
    for (const [name, node] of [...dir.children]) yield { name, stat: toStat(node) };
  }

  /** Creates a directory (and its parents with `parents`). */
  mkdir(path: string, options: MkdirOptions = {}): Promise<void> {
    return this.#run(() => {
      const target = resolveVirtualPath("/", path);
      if (options.parents) {
        let dir = this.#root;
        const parts = target.split("/").filter(Boolean);
        for (const [index, part] of parts.entries()) {
          const next = dir.children.get(part);
          if (next === undefined) {
            const created = newDir();
            dir.children.set(part, created);
            dir.mtime = new Date();
            dir = created;
          } else if (next.type === "dir") {
            dir = next;
          } else {
            throw new PathError(index === parts.length - 1 ? "exists" : "not-a-directory", target);
          }
        }
        return;
      }
      const parent = this.#lookupDir(parentPath(target));
      const name = baseName(target);
      if (name === "" || parent.children.has(name)) throw new PathError("exists", target);
      parent.children.set(name, newDir());
      parent.mtime = new Date();
    });
  }

  /** Removes an empty directory. */
  rmdir(path: string): Promise<void> {
    return this.#run(() => {
      const target = resolveVirtualPath("/", path);
      const node = this.#lookup(target);
      if (node.type !== "dir") throw new PathError("not-a-directory", target);
      if (target === "/") throw new PathError("permission-denied", target);
      if (node.children.size > 0) throw new PathError("not-empty", target);
      this.#detach(target);
    });
  }

  /** Removes a file. */
  unlink(path: string): Promise<void> {
    return this.#run(() => {
      const target = resolveVirtualPath("/", path);
      const node = this.#lookup(target);
      if (node.type === "dir") throw new PathError("is-a-directory", target);
      this.#detach(target);
      this.#usedBytes -= node.size;
    });
  }

  /** Renames a file or directory, replacing a file or an empty directory of the same type. */
  rename(from: string, to: string): Promise<void> {
    return this.#run(() => {
      const source = resolveVirtualPath("/", from);
      const target = resolveVirtualPath("/", to);
      const node = this.#lookup(source);
      if (source === "/" || target === "/") throw new PathError("permission-denied", source);
      if (node.type === "dir" && (target + "/").startsWith(source + "/")) {
        if (target === source) return;
        throw new PathError("invalid-path", target, {
          message: `Cannot move "${source}" into itself`,
        });
      }
      const parent = this.#lookupDir(parentPath(target));
      const name = baseName(target);
      const existing = parent.children.get(name);
      if (existing) {
        if (existing.type === "dir" && node.type !== "dir") {
          throw new PathError("is-a-directory", target);
        }
        if (existing.type !== "dir" && node.type === "dir") {
          throw new PathError("not-a-directory", target);
        }
        if (existing.type === "dir" && existing.children.size > 0) {
          throw new PathError("not-empty", target);
        }
      }
      this.#detach(source);
      parent.children.set(name, node);
      parent.mtime = new Date();
      if (existing?.type === "file" && existing !== node) this.#usedBytes -= existing.size;
    });
  }

  /** Opens a file for reading; the stream sees the content as it was when opened. */
  openRead(path: string, options: OpenReadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    return this.#run(() => {
      const target = resolveVirtualPath("/", path);
      const node = this.#lookup(target);
      if (node.type !== "file") throw new PathError("is-a-directory", target);
      // Writers that truncate replace `data`, so the snapshot stays intact for this reader.
      const data = node.data;
      const end = node.size;
      let position = Math.min(Math.max(0, options.offset ?? 0), end);
      // A byte stream, as a file's is: a reader's own buffers are filled (no new one per
      // chunk), and a default reader gets copies (enqueueing a view would hand over `data`).
      return new ReadableStream({
        type: "bytes",
        pull(controller) {
          const request = controller.byobRequest;
          if (position >= end) {
            controller.close();
            request?.respond(0);
            return;
          }
          if (request?.view) {
            const view = request.view;
            const length = Math.min(end - position, view.byteLength);
            new Uint8Array(view.buffer, view.byteOffset, length)
              .set(data.subarray(position, position + length));
            position += length;
            request.respond(length);
            return;
          }
          const next = Math.min(end, position + READ_CHUNK);
          controller.enqueue(data.slice(position, next));
          position = next;
        },
      }, { highWaterMark: 0 });
    });
  }

  /**
   * Opens a file for writing: truncating, at an offset (REST), appending, or only as a new file
   * (`createNew`). Bytes count against the quota as they are written, a gap before an offset
   * beyond the end included (it is filled with zeros at the first write, not at the open).
   */
  openWrite(path: string, options: OpenWriteOptions = {}): Promise<WritableStream<Uint8Array>> {
    return this.#run(() => {
      const target = resolveVirtualPath("/", path);
      const parent = this.#lookupDir(parentPath(target));
      const name = baseName(target);
      let node = parent.children.get(name);
      if (node && options.createNew) throw new PathError("exists", target);
      if (node?.type === "dir" || name === "") throw new PathError("is-a-directory", target);
      if (!node) {
        node = newFile();
        parent.children.set(name, node);
        parent.mtime = new Date();
      }
      const file = node;
      let position: number;
      if (options.append) {
        position = file.size;
      } else if (options.offset !== undefined && options.offset > 0) {
        position = options.offset;
        if (position - file.size > this.#maxBytes - this.#usedBytes) {
          throw new PathError("no-space", target, {
            message: `Offset ${position} exceeds the quota`,
          });
        }
      } else {
        this.#usedBytes -= file.size;
        file.data = new Uint8Array(0);
        file.size = 0;
        position = 0;
      }
      file.mtime = new Date();
      return new WritableStream<Uint8Array>({
        write: (chunk) => {
          const end = position + chunk.length;
          this.#reserve(file, end, target);
          if (position > file.size) file.data.fill(0, file.size, position);
          file.data.set(chunk, position);
          position = end;
          if (end > file.size) file.size = end;
          file.mtime = new Date();
        },
      });
    });
  }

  /**
   * Makes room for a file to reach `end` bytes: counts the growth against the quota and grows
   * its buffer (doubling, within what the quota leaves).
   */
  #reserve(file: FileNode, end: number, target: string): void {
    const growth = end - file.size;
    if (growth <= 0) return;
    if (growth > this.#maxBytes - this.#usedBytes) {
      throw new PathError("no-space", target, {
        message: `The file system's quota is used up: "${target}"`,
      });
    }
    this.#usedBytes += growth;
    if (end <= file.data.length) return;
    const room = file.size + (this.#maxBytes - this.#usedBytes) + growth;
    const capacity = Math.max(end, Math.min(Math.max(file.data.length * 2, MIN_CAPACITY), room));
    const grown = new Uint8Array(capacity);
    grown.set(file.data.subarray(0, file.size));
    file.data = grown;
  }

  /** Sets the modification time. */
  setModifiedTime(path: string, time: Date): Promise<void> {
    return this.#run(() => {
      this.#lookup(path).mtime = new Date(time.getTime());
    });
  }

  /** Changes permission bits. */
  chmod(path: string, mode: number): Promise<void> {
    return this.#run(() => {
      const node = this.#lookup(path);
      node.mode = mode & 0o7777;
      node.ctime = new Date();
    });
  }

  #run<T>(action: () => T): Promise<T> {
    try {
      return Promise.resolve(action());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #find(path: string): Node | undefined {
    try {
      return this.#lookup(path);
    } catch (error) {
      if (error instanceof PathError && error.kind !== "invalid-path") return undefined;
      throw error;
    }
  }

  #lookup(path: string): Node {
    const target = resolveVirtualPath("/", path);
    let node: Node = this.#root;
    for (const part of target.split("/").filter(Boolean)) {
      if (node.type !== "dir") throw new PathError("not-a-directory", target);
      const next = node.children.get(part);
      if (!next) throw new PathError("not-found", target);
      node = next;
    }
    return node;
  }

  #lookupDir(path: string): DirNode {
    const node = this.#lookup(path);
    if (node.type !== "dir") throw new PathError("not-a-directory", resolveVirtualPath("/", path));
    return node;
  }

  #detach(target: string): void {
    const parent = this.#lookupDir(parentPath(target));
    parent.children.delete(baseName(target));
    parent.mtime = new Date();
  }
}

function toStat(node: Node): FileStat {
  return {
    type: node.type,
    size: node.type === "file" ? node.size : 0,
    mtime: node.mtime,
    ctime: node.ctime,
    mode: node.mode,
    nlink: node.type === "dir" ? 2 + countDirs(node) : 1,
  };
}

function countDirs(dir: DirNode): number {
  let n = 0;
  for (const child of dir.children.values()) if (child.type === "dir") n++;
  return n;
}
