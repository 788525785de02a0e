/**
 * The client's control connection: sends command lines, assembles replies, bounds every wait
 * by the idle timeout, and keeps the exchange in step when a caller gives up early. An
 * abandoned reply is "owed" and discarded before the next command, and an aborted transfer is
 * resynchronized with ABOR followed by a PWD sentinel, so no late `226` can be mistaken for the
 * answer to a later command (aioftp #201). After `AUTH TLS` it upgrades to TLS in place.
 *
 * @module
 */

import {
  ConnectionClosedError,
  FtpError,
  ProtocolError,
  ReplyError,
  TimeoutError,
} from "../errors.ts";
import { encodeCommand } from "../protocol/command.ts";
import {
  type ExpectedCodes,
  matchesCode,
  type Reply,
  ReplyParser,
  toPatterns,
} from "../protocol/reply.ts";
import type { Conn, TlsClientOptions } from "../socket.ts";
import { abortable, abortError } from "../stream/abort.ts";
import { LineReader, LineTooLongError } from "../stream/line_reader.ts";
import { watchDeadline } from "./deadline.ts";
import { ProtocolLog, type ProtocolLogHooks } from "./protocol_log.ts";

/**
 * Options of {@linkcode ControlChannel}: limits, and the hooks that see every line.
 *
 * @example
 * ```ts
 * import type { ControlChannelOptions } from "./control_channel.ts";
 *
 * const lines: string[] = [];
 * const options: ControlChannelOptions = {
 *   socketTimeout: 30_000,
 *   maxReplyBytes: 64 * 1024,
 *   onCommand: (line) => lines.push(line), // PASS arrives masked
 * };
 * console.assert(options.maxReplyBytes === 65536);
 * ```
 */
export interface ControlChannelOptions extends ProtocolLogHooks {
  /** Longest wait in milliseconds for any one read or write; none when unset. */
  socketTimeout?: number;
  /** How long discarding owed replies and resynchronizing after ABOR may take (ms). */
  resyncTimeout?: number;
  /** Longest reply line in bytes (default 16384). */
  maxLineLength?: number;
  /** Most lines in one reply (default 100000); a longer reply is a protocol error. */
  maxReplyLines?: number;
  /**
   * Most bytes in one reply, line ends included (default 1 MiB); a bigger reply is a protocol
   * error and closes the channel, as the rest of it cannot be told from the next reply.
   */
  maxReplyBytes?: number;
}

const DEFAULT_RESYNC_TIMEOUT = 30_000;
const DEFAULT_MAX_REPLY_BYTES = 1024 * 1024;

/**
 * A control connection speaking FTP on the client side.
 *
 * @example Greeting, login, commands
 * ```ts
 * import { Server } from "../../server.ts";
 * import { defaultNetwork } from "../network_registry.ts";
 * import { ControlChannel } from "./control_channel.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * const { port } = server.address;
 * const conn = await defaultNetwork().connect({ hostname: "127.0.0.1", port });
 * const control = new ControlChannel(conn, { socketTimeout: 10_000 });
 * try {
 *   assert.equal((await control.expect("220")).code, 220); // the greeting
 *   await control.exchange("USER anonymous", "2xx");
 *   await control.send("PWD");
 *   assert.deepEqual(await control.read(), { code: 257, lines: ['"/"'] });
 *   // A reply given up on is owed, and discarded before the next command.
 *   await control.send("NOOP");
 *   control.owe();
 *   await control.drain();
 *   assert.equal((await control.exchange("SYST")).code, 215);
 * } finally {
 *   control.close();
 * }
 * ```
 */
export class ControlChannel {
  /** Idle timeout for reads and writes in milliseconds (may be changed). */
  socketTimeout: number | undefined;
  readonly #resyncTimeout: number;
  readonly #maxLineLength: number;
  readonly #maxReplyLines: number;
  readonly #maxReplyBytes: number;
  readonly #log: ProtocolLog;
  #conn: Conn;
  #reader: LineReader;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #parser = new ReplyParser();
  readonly #encoder = new TextEncoder();
  readonly #waiters = new Set<(error: Error) => void>();
  #stash: Promise<Reply> | undefined;
  #owed = 0;
  #closedBy: Error | undefined;

