/**
 * The state machine that every adapter's {@linkcode Conn} shares: a socket presented as two Web
 * Streams, with their byte counts. Private to the adapters.
 *
 * Three facts make the state. The read side is open until the peer's FIN, a failure, a cancel
 * or a TLS upgrade; the write side until our FIN (`writable.close()`), an abort, a failure or a
 * TLS upgrade; the socket is released once it is closed (by `close()`, an abort, or the end of
 * both sides) or handed to TLS, and from then on nothing here touches it again.
 *
 * The socket comes in two kinds, told apart by {@linkcode SocketOps.read}: one this module
 * reads from (Deno's `conn.read`: a byte stream, so that BYOB readers fill their own buffers),
 * and one that pushes bytes in events (Bun, node:net), which it pauses while nobody reads.
 * Either way the readable's high-water mark is 0: nothing is read before someone asks, so a
 * TLS upgrade finds every byte the protocol has not consumed still in the socket.
 *
 * Each stream is built on first use (building one costs more than some transfers: about 10 to
 * 40 µs in Deno 2.9), so that a download's data connection never builds its readable, nor an
 * upload's its writable. A stream built after its side ended starts ended the same way.
 *
 * @module
 */

import { ConnectionClosedError } from "../lib/errors.ts";
import { BufferPool } from "../lib/stream/buffer_pool.ts";

/** What one socket does for its {@linkcode ConnState}. */
export interface SocketOps {
  /**
   * Reads into `view`, resolving with the byte count or `null` at the peer's FIN. Only for
   * sockets read on demand; a socket without it pushes its bytes to
   * {@linkcode ConnState.received} and is paused and resumed.
   */
  read?(view: Uint8Array): Promise<number | null>;
  /** Stops bytes from coming (push sockets). */
  pause?(): void;
  /** Lets bytes come (push sockets). */
  resume?(): void;
  /**
   * Writes a whole chunk. Returns nothing when the socket took it at once, else a promise that
   * settles once it has (the caller may reuse the chunk then).
   */
  write(chunk: Uint8Array): Promise<unknown> | void;
  /** Sends FIN once everything written is out; reading goes on. */
  end(): Promise<unknown> | void;
  /** Resets the connection, or closes it at once where the runtime cannot send a reset. */
  reset(): void;
  /** Closes the socket (both sides are finished, or `close()` was called). */
  close(): void;
}

/**
 * Sizes of the buffers a default reader gets from a socket read on demand. The first read gets
 * 64 KiB, and a read that fills its buffer doubles the next one, so a bulk transfer moves in
 * large chunks (each read costs a fixed overhead that dominates at 64 KiB). A read of less than
 * a quarter of its buffer shrinks the next one to the power of two that holds four times as
 * much: a connection that waits between short reads (a control connection between commands)
 * waits on a small buffer, where a 64 KiB one cost every idle session its 64 KiB (Deno 2.9.6).
 * Reads that do not fill their buffer take what has arrived, so a smaller one costs no reads.
 */
const FIRST_READ = 64 * 1024;
const MIN_READ = 1024;
const MAX_READ = 1024 * 1024;
/**
 * First-read buffers that connections gave up (their reads got short), for the first reads
 * of the next connections (at most 8 kept): a new 64 KiB buffer cost Deno 15–30 µs per
 * connection.
 */
const firstReads = new BufferPool({ size: FIRST_READ, keep: 8 });

/**
 * Stands for the {@linkcode ConnectionClosedError} of a write side that the socket's close
 * ended, until a stream has to fail with it: building the error (its stack) costs 20 to 30 µs
 * in Node and Bun, and most closes find the write side ended already or never used (a data
 * connection per file).
 */
const SOCKET_CLOSED = Symbol("socket closed");

/** The controller methods both kinds of readable share. */
interface ReadController {
  readonly desiredSize: number | null;
  enqueue(chunk: Uint8Array): void;
  close(): void;
  error(error: unknown): void;
}

/**
 * A socket's two streams and the state they share; the adapter's `Conn` forwards to it and
 * tells it what the socket reports.
 */
export class ConnState {
  readonly #ops: SocketOps;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #reads: ReadController | undefined;
  #writes: WritableStreamDefaultController | undefined;
  #readOpen = true;
  #writeOpen = true;
  /** Why the read side failed (`undefined`: it ended), for a stream built after that. */
  #readError: unknown;
  /**
   * Why the write side failed, for a stream built after that; {@linkcode SOCKET_CLOSED} until
   * then when the socket's close ended it.
   */
  #writeError: unknown;
  #released = false;
  /** A read on demand is under way. */
  #reading = false;
  #bytesRead = 0;
  #bytesWritten = 0;
  #readSize = FIRST_READ;
  /** The last read buffer, kept when its bytes were copied out (see `#pull`). */
  #spare: Uint8Array<ArrayBuffer> | undefined;

