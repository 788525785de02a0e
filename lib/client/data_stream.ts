/**
 * One transfer over a data connection, as returned by `Client.getStream`: the bytes as Web
 * Streams (or chunk by chunk without a stream, {@linkcode readChunks}, as the client's own
 * downloads and listings read them), and the two ways to end it —
 * {@linkcode DataStream.finish} (close the data connection, read the final reply) and
 * {@linkcode DataStream.abort} (ABOR, replies drained). Either way the control channel is left
 * in step and handed to the next operation.
 *
 * @module
 */

import { FtpError, ReplyError, TimeoutError } from "../errors.ts";
import { type ExpectedCodes, matchesCode, type Reply, toPatterns } from "../protocol/reply.ts";
import type { Conn } from "../socket.ts";
import { abortError } from "../stream/abort.ts";
import { socketByobReader } from "../stream/byob.ts";
import { passThrottled, pieceSizeOf, type Throttle } from "../stream/throttle.ts";
import type { ControlChannel } from "./control_channel.ts";
import { IdleWatch } from "./idle_watch.ts";
import type { Release } from "./operation_queue.ts";
import type { TransferExplainer } from "./secure.ts";

/** How long an abort waits for the server's first reply before closing the data connection. */
const ABORT_GRACE_MS = 300;

/**
 * What a {@linkcode DataStream} is made of; built by the client.
 *
 * @example
 * ```ts
 * import type { DataStreamInit } from "./data_stream.ts";
 *
 * // The client fills it in once a transfer command got its 150.
 * const settings: Partial<DataStreamInit> = { socketTimeout: 30_000, autoFinish: "2xx" };
 * console.assert(settings.autoFinish === "2xx");
 * ```
 */
export interface DataStreamInit {
  /** The control channel the transfer command went over. */
  control: ControlChannel;
  /** The open data connection. */
  conn: Conn;
  /** The reply that started the transfer (usually `150`). */
  reply: Reply;
  /** Set when the server already sent the final reply (it skipped the `1xx`). */
  finalReply?: Reply;
  /** Ends the client's turn on the control channel. */
  release: Release;
  /** Idle timeout for data reads and writes in milliseconds. */
  socketTimeout?: number;
  /** Limits the download rate when its limit is set. */
  readThrottle?: Throttle;
  /** Limits the upload rate when its limit is set. */
  writeThrottle?: Throttle;
  /**
   * Finish by itself with these expected codes when the readable ends or the writable closes,
   * making the stream's end also the check of the transfer's outcome.
   */
  autoFinish?: ExpectedCodes;
  /** Aborts the transfer (ABOR, replies drained) when it fires. */
  signal?: AbortSignal;
  /** Called once when the transfer has ended and the control channel is free. */
  onSettled?: () => void;
  /**
   * Explains failures from the server's replies (FTPS: a data connection refused for lack of
   * TLS session reuse); when set, a failed data connection waits briefly for the server's
   * verdict before aborting.
   */
  explainer?: TransferExplainer;
}

/**
 * Options of {@linkcode DataStream.finish}.
 *
 * @example
 * ```ts
 * import { Client, type FinishOptions } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * const stream = await client.getStream("RETR a.txt");
 * assert.equal(await new Response(stream.readable).text(), "hello");
 * const options: FinishOptions = { signal: AbortSignal.timeout(5_000) };
 * assert.equal((await stream.finish("2xx", options)).code, 226);
 * ```
 */
export interface FinishOptions {
  /** Stops waiting for the final reply (which is then discarded before the next command). */
  signal?: AbortSignal;
}

/**
 * The bytes of a transfer one chunk at a time, as a `ReadableStreamDefaultReader` gives them.
 *
 * @example A stream's reader is one
 * ```ts
 * import type { TransferReader } from "./data_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const reader: TransferReader = new Blob(["hello"]).stream().getReader();
 * assert.equal((await reader.read()).value?.length, 5);
 * assert.equal((await reader.read()).done, true);
 * ```
 */
