/**
 * Web Streams over an open file ({@linkcode RandomAccessFile}: a `node:fs/promises` file
 * handle, or a runtime's own file type behind the same few calls), shared by `LocalFileSystem`
 * and the client's local files: reads in large chunks with read-ahead, writes gathered into
 * large writes with one write running while the next is gathered, so the disk and the network
 * work at the same time.
 *
 * @module
 */

/**
 * The calls the streams make on an open file: positional reads and writes as `node:fs/promises`
 * file handles have them (a `FileHandle` is one), so that a runtime's own file type can stand
 * in for it.
 */
export interface RandomAccessFile {
  /** Reads up to `length` bytes at `position` into `buffer` from `offset`; 0 bytes at the end. */
  read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
  /**
   * Writes `length` bytes of `buffer` from `offset` at `position` (`null`: at the file's own
   * position, as in append mode); may write fewer.
   */
  write(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): Promise<{ bytesWritten: number }>;
  /** Cuts or extends the file to `length` bytes. */
  truncate(length: number): Promise<void>;
  /** Closes the file. */
  close(): Promise<void>;
}

/** Options of {@linkcode readableFromHandle}. */
export interface HandleReadOptions {
  /** Byte offset to start at (default 0). */
  offset?: number;
  /** Bytes per read for a default reader (a BYOB reader's buffer sets its own). */
  chunkSize: number;
  /**
   * The size of the file when it was just stat'ed, for a regular file (not a pipe or device).
   * Reads are then sized to what is left (plus one byte, so that a file that did not grow ends
   * with a short read), and a short read ends the stream without another read: a small file
   * costs one read and one buffer of its own size instead of a full chunk and a read that
   * finds the end.
   */
  size?: number;
  /** Turns a read error into the error the stream reports (default: as is). */
  mapError?: (error: unknown) => unknown;
  /**
   * Start the first read now, not at the first read request, so that its bytes are there
   * when the consumer asks (a server's RETR reads the file while its `150` goes out). That
   * chunk is copied into a BYOB reader's buffer; later reads fill the buffer in place.
   * Default `false`.
   */
  readAhead?: boolean;
}

/** A read started before it was asked for: its buffer and how it ended. */
interface ReadAhead {
  buffer: Uint8Array<ArrayBuffer>;
  done: Promise<{ bytesRead: number } | { error: unknown }>;
}

/**
 * Reads a file handle as a byte stream, one read per read request (with `readAhead`, the first
 * one as the stream is made): a BYOB reader's buffer is filled in place (a consumer that
 * recycles its buffers allocates nothing per chunk), a default reader gets a new chunk per
 * read. The handle is closed at the end, on an error and on cancel.
 *
 * @example Reading into one reused buffer
 * ```ts
 * import { readableFromHandle } from "./file_handle_streams.ts";
 * import assert from "node:assert/strict";
 * import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = await mkdtemp(join(tmpdir(), "ftp-"));
 * try {
 *   await writeFile(join(dir, "a"), "hello world");
 *   const file = await open(join(dir, "a"));
 *   const reader = readableFromHandle(file, { chunkSize: 4, size: 11 }).getReader({ mode: "byob" });
 *   let buffer = new ArrayBuffer(4);
 *   let text = "";
 *   while (true) {
 *     const { done, value } = await reader.read(new Uint8Array(buffer));
 *     if (value) buffer = value.buffer as ArrayBuffer;
 *     if (done) break;
 *     text += new TextDecoder().decode(value);
 *   }
 *   assert.equal(text, "hello world");
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 *
 * @param handle An open file.
 * @param options Offset, chunk size, known size, error mapping.
 * @returns The stream.
 */
