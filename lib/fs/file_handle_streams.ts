/**
 * Web Streams over an open `node:fs/promises` file handle (which Deno, Bun and Node all
 * provide), shared by `LocalFileSystem` and the client's local files: reads in large
 * chunks with read-ahead, writes gathered into large writes with one write running while the
 * next is gathered, so the disk and the network work at the same time.
 *
 * @module
 */

import type { FileHandle } from "node:fs/promises";
import { concatBytes } from "../stream/bytes.ts";

/** Options of {@linkcode readableFromHandle}. */
export interface HandleReadOptions {
  /** Byte offset to start at (default 0). */
  offset?: number;
  /** Bytes per read. */
  chunkSize: number;
  /** How many chunks to read ahead of the consumer. */
  readAhead: number;
  /** Turns a read error into the error the stream reports (default: as is). */
  mapError?: (error: unknown) => unknown;
}

/**
 * Reads a file handle as a stream of chunks. The handle is closed at the end, on an error and
 * on cancel.
 *
 * @param handle An open file.
 * @param options Offset, chunk size, read-ahead, error mapping.
 * @returns The stream.
 */
export function readableFromHandle(
  handle: FileHandle,
  options: HandleReadOptions,
): ReadableStream<Uint8Array> {
  const { chunkSize, mapError = (error) => error } = options;
  let position = Math.max(0, options.offset ?? 0);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close().catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buffer = new Uint8Array(chunkSize);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, chunkSize, position));
      } catch (error) {
        await close();
        throw mapError(error);
      }
      if (bytesRead === 0) {
        await close();
        controller.close();
        return;
      }
      position += bytesRead;
      controller.enqueue(bytesRead === chunkSize ? buffer : buffer.subarray(0, bytesRead));
    },
    cancel: close,
  }, { highWaterMark: options.readAhead });
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
 * @param handle An open file.
 * @param options Start position, gather size, truncation, error mapping.
 * @returns The stream.
 */
export function writableToHandle(
  handle: FileHandle,
  options: HandleWriteOptions,
): WritableStream<Uint8Array> {
  const { gather, mapError = (error) => error } = options;
  let position = options.position;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
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
  const flush = async () => {
    await inFlight;
    if (pendingBytes === 0) return;
    const data = concatBytes(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    inFlight = writeAt(data, position);
    inFlight.catch(() => {});
    if (position !== null) position += data.length;
  };
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < gather) return;
      try {
        await flush();
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
