/**
 * Local file access for uploads and downloads through the registered local file calls
 * (`local_files.ts`: `node:fs`, or the runtime's own): a download's bytes written into a file
 * and a file's bytes written into an upload, each with one file operation in flight while the
 * network moves the next chunk; trees, sizes and checksums. The loops work on the file handle
 * directly, and a small download is written in one call: a stream, or even a handle, per file
 * would cost more than the file operations of a small file. Unlike a `LocalFileSystem`, these
 * paths are the user's own and are not confined.
 *
 * @module
 */

import { BufferPool } from "../stream/buffer_pool.ts";
import { concatBytes } from "../stream/bytes.ts";
import type { TransferReader } from "./data_stream.ts";
import { type ClientLocalFile, localFiles, type LocalStat } from "./local_files.ts";
import { joinLocal, localParent } from "./local_path.ts";

export type { LocalStat } from "./local_files.ts";

/**
 * Bytes per read of a local file.
 *
 * @example
 * ```ts
 * import { LOCAL_CHUNK_SIZE } from "./local_file.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(LOCAL_CHUNK_SIZE, 256 * 1024);
 * ```
 */
export const LOCAL_CHUNK_SIZE = 256 * 1024;
/** Received chunks smaller than this are gathered into one write. */
const MIN_WRITE = 64 * 1024;
/**
 * While a write runs, the chunks that arrive are gathered for the next one, up to this many
 * bytes or {@linkcode MAX_WRITE_CHUNKS} chunks; the read then waits for the write.
 */
const MAX_WRITE = 1024 * 1024;
/** Chunks of one gathered write, well below any system's `IOV_MAX` (1024 on Linux). */
const MAX_WRITE_CHUNKS = 64;
/**
 * The buffers one download is read into where the socket fills the caller's buffers (Deno's),
 * each reused once its bytes are written: a fresh buffer per read cost a Deno download a page
 * fault per 4 KiB it received (a raw loop receiving 256 MiB into a file: 21,000–28,000 faults
 * and 0.31–0.64 s of CPU, against 3,600 and 0.26–0.28 s reusing two). Their size follows the
 * reads, as the socket's own reads do: a read that fills its buffer doubles the next one, up to
 * 1 MiB (1 MiB reads cost less CPU than 256 KiB ones: 0.25–0.29 s against 0.37–0.45 in that
 * loop); a read of less than a quarter is copied out, its buffer reused at once, and the size
 * shrinks to what holds four times as much. So a transfer among many that each get a little
 * at a time holds small buffers, and gathered chunks each fill a good part of theirs.
 */
class DownloadBuffers {
  #size = FIRST_READ;
  /** The size of the buffer `take()` gave last, which the next `keep()` is a read into. */
  #taken = 0;
  readonly #free: ArrayBuffer[] = [];

  /** A buffer of the current size. */
  take(): Uint8Array<ArrayBuffer> {
    this.#taken = this.#size;
    return new Uint8Array(
      this.#free.pop() ?? SPARE_BUFFERS.get(this.#size)?.take() ?? new ArrayBuffer(this.#size),
    );
  }

