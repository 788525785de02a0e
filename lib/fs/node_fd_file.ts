/**
 * Open local files through `node:fs`: {@linkcode NodeFdFile}, a file descriptor and the
 * callback calls, rather than a `node:fs/promises` `FileHandle`, whose making costs more than a
 * small file's read (measured on a 2-core VM, open + read of 4 KiB + close: Node 20 251 → 189
 * µs of CPU per file, Bun 188 → 115, Deno the same either way); and {@linkcode fileStatOf},
 * `node:fs` metadata as a {@linkcode FileStat} (here rather than beside the lookups, which
 * import this module).
 *
 * @module
 */

import { close, fstat, ftruncate, open, read, type Stats, write } from "node:fs";
import type { FileStat, FileType } from "./file_system.ts";
import type { LocalFile } from "./local_file_access.ts";

/**
 * Converts `node:fs` metadata.
 *
 * @param info What a stat call returned.
 * @returns The metadata a local file access reports.
 */
export function fileStatOf(info: Stats): FileStat {
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

/** Settles a node callback call's promise; the value is the callback's second argument. */
type Done<T> = (error: Error | null, value: T) => void;

/**
 * An open file by its descriptor. A descriptor's number is reused by the next open once it is
 * closed, so a close waits for the calls in flight (a read or write that started on this file
 * must not land in another one), and a call after the close fails with `EBADF`.
 *
 * @example
 * ```ts
 * import { NodeFdFile } from "./node_fd_file.ts";
 * import assert from "node:assert/strict";
 * import { constants } from "node:fs";
 * import { mkdtemp, readFile, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * const path = join(dir, "a.txt");
 * const file = await NodeFdFile.open(path, constants.O_RDWR | constants.O_CREAT, 0o666);
 * await file.write(new TextEncoder().encode("hello"), 0, 5, 0);
 * const buffer = new Uint8Array(8);
 * assert.equal((await file.read(buffer, 0, 8, 1)).bytesRead, 4);
 * await file.close();
 * await assert.rejects(file.read(buffer, 0, 8, 0), { code: "EBADF" });
 * assert.equal(await readFile(path, "utf8"), "hello");
 * await rm(dir, { recursive: true });
 * ```
 */
export class NodeFdFile implements LocalFile {
  /** The descriptor. */
  readonly fd: number;
  #inFlight = 0;
  #closing: Promise<void> | undefined;
  /** Resolves the close's wait once no call is in flight. */
  #drained: (() => void) | undefined;

  /**
   * Opens a file.
   *
   * @param path The local path.
   * @param flags `open(2)` flags (`node:fs` `constants`).
   * @param mode The mode of a file the open creates.
   * @returns The open file.
   */
  static open(path: string, flags: number, mode = 0o666): Promise<NodeFdFile> {
    return new Promise((resolve, reject) => {
      open(path, flags, mode, (error, fd) => error ? reject(error) : resolve(new NodeFdFile(fd)));
    });
  }

  /**
   * Takes an open descriptor over.
   *
   * @param fd The descriptor, closed by {@linkcode NodeFdFile.close}.
   */
  constructor(fd: number) {
    this.fd = fd;
  }

  /**
   * Reads up to `length` bytes at `position` into `buffer` from `offset`.
   *
   * @returns The count read; 0 at the end.
   */
  async read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }> {
    const bytesRead = await this.#call<number>((done) =>
      read(this.fd, buffer, offset, length, position, done)
    );
    return { bytesRead };
  }

  /**
   * Writes `length` bytes of `buffer` from `offset` at `position` (`null`: at the file's own
   * position); may write fewer.
   *
   * @returns The count written.
   */
  async write(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): Promise<{ bytesWritten: number }> {
    const bytesWritten = await this.#call<number>((done) =>
      write(this.fd, buffer, offset, length, position, done)
    );
    return { bytesWritten };
  }

  /** Cuts or extends the file to `length` bytes. */
  async truncate(length: number): Promise<void> {
    await this.#call<void>((done) => ftruncate(this.fd, length, (error) => done(error, undefined)));
  }

  /** The open file's metadata. */
  async stat(): Promise<FileStat> {
    return fileStatOf(await this.#call((done) => fstat(this.fd, done)));
  }

  /** Closes the file once the calls in flight are done; later calls fail with `EBADF`. */
  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<void> {
    if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#drained = resolve);
    await new Promise<void>((resolve, reject) => {
      close(this.fd, (error) => error ? reject(error) : resolve());
    });
  }

  #call<T>(start: (done: Done<T>) => void): Promise<T> {
    if (this.#closing) return Promise.reject(closedError());
    this.#inFlight++;
    return new Promise<T>((resolve, reject) => {
      start((error, value) => {
        if (--this.#inFlight === 0) this.#drained?.();
        if (error) reject(error);
        else resolve(value);
      });
    });
  }
}

function closedError(): Error {
  return Object.assign(new Error("EBADF: file closed"), { code: "EBADF" });
}