  /**
   * Wraps a freshly opened connection.
   *
   * @param conn The control connection.
   * @param options Timeouts and limits.
   */
  constructor(conn: Conn, options: ControlChannelOptions = {}) {
    this.#conn = conn;
    this.socketTimeout = options.socketTimeout;
    this.#resyncTimeout = options.resyncTimeout ?? options.socketTimeout ?? DEFAULT_RESYNC_TIMEOUT;
    this.#maxLineLength = options.maxLineLength ?? 16384;
    this.#maxReplyLines = options.maxReplyLines ?? 100_000;
    this.#maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    this.#log = new ProtocolLog(options);
    this.#reader = new LineReader(conn.readable, { maxLineLength: this.#maxLineLength });
    this.#writer = conn.writable.getWriter();
    this.#writer.closed.catch(() => {});
  }

  /** The current connection: after {@linkcode ControlChannel.upgrade}, the secured one. */
  get conn(): Conn {
    return this.#conn;
  }

  /** Whether the channel is closed (by either side, or after a failure). */
  get closed(): boolean {
    return this.#closedBy !== undefined;
  }

  /** Why the channel closed, when it did. */
  get closedBy(): Error | undefined {
    return this.#closedBy;
  }

  /**
   * Sends one command line. Writes are short and not cancellable, so only the idle timeout
   * bounds them.
   *
   * @param line The command without line end.
   * @throws {InvalidCommandError} When the line contains CR, LF or NUL.
   */
  async send(line: string): Promise<void> {
    const bytes = this.#encoder.encode(encodeCommand(line));
    this.#ensureOpen();
    this.#log.command(line);
    try {
      await this.#bounded(this.#writer.write(bytes), undefined, line);
    } catch (error) {
      if (error instanceof FtpError) throw error;
      const failure = new ConnectionClosedError(`Cannot send ${verbOf(line)}: connection lost`, {
        cause: error,
      });
      this.close(failure);
      throw failure;
    }
  }

  /**
   * Reads the next reply, preliminary (1xx) replies included.
   *
   * @param signal Stops waiting; the reply still in flight is kept for the next read.
   * @returns The reply.
   */
  async read(signal?: AbortSignal): Promise<Reply> {
    this.#ensureOpen();
    const pending = this.#stash ?? this.#readReply();
    this.#stash = undefined;
    try {
      return await this.#bounded(pending, signal);
    } catch (error) {
      if (signal?.aborted && !this.closed) this.#stash = pending;
      throw error;
    }
  }

  /**
   * Reads replies up to the first one that matches `expected` (a preliminary one included) or,
   * failing that, up to the first final one. When the caller gives up, the final reply is owed
   * and discarded by the next {@linkcode ControlChannel.drain}.
   *
   * @param expected Codes to accept; when omitted, the first final reply is returned.
   * @param signal Stops waiting.
   * @returns The reply.
   * @throws {ReplyError} When a final reply does not match `expected`.
   */
  async expect(expected: ExpectedCodes | undefined, signal?: AbortSignal): Promise<Reply> {
    while (true) {
      let reply: Reply;
      try {
        reply = await this.read(signal);
      } catch (error) {
        if (signal?.aborted && !this.closed) this.#owed++;
        throw error;
      }
      if (expected !== undefined && matchesCode(reply.code, expected)) return reply;
      if (reply.code < 200) continue;
      if (expected === undefined) return reply;
      throw new ReplyError(toPatterns(expected), reply);
    }
  }

  /**
   * Sends a command and reads its reply (see {@linkcode ControlChannel.expect}).
   *
   * @param line The command.
   * @param expected Codes to accept.
   * @param signal Stops waiting for the reply.
   * @returns The reply.
   */
  async exchange(line: string, expected?: ExpectedCodes, signal?: AbortSignal): Promise<Reply> {
    await this.send(line);
    return await this.expect(expected, signal);
  }