export function readableFromHandle(
  handle: RandomAccessFile,
  options: HandleReadOptions,
): ReadableStream<Uint8Array> {
  const { chunkSize, size, mapError = (error) => error } = options;
  let position = Math.max(0, options.offset ?? 0);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close().catch(() => {});
  };
  /** How much to ask for with `room` bytes free: with a known size, what is left and one more. */
  const wantedFor = (room: number) =>
    size !== undefined && position <= size ? Math.min(room, size - position + 1) : room;
  let ahead: ReadAhead | undefined;
  if (options.readAhead) {
    const buffer = new Uint8Array(wantedFor(chunkSize));
    const done = handle.read(buffer, 0, buffer.byteLength, position).catch((error) => ({ error }));
    ahead = { buffer, done };
  }
  return new ReadableStream({
    type: "bytes",
    async pull(controller) {
      let request = controller.byobRequest;
      let buffer: Uint8Array<ArrayBuffer>;
      let wanted: number;
      let result: { bytesRead: number } | { error: unknown };
      if (ahead) {
        ({ buffer } = ahead);
        wanted = buffer.byteLength;
        result = await ahead.done;
        ahead = undefined;
        // Enqueued rather than responded: copied into the reader's buffer, the rest queued.
        request = null;
      } else {
        const view = request?.view
          ? new Uint8Array(request.view.buffer, request.view.byteOffset, request.view.byteLength)
          : undefined;
        wanted = wantedFor(view?.byteLength ?? chunkSize);
        buffer = view ?? new Uint8Array(wanted);
        result = await handle.read(buffer, 0, wanted, position).catch((error) => ({ error }));
      }
      if ("error" in result) {
        await close();
        throw mapError(result.error);
      }
      const { bytesRead } = result;
      position += bytesRead;
      if (bytesRead > 0) {
        if (request) request.respond(bytesRead);
        else controller.enqueue(bytesRead === wanted ? buffer : buffer.subarray(0, bytesRead));
      }
      // A regular file returns fewer bytes than asked only at its end.
      if (bytesRead === 0 || (size !== undefined && bytesRead < wanted)) {
        // Closed first, so the consumer sees the end while the handle closes.
        controller.close();
        if (bytesRead === 0) controller.byobRequest?.respond(0);
        await close();
      }
    },
    cancel: close,
  }, { highWaterMark: 0 });
}

/** Options of {@linkcode writableToHandle}. */
export interface HandleWriteOptions {
  /** Where the first byte goes; `null` writes at the handle's own position (append mode). */
  position: number | null;
  /** Bytes gathered before a write is issued (also the stream's queue size). */
  gather: number;
  /** Cut the file after the last byte written when the stream closes (resuming a download). */
  truncateOnClose?: boolean;
  /** Turns a write or close error into the error the stream reports (default: as is). */
  mapError?: (error: unknown) => unknown;
}

/**
 * Writes a stream into a file handle. Closing the stream writes what is gathered and closes the
 * handle; aborting it also writes what was gathered (so an interrupted transfer keeps every byte
 * it received), then closes the handle. A failed write closes the handle and errors the stream.
 *
 * The producer may reuse a chunk's buffer as soon as `write()` resolves: small chunks are
 * copied into a gather buffer of `gather` bytes (a full one is written while the next one
 * fills: two buffers, one write in flight), and a chunk of at least `gather` bytes that finds
 * the buffer empty is written without a copy, `write()` resolving once it is written.
 *
 * @param handle An open file.
 * @param options Start position, gather size, truncation, error mapping.
 * @returns The stream.
 */
export function writableToHandle(
  handle: RandomAccessFile,
  options: HandleWriteOptions,
): WritableStream<Uint8Array> {
  const { gather, mapError = (error) => error } = options;
  let position = options.position;
  /** The buffer being filled (allocated at the first byte) and how much of it is filled. */
  let buffer: Uint8Array | undefined;
  let filled = 0;
  /** The buffer of the write in flight, free again once `inFlight` settles. */
  let spare: Uint8Array | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  const fail = async (error: unknown) => {
    await close().catch(() => {});
    return mapError(error);
  };
  const writeAt = async (data: Uint8Array, at: number | null) => {
    let done = 0;
    while (done < data.length) {
      const where = at === null ? null : at + done;
      const { bytesWritten } = await handle.write(data, done, data.length - done, where);
      done += bytesWritten;
    }
  };
  /** Waits for the write in flight, then starts writing the filled part of the buffer. */
  const flush = async () => {
    await inFlight;
    if (filled === 0 || !buffer) return;
    const full = buffer;
    const length = filled;
    buffer = spare;
    spare = full;
    filled = 0;
    inFlight = writeAt(full.subarray(0, length), position);
    inFlight.catch(() => {});
    if (position !== null) position += length;
  };
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      try {
        for (let offset = 0; offset < chunk.length;) {
          const left = chunk.length - offset;
          if (filled === 0 && left >= gather) {
            // A large chunk is written as it is, without a copy, and the write resolves only
            // once it is on disk: the producer gets its buffer back after that.
            await inFlight;
            const part = offset === 0 ? chunk : chunk.subarray(offset);
            await writeAt(part, position);
            if (position !== null) position += part.length;
            return;
          }
          buffer ??= new Uint8Array(gather);
          const count = Math.min(gather - filled, left);
          buffer.set(
            count === chunk.length ? chunk : chunk.subarray(offset, offset + count),
            filled,
          );
          filled += count;
          offset += count;
          if (filled === gather) await flush();
        }
      } catch (error) {
        throw await fail(error);
      }
    },
    async close() {
      try {
        await flush();
        await inFlight;
        if (options.truncateOnClose && position !== null) await handle.truncate(position);
        await close();
      } catch (error) {
        throw await fail(error);
      }
    },
    async abort() {
      await flush().catch(() => {});
      await inFlight.catch(() => {});
      await close().catch(() => {});
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: gather }));
}
