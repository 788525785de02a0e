/**
 * The server's side of one control connection: the command-line reader, the reply writer (with
 * its reply timeout), the idle timer, and {@linkcode ControlConnection.upgrade} for AUTH TLS,
 * which swaps the connection under the reader and writer in place.
 *
 * A reply costs one encode and one write: it goes straight to the stream's writer (which keeps
 * writes in order) unless a multi-write reply is under way, and the reply timeout is one timer
 * per connection that is set when a write starts and none is set, and moved on when it fires
 * while writes still make progress.
 *
 * @module
 */

import { formatReply } from "../protocol/reply.ts";
import type { Conn, NetAddr, TlsServerOptions } from "../socket.ts";
import { LineReader } from "../stream/line_reader.ts";

/** Options of {@linkcode ControlConnection}. */
export interface ControlConnectionOptions {
  /** Longest command line in bytes. */
  maxLineLength: number;
  /**
   * How long the client may leave replies unread before the connection is closed (so that a
   * client that stops reading cannot hold its session): the time a write may wait on the
   * socket without any write finishing; 0 or `Infinity` for no limit.
   */
  replyTimeout: number;
  /** Told when a reply timed out and the connection was closed. */
  onReplyTimeout?(): void;
}

/** Thrown by {@linkcode ControlConnection.upgrade} when command bytes wait behind AUTH. */
export class PipelinedBeforeTlsError extends Error {
  /**
   * Creates the error.
   *
   * @param bytes How many bytes were discarded.
   */
  constructor(readonly bytes: number) {
    super(`Discarded ${bytes} bytes sent before the TLS handshake`);
    this.name = "PipelinedBeforeTlsError";
  }
}

const encoder = new TextEncoder();
/** Batch size of long multi-line replies. */
const REPLY_BATCH = 64 * 1024;
const ignore = () => {};

/** Reads command lines and writes replies on a control connection that may turn to TLS. */
export class ControlConnection {
  readonly #options: ControlConnectionOptions;
  #conn: Conn;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Whether the writer closed (or failed): nothing more may be written to it. */
  #writeEnded = false;
  #lines: LineReader;
  /** The last write or multi-write reply; it settles after every earlier one. */
  #last: Promise<void> = Promise.resolve();
  /** Replies that wait behind a multi-write reply, and multi-write replies not yet done. */
  #queued = 0;
  /** Writes handed to the writer and not yet done. */
  #writing = 0;
  /** When the writes in flight last made progress (the first started, or one finished). */
  #progressAt = 0;
  #replyTimer: ReturnType<typeof setTimeout> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Wraps an accepted (and, for implicit TLS, already secured) connection.
   *
   * @param conn The connection.
   * @param options Line cap and reply timeout.
   */
  constructor(conn: Conn, options: ControlConnectionOptions) {
    this.#options = options;
    this.#conn = conn;
    this.#writer = this.#attachWriter(conn);
    this.#lines = this.#attachReader(conn);
  }

  /** The connection as it is now (a new one after {@linkcode ControlConnection.upgrade}). */
  get conn(): Conn {
    return this.#conn;
  }

  /** Whether the connection runs TLS. */
  get secure(): boolean {
    return this.#conn.secure;
  }

  /** The client's address. */
  get remoteAddr(): NetAddr {
    return this.#conn.remoteAddr;
  }

  /** The server's address of this connection. */
  get localAddr(): NetAddr {
    return this.#conn.localAddr;
  }

  /**
   * Reads the next command line.
   *
   * @returns The line, or `null` when the client closed the connection.
   * @throws {LineTooLongError} When the line exceeds the cap (it is skipped).
   */
  readLine(): Promise<string | null> {
    return this.#lines.readLine();
  }

  /** Ends a pending {@linkcode ControlConnection.readLine} (with `null`). */
  cancelRead(): void {
    void this.#lines.cancel();
  }

