/**
 * A buffered line reader for the FTP control channel: lines end in LF (CR before it is dropped),
 * have a length cap, lose Telnet IAC sequences, and are decoded as UTF-8 lossily, so that no
 * byte sequence can end a session.
 *
 * A server reads with `bareCrEndsLine`: Python's `ftplib.abort()` sends `ABOR\r\n` with
 * `MSG_OOB`, so the final LF travels as TCP urgent data and never reaches a socket without
 * `SO_OOBINLINE` (no runtime here can set it): the server receives `ABOR\r` and nothing more
 * until it answers. Telnet (RFC 854) allows CR only before LF or NUL, so a CR that is not
 * followed by LF can end the command safely.
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";

/**
 * A line exceeded the reader's cap; the reader skipped it and stays usable.
 *
 * @example
 * ```ts
 * import { LineReader, LineTooLongError } from "./line_reader.ts";
 * import assert from "node:assert/strict";
 *
 * const input = new Blob([`${"x".repeat(100)}\r\nNOOP\r\n`]).stream();
 * const reader = new LineReader(input, { maxLineLength: 80 });
 * await assert.rejects(reader.readLine(), LineTooLongError);
 * assert.equal(await reader.readLine(), "NOOP");
 * ```
 */
export class LineTooLongError extends Error {
  /** The cap in bytes. */
  readonly maxLength: number;
  /** Creates the error. */
  constructor(maxLength: number) {
    super(`Line longer than ${maxLength} bytes`);
    this.name = "LineTooLongError";
    this.maxLength = maxLength;
  }
}

/** Options of {@linkcode LineReader}. */
export interface LineReaderOptions {
  /** Longest accepted line in bytes, line end excluded (default 8192). */
  maxLineLength?: number;
  /** Remove Telnet IAC command sequences (default `true`). */
  stripTelnet?: boolean;
  /**
   * End a line at a CR that no LF follows too (default `false`): at the end of the bytes
   * received so far, or before any other byte. The NUL of a Telnet `CR NUL` goes with the CR,
   * and so does an LF that arrives after a CR that ended a line.
   */
  bareCrEndsLine?: boolean;
}

const NUL = 0x00;
const LF = 0x0a;
const CR = 0x0d;
const IAC = 0xff;
// Telnet commands (RFC 854): SE..GA take no option, SB opens a subnegotiation, WILL..DONT take one.
const SE = 240;
const GA = 249;
const SB = 250;
const WILL = 251;
const DONT = 254;

