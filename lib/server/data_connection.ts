/**
 * The open data connection a transfer works on: the raw connection, with byte counting (for
 * STAT and the stall check) and, only when a limit is set, the session's speed limits.
 *
 * {@linkcode DataConnection.send} and {@linkcode DataConnection.receive} move a whole stream:
 * one read and one write per chunk, counted where the chunk passes, throttled in place when a
 * limit is set; no stream is put in between. `readable` and `writable` are for transfers that
 * read or write chunk by chunk themselves (listings, extensions); they count the same way.
 *
 * @module
 */

import type { Conn } from "../socket.ts";
import { passThrottled, type Throttle } from "../stream/throttle.ts";

/** Options of {@linkcode DataConnection}. */
export interface DataConnectionOptions {
  /** Limits on bytes received (uploads); empty for none. */
  readThrottles?: readonly Throttle[];
  /** Limits on bytes sent (downloads); empty for none. */
  writeThrottles?: readonly Throttle[];
  /** Told about every chunk that passes, in either direction. */
  onBytes?(count: number): void;
  /** Stops waiting for a throttle and ends `send`/`receive` (ABOR). */
  signal?: AbortSignal;
}

const ignore = () => {};

/**
 * One data connection, as a transfer's `run` receives it. Move a whole stream with
 * {@linkcode DataConnection.send} (downloads) or {@linkcode DataConnection.receive} (uploads),
 * or read `readable` / write `writable` yourself (close or release `writable` when done).
 * `conn` is the raw connection (no counting, no limits).
 */
export class DataConnection {
  /** The raw connection (no counting, no limits). */
  readonly conn: Conn;
  readonly #readThrottles: readonly Throttle[];
  readonly #writeThrottles: readonly Throttle[];
  readonly #onBytes: (count: number) => void;
  readonly #signal: AbortSignal | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  /** Whether `send` took the sending side (it closes it itself). */
  #sent = false;

  /**
   * Wraps an open connection.
   *
   * @param conn The data connection.
   * @param options Limits and byte counting.
   */
  constructor(conn: Conn, options: DataConnectionOptions = {}) {
    this.conn = conn;
    this.#readThrottles = options.readThrottles ?? [];
    this.#writeThrottles = options.writeThrottles ?? [];
    this.#onBytes = options.onBytes ?? ignore;
    this.#signal = options.signal;
  }

  /** Bytes from the client, counted and limited (made at first use). */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= this.#countedReadable();
  }

  /** Bytes to the client, counted and limited; closing it sends FIN once everything is flushed. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= this.#countedWritable();
  }

  /**
   * Sends a stream to the client and closes the sending side (FIN) once it is flushed. Chunks
   * go straight from `source` to the socket, counted as they pass, throttled only when a
   * limit is set. On a failure (or when `signal` aborts) `source` is cancelled, the connection
   * aborted, and the error (or the signal's reason) thrown.
   *
   * @param source What to send; it is read to its end.
   * @param signal Stops the transfer.
   */
  async send(source: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<void> {
    this.#sent = true;
    await pump(source.getReader(), this.conn.writable.getWriter(), {
      throttles: this.#writeThrottles,
      onBytes: this.#onBytes,
      throttleSignal: this.#signal,
      signal,
      // The socket may be what waits (a client that reads nothing): aborting it ends the wait.
      abortSinkAtOnce: true,
    });
  }

  /**
   * Receives the client's bytes into `sink` until the client ends the connection, then closes
   * `sink`. Chunks go straight from the socket to `sink`, counted as they pass, throttled only
   * when a limit is set. On a failure (or when `signal` aborts) `sink` is aborted (a file keeps
   * what it got), reading stops, and the error (or the signal's reason) is thrown.
   *
   * @param sink Where the bytes go.
   * @param signal Stops the transfer.
   */
  async receive(sink: WritableStream<Uint8Array>, signal?: AbortSignal): Promise<void> {
    await pump(this.conn.readable.getReader(), sink.getWriter(), {
      throttles: this.#readThrottles,
      onBytes: this.#onBytes,
      throttleSignal: this.#signal,
      signal,
      abortSinkAtOnce: false,
    });
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

  /** The socket's bytes, counted chunk by chunk as they are read; throttled when limited. */
  #countedReadable(): ReadableStream<Uint8Array> {
    const reader = this.conn.readable.getReader();
    const throttles = this.#readThrottles;
    const onBytes = this.#onBytes;
    const signal = this.#signal;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          reader.releaseLock();
          return;
        }
        onBytes(value.byteLength);
        await passThrottled(value, throttles, (piece) => controller.enqueue(piece), signal);
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
  }

  /** Writes to the socket, counted chunk by chunk; throttled when limited. */
  #countedWritable(): WritableStream<Uint8Array> {
    const writer = this.conn.writable.getWriter();
    const throttles = this.#writeThrottles;
    const onBytes = this.#onBytes;
    const signal = this.#signal;
    const write = (piece: Uint8Array) => {
      onBytes(piece.byteLength);
      return writer.write(piece);
    };
    return new WritableStream<Uint8Array>({
      write: (chunk) => passThrottled(chunk, throttles, write, signal),
      close: () => writer.close(),
      abort: (reason) => writer.abort(reason),
    });
  }
}

interface PumpOptions {
  throttles: readonly Throttle[];
  onBytes(count: number): void;
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
 * `pipeTo` does, but counted in place and without its per-pipe set-up. Both streams are
 * finished when it returns and stay locked: releasing a lock costs an error object per
 * stream (its `closed` promise is rejected), for nothing.
 */
async function pump(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  options: PumpOptions,
): Promise<void> {
  const { throttles, onBytes, throttleSignal, signal } = options;
  const put = (chunk: Uint8Array): Promise<void> | undefined => {
    onBytes(chunk.byteLength);
    writer.write(chunk).catch(ignore);
    const room = writer.desiredSize;
    return room === null || room <= 0 ? writer.ready : undefined;
  };
  const stop = () => {
    reader.cancel(signal?.reason).catch(ignore);
    if (options.abortSinkAtOnce) writer.abort(signal?.reason).catch(ignore);
  };
  signal?.addEventListener("abort", stop, { once: true });
  try {
    while (true) {
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      if (throttles.length === 0) await put(value);
      else await passThrottled(value, throttles, put, throttleSignal);
    }
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