  /**
   * Ends the download: its free buffers go to the next downloads (a new 64 KiB buffer per
   * file cost Deno 14–20 µs, 2% of a 4 KiB file's download).
   */
  release(): void {
    for (const buffer of this.#free.splice(0)) SPARE_BUFFERS.get(buffer.byteLength)?.give(buffer);
  }

  /**
   * The chunk to keep of a read into the buffer `take()` gave last: the read itself, or a copy
   * when it is short (its buffer then goes back at once).
   */
  keep(chunk: Uint8Array): Uint8Array {
    const capacity = this.#taken;
    if (chunk.length === capacity) this.#size = Math.min(MAX_READ, capacity * 2);
    if (chunk.length >= capacity / 4) return chunk;
    this.#size = Math.max(MIN_READ, 2 ** Math.ceil(Math.log2(chunk.length * 4)));
    const copy = chunk.slice();
    this.give(chunk.buffer);
    return copy;
  }

  /**
   * Takes back a buffer that nothing uses any more (one of another size goes to the next
   * downloads, or is dropped).
   */
  give(buffer: ArrayBufferLike): void {
    if (!(buffer instanceof ArrayBuffer)) return;
    if (buffer.byteLength === this.#size && this.#free.length < KEPT_BUFFERS) {
      this.#free.push(buffer);
    } else SPARE_BUFFERS.get(buffer.byteLength)?.give(buffer);
  }

  /** Takes back the buffers of written chunks that were reads into these buffers. */
  recycle(chunks: Uint8Array[]): void {
    for (const chunk of chunks) this.give(chunk.buffer);
  }
}

/** Smallest, first and largest read of a download into its own buffers. */
const MIN_READ = 16 * 1024;
const FIRST_READ = 64 * 1024;
const MAX_READ = 1024 * 1024;
/** Free buffers one download keeps for its next reads (and the process, of each small size). */
const KEPT_BUFFERS = 4;
/**
 * Free buffers that ended downloads left, for the first reads of the next ones: one pool per
 * size up to the first read's (16, 32 and 64 KiB; at most 4 × 112 KiB kept).
 */
const SPARE_BUFFERS = new Map(
  [MIN_READ, 2 * MIN_READ, FIRST_READ].map((size) => [
    size,
    new BufferPool({ size, keep: KEPT_BUFFERS }),
  ]),
);

/**
 * Options of {@linkcode saveToLocalFile}.
 *
 * @example
 * ```ts
 * import type { SaveOptions } from "./local_file.ts";
 *
 * let received = 0;
 * const options: SaveOptions = { offset: 1024, onBytes: (bytes) => received += bytes };
 * console.assert(options.offset === 1024 && received === 0);
 * ```
 */
export interface SaveOptions {
  /** Keep the first `offset` bytes and write from there (resuming); 0 truncates the file. */
  offset?: number;
  /** Called with each chunk's size as it arrives. */
  onBytes?: (bytes: number) => void;
  /**
   * The transfer's confirmation (the server's final reply), started once every byte has
   * arrived and awaited while the last of them are written. When it fails, the bytes stay
   * written and the save fails with it.
   */
  confirm?: () => Promise<unknown>;
}

/**
 * Writes a download's chunks into a local file, creating the file (and its missing parent
 * directories) or truncating it; with an offset, the file is kept up to there and cut after the
 * last byte written. Chunks are gathered into writes of 64 KiB and more, and one write runs
 * while the next chunks are read: what arrives meanwhile (up to 1 MiB) goes into the next
 * write, as the chunks came (no copy). The file is opened once the first 64 KiB have arrived: a
 * smaller file (without an offset) is created and written in one call once the bytes have
 * ended, instead of an open, a write and a close. On failure (of the transfer or of the disk)
 * what was received stays written, the file is closed and the reader cancelled.
 *
 * @example Saving, then resuming
 * ```ts
 * import { saveToLocalFile } from "./local_file.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const path = join(dir, "sub/f.txt"); // sub/ is created
 *   const save = (text: string, offset = 0) =>
 *     saveToLocalFile(new Blob([text]).stream().getReader(), path, { offset });
 *   assert.equal(await save("hello"), 5);
 *   assert.equal(await save(" world", 5), 6);
 *   assert.equal(await readFile(path, "utf8"), "hello world");
 *   await writeFile(path, "hello world, and more");
 *   await save("!", 11); // cut after the "!"
 *   assert.equal(await readFile(path, "utf8"), "hello world!");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param reader The bytes (a stream's reader will do).
 * @param path The local file.
 * @param options Resume offset, a byte counter, the transfer's confirmation.
 * @returns The number of bytes written.
 */
export async function saveToLocalFile(
  reader: TransferReader,
  path: string,
  options: SaveOptions = {},
): Promise<number> {
  const offset = options.offset ?? 0;
  let handle: ClientLocalFile | undefined;
  let position = offset;
  let batch: Uint8Array[] = [];
  let batched = 0;
  let inFlight: Promise<void> | undefined;
  let writing = false;
  let confirmation: Promise<unknown> | undefined;
  // Into recycled buffers where the socket fills the caller's (Deno's), else its own chunks:
  // a socket's own buffers are never reused, as the runtime may hold other bytes in them.
  const buffers = reader.readInto ? new DownloadBuffers() : undefined;
  const next = buffers ? () => reader.readInto!(buffers.take()) : () => reader.read();
  const flush = async (last: boolean) => {
    if (inFlight) await inFlight;
    inFlight = undefined;
    const chunks = batch;
    const size = batched;
    batch = [];
    batched = 0;
    if (handle === undefined && last && offset === 0) {
      await writeNewFile(path, chunks.length === 1 ? chunks[0] : concatBytes(chunks, size));
      buffers?.recycle(chunks);
      position += size;
      return;
    }
    handle ??= await openForWriting(path, offset);
    if (size === 0) return;
    writing = true;
    inFlight = writeAll(handle, chunks, position, size).then(() => buffers?.recycle(chunks))
      .finally(() => writing = false);
    inFlight.catch(() => {});
    position += size;
  };
  try {
    try {
      while (true) {
        const { value, done } = await next();
        if (done) {
          // The buffer of the read that found the end is free again.
          if (buffers && value) buffers.give(value.buffer);
          break;
        }
        options.onBytes?.(value.length);
        const chunk = buffers ? buffers.keep(value) : value;
        batch.push(chunk);
        batched += chunk.length;
        if (batched < MIN_WRITE) continue;
        // A running write is not waited for while there is room to gather the next one.
        if (writing && batched < MAX_WRITE && batch.length < MAX_WRITE_CHUNKS) continue;
        await flush(false);
      }
      confirmation = options.confirm?.();
      confirmation?.catch(() => {});
    } finally {
      // Whatever arrived is kept, also when the transfer failed.
      await flush(true);
      await inFlight;
    }
    if (offset > 0) await handle?.truncate(position);
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    await inFlight?.catch(() => {});
    await handle?.close().catch(() => {});
    throw error;
  }
  await handle?.close();
  buffers?.release();
  await confirmation;
  return position - offset;
}

/**
 * Options of {@linkcode sendLocalFile}.
 *
 * @example
 * ```ts
 * import type { SendOptions } from "./local_file.ts";
 *
 * // Resume an upload at byte 5 of a file of 11 bytes.
 * const options: SendOptions = { offset: 5, size: 11 };
 * console.assert(options.size === 11);
 * ```
 */
export interface SendOptions {
  /** Byte offset to start at. */
  offset?: number;
  /** The file's size as just stat'ed: a small file then costs one read. */
  size?: number;
  /** Called with each chunk's size as it is handed on. */
  onBytes?: (bytes: number) => void;
}

/**
 * Writes a local file into a stream, then closes it (for an upload: waits for the server's
 * confirmation). One read runs while the previous chunk is written, into the other of two
 * buffers that alternate: the sink must be done with a chunk once its write resolved, as a
 * connection's writable is (a data stream's write resolves when the socket has the bytes). On
 * failure the stream is aborted and the file closed.
 *
 * @example Into any sink; an upload stream is one
 * ```ts
 * import { sendLocalFile } from "./local_file.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await writeFile(join(dir, "f.txt"), "hello world");
 *   const chunks: string[] = [];
 *   const sink = new WritableStream<Uint8Array>({
 *     write: (chunk) => void chunks.push(new TextDecoder().decode(chunk)), // done with it here
 *   });
 *   await sendLocalFile(join(dir, "f.txt"), sink, { offset: 6 });
 *   assert.equal(chunks.join(""), "world");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param path The local file.
 * @param sink Where the bytes go.
 * @param options Start offset, known size, a byte counter.
 */
export async function sendLocalFile(
  path: string,
  sink: WritableStream<Uint8Array>,
  options: SendOptions = {},
): Promise<void> {
  const writer = sink.getWriter();
  let handle: ClientLocalFile;
  try {
    handle = await localFiles().openRead(path);
  } catch (error) {
    await writer.abort(error).catch(() => {});
    throw error;
  }
  const reads = new ChunkReader(handle, options.offset ?? 0, options.size);
  let next = reads.next();
  try {
    while (true) {
      const chunk = await next;
      if (chunk === null) break;
      // Reads into the other buffer: the one of the chunk before this is free, as its write
      // has resolved.
      next = reads.next();
      next.catch(() => {});
      options.onBytes?.(chunk.length);
      await writer.write(chunk);
    }
  } catch (error) {
    await writer.abort(error).catch(() => {});
    // The read ahead is done with the handle before it is closed.
    await next.catch(() => {});
    await handle.close().catch(() => {});
    throw error;
  }
  await handle.close();
  await writer.close();
}

/**
 * Reads a file handle chunk by chunk into two buffers that alternate (a chunk stays valid until
 * the second call of `next()` after the one that returned it), reads sized to what is left when
 * the size is known.
 */
class ChunkReader {
  readonly #handle: ClientLocalFile;
  readonly #size: number | undefined;
  readonly #chunkSize: number;
  readonly #buffers: (Uint8Array | undefined)[] = [undefined, undefined];
  #turn = 0;
  #position: number;
  #ended = false;

