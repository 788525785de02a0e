/**
 * The {@linkcode Listener}s of the adapters: {@linkcode AcceptQueue} for a runtime that pushes
 * accepted connections (node:net `connection` events, Bun's `open` handler), and
 * {@linkcode AcceptOnDemand} for one whose listener is asked for each (Deno). Private to the
 * adapters.
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
  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return acceptEach(this, () => this.#closing !== undefined);
  }
}

/** What {@linkcode AcceptOnDemand} needs of a runtime's listening socket. */
export interface DemandSource {
  /** The bound address. */
  addr: NetAddr;
  /**
   * Accepts the next connection (never called while another call is pending). Rejects with
   * {@linkcode ConnectionClosedError} once the socket is closed or gone for good; other
   * failures (too many open files, say) may pass.
   */
  accept(): Promise<Conn>;
  /** Stops listening; a pending `accept` then rejects. */
  close(): void;
}

/**
 * Accepts from the runtime's listening socket only while someone waits in `accept()`, one
 * accept at a time: connections nobody asked for stay in the kernel's backlog, and a listener
 * closed with nobody waiting has no accept pending (whose failure would cost an error for
 * nothing; a passive data listener is closed once per transfer).
 */
export class AcceptOnDemand implements Listener {
  /** The bound address. */
  readonly addr: NetAddr;
  readonly #source: DemandSource;
  #waiters: Deferred<Conn>[] = [];
  /** The loop accepting for waiters, while one runs. */
  #acceptLoop: Promise<void> | undefined;
  #closed = false;

  /**
   * Creates the listener.
   *
   * @param source The runtime's listening socket.
   */
  constructor(source: DemandSource) {
    this.addr = source.addr;
    this.#source = source;
  }

  /**
   * Waits for the next connection. Rejects with {@linkcode ConnectionClosedError} once the
   * listener is closed or gone, or with the failure of this one accept (the next may work).
   */
  accept(): Promise<Conn> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError("Listener closed"));
    const waiter = deferred<Conn>();
    this.#waiters.push(waiter);
    this.#acceptLoop ??= this.#acceptForWaiters();
    return waiter.promise;
  }

  /**
   * Stops listening; pending `accept()` calls reject. Resolves once an accept under way has
   * ended (Deno frees the port only then). Idempotent.
   */
  close(): Promise<void> {
    this.#shutDown();
    return this.#acceptLoop ?? Promise.resolve();
  }

  /** Yields accepted connections until the listener is closed. */
  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return acceptEach(this, () => this.#closed);
  }

  async #acceptForWaiters(): Promise<void> {
    try {
      while (this.#waiters.length > 0 && !this.#closed) {
        let conn: Conn;
        try {
          conn = await this.#source.accept();
        } catch (error) {
          if (this.#closed || error instanceof ConnectionClosedError) {
            this.#shutDown(error);
            return;
          }
          this.#waiters.shift()?.reject(error);
          continue;
        }
        const waiter = this.#waiters.shift();
        if (waiter) waiter.resolve(conn);
        else conn.close();
      }
    } finally {
      this.#acceptLoop = undefined;
    }
  }

  #shutDown(failure?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    const cause = failure === undefined ? undefined : { cause: failure };
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(new ConnectionClosedError("Listener closed", cause));
    }
    try {
      this.#source.close();
    } catch {
      // Already closed.
    }
  }
}

/** Iterates a listener's connections until `closed()` says the end came from closing it. */
async function* acceptEach(listener: Listener, closed: () => boolean): AsyncGenerator<Conn> {
  while (true) {
    let conn: Conn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (closed()) return;
      throw error;
    }
    yield conn;
  }
}
