/**
 * A prepared data channel of a session: passive (PASV/EPSV: the server listens and accepts the
 * client's connection) or active (PORT/EPRT: the server connects to the client). A transfer
 * takes the channel and opens it; each channel carries one data connection. The session
 * expires a passive channel no transfer took within its data-connect timeout.
 *
 * @module
 */

import { abortable, deferred } from "../stream/abort.ts";
import type { Conn, NetAddr, Network } from "../socket.ts";
import type { PooledListener } from "./passive_port_pool.ts";

/**
 * A data channel prepared by PASV, EPSV, PORT or EPRT: `CommandContext.dataChannel` until a
 * transfer takes it.
 *
 * @example What the client prepared
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { type DataChannel, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const mode = (channel: DataChannel | undefined) => channel?.mode ?? "none";
 * await using server = new Server();
 * server.commands.set("XCHAN", { handler: (ctx) => ctx.reply(200, mode(ctx.dataChannel)) });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * assert.deepEqual((await client.command("XCHAN", "200")).lines, ["none"]);
 * await client.command("EPSV", "229");
 * assert.deepEqual((await client.command("XCHAN", "200")).lines, ["passive"]);
 * ```
 */
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
  /**
   * Gives up waiting for a connection nobody made: the session calls it when no transfer took
   * the channel within its data-connect timeout. A later `open` then fails. Channels that hold
   * nothing while they wait (active ones) leave it out.
   */
  expire?(): void;
}

/** Options of {@linkcode PassiveDataChannel}. */
export interface PassiveDataChannelOptions {
  /** Decides whether a connecting peer may be the data connection; others are closed. */
  acceptPeer(peer: NetAddr): boolean;
  /** Told about each refused peer (for logs). */
  onRefused?(peer: NetAddr): void;
  /** Told when {@linkcode PassiveDataChannel.expire} closed the listener. */
  onExpired?(): void;
}

/**
 * A passive channel: accepts connections on its listener until one comes from an allowed peer,
 * then stops listening (the port goes back to the pool) and keeps that connection for the
 * transfer. {@linkcode PassiveDataChannel.expire} closes a listener nobody connected to.
 *
 * @example What PASV does (the session expires the channel when no transfer takes it)
 * ```ts
 * import { PassiveDataChannel } from "./data_channel.ts";
 * import { PassivePortPool } from "./passive_port_pool.ts";
 * import { nodeNetwork } from "../../adapters/node.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new PassivePortPool();
 * const pooled = await pool.bind(
 *   (port) => nodeNetwork.listen({ hostname: "127.0.0.1", port }),
 *   "127.0.0.1",
 * );
 * const channel = new PassiveDataChannel(pooled, {
 *   acceptPeer: (peer) => peer.hostname === "127.0.0.1",
 * });
 * const client = await nodeNetwork.connect({ hostname: "127.0.0.1", port: channel.addr.port });
 * const accepted = await channel.open();
 * assert.equal(accepted.remoteAddr.port, client.localAddr.port);
 * accepted.close();
 * client.close();
 * await channel.close();
 * ```
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
  /** Whether the listener still waits for a connection. */
  #listening = true;
  readonly #onExpired: (() => void) | undefined;

  /**
   * Starts accepting on a bound listener.
   *
   * @param pooled The listener and its release function.
   * @param options The peer check and what to tell.
   */
  constructor(pooled: PooledListener, options: PassiveDataChannelOptions) {
    this.#pooled = pooled;
    this.addr = pooled.listener.addr;
    this.#onExpired = options.onExpired;
    this.#accepted.promise.catch(() => {});
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
      this.#listening = false;
      await this.#pooled.release().catch(() => {});
    }
  }

  /** {@inheritDoc DataChannel.open} */
  async open(signal?: AbortSignal): Promise<Conn> {
    // Usually the client connected right after the PASV reply: there is nothing to wait for.
    const conn = this.#conn && !signal?.aborted
      ? this.#conn
      : await abortable(this.#accepted.promise, signal);
    this.#taken = true;
    return conn;
  }

  /** {@inheritDoc DataChannel.close} */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#accepted.reject(new Error("Data channel closed"));
    if (this.#conn && !this.#taken) this.#conn.close();
    await this.#pooled.release().catch(() => {});
  }

  /**
   * Closes the listener when nobody has connected yet (its port goes back to the pool, a later
   * `open` fails, and `onExpired` is told); does nothing once a connection came or the channel
   * is closed.
   */
  expire(): void {
    if (this.#closed || !this.#listening) return;
    this.#closed = true;
    this.#onExpired?.();
    this.#accepted.reject(new Error("No data connection within the data-connect timeout"));
    void this.#pooled.release().catch(() => {});
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
