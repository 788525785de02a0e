/**
 * A prepared data channel of a session: passive (PASV/EPSV: the server listens and accepts the
 * client's connection) or active (PORT/EPRT: the server connects to the client). A transfer
 * takes the channel and opens it; each channel carries one data connection.
 *
 * @module
 */

import { abortable, deferred } from "../stream/abort.ts";
import type { Conn, NetAddr, Network } from "../socket.ts";
import type { PooledListener } from "./passive_port_pool.ts";

/** A data channel prepared by PASV, EPSV, PORT or EPRT. */
export interface DataChannel {
  /** How the data connection is made. */
  readonly mode: "passive" | "active";
  /**
   * Returns the data connection: the accepted one (passive), or a new one (active).
   *
   * @param signal Gives up waiting (ABOR, data-connect timeout).
   */
  open(signal?: AbortSignal): Promise<Conn>;
  /** Closes the listener and any connection not yet taken. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@linkcode PassiveDataChannel}. */
export interface PassiveDataChannelOptions {
  /** Decides whether a connecting peer may be the data connection; others are closed. */
  acceptPeer(peer: NetAddr): boolean;
  /** Told about each refused peer (for logs). */
  onRefused?(peer: NetAddr): void;
  /**
   * How long the listener waits for a connection while no transfer waits for one; then it is
   * closed, its port goes back to the pool, and a later transfer gets no connection (default:
   * no limit). A transfer that waits sets its own limit.
   */
  acceptTimeout?: number;
  /** Told when the listener was closed by {@linkcode PassiveDataChannelOptions.acceptTimeout}. */
  onExpired?(): void;
}

/**
 * A passive channel: accepts connections on its listener until one comes from an allowed peer,
 * then stops listening (the port goes back to the pool) and keeps that connection for the
 * transfer. A listener nobody connects to within its accept timeout is closed.
 */
export class PassiveDataChannel implements DataChannel {
  /** Always `"passive"`. */
  readonly mode = "passive";
  /** The listener's address (its port goes into the PASV/EPSV reply). */
  readonly addr: NetAddr;
  readonly #pooled: PooledListener;
  readonly #accepted = deferred<Conn>();
  #conn: Conn | undefined;
  #taken = false;
  #closed = false;
  #expiry: ReturnType<typeof setTimeout> | undefined;

  /**
   * Starts accepting on a bound listener.
   *
   * @param pooled The listener and its release function.
   * @param options The peer check and the accept timeout.
   */
  constructor(pooled: PooledListener, options: PassiveDataChannelOptions) {
    this.#pooled = pooled;
    this.addr = pooled.listener.addr;
    this.#accepted.promise.catch(() => {});
    const timeout = options.acceptTimeout;
    if (timeout !== undefined && timeout > 0 && Number.isFinite(timeout)) {
      this.#expiry = setTimeout(() => {
        this.#expiry = undefined;
        this.#closed = true;
        options.onExpired?.();
        this.#accepted.reject(new Error(`No data connection within ${timeout} ms`));
        void this.#pooled.release().catch(() => {});
      }, timeout);
    }
    this.#acceptLoop(options);
  }

  async #acceptLoop(options: PassiveDataChannelOptions): Promise<void> {
    try {
      while (true) {
        const conn = await this.#pooled.listener.accept();
        if (this.#closed) {
          conn.close();
          return;
        }
        if (!options.acceptPeer(conn.remoteAddr)) {
          options.onRefused?.(conn.remoteAddr);
          conn.close();
          continue;
        }
        this.#conn = conn;
        this.#accepted.resolve(conn);
        return;
      }
    } catch (error) {
      this.#accepted.reject(error);
    } finally {
      this.#stopExpiry();
      await this.#pooled.release().catch(() => {});
    }
  }

  /** {@inheritDoc DataChannel.open} */
  async open(signal?: AbortSignal): Promise<Conn> {
    this.#stopExpiry();
    const conn = await abortable(this.#accepted.promise, signal);
    this.#taken = true;
    return conn;
  }

  /** {@inheritDoc DataChannel.close} */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopExpiry();
    this.#accepted.reject(new Error("Data channel closed"));
    if (this.#conn && !this.#taken) this.#conn.close();
    await this.#pooled.release().catch(() => {});
  }

  #stopExpiry(): void {
    clearTimeout(this.#expiry);
    this.#expiry = undefined;
  }
}

/** An active channel: connects to the address the client gave with PORT or EPRT. */
export class ActiveDataChannel implements DataChannel {
  /** Always `"active"`. */
  readonly mode = "active";
  /** Where to connect. */
  readonly target: { hostname: string; port: number };
  readonly #network: Network;
  readonly #closer = new AbortController();

  /**
   * Prepares the channel (nothing connects yet).
   *
   * @param network The network to connect with.
   * @param target The client's data address.
   */
  constructor(network: Network, target: { hostname: string; port: number }) {
    this.#network = network;
    this.target = target;
  }

  /** {@inheritDoc DataChannel.open} */
  async open(signal?: AbortSignal): Promise<Conn> {
    const stop = signal ? AbortSignal.any([signal, this.#closer.signal]) : this.#closer.signal;
    const connecting = this.#network.connect({ ...this.target, signal: stop });
    try {
      return await abortable(connecting, stop);
    } catch (error) {
      // An adapter may finish connecting despite the signal; do not leak that socket.
      connecting.then((conn) => conn.close(), () => {});
      throw error;
    }
  }

  /** {@inheritDoc DataChannel.close} */
  close(): Promise<void> {
    this.#closer.abort();
    return Promise.resolve();
  }
}
