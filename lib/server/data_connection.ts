/**
 * The open data connection a transfer works on: the raw connection, whose own byte counts are
 * the transfer's (for STAT, the stall check and the `transfer` hook), and, only when a limit is
 * set, the session's speed limits.
 *
 * {@linkcode DataConnection.send} and {@linkcode DataConnection.receive} move a whole stream:
 * one read and one write per chunk, throttled in place when a limit is set; no stream is put
 * in between. `readable` and `writable` are for transfers that read or write chunk by chunk
 * themselves (listings, extensions): without a limit they are the connection's own streams.
 *
 * @module
 */

import type { Conn } from "../socket.ts";
import { BufferPool } from "../stream/buffer_pool.ts";
import { byobReaderOf, socketByobReader } from "../stream/byob.ts";
import { passThrottled, type Throttle } from "../stream/throttle.ts";

/** Options of {@linkcode DataConnection}. */
export interface DataConnectionOptions {
  /** Limits on bytes received (uploads); empty for none. */
  readThrottles?: readonly Throttle[];
  /** Limits on bytes sent (downloads); empty for none. */
  writeThrottles?: readonly Throttle[];
  /** Stops waiting for a throttle and ends `send`/`receive` (ABOR). */
  signal?: AbortSignal;
}

const ignore = () => {};

/**
 * The buffers that byte streams are read into, downloads (from a file) and uploads (from
 * Deno's sockets) alike: two per running transfer, a few kept between transfers.
 */
const transferBuffers = new BufferPool({ size: 256 * 1024, keep: 8 });

/**
 * One data connection, as a transfer's `run` receives it. Move a whole stream with
 * {@linkcode DataConnection.send} (downloads) or {@linkcode DataConnection.receive} (uploads),
 * or read `readable` / write `writable` yourself (close or release `writable` when done).
 * `conn` is the raw connection (counted, but not limited).
 *
 * @example A handler's transfer that sends one line
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type DataConnection, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const line = new TextEncoder().encode("hello\r\n");
 * await using server = new Server();
 * server.commands.set("HELLO", {
 *   requires: ["login", "data-channel"],
 *   handler: (ctx) =>
 *     ctx.startTransfer({
 *       description: "HELLO",
 *       opening: "sending a greeting",
 *       run: (data: DataConnection, signal) => data.send(new Blob([line]).stream(), signal),
 *     }),
 * });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const stream = await client.getStream("HELLO");
 * assert.equal(await new Response(stream.readable).text(), "hello\r\n");
 * assert.equal((await stream.finish()).code, 226);
 * ```
 */
export class DataConnection {
  /** The raw connection (counted, not limited). */
  readonly conn: Conn;
  readonly #readThrottles: readonly Throttle[];
  readonly #writeThrottles: readonly Throttle[];
  readonly #signal: AbortSignal | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  /** Whether `send` took the sending side (it closes it itself). */
  #sent = false;

  /**
   * Wraps an open connection.
   *
   * @param conn The data connection.
   * @param options Limits, and the signal that stops waiting for them.
   */
  constructor(conn: Conn, options: DataConnectionOptions = {}) {
    this.conn = conn;
    this.#readThrottles = options.readThrottles ?? [];
    this.#writeThrottles = options.writeThrottles ?? [];
    this.#signal = options.signal;
  }

  /** Bytes moved so far, both directions (the connection counts them as they pass). */
  get bytes(): number {
    return this.conn.bytesRead + this.conn.bytesWritten;
  }