/** Reads CRLF- or LF-terminated lines from a byte stream. */
export class LineReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #maxLength: number;
  readonly #stripTelnet: boolean;
  readonly #bareCrEndsLine: boolean;
  readonly #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  #buffer: Uint8Array = new Uint8Array(0);
  #discarding = false;
  #done = false;
  /** A bare CR at the buffer's end ended the last line: an LF or NUL next belongs to it. */
  #afterBareCr = false;

  /**
   * Creates a reader that locks `readable` until {@linkcode LineReader.releaseLock}.
   *
   * @param readable The byte stream, usually a connection's `readable`.
   * @param options Length cap and Telnet handling.
   */
  constructor(readable: ReadableStream<Uint8Array>, options: LineReaderOptions = {}) {
    this.#reader = readable.getReader();
    this.#maxLength = options.maxLineLength ?? 8192;
    this.#stripTelnet = options.stripTelnet ?? true;
    this.#bareCrEndsLine = options.bareCrEndsLine ?? false;
  }

  /**
   * Reads the next line.
   *
   * @returns The decoded line without its line end, or `null` at the end of the stream (a
   * trailing unterminated fragment is returned as a last line).
   * @throws {LineTooLongError} When a line exceeds the cap; the line is skipped entirely.
   */
  async readLine(): Promise<string | null> {
    while (true) {
      const end = this.#bareCrEndsLine ? this.#bareCrLineEnd() : this.#buffer.indexOf(LF);
      if (end >= 0) {
        const raw = this.#buffer.subarray(0, end);
        this.#buffer = this.#buffer.subarray(end + 1);
        this.#dropAfterBareCr();
        if (this.#discarding) {
          this.#discarding = false;
          throw new LineTooLongError(this.#maxLength);
        }
        if (lineLength(raw) > this.#maxLength) throw new LineTooLongError(this.#maxLength);
        return this.#decode(raw);
      }
      if (this.#buffer.length > this.#maxLength + 1) {
        this.#discarding = true;
        this.#buffer = new Uint8Array(0);
      }
      if (this.#done) {
        if (this.#discarding) {
          this.#discarding = false;
          throw new LineTooLongError(this.#maxLength);
        }
        if (this.#buffer.length === 0) return null;
        const rest = this.#buffer;
        this.#buffer = new Uint8Array(0);
        if (lineLength(rest) > this.#maxLength) throw new LineTooLongError(this.#maxLength);
        return this.#decode(rest);
      }
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#done = true;
        continue;
      }
      this.#append(value);
    }
  }

  /**
   * Where the next line ends when a bare CR ends one too: the index of its LF, or of a CR that
   * no LF follows; -1 while no line is complete.
   */
  #bareCrLineEnd(): number {
    this.#dropAfterBareCr();
    const buffer = this.#buffer;
    const lf = buffer.indexOf(LF);
    const cr = buffer.indexOf(CR);
    if (cr < 0 || (lf >= 0 && cr >= lf - 1)) return lf;
    this.#afterBareCr = true;
    return cr;
  }

  /** Drops the LF or NUL that follows a bare CR that ended a line, once the next byte is in. */
  #dropAfterBareCr(): void {
    if (!this.#afterBareCr || this.#buffer.length === 0) return;
    this.#afterBareCr = false;
    if (this.#buffer[0] === LF || this.#buffer[0] === NUL) this.#buffer = this.#buffer.subarray(1);
  }

  /** How many received bytes wait in the buffer, not yet returned as lines. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /**
   * Releases the underlying stream (before a TLS upgrade, say).
   *
   * @returns Bytes received but not yet returned as lines.
   */
  releaseLock(): Uint8Array {
    this.#reader.releaseLock();
    const rest = this.#buffer;
    this.#buffer = new Uint8Array(0);
    return rest;
  }

  /** Cancels the underlying stream. */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }

  #append(chunk: Uint8Array): void {
    if (this.#buffer.length === 0) {
      this.#buffer = chunk;
      return;
    }
    this.#buffer = concatBytes([this.#buffer, chunk]);
  }

  #decode(raw: Uint8Array): string {
    let bytes = raw.length > 0 && raw[raw.length - 1] === CR ? raw.subarray(0, -1) : raw;
    if (this.#stripTelnet && bytes.includes(IAC)) bytes = stripTelnet(bytes);
    return this.#decoder.decode(bytes);
  }
}

/** A line's length without the CR of its CRLF. */
function lineLength(raw: Uint8Array): number {
  return raw.length > 0 && raw[raw.length - 1] === CR ? raw.length - 1 : raw.length;
}

/**
 * Removes Telnet IAC sequences (RFC 854): `IAC IAC` stands for one 0xFF byte,
 * `IAC WILL/WONT/DO/DONT x` are three bytes, `IAC SB ... IAC SE` a subnegotiation, and `IAC x`
 * for the other commands (IP, DM, ...) two. An IAC before any other byte is dropped alone: when
 * a client sends the Synch `IAC DM` as urgent data, the kernel removes the DM from the stream
 * and the IAC lands right before `ABOR`, whose first letter must survive.
 *
 * @param bytes A line's bytes.
 * @returns The bytes without Telnet commands.
 */
export function stripTelnet(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== IAC) {
      out[n++] = b;
      continue;
    }
    const next = bytes[i + 1];
    if (next === IAC) {
      out[n++] = IAC;
      i++;
    } else if (next === SB) {
      const end = findSubnegotiationEnd(bytes, i + 2);
      i = end < 0 ? bytes.length : end;
    } else if (next >= WILL && next <= DONT) {
      i += 2;
    } else if (next >= SE && next <= GA) {
      i++;
    }
  }
  return out.subarray(0, n);
}

/** The index of the SE of the `IAC SE` that ends a subnegotiation, or -1. */
function findSubnegotiationEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length - 1; i++) {
    if (bytes[i] === IAC) {
      if (bytes[i + 1] === SE) return i + 1;
      i++;
    }
  }
  return -1;
}
