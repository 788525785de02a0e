/**
 * A {@linkcode Listener} fed by a runtime that pushes accepted connections (node:net `connection`
 * events, Bun's `open` handler). Private to the adapters.
 *
 * @module
 */

import { ConnectionClosedError } from "../lib/errors.ts";
import type { Conn, Listener, NetAddr } from "../lib/socket.ts";
import { type Deferred, deferred } from "../lib/stream/abort.ts";

/** Queues pushed connections until `accept()` takes them. */
export class AcceptQueue implements Listener {
  /** The bound address. */
  readonly addr: NetAddr;
  #ready: Conn[] = [];
  #waiters: Deferred<Conn>[] = [];
  #closing: Promise<void> | undefined;
  #shutdown: () => void | Promise<void>;

  /**
   * Creates the queue.
   *
   * @param addr The bound address.
   * @param shutdown Stops the runtime's listening socket; called once by `close()`.
   */
  constructor(addr: NetAddr, shutdown: () => void | Promise<void>) {
    this.addr = addr;
    this.#shutdown = shutdown;
  }

  /**
   * Hands an accepted connection to the next `accept()`; closes it when the listener is closed.
   *
   * @param conn The accepted connection.
   */
  push(conn: Conn): void {
    if (this.#closing) {
      conn.close();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(conn);
    else this.#ready.push(conn);
  }

  /** Waits for the next connection; rejects once the listener is closed. */
  accept(): Promise<Conn> {
    const conn = this.#ready.shift();
    if (conn) return Promise.resolve(conn);
    if (this.#closing) return Promise.reject(new ConnectionClosedError("Listener closed"));
    const waiter = deferred<Conn>();
    this.#waiters.push(waiter);
    return waiter.promise;
  }

  /** Stops listening, rejects pending `accept()` calls and closes connections nobody took. */
  close(): Promise<void> {
    if (!this.#closing) {
      for (const waiter of this.#waiters.splice(0)) {
        waiter.reject(new ConnectionClosedError("Listener closed"));
      }
      for (const conn of this.#ready.splice(0)) conn.close();
      this.#closing = Promise.resolve().then(this.#shutdown);
    }
    return this.#closing;
  }

  /** Yields accepted connections until the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    while (true) {
      let conn: Conn;
      try {
        conn = await this.accept();
      } catch (error) {
        if (this.#closing) return;
        throw error;
      }
      yield conn;
    }
  }
}