export interface TransferReader {
  /** The next chunk, or `done` at the end; rejects when the transfer failed. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  /**
   * Present when asked for (`readChunks` with `intoBuffers`) and the socket fills the caller's
   * buffers (a byte stream: Deno's): the next chunk, read into `buffer` (under a rate limit,
   * one paced piece at most). The chunk's `buffer` is a new `ArrayBuffer` over `buffer`'s
   * memory (the read transfers it), the caller's to read into again once done with the bytes.
   * Once it is offered, `read()` reads into buffers of its own.
   */
  readInto?(buffer: Uint8Array<ArrayBuffer>): Promise<ReadableStreamReadResult<Uint8Array>>;
  /** Gives up on the rest (a transfer is aborted). */
  cancel(reason?: unknown): Promise<void>;
}

let transferReaderOf: (stream: DataStream, intoBuffers: boolean) => TransferReader;

/** Bytes per read of the BYOB reader when it is not given the caller's buffer. */
const DISCARD_SIZE = 64 * 1024;

/**
 * Reads what the server sends (a file, a listing) without building the transfer's `readable`:
 * the same chunks, end and failures (and the same automatic finish) without a stream of its
 * own, which costs more than a small file's bytes do. Under a rate limit a chunk's pieces come
 * once the whole chunk was paced. Read through this or the readable, not both (once the
 * readable exists, this is its reader).
 *
 * @example
 * ```ts
 * import { Client } from "../../client.ts";
 * import { Server, User } from "../../server.ts";
 * import { readChunks } from "./data_stream.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
 * const stream = await client.getStream("RETR a.txt");
 * const reader = readChunks(stream);
 * assert.equal(new TextDecoder().decode((await reader.read()).value), "hello");
 * assert.equal((await reader.read()).done, true);
 * assert.equal((await stream.finish()).code, 226);
 * ```
 *
 * @param stream The transfer.
 * @param options `intoBuffers`: offer `readInto` where the socket can fill the caller's
 * buffers (its `read()` then reads through the same BYOB reader).
 * @returns Its reader.
 */
export function readChunks(
  stream: DataStream,
  options: { intoBuffers?: boolean } = {},
): TransferReader {
  return transferReaderOf(stream, options.intoBuffers === true);
}

/**
 * A transfer in progress. Read the server's bytes from `readable`, or write yours to
 * `writable`, then `finish()` — or `abort()`. It is `AsyncDisposable`: leaving an
 * `await using` scope aborts a download that was not read to its end and finishes otherwise.
 *
 * @example Upload and download by hand
 * ```ts
 * import { Client, DataStream } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * // An upload by hand: STOR, the bytes, then the server's 226.
 * const upload: DataStream = await client.getStream("STOR a.txt");
 * const writer = upload.writable.getWriter();
 * await writer.write(new TextEncoder().encode("hello"));
 * await writer.close(); // half-closes the data connection: the end of the file
 * assert.equal((await upload.finish()).code, 226);
 * assert.equal(upload.bytesWritten, 5);
 * {
 *   await using download = await client.getStream("RETR a.txt");
 *   assert.equal(await new Response(download.readable).text(), "hello");
 *   assert.equal(download.bytesRead, 5);
 * } // finished here
 * assert.equal(await client.size("a.txt"), 5);
 * ```
 */
export class DataStream implements AsyncDisposable {
  /** The reply that started the transfer (usually `150` or `125`). */
  readonly reply: Reply;
  readonly #control: ControlChannel;
  readonly #conn: Conn;
  readonly #release: Release;
  readonly #readThrottles: readonly Throttle[];
  readonly #writeThrottles: readonly Throttle[];
  readonly #autoFinish: ExpectedCodes | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onSettled: (() => void) | undefined;
  readonly #idle: IdleWatch | undefined;
  readonly #explainer: TransferExplainer | undefined;
  #final: Reply | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** The socket's BYOB reader, which every read goes through once `readInto` was offered. */
  #byobReader: ReadableStreamBYOBReader | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #readController: ReadableStreamDefaultController<Uint8Array> | undefined;
  #writeController: WritableStreamDefaultController | undefined;
  #readStarted = false;
  #readEnded = false;
  /** The empty view a BYOB read that found the end gave back (over the buffer it was given). */
  #endView: Uint8Array | undefined;
  #writableClosed = false;
  #failure: unknown;
  /** The failure is the data connection's own error, which the server's reply may explain. */
  #failureExplainable = false;
  #finishing: Promise<Reply> | undefined;
  #aborting: Promise<void> | undefined;
  #settled = false;
  #bytesRead = 0;
  #bytesWritten = 0;

