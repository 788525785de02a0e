/**
 * A session's passive data listener, which may serve one transfer after another: after a
 * transfer that ended cleanly the session keeps it, and its next PASV or EPSV answers with the
 * same port instead of binding a new one. Binding, accepting on a fresh socket and closing it
 * cost about 60 µs of CPU per transfer in Deno (more with many TIME_WAIT sockets on the range),
 * a tenth of a small file's RETR.
 *
 * Why reusing a port is no weaker than binding a new one (RFC 959 and RFC 2428 ask for a
 * listening port per PASV, not a new one; RFC 2577 warns of a third party connecting first):
 * every connection is checked as before (the peer must be the control connection's host); the
 * kept port is known only to whoever saw the previous PASV reply, who sees the next one too; a
 * connection that arrives while no transfer waits for one (someone probing the session's port)
 * is closed and ends the listener, so the next PASV binds a new random port, as does any
 * transfer after a refused peer. A kept listener is closed when its session does not use it
 * within the data-connect timeout, and the port pool takes it back when another session needs
 * its port.
 *
 * @module
 */

import { type Deferred, deferred } from "../stream/abort.ts";
import type { Conn, NetAddr } from "../socket.ts";
import type { PooledListener } from "./passive_port_pool.ts";

/** Options of {@linkcode PassiveListener}. */
export interface PassiveListenerOptions {
  /** Decides whether a connecting peer may be the data connection; others are closed. */
  acceptPeer(peer: NetAddr): boolean;
  /** Told about each refused peer (for logs). */
  onRefused?(peer: NetAddr): void;
}

/**
 * A bound passive listener that accepts for the whole of its life: each connection goes to the
 * transfer waiting for one ({@linkcode PassiveListener.expect}), if it comes from an allowed
 * peer; any other connection is closed.
 *
 * @example Two data connections on one port
 * ```ts
 * import { PassiveListener } from "./passive_listener.ts";
 * import { PassivePortPool } from "./passive_port_pool.ts";
 * import { nodeNetwork } from "../../adapters/node.ts";
 * import assert from "node:assert/strict";
 *
 * const pooled = await new PassivePortPool().bind(
 *   (port) => nodeNetwork.listen({ hostname: "127.0.0.1", port }),
 *   "127.0.0.1",
 * );
 * const listener = new PassiveListener(pooled, {
 *   acceptPeer: (peer) => peer.hostname === "127.0.0.1",
 * });
 * for (let i = 0; i < 2; i++) {
 *   const expected = listener.expect();
 *   const client = await nodeNetwork.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 *   (await expected).close();
 *   client.close();
 * }
 * assert.equal(listener.reusable, true);
 * await listener.close();
 * assert.equal(listener.reusable, false);
 * ```
 */
export class PassiveListener {
  /** The bound address (its port goes into the PASV/EPSV reply). */
  readonly addr: NetAddr;
  readonly #pooled: PooledListener;
  readonly #options: PassiveListenerOptions;
  /** The transfer waiting for its connection, if any. */
  #waiting: Deferred<Conn> | undefined;
  /** Cleared by a refused peer: the port then serves no further transfer. */
  #clean = true;
  #closed = false;

  /**
   * Starts accepting on a bound listener.
   *
   * @param pooled The listener and its release function.
   * @param options The peer check.
   */
  constructor(pooled: PooledListener, options: PassiveListenerOptions) {
    this.#pooled = pooled;
    this.#options = options;
    this.addr = pooled.listener.addr;
    void this.#acceptLoop();
  }

  /** Whether it is open, and no refused peer or stray connection came to it. */
  get reusable(): boolean {
    return this.#clean && !this.#closed;
  }

  /**
   * Waits for the next connection from an allowed peer. One transfer waits at a time.
   *
   * @returns The connection; rejects when the listener is closed first.
   */
  expect(): Promise<Conn> {
    if (this.#closed) return Promise.reject(new Error("Data channel closed"));
    this.#pooled.setIdle(undefined);
    this.#waiting?.reject(new Error("Data channel replaced"));
    const waiting = deferred<Conn>();
    waiting.promise.catch(() => {});
    this.#waiting = waiting;
    return waiting.promise;
  }

  /**
   * Keeps the listener unused until the session's next transfer; the port pool may take it
   * back meanwhile (it is then closed).
   */
  keep(): void {
    if (!this.#closed) this.#pooled.setIdle(() => this.close());
  }

  /** Stops listening (a transfer still waiting fails) and returns the port. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#waiting?.reject(new Error("Data channel closed"));
      this.#waiting = undefined;
    }
    return this.#pooled.release();
  }

  async #acceptLoop(): Promise<void> {
    try {
      while (!this.#closed) {
        const conn = await this.#pooled.listener.accept();
        const waiting = this.#waiting;
        if (this.#closed) {
          conn.close();
        } else if (!this.#options.acceptPeer(conn.remoteAddr)) {
          this.#clean = false;
          this.#options.onRefused?.(conn.remoteAddr);
          conn.close();
        } else if (waiting) {
          this.#waiting = undefined;
          waiting.resolve(conn);
        } else {
          // Nobody was told to connect now: the port is known to someone else.
          conn.close();
          await this.close();
        }
      }
    } catch (error) {
      this.#waiting?.reject(error);
      this.#waiting = undefined;
    } finally {
      await this.close().catch(() => {});
    }
  }
}