  /**
   * Sends a reply. Replies leave in the order of the calls.
   *
   * @param code The reply code.
   * @param text One line or several (multi-line replies are formatted per RFC 959).
   * @returns Settles when the socket took the reply.
   */
  reply(code: number, text: string | readonly string[] = ""): Promise<void> {
    const bytes = encoder.encode(formatReply(code, text));
    if (this.#queued === 0) return this.#last = this.#write(bytes);
    this.#queued++;
    return this.#last = this.#settled().then(() => {
      this.#queued--;
      return this.#write(bytes);
    });
  }

  /**
   * Sends a multi-line reply whose body is produced lazily, in batches of about 64 KiB. Body
   * lines are indented by one space, so none can pass for a reply line, and no other reply
   * comes between them. When the body fails after a batch was sent, the reply is ended with
   * `last` saying so, and `onBodyError` is told (a second reply would desynchronize the
   * client); a failure before anything was sent rejects.
   *
   * @param code The reply code.
   * @param lines The first line's text, the body lines and the last line's text.
   * @param onBodyError Told about a body that failed midway.
   */
  replyLines(
    code: number,
    lines: { first: string; body: AsyncIterable<string>; last: string },
    onBodyError?: (error: unknown) => void,
  ): Promise<void> {
    return this.#exclusive(async () => {
      let batch = `${code}-${oneLine(lines.first)}\r\n`;
      let last = lines.last;
      let sent = false;
      try {
        for await (const line of lines.body) {
          batch += ` ${oneLine(line)}\r\n`;
          if (batch.length >= REPLY_BATCH) {
            await this.#write(encoder.encode(batch));
            batch = "";
            sent = true;
          }
        }
      } catch (error) {
        if (!sent) throw error;
        onBodyError?.(error);
        last = `${last} (incomplete: the listing failed)`;
      }
      await this.#write(encoder.encode(`${batch}${code} ${oneLine(last)}\r\n`));
    });
  }

  /**
   * Turns the connection to TLS: sends the reply that accepts the upgrade (`234` to AUTH TLS;
   * none for implicit TLS), waits until it is out, releases the reader and writer, runs the
   * server handshake and rebuilds both on the secured connection. Command bytes that arrived
   * behind AUTH are never carried over: when the reader holds any, the acceptance is not sent,
   * nothing is upgraded and {@linkcode PipelinedBeforeTlsError} is thrown (the caller answers
   * 5xx in clear text); bytes that arrive later are read by the handshake, which fails on them.
   * Once `signal` has aborted (the session is closing: its farewell may already be queued
   * behind the earlier replies), neither the acceptance nor the handshake follows.
   *
   * @param tls The certificate and key.
   * @param options The acceptance reply, and a signal that aborts when the session closes or
   * the handshake takes too long (the connection is then closed).
   * @throws {PipelinedBeforeTlsError} When command bytes wait behind AUTH.
   * @throws The signal's reason, when it aborted before the handshake started.
   */
  async upgrade(
    tls: TlsServerOptions,
    options: { accept?: { code: number; text: string }; signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.#settled();
    options.signal?.throwIfAborted();
    if (this.#lines.buffered > 0) {
      const bytes = this.#lines.buffered;
      this.#lines.releaseLock();
      this.#lines = this.#attachReader(this.#conn);
      throw new PipelinedBeforeTlsError(bytes);
    }
    if (options.accept) {
      await this.reply(options.accept.code, options.accept.text);
      options.signal?.throwIfAborted();
    }
    this.#lines.releaseLock();
    this.#writer.releaseLock();
    const secured = await this.#conn.startTls(tls, options.signal);
    this.#conn = secured;
    this.#writer = this.#attachWriter(secured);
    this.#writeEnded = false; // releasing the clear-text writer's lock ended that one
    this.#lines = this.#attachReader(secured);
  }

  /**
   * Runs `onIdle` after `ms` unless {@linkcode ControlConnection.disarmIdle} comes first.
   *
   * @param ms The idle timeout (0 or `Infinity`: none).
   * @param onIdle What to do then.
   */
  armIdle(ms: number, onIdle: () => void): void {
    this.disarmIdle();
    if (!ms || !Number.isFinite(ms)) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      onIdle();
    }, ms);
  }

  /** Stops the idle timer. */
  disarmIdle(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** Flushes the replies written so far and sends FIN. */
  async finish(): Promise<void> {
    await this.#settled();
    this.#writeEnded = true;
    await this.#writer.close().catch(() => {});
  }

  /** Closes the connection at once. Idempotent. */
  close(): void {
    this.disarmIdle();
    clearTimeout(this.#replyTimer);
    this.#replyTimer = undefined;
    this.#conn.close();
  }

  #attachWriter(conn: Conn): WritableStreamDefaultWriter<Uint8Array> {
    const writer = conn.writable.getWriter();
    const ended = () => {
      if (this.#writer === writer) this.#writeEnded = true;
    };
    writer.closed.then(ended, ended);
    return writer;
  }

  #attachReader(conn: Conn): LineReader {
    return new LineReader(conn.readable, {
      maxLineLength: this.#options.maxLineLength,
      bareCrEndsLine: true,
    });
  }

  /** Runs a multi-write reply after every earlier write, with no other reply in between. */
  #exclusive(work: () => Promise<void>): Promise<void> {
    this.#queued++;
    const run = this.#settled().then(work).finally(() => {
      this.#queued--;
    });
    return this.#last = run;
  }

  /** Settles (never rejects) once every write so far is done. */
  #settled(): Promise<void> {
    return this.#last.then(ignore, ignore);
  }

  /** Hands bytes to the writer under the reply timeout. */
  #write(bytes: Uint8Array): Promise<void> {
    // Node's streams throw an internal assertion (not a rejection) on a write to a closed
    // stream: a reply after the end is refused here.
    if (this.#writeEnded) return Promise.reject(new TypeError("The control connection is closed"));
    const timeout = this.#options.replyTimeout;
    if (!timeout || !Number.isFinite(timeout)) return this.#writer.write(bytes);
    if (this.#writing++ === 0) this.#progressAt = performance.now();
    this.#replyTimer ??= setTimeout(this.#checkReplies, timeout);
    return this.#writer.write(bytes).finally(this.#wrote);
  }

  #wrote = (): void => {
    // Only the progress of writes still waiting counts; an idle writer needs no time.
    if (--this.#writing > 0) this.#progressAt = performance.now();
  };

  /**
   * The reply timer fired: it lapses when nothing is being written (the next write sets it
   * again), moves on to the end of the current wait while writes still finish, or closes the
   * connection when a write waited the whole timeout with no write finishing.
   */
  #checkReplies = (): void => {
    this.#replyTimer = undefined;
    if (this.#writing === 0) return;
    const left = this.#progressAt + this.#options.replyTimeout - performance.now();
    if (left > 0) {
      this.#replyTimer = setTimeout(this.#checkReplies, left);
      return;
    }
    this.#options.onReplyTimeout?.();
    this.#conn.close();
  };
}

/** Text that cannot break out of its reply line. */
function oneLine(text: string): string {
  return text.includes("\r") || text.includes("\n") ? text.replace(/[\r\n]/g, " ") : text;
}