  constructor(
    handle: ClientLocalFile,
    offset: number,
    size?: number,
    chunkSize = LOCAL_CHUNK_SIZE,
  ) {
    this.#handle = handle;
    this.#position = offset;
    this.#size = size;
    this.#chunkSize = chunkSize;
  }

  /** The next chunk, or `null` at the end. */
  async next(): Promise<Uint8Array | null> {
    if (this.#ended) return null;
    const size = this.#size;
    // With a known size, ask for what is left and one byte more: a short read is the end.
    const wanted = size !== undefined && this.#position <= size
      ? Math.min(this.#chunkSize, size - this.#position + 1)
      : this.#chunkSize;
    const turn = this.#turn;
    this.#turn = 1 - turn;
    let buffer = this.#buffers[turn];
    if (buffer === undefined || buffer.length < wanted) {
      buffer = this.#buffers[turn] = new Uint8Array(wanted);
    }
    const { bytesRead } = await this.#handle.read(buffer, 0, wanted, this.#position);
    this.#position += bytesRead;
    // A regular file returns fewer bytes than asked only at its end.
    if (bytesRead === 0 || (size !== undefined && bytesRead < wanted)) this.#ended = true;
    if (bytesRead === 0) return null;
    return buffer.subarray(0, bytesRead);
  }
}

async function openForWriting(path: string, offset: number): Promise<ClientLocalFile> {
  const mode = offset > 0 ? "update" : "truncate";
  try {
    return await localFiles().openWrite(path, mode);
  } catch (error) {
    if (offset > 0 || (error as { code?: string }).code !== "ENOENT") throw error;
  }
  await localFiles().mkdir(localParent(path));
  return await localFiles().openWrite(path, mode);
}

/** Creates or truncates a file and writes all of it, creating its missing parents. */
async function writeNewFile(path: string, data: Uint8Array): Promise<void> {
  try {
    await localFiles().writeFile(path, data);
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
  }
  await localFiles().mkdir(localParent(path));
  await localFiles().writeFile(path, data);
}

/**
 * Writes chunks at `position` in order: small ones (Node reads 64 KiB at a time) in one
 * `writev`, chunks of 256 KiB and more on average (Deno and Bun read up to 1 MiB) one `write`
 * each, as Deno's `writev` copies its buffers twice.
 */
async function writeAll(
  handle: ClientLocalFile,
  chunks: Uint8Array[],
  position: number,
  size: number,
): Promise<void> {
  if (chunks.length === 1 || size >= chunks.length * LOCAL_CHUNK_SIZE) {
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) {
        const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
    }
    return;
  }
  let rest = chunks;
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest, position);
    position += bytesWritten;
    let first = 0;
    while (first < rest.length && bytesWritten >= rest[first].length) {
      bytesWritten -= rest[first].length;
      first++;
    }
    rest = rest.slice(first);
    if (bytesWritten > 0) rest[0] = rest[0].subarray(bytesWritten);
  }
}