  static {
    transferReaderOf = (stream, intoBuffers) => stream.#transferReader(intoBuffers);
  }

  /**
   * Wraps a started transfer. Used by the client; call `Client.getStream` instead.
   *
   * @param init The connection, the control channel and the settings.
   */
  constructor(init: DataStreamInit) {
    this.reply = init.reply;
    this.#control = init.control;
    this.#conn = init.conn;
    this.#release = init.release;
    this.#final = init.finalReply;
    this.#readThrottles = init.readThrottle ? [init.readThrottle] : [];
    this.#writeThrottles = init.writeThrottle ? [init.writeThrottle] : [];
    this.#autoFinish = init.autoFinish;
    this.#signal = init.signal;
    this.#onSettled = init.onSettled;
    this.#explainer = init.explainer;
    const timeout = init.socketTimeout;
    if (timeout !== undefined && timeout > 0 && Number.isFinite(timeout)) {
      this.#idle = new IdleWatch(timeout, () => {
        this.#fail(new TimeoutError(`Data connection idle for more than ${timeout} ms`), true);
      });
    }
    this.#signal?.addEventListener("abort", this.#onSignal, { once: true });
  }

  /** Bytes from the server. Reaching its end means the server closed the data connection. */
  get readable(): ReadableStream<Uint8Array> {
    // Made on first use: a transfer goes one way, and a stream costs more than a small file.
    return this.#readable ??= new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: (controller) => this.#pull(controller),
      cancel: (reason) => this.#abortQuietly(reason),
    }, { highWaterMark: 0 });
  }

  /** Bytes to the server. Closing it half-closes the data connection (the end of an upload). */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#closeWritable(),
      abort: (reason) => this.#abortQuietly(reason),
    });
  }

  /** Whether the data connection runs TLS (`PROT P`). */
  get secure(): boolean {
    return this.#conn.secure;
  }

  /**
   * Whether the data connection's TLS handshake resumed the control connection's session
   * (`undefined` on plain connections and where the runtime cannot tell).
   */
  get tlsSessionReused(): boolean | undefined {
    return this.#conn.tlsSessionReused;
  }

  /** Bytes received so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Bytes sent so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Whether the transfer has ended (finished or aborted) and the control channel is free. */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Ends the transfer: half-closes and then closes the data connection, and reads the final
   * reply. Calling it again returns the same result.
   *
   * @example
   * ```ts
   * import { Client, ReplyError } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await client.mkdir("pub");
   * const stream = await client.getStream("LIST pub");
   * await new Response(stream.readable).arrayBuffer();
   * const reply = await stream.finish();
   * assert.equal(reply.code, 226);
   * assert.equal(stream.settled, true);
   * assert.equal(await stream.finish(), reply); // the same result
   * // A final reply the caller did not expect is a ReplyError.
   * const again = await client.getStream("LIST pub");
   * await new Response(again.readable).arrayBuffer();
   * await assert.rejects(again.finish("250"), ReplyError);
   * ```
   *
   * @param expected Codes that mean success (default `"2xx"`).
   * @param options A signal that stops waiting for the reply.
   * @returns The final reply (usually `226`).
   * @throws {ReplyError} When the final reply does not match `expected`.
   */
  finish(expected: ExpectedCodes = "2xx", options: FinishOptions = {}): Promise<Reply> {
    if (this.#aborting) {
      return Promise.reject(this.#failure ?? new FtpError("Transfer was aborted"));
    }
    this.#finishing ??= this.#finish(expected, options.signal);
    return this.#finishing;
  }

  /**
   * Aborts the transfer: closes the data connection, sends ABOR and drains the replies for the
   * transfer and the ABOR (whichever the server sent, even when the transfer had already
   * completed), so the client stays usable. Does nothing once the transfer has ended.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * const big = new Blob([new Uint8Array(4 << 20)]); // 4 MiB
   * await big.stream().pipeTo(await client.uploadStream("big.bin"));
   * const stream = await client.getStream("RETR big.bin");
   * const reader = stream.readable.getReader();
   * await reader.read(); // the first chunk is enough
   * await stream.abort();
   * assert.ok(stream.bytesRead < 4 << 20);
   * await client.noop(); // the control channel is in step
   * ```
   *
   * @throws {ConnectionClosedError} When the server did not answer; the client is then closed.
   */
  abort(): Promise<void> {
    if (this.#finishing) return this.#finishing.then(() => {}, () => {});
    this.#aborting ??= this.#abort();
    return this.#aborting;
  }

  /**
   * Ends the transfer when an `await using` scope exits: aborts a download whose readable was
   * read but not to its end, finishes (expecting `2xx`) otherwise.
   *
   * @example
   * ```ts
   * import { Client } from "@streamftp/streamftp/client";
   * import { Server, User } from "@streamftp/streamftp/server";
   * import assert from "node:assert/strict";
   *
   * await using server = new Server({ users: [new User()] }); // anonymous, every right, in memory
   * await server.start("127.0.0.1", 0);
   * await using client = await Client.connect("127.0.0.1", server.address.port);
   * await client.login();
   * await new Blob(["hello"]).stream().pipeTo(await client.uploadStream("a.txt"));
   * {
   *   await using stream = await client.getStream("RETR a.txt");
   *   await stream.readable.getReader().read(); // read, maybe not to the end
   * } // aborted or finished: either way the turn is handed on
   * assert.equal(await client.size("a.txt"), 5);
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#finishing || this.#aborting) {
      await (this.#finishing ?? this.#aborting)?.catch(() => {});
      return;
    }
    if (this.#readStarted && !this.#readEnded) {
      await this.abort();
      return;
    }
    await this.finish();
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    let chunk: Uint8Array | null;
    try {
      chunk = await this.#nextChunk();
    } catch (error) {
      safeError(controller, error);
      return;
    }
    if (chunk === null) {
      safeClose(controller);
      return;
    }
    // Unlimited, the chunk is enqueued at once and there is nothing to wait for.
    const enqueue = (piece: Uint8Array) => controller.enqueue(piece);
    const paced = passThrottled(chunk, this.#readThrottles, enqueue, this.#signal);
    if (paced) await paced;
  }

  #transferReader(intoBuffers: boolean): TransferReader {
    if (this.#readable) return this.#readable.getReader();
    const pieces: Uint8Array[] = [];
    const enqueue = (piece: Uint8Array) => void pieces.push(piece);
    const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
      while (pieces.length === 0) {
        const chunk = await this.#nextChunk();
        if (chunk === null) return { done: true, value: undefined };
        // Unlimited, the chunk is the one piece, at once.
        const paced = passThrottled(chunk, this.#readThrottles, enqueue, this.#signal);
        if (paced) await paced;
      }
      return { done: false, value: pieces.shift()! };
    };
    const cancel = (reason: unknown) => this.#abortQuietly(reason);
    if (intoBuffers && !this.#reader) this.#byobReader ??= socketByobReader(this.#conn);
    if (!this.#byobReader) return { read, cancel };
    const throttles = this.#readThrottles;
    return {
      read,
      readInto: async (buffer) => {
        // Under a limit, a read of one piece at most: paced whole, the chunk stays in `buffer`.
        const piece = pieceSizeOf(throttles);
        const into = piece === undefined || piece >= buffer.length
          ? buffer
          : buffer.subarray(0, piece);
        const chunk = await this.#nextChunk(into);
        if (chunk !== null) {
          if (piece !== undefined) {
            const paced = passThrottled(chunk, throttles, () => {}, this.#signal);
            if (paced) await paced;
          }
          return { done: false, value: chunk };
        }
        // The buffer of the read that found the end, the caller's to use again.
        return { done: true, value: this.#endView };
      },
      cancel,
    };
  }

  /**
   * The next chunk from the server (into `buffer` where given, once reads go through the BYOB
   * reader); `null` at the end (once finished, with `autoFinish`).
   */
  async #nextChunk(buffer?: Uint8Array<ArrayBuffer>): Promise<Uint8Array | null> {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#settled || this.#aborting || this.#finishing) return null;
    this.#readStarted = true;
    const byob = this.#byobReader;
    const reader = byob ? undefined : this.#reader ??= this.#conn.readable.getReader();
    let result: ReadableStreamReadResult<Uint8Array>;
    this.#idle?.begin();
    try {
      result = byob
        ? await byob.read(buffer ?? new Uint8Array(DISCARD_SIZE))
        : await reader!.read();
    } catch (error) {
      throw await this.#connectionFailed(error);
    } finally {
      this.#idle?.end();
    }
    if (this.#failure !== undefined) throw this.#failure;
    if (result.done) {
      this.#readEnded = true;
      this.#endView = result.value;
      if (this.#autoFinish !== undefined) {
        await this.finish(this.#autoFinish, { signal: this.#signal });
      }
      return null;
    }
    this.#bytesRead += result.value.length;
    return result.value;
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#settled || this.#aborting || this.#finishing || this.#writableClosed) {
      throw new FtpError("Cannot write: the transfer has ended");
    }
    await passThrottled(chunk, this.#writeThrottles, (piece) => this.#send(piece), this.#signal);
  }

  async #send(chunk: Uint8Array): Promise<void> {
    const writer = this.#writer ??= this.#conn.writable.getWriter();
    this.#idle?.begin();
    try {
      await writer.write(chunk);
    } catch (error) {
      throw await this.#connectionFailed(error);
    } finally {
      this.#idle?.end();
    }
    this.#bytesWritten += chunk.length;
  }

  async #closeWritable(): Promise<void> {
    if (this.#autoFinish !== undefined) {
      await this.finish(this.#autoFinish, { signal: this.#signal });
      return;
    }
    await this.#halfClose();
  }

  async #halfClose(): Promise<void> {
    if (this.#writableClosed) return;
    this.#writableClosed = true;
    const writer = this.#writer ??= this.#conn.writable.getWriter();
    this.#idle?.begin();
    try {
      await writer.close();
    } finally {
      this.#idle?.end();
    }
  }

  async #finish(expected: ExpectedCodes, signal: AbortSignal | undefined): Promise<Reply> {
    try {
      // A TLS server sends on an upload's connection too (TLS 1.3 session tickets, its
      // close_notify): closing with those unread would reset the connection under the upload's
      // last bytes. So the connection is read to its end, and closed once the server has
      // confirmed, as it does only after reading everything.
      const linger = this.#conn.secure && this.#writer !== undefined && !this.#readStarted &&
        this.#failure === undefined;
      // The half-close is what ends an upload; a failure here still leaves a reply to read. A
      // download that wrote nothing is ended by the close alone (one system call less).
      const download = this.#readStarted && this.#writer === undefined;
      if (!download) await this.#halfClose().catch(() => {});
      if (linger) this.#discardIncoming();
      else this.#conn.close();
      this.#idle?.stop();
      if (this.#failure !== undefined) {
        if (!this.#final && !this.#control.closed) await this.#control.resync().catch(() => {});
        throw this.#failure;
      }
      const reply = this.#final ?? await this.#control.expect(undefined, signal);
      this.#final = reply;
      if (!matchesCode(reply.code, expected)) {
        throw this.#explained(new ReplyError(toPatterns(expected), reply), [reply]);
      }
      return reply;
    } finally {
      this.#conn.close();
      this.#settle();
    }
  }

  async #abort(): Promise<void> {
    this.#failure ??= abortError(undefined);
    this.#idle?.stop();
    // An explainable failure errors the streams once the server's replies are in.
    if (!this.#failureExplainable) this.#errorStreams();
    let dataClosed = false;
    const closeData = () => {
      if (dataClosed) return;
      dataClosed = true;
      this.#conn.close();
    };
    try {
      if (!this.#final && !this.#control.closed) {
        // ABOR goes out while the data connection is still open, as RFC 959 has it: some
        // servers (aioftp) drop the whole session when the client resets a transfer under
        // them. Servers that only notice ABOR once the transfer fails (vsftpd, without urgent
        // data) get the data connection closed after a short grace. Incoming data is
        // discarded meanwhile so that the server is never stuck on a full socket.
        this.#discardIncoming();
        const grace = setTimeout(closeData, ABORT_GRACE_MS);
        let replies: Reply[];
        try {
          replies = await this.#control.resync(closeData);
        } finally {
          clearTimeout(grace);
        }
        const refusal = replies.find((reply) => reply.code >= 400);
        if (this.#failureExplainable && refusal) {
          const expected = toPatterns(this.#autoFinish ?? "2xx");
          this.#failure = this.#explained(
            new ReplyError(expected, refusal, { cause: this.#failure }),
            replies,
          );
        }
      }
    } finally {
      closeData();
      this.#errorStreams();
      this.#settle();
    }
  }

  #errorStreams(): void {
    if (this.#readController) safeError(this.#readController, this.#failure);
    if (this.#writeController) this.#writeController.error(this.#failure);
  }

  #discardIncoming(): void {
    const byob = this.#byobReader;
    const reader = byob ? undefined : this.#reader ??= this.#conn.readable.getReader();
    void (async () => {
      if (!byob) {
        while (!(await reader!.read()).done) {
          // Discarded.
        }
        return;
      }
      // Each read transfers the buffer: the next one reads into what came back.
      let scratch = new Uint8Array(DISCARD_SIZE);
      for (let result = await byob.read(scratch); !result.done; result = await byob.read(scratch)) {
        scratch = new Uint8Array(result.value.buffer);
      }
    })().catch(() => {});
  }

  /**
   * Aborts after the data connection failed under a read or write. A server that refuses in
   * mid-transfer (`552` over quota) replies and resets the connection: its reply, read while
   * aborting, then replaces the socket error, which says nothing about why.
   *
   * @returns What the transfer failed with.
   */
  async #connectionFailed(error: unknown): Promise<unknown> {
    if (this.#failure === undefined) {
      this.#failure = error;
      this.#failureExplainable = !this.#signal?.aborted;
      if (this.#failureExplainable && this.#explainer) await this.#awaitVerdict(this.#explainer);
    }
    await this.abort().catch(() => {});
    return this.#failure;
  }

  /**
   * Waits a little for the server's final reply after the data connection failed: a server
   * that refuses a TLS data connection says why at once (vsftpd: `522 ... session reuse
   * required`, then it ends the session, so the reply would be lost behind an ABOR). When the
   * reply comes, the transfer is over and no ABOR is needed.
   */
  async #awaitVerdict(explainer: TransferExplainer): Promise<void> {
    if (this.#final || this.#control.closed) return;
    let reply: Reply;
    try {
      reply = await this.#control.expect(undefined, AbortSignal.timeout(explainer.graceMs));
    } catch {
      // No verdict in time (the reply still due is discarded by the ABOR that follows), or the
      // control connection is gone too.
      return;
    }
    this.#final = reply;
    if (reply.code >= 400) {
      const expected = toPatterns(this.#autoFinish ?? "2xx");
      this.#failure = this.#explained(
        new ReplyError(expected, reply, { cause: this.#failure }),
        [reply],
      );
    }
  }

  #explained(error: unknown, replies: readonly Reply[]): unknown {
    return this.#explainer ? this.#explainer.explain(error, replies) : error;
  }

  async #abortQuietly(reason: unknown): Promise<void> {
    if (this.#failure === undefined && reason !== undefined) this.#failure = reason;
    await this.abort().catch(() => {});
  }

  #fail(error: unknown, closeNow: boolean): void {
    if (this.#settled) return;
    if (this.#failure === undefined) this.#failure = error;
    // Closing unblocks a pending read, write or half-close; finish() then resynchronizes.
    if (closeNow || this.#finishing) this.#conn.close();
    void this.abort().catch(() => {});
  }

  #onSignal = (): void => {
    this.#fail(abortError(this.#signal?.reason), false);
  };

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#idle?.stop();
    this.#signal?.removeEventListener("abort", this.#onSignal);
    this.#release();
    this.#onSettled?.();
  }
}

function safeError(controller: ReadableStreamDefaultController<Uint8Array>, error: unknown): void {
  try {
    controller.error(error);
  } catch {
    // Already closed or errored.
  }
}

function safeClose(controller: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    controller.close();
  } catch {
    // Already closed or errored.
  }
}