  /** Bytes from the client, limited when a limit is set (the connection's own otherwise). */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= this.#readThrottles.length === 0
      ? this.conn.readable
      : this.#throttledReadable();
  }

  /** Bytes to the client, limited when a limit is set; closing it sends FIN once flushed. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= this.#writeThrottles.length === 0
      ? this.conn.writable
      : this.#throttledWritable();
  }

  /**
   * Sends a stream to the client and closes the sending side (FIN) once it is flushed. Chunks
   * go straight from `source` to the socket, throttled only when a limit is set. On a failure
   * (or when `signal` aborts) `source` is cancelled, the connection aborted, and the error (or
   * the signal's reason) thrown.
   *
   * @param source What to send; it is read to its end.
   * @param signal Stops the transfer.
   */
  async send(source: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<void> {
    this.#sent = true;
    const writer = this.conn.writable.getWriter();
    const options = {
      throttles: this.#writeThrottles,
      throttleSignal: this.#signal,
      signal,
      // The socket may be what waits (a client that reads nothing): aborting it ends the wait.
      abortSinkAtOnce: true,
    };
    const into = this.#writeThrottles.length === 0 ? byobReaderOf(source) : undefined;
    if (into) await pumpThroughBuffers(into, writer, options);
    else await pump(source.getReader(), writer, options);
  }

  /**
   * Receives the client's bytes into `sink` until the client ends the connection, then closes
   * `sink`. Chunks go straight from the socket to `sink`, throttled only when a limit is set;
   * a socket that is a byte stream (Deno) is read into two recycled buffers in turn, one read
   * running while the sink writes the last chunk.
   * On a failure (or when `signal` aborts) `sink` is aborted (a file keeps what it got),
   * reading stops, and the error (or the signal's reason) is thrown.
   *
   * @param sink Where the bytes go.
   * @param signal Stops the transfer.
   */
  async receive(sink: WritableStream<Uint8Array>, signal?: AbortSignal): Promise<void> {
    const writer = sink.getWriter();
    const options = {
      throttles: this.#readThrottles,
      throttleSignal: this.#signal,
      signal,
      abortSinkAtOnce: false,
    };
    // A byte stream is read into recycled buffers, the next read running while the sink
    // writes the last one (a default reader would wait for each write, on a new buffer per read).
    const into = this.#readThrottles.length === 0 ? socketByobReader(this.conn) : undefined;
    if (into) await pumpThroughBuffers(into, writer, options);
    else await pump(this.conn.readable.getReader(), writer, options);
  }

  /**
   * Ends the sending side: closes `writable` (or the raw one) unless the transfer did, holds
   * its lock, or used {@linkcode DataConnection.send}, and waits until all bytes reached the
   * socket.
   */
  async finish(): Promise<void> {
    if (this.#sent) return;
    const writable = this.#writable ?? this.conn.writable;
    if (!writable.locked) await writable.close().catch(() => {});
  }

  /** The socket's bytes, throttled. */
  #throttledReadable(): ReadableStream<Uint8Array> {
    const reader = this.conn.readable.getReader();
    const throttles = this.#readThrottles;
    const signal = this.#signal;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          reader.releaseLock();
          return;
        }
        await passThrottled(value, throttles, (piece) => controller.enqueue(piece), signal);
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
  }

  /** Writes to the socket, throttled. */
  #throttledWritable(): WritableStream<Uint8Array> {
    const writer = this.conn.writable.getWriter();
    const throttles = this.#writeThrottles;
    const signal = this.#signal;
    const write = (piece: Uint8Array) => writer.write(piece);
    return new WritableStream<Uint8Array>({
      write: (chunk) => passThrottled(chunk, throttles, write, signal),
      close: () => writer.close(),
      abort: (reason) => writer.abort(reason),
    });
  }
}

interface PumpOptions {
  throttles: readonly Throttle[];
  /** Cancels waiting for a throttle. */
  throttleSignal: AbortSignal | undefined;
  /** Ends the pump. */
  signal: AbortSignal | undefined;
  /** Whether an abort also aborts the sink at once (rather than after the read ends). */
  abortSinkAtOnce: boolean;
}

/**
 * Moves chunks from a reader to a writer until the reader ends, then closes the writer: one
 * read and one write per chunk, with one write in flight while the next chunk is read, as
 * `pipeTo` does, but without its per-pipe set-up. Both streams are
 * finished when it returns and stay locked: releasing a lock costs an error object per
 * stream (its `closed` promise is rejected), for nothing.
 */
function pump(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  options: PumpOptions,
): Promise<void> {
  const { throttles, throttleSignal, signal } = options;
  const put = (chunk: Uint8Array): Promise<void> | undefined => {
    writer.write(chunk).catch(ignore);
    const room = writer.desiredSize;
    return room === null || room <= 0 ? writer.ready : undefined;
  };
  return pumpUntilDone(reader, writer, options, async () => {
    while (true) {
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      if (throttles.length === 0) await put(value);
      else await passThrottled(value, throttles, put, throttleSignal);
    }
  });
}

/**
 * {@linkcode pump} for a byte stream and no limit: the stream is read into two buffers of the
 * pool in turn, one being written while the other fills, and they go back to the pool at the
 * end. A buffer is read into again only once its write has finished (the writer holds it till
 * then), so nothing is allocated per chunk.
 */
function pumpThroughBuffers(
  reader: ReadableStreamBYOBReader,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  options: PumpOptions,
): Promise<void> {
  const buffers = [transferBuffers.take(), transferBuffers.take()];
  let turn = 0;
  let writing: Promise<void> = Promise.resolve();
  return pumpUntilDone(reader, writer, options, async () => {
    while (true) {
      const { done, value } = await reader.read(new Uint8Array(buffers[turn]));
      options.signal?.throwIfAborted();
      // The read took the buffer over; the view it returns holds it now.
      if (value) buffers[turn] = value.buffer as ArrayBuffer;
      if (done) break;
      await writing;
      writing = writer.write(value);
      // Handled at once: a write that fails while the next read waits (or after the loop
      // failed) is no unhandled rejection; it is awaited before the next one starts.
      writing.catch(ignore);
      turn ^= 1;
    }
    await writing;
    for (const buffer of buffers) transferBuffers.give(buffer);
  });
}

/**
 * Runs a pump's loop, then closes the writer. When `options.signal` aborts, the reader is
 * cancelled (and the writer aborted at once, if so asked); on any failure both are ended and
 * the failure (or the signal's reason) is thrown.
 */
async function pumpUntilDone(
  reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  options: PumpOptions,
  loop: () => Promise<void>,
): Promise<void> {
  const signal = options.signal;
  const stop = () => {
    reader.cancel(signal?.reason).catch(ignore);
    if (options.abortSinkAtOnce) writer.abort(signal?.reason).catch(ignore);
  };
  signal?.addEventListener("abort", stop, { once: true });
  try {
    await loop();
    await writer.close();
  } catch (error) {
    const reason = signal?.aborted ? signal.reason : error;
    await Promise.all([
      reader.cancel(reason).catch(ignore),
      writer.abort(reason).catch(ignore),
    ]);
    throw reason;
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}