  /**
   * Takes a socket; its streams are built when first asked for.
   *
   * @param ops What the socket does.
   */
  constructor(ops: SocketOps) {
    this.#ops = ops;
  }

  /** Bytes from the peer. */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= this.#buildReadable();
  }

  /** Bytes to the peer. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= this.#buildWritable();
  }

  /** Bytes the readable has taken from the socket. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Bytes the socket has taken from the writable. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Whether the socket was closed or handed on. */
  get released(): boolean {
    return this.#released;
  }

  /** Whether the read side is still open. */
  get readOpen(): boolean {
    return this.#readOpen;
  }

  /**
   * A push socket's bytes: queued for the reader, and the socket paused unless a reader still
   * waits.
   *
   * @param chunk The bytes (a view the reader may keep).
   */
  received(chunk: Uint8Array): void {
    if (!this.#readOpen) return;
    // Bytes may come before anyone asked for the stream (TLS reads through its handshake).
    this.#readable ??= this.#buildReadable();
    const reads = this.#reads!;
    this.#bytesRead += chunk.byteLength;
    reads.enqueue(chunk);
    if ((reads.desiredSize ?? 0) <= 0) this.#ops.pause?.();
  }

  /** The peer's FIN on a push socket: the readable ends; the socket closes if we are done. */
  peerEnded(): void {
    this.#endReads();
    this.#releaseIfDone();
  }

  /**
   * The socket failed: both streams error with `error` (those still open).
   *
   * @param error The failure.
   */
  fail(error: unknown): void {
    this.#endReads(error);
    this.#endWrites(error);
  }

  /**
   * The socket is gone: without an error the readable ends as at a FIN; the writable (and
   * the readable, with an error) fail.
   *
   * @param error Why, when it failed.
   */
  socketClosed(error?: unknown): void {
    this.#released = true;
    if (error !== undefined) return this.fail(error);
    this.#endReads();
    this.#endWrites(SOCKET_CLOSED);
  }

  /** Closes the socket at once (both directions). Idempotent. */
  close(): void {
    if (this.#released) return;
    this.#released = true;
    this.#ops.close();
  }

  /** Resets the socket at once (both directions). Idempotent. */
  reset(): void {
    if (this.#released) return;
    this.#released = true;
    this.#ops.reset();
  }

  /**
   * Throws unless the socket can be handed to TLS: no stream locked, no read under way, both
   * sides open, no received bytes unread.
   *
   * @throws {TypeError} When a stream is locked, a read is under way or bytes wait unread.
   * @throws {ConnectionClosedError} When the connection is (half) closed.
   */
  assertUpgradable(): void {
    if (this.#readable?.locked || this.#writable?.locked) {
      throw new TypeError("Cannot start TLS while the streams are locked");
    }
    if (this.#reading) throw new TypeError("Cannot start TLS while a read is pending");
    if (this.#released || !this.#readOpen || !this.#writeOpen) {
      throw new ConnectionClosedError("Cannot start TLS on a closed connection");
    }
    if ((this.#reads?.desiredSize ?? 0) < 0) {
      throw new TypeError("Cannot start TLS with received data nobody read");
    }
  }

  /**
   * Hands the socket on (to TLS): the readable ends, the writable fails, and the socket is
   * left alone from now on.
   */
  detach(): void {
    this.#released = true;
    this.#endReads();
    this.#endWrites(new TypeError("Connection was handed to TLS"));
  }

  /** Ends the read side: its stream closes, or errors with `error` (now or once built). */
  #endReads(error?: unknown): void {
    if (!this.#readOpen) return;
    this.#readOpen = false;
    this.#readError = error;
    if (!this.#reads) return;
    if (error === undefined) this.#reads.close();
    else this.#reads.error(error);
  }

  /** Ends the write side with `error` (now, or once its stream is built). */
  #endWrites(error: unknown): void {
    if (!this.#writeOpen) return;
    this.#writeOpen = false;
    this.#writeError = error;
    if (this.#writes) this.#writes.error(this.#writeFailure());
  }

  /** Why the write side failed, the error built now if the socket's close was the reason. */
  #writeFailure(): unknown {
    if (this.#writeError === SOCKET_CLOSED) {
      this.#writeError = new ConnectionClosedError("Connection closed");
    }
    return this.#writeError;
  }

  #buildWritable(): WritableStream<Uint8Array> {
    const ops = this.#ops;
    return new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writes = controller;
        if (!this.#writeOpen) controller.error(this.#writeFailure());
      },
      write: (chunk) => this.#write(chunk),
      close: () => {
        const ended = ops.end();
        if (!ended) return this.#writeEnded();
        return ended.then(() => this.#writeEnded());
      },
      abort: () => {
        this.#writeOpen = false;
        this.reset();
      },
    });
  }

  /** Gives a stream built after its side ended the same end. */
  #startReads(controller: ReadController): void {
    this.#reads = controller;
    if (this.#readOpen) return;
    if (this.#readError === undefined) controller.close();
    else controller.error(this.#readError);
  }

  #write(chunk: Uint8Array): Promise<void> | void {
    const size = chunk.byteLength;
    let pending: Promise<unknown> | void;
    try {
      pending = this.#ops.write(chunk);
    } catch (error) {
      this.#writeOpen = false;
      throw error;
    }
    if (!pending) {
      this.#bytesWritten += size;
      return;
    }
    return pending.then(() => {
      this.#bytesWritten += size;
    }, (error) => {
      this.#writeOpen = false;
      throw error;
    });
  }

  #writeEnded(): void {
    this.#writeOpen = false;
    this.#releaseIfDone();
  }

  #releaseIfDone(): void {
    if (this.#readOpen || this.#writeOpen || this.#released) return;
    this.#released = true;
    this.#ops.close();
  }

  #buildReadable(): ReadableStream<Uint8Array> {
    return this.#ops.read ? this.#pulledReadable() : this.#pushedReadable();
  }

  #pushedReadable(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      start: (controller) => this.#startReads(controller),
      pull: () => {
        if (this.#readOpen) this.#ops.resume?.();
      },
      cancel: () => {
        this.#readOpen = false;
        this.#ops.pause?.();
        this.#releaseIfDone();
      },
    }, { highWaterMark: 0 });
  }

  #pulledReadable(): ReadableStream<Uint8Array> {
    return new ReadableStream({
      type: "bytes",
      // Its enqueue() takes ArrayBuffer-backed views only: this stream enqueues nothing else.
      start: (controller) => this.#startReads(controller as unknown as ReadController),
      pull: (controller) => this.#pull(controller),
      cancel: () => {
        this.#readOpen = false;
        this.#releaseIfDone();
      },
    }, { highWaterMark: 0 });
  }

  /**
   * One read on demand. A BYOB reader's buffer is filled in place. A default reader gets the
   * read buffer itself when the read filled a good part of it; a short read (a command line)
   * gets a copy, and the buffer is kept for the next read when that one is of its size, so
   * that small reads do not cost an allocation each.
   */
  async #pull(controller: ReadableByteStreamController): Promise<void> {
    const request = controller.byobRequest;
    const view = request?.view
      ? new Uint8Array(
        request.view.buffer as ArrayBuffer,
        request.view.byteOffset,
        request.view.byteLength,
      )
      : this.#takeBuffer();
    let count: number | null;
    this.#reading = true;
    try {
      count = await this.#ops.read!(view);
    } catch (error) {
      if (!this.#readOpen) return;
      this.#readOpen = false;
      // A read cut short by our own close() is an end, not a failure.
      if (this.#released) {
        controller.close();
        request?.respond(0);
      } else {
        controller.error(error);
      }
      return;
    } finally {
      this.#reading = false;
    }
    if (!this.#readOpen) return;
    if (count === null) {
      this.#readOpen = false;
      controller.close();
      request?.respond(0);
      this.#releaseIfDone();
      return;
    }
    this.#bytesRead += count;
    if (request) {
      request.respond(count);
    } else if (count < view.length / 4) {
      this.#readSize = Math.max(MIN_READ, 2 ** Math.ceil(Math.log2(count * 4)));
      controller.enqueue(view.slice(0, count));
      if (view.length === this.#readSize) this.#spare = view;
      else firstReads.give(view.buffer);
    } else {
      if (count === view.length) this.#readSize = Math.min(MAX_READ, this.#readSize * 2);
      // Enqueueing transfers the buffer to the reader.
      controller.enqueue(view.subarray(0, count));
    }
  }

  #takeBuffer(): Uint8Array<ArrayBuffer> {
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare) return spare;
    const size = this.#readSize;
    return new Uint8Array(size === FIRST_READ ? firstReads.take() : new ArrayBuffer(size));
  }
}

/**
 * The part of an adapter's `Conn` that only forwards to its {@linkcode ConnState}: the two
 * streams and the byte counts.
 */
export abstract class ConnStateForwarder {
  /** The socket's state; the adapter creates it in its constructor. */
  protected abstract readonly state: ConnState;

  /** The bytes received, as a stream. */
  get readable(): ReadableStream<Uint8Array> {
    return this.state.readable;
  }

  /** The bytes to send, as a stream. */
  get writable(): WritableStream<Uint8Array> {
    return this.state.writable;
  }

  /** Bytes delivered by `readable` so far. */
  get bytesRead(): number {
    return this.state.bytesRead;
  }

  /** Bytes the socket accepted from `writable` so far. */
  get bytesWritten(): number {
    return this.state.bytesWritten;
  }
}