  /** Records that one more final reply is due and must be discarded before the next command. */
  owe(): void {
    this.#owed++;
  }

  /**
   * Discards owed replies, so that the next command reads its own answer.
   *
   * @throws {TimeoutError} When they do not arrive in time; the channel is then closed.
   */
  async drain(): Promise<void> {
    if (this.#owed === 0) return;
    const deadline = AbortSignal.timeout(this.#resyncTimeout);
    try {
      while (this.#owed > 0) {
        const reply = await this.read(deadline);
        if (reply.code >= 200) this.#owed--;
      }
    } catch (error) {
      this.close(resyncFailure(error));
      throw this.#closedBy;
    }
  }

  /**
   * Stops the transfer in progress and puts the exchange back in step: sends `ABOR`, then after
   * the first final reply `PWD` as a sentinel, and discards every reply up to the sentinel's
   * `257`. Whatever mix of
   * `426`, `226`, `225` or error replies the server produces for the transfer and the ABOR
   * (whether or not the transfer had already finished), nothing is left behind.
   *
   * @param onFirstReply Called when the first reply arrives (the server reacted).
   * @returns The replies read before the sentinel's.
   * @throws {ConnectionClosedError} When the server does not answer in time; the channel is
   * then closed.
   */
  async resync(onFirstReply?: () => void): Promise<Reply[]> {
    const deadline = AbortSignal.timeout(this.#resyncTimeout);
    const seen: Reply[] = [];
    try {
      await this.send("ABOR");
      let sentinel = false;
      while (true) {
        const reply = await this.read(deadline);
        onFirstReply?.();
        if (sentinel && reply.code === 257) break;
        seen.push(reply);
        // The sentinel follows the first final reply: a server still inside the transfer may
        // discard anything but ABOR (pure-ftpd drops a PWD sent right behind it).
        if (!sentinel && reply.code >= 200) {
          await this.send("PWD");
          sentinel = true;
        }
      }
    } catch (error) {
      this.close(resyncFailure(error));
      throw this.#closedBy;
    }
    this.#owed = 0;
    return seen;
  }

  /**
   * Upgrades the connection to TLS in place (after the server's `234` to `AUTH TLS`, or at once
   * for implicit TLS): releases the reader and writer, runs the TLS client handshake, and
   * reads and writes through the secured connection from then on. Bytes the server sent after
   * its go-ahead but before the handshake are never taken as replies: the channel closes with a
   * `ProtocolError` instead (they could be injected by anyone on the path).
   *
   * @param tls The handshake settings.
   * @param signal Cancels the handshake (the connection is then closed).
   * @throws {ProtocolError} When reply bytes arrived behind the go-ahead.
   * @throws {TypeError} When a reply is still outstanding.
   */
  async upgrade(tls: TlsClientOptions, signal?: AbortSignal): Promise<void> {
    this.#ensureOpen();
    if (this.#stash !== undefined || this.#owed > 0 || this.#parser.pending) {
      throw new TypeError("Cannot start TLS while a reply is outstanding");
    }
    const early = this.#reader.releaseLock();
    this.#writer.releaseLock();
    if (early.length > 0) {
      const error = new ProtocolError(
        `Server sent ${early.length} bytes after its TLS go-ahead, before the handshake`,
      );
      this.close(error);
      throw error;
    }
    const attempt = this.#conn.startTls(tls, signal);
    let secured: Conn;
    try {
      secured = await abortable(attempt, signal);
    } catch (error) {
      // An adapter that missed the signal still closes what it finally hands over.
      attempt.then((late) => late.close(), () => {});
      this.close(
        error instanceof Error ? error : new ConnectionClosedError("TLS handshake failed"),
      );
      throw error;
    }
    if (this.closed) {
      secured.close();
      this.#ensureOpen();
    }
    this.#conn = secured;
    this.#reader = new LineReader(secured.readable, { maxLineLength: this.#maxLineLength });
    this.#writer = secured.writable.getWriter();
    this.#writer.closed.catch(() => {});
  }

  /**
   * Closes the connection. Pending and later operations fail with `reason`.
   *
   * @param reason Why; defaults to a {@linkcode ConnectionClosedError}.
   */
  close(reason?: Error): void {
    if (this.#closedBy) return;
    this.#closedBy = reason ?? new ConnectionClosedError("Connection closed by the client");
    for (const reject of this.#waiters) reject(this.#closedBy);
    this.#waiters.clear();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  #ensureOpen(): void {
    if (this.#closedBy) {
      throw this.#closedBy instanceof ConnectionClosedError
        ? this.#closedBy
        : new ConnectionClosedError("Connection is closed", { cause: this.#closedBy });
    }
  }

  /** Bounds a read (or, with the line being sent, a write) by the socket timeout and `signal`. */
  #bounded<T>(promise: Promise<T>, signal: AbortSignal | undefined, sending?: string): Promise<T> {
    const timeout = this.socketTimeout;
    return new Promise<T>((resolve, reject) => {
      let unwatch: (() => void) | undefined;
      const settle = () => {
        unwatch?.();
        signal?.removeEventListener("abort", onAbort);
        this.#waiters.delete(onClose);
      };
      const onAbort = () => {
        settle();
        reject(abortError(signal?.reason));
      };
      const onClose = (error: Error) => {
        settle();
        reject(error);
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(onClose);
      if (timeout !== undefined && timeout > 0 && Number.isFinite(timeout)) {
        unwatch = watchDeadline(timeout, () => {
          const what = sending === undefined ? "waiting for a reply" : `sending ${verbOf(sending)}`;
          const error = new TimeoutError(`No answer within ${timeout} ms while ${what}`);
          settle();
          this.close(error);
          reject(error);
        });
      }
      promise.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error) => {
          settle();
          reject(error);
        },
      );
    });
  }

  #readReply(): Promise<Reply> {
    const pending = this.#assembleReply().then((reply) => {
      this.#log.reply(reply);
      return reply;
    }, (error) => {
      const failure = error instanceof FtpError
        ? error
        : new ConnectionClosedError("Control connection failed", { cause: error });
      this.close(failure);
      throw this.#closedBy;
    });
    pending.catch(() => {});
    return pending;
  }

  async #assembleReply(): Promise<Reply> {
    let lines = 0;
    let bytes = 0;
    while (true) {
      let line: string | null;
      try {
        line = await this.#reader.readLine();
      } catch (error) {
        // Inside a multi-line reply (a FEAT or STAT body) an overlong line is only skipped.
        if (error instanceof LineTooLongError && this.#parser.pending) {
          bytes = this.#countReplyBytes(bytes, this.#maxLineLength);
          continue;
        }
        if (error instanceof LineTooLongError) {
          throw new ProtocolError(`Reply line longer than ${this.#maxLineLength} bytes`);
        }
        throw error;
      }
      if (line === null) {
        throw this.#closedBy ?? new ConnectionClosedError("Connection closed by the server");
      }
      bytes = this.#countReplyBytes(bytes, line.length + 2);
      if (line === "" && !this.#parser.pending) continue;
      const reply = this.#parser.push(line);
      if (reply) return reply;
      if (++lines > this.#maxReplyLines) {
        throw new ProtocolError(`Reply longer than ${this.#maxReplyLines} lines`);
      }
    }
  }

  /** Adds a line's size (measured on the decoded text, which is what is kept) to the total. */
  #countReplyBytes(total: number, added: number): number {
    const sum = total + added;
    if (sum > this.#maxReplyBytes) {
      throw new ProtocolError(`Reply longer than ${this.#maxReplyBytes} bytes`);
    }
    return sum;
  }
}

function verbOf(line: string): string {
  const space = line.indexOf(" ");
  return JSON.stringify(space < 0 ? line : line.slice(0, space));
}

function resyncFailure(error: unknown): Error {
  if (error instanceof ConnectionClosedError) return error;
  return new ConnectionClosedError("Server did not answer in time after an aborted exchange", {
    cause: error,
  });
}
