/**
 * The open data connection a transfer works on: the raw connection, plus streams that count
 * bytes (for STAT) and, only when a limit is set, obey the session's speed limits.
 *
 * @module
 */

import type { Conn } from "../socket.ts";
import { progressStream } from "../stream/progress.ts";
import { type Throttle, throttleStream } from "../stream/throttle.ts";

/** Options of {@linkcode DataConnection}. */
export interface DataConnectionOptions {
  /** Limits on bytes received (uploads); empty for none. */
  readThrottles?: readonly Throttle[];
  /** Limits on bytes sent (downloads); empty for none. */
  writeThrottles?: readonly Throttle[];
  /** Told about every chunk that passes, in either direction. */
  onBytes?(count: number): void;
  /** Stops waiting for a throttle (ABOR). */
  signal?: AbortSignal;
}

/**
 * One data connection, as a transfer's `run` receives it. Read `readable` (uploads) or write
 * `writable` (downloads); close or release `writable` when done. `conn` is the raw connection.
 */
export class DataConnection {
  /** The raw connection (no counting, no limits). */
  readonly conn: Conn;
  /** Bytes from the client. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the client; closing it sends FIN once everything is flushed. */
  readonly writable: WritableStream<Uint8Array>;
  readonly #flushed: Promise<void>;

  /**
   * Wraps an open connection.
   *
   * @param conn The data connection.
   * @param options Limits and byte counting.
   */
  constructor(conn: Conn, options: DataConnectionOptions = {}) {
    this.conn = conn;
    const { readThrottles = [], writeThrottles = [], onBytes, signal } = options;
    const stages = (throttles: readonly Throttle[]) => [
      ...(throttles.length ? [throttleStream(throttles, { signal })] : []),
      ...(onBytes ? [progressStream(onBytes)] : []),
    ];
    let readable = conn.readable;
    for (const stage of stages(readThrottles)) readable = readable.pipeThrough(stage);
    this.readable = readable;
    const send = stages(writeThrottles);
    if (send.length === 0) {
      this.writable = conn.writable;
      this.#flushed = Promise.resolve();
      return;
    }
    let tail = send[0].readable;
    for (const stage of send.slice(1)) tail = tail.pipeThrough(stage);
    this.writable = send[0].writable;
    this.#flushed = tail.pipeTo(conn.writable);
    this.#flushed.catch(() => {});
  }

  /**
   * Ends the sending side: closes `writable` unless the transfer did (or holds its lock) and
   * waits until all bytes reached the socket.
   */
  async finish(): Promise<void> {
    if (!this.writable.locked) await this.writable.close().catch(() => {});
    await this.#flushed;
  }
}
