/**
 * A buffered line reader for the FTP control channel: lines end in LF (CR before it is dropped),
 * have a length cap, lose Telnet IAC sequences, and are decoded as UTF-8 lossily, so that no
 * byte sequence can end a session.
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
}

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
  readonly #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  #buffer: Uint8Array = new Uint8Array(0);
  #discarding = false;
  #done = false;

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
      const lf = this.#buffer.indexOf(LF);
      if (lf >= 0) {
        const raw = this.#buffer.subarray(0, lf);
        this.#buffer = this.#buffer.subarray(lf + 1);
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