/**
 * Creates a local directory with its missing parents; an existing one is fine.
 *
 * @example
 * ```ts
 * import { makeLocalDirectory, statLocal } from "./local_file.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await makeLocalDirectory(join(dir, "a/b/c"));
 *   await makeLocalDirectory(join(dir, "a/b/c")); // exists: fine
 *   assert.equal((await statLocal(join(dir, "a/b/c")))?.type, "dir");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param path The directory.
 */
export async function makeLocalDirectory(path: string): Promise<void> {
  await localFiles().mkdir(path);
}

/**
 * Sets a local file's modification time (and its access time to the same).
 *
 * @example
 * ```ts
 * import { setLocalModifiedTime, statLocal } from "./local_file.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   const path = join(dir, "f.bin");
 *   await writeFile(path, "data");
 *   const time = new Date("2026-01-01T00:00:00Z");
 *   await setLocalModifiedTime(path, time);
 *   assert.equal((await statLocal(path))?.modified.getTime(), time.getTime());
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param path The file.
 * @param time The time.
 */
export async function setLocalModifiedTime(path: string, time: Date): Promise<void> {
  await localFiles().setModifiedTime(path, time);
}

/**
 * Removes a local file, or a directory with everything in it; a missing path is fine.
 *
 * @example
 * ```ts
 * import { removeLocal, statLocal } from "./local_file.ts";
 * import assert from "node:assert/strict";
 * import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await mkdir(join(dir, "old/drafts"), { recursive: true });
 *   await writeFile(join(dir, "old/drafts/a.txt"), "draft");
 *   await removeLocal(join(dir, "old"));
 *   await removeLocal(join(dir, "old")); // gone already: fine
 *   assert.equal(await statLocal(join(dir, "old")), undefined);
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param path The path.
 */
export async function removeLocal(path: string): Promise<void> {
  await localFiles().remove(path);
}

/**
 * Looks up a local path, following symbolic links.
 *
 * @example
 * ```ts
 * import { statLocal } from "./local_file.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await writeFile(join(dir, "f.bin"), new Uint8Array(4096));
 *   const info = await statLocal(join(dir, "f.bin"));
 *   assert.equal(info?.type, "file");
 *   assert.equal(info?.size, 4096);
 *   assert.equal(await statLocal(join(dir, "missing")), undefined);
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param path The path.
 * @returns Its type, size and time, or `undefined` when it does not exist.
 */
export async function statLocal(path: string): Promise<LocalStat | undefined> {
  return await localFiles().stat(path);
}

/**
 * One entry of a local tree walk.
 *
 * @example
 * ```ts
 * import type { LocalTreeEntry } from "./local_file.ts";
 *
 * const entry: LocalTreeEntry = { parts: ["img", "logo.svg"], type: "file", size: 6 };
 * console.assert(entry.parts.join("/") === "img/logo.svg");
 * ```
 */
export interface LocalTreeEntry {
  /** Path components below the walked directory. */
  parts: string[];
  /** `"file"`, `"dir"`, or `"other"` (a link to a directory, a dangling link, a device...). */
  type: "file" | "dir" | "other";
  /** Size in bytes (files). */
  size: number;
  /** Last modification time (files). */
  modified?: Date;
}

/**
 * Lists a local directory tree, parents before children. Symbolic links to files are
 * followed; links to directories are not entered (so a link cycle cannot make the walk
 * endless) and come back as `"other"`, like every entry that is neither file nor directory.
 *
 * @example
 * ```ts
 * import { walkLocal } from "./local_file.ts";
 * import assert from "node:assert/strict";
 * import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await mkdir(join(dir, "img"));
 *   await writeFile(join(dir, "index.html"), "<h1>hi</h1>");
 *   await writeFile(join(dir, "img/logo.svg"), "<svg/>");
 *   const entries = await walkLocal(dir);
 *   assert.deepEqual(entries.map((entry) => `${entry.type} ${entry.parts.join("/")}`), [
 *     "dir img",
 *     "file index.html",
 *     "file img/logo.svg", // parents before children, level by level
 *   ]);
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param root The directory.
 * @returns Its entries.
 */
export async function walkLocal(root: string): Promise<LocalTreeEntry[]> {
  const out: LocalTreeEntry[] = [];
  const queue: string[][] = [[]];
  while (queue.length > 0) {
    const parts = queue.shift()!;
    const entries = await localFiles().readDir(joinLocal(root, ...parts));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const child = [...parts, entry.name];
      if (entry.type === "dir") {
        out.push({ parts: child, type: "dir", size: 0 });
        queue.push(child);
      } else {
        const info = entry.type === "file" || entry.type === "link"
          ? await statLocal(joinLocal(root, ...child))
          : undefined;
        if (info?.type === "file") {
          out.push({ parts: child, type: "file", size: info.size, modified: info.modified });
        } else out.push({ parts: child, type: "other", size: 0 });
      }
    }
  }
  return out;
}

/**
 * The digest of a local file.
 *
 * @example
 * ```ts
 * import { hashLocal } from "./local_file.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await writeFile(join(dir, "f.txt"), "abc");
 *   assert.equal(
 *     await hashLocal(join(dir, "f.txt"), "sha256"),
 *     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 *   );
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param path The file.
 * @param algorithm A `node:crypto` hash name (`"sha512"`, `"sha256"`, `"sha1"`, `"md5"`).
 * @returns The digest in lower-case hex.
 */
export async function hashLocal(path: string, algorithm: string): Promise<string> {
  // Loaded here, not with the module: it costs 11 ms of a client's start-up in Bun.
  const { createHash } = await import("node:crypto");
  const hash = createHash(algorithm);
  const handle = await localFiles().openRead(path);
  try {
    const reads = new ChunkReader(handle, 0, undefined, 1024 * 1024);
    for (let chunk = await reads.next(); chunk !== null; chunk = await reads.next()) {
      hash.update(chunk);
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}
