/**
 * A prepared data channel of a session: passive (PASV/EPSV: the server listens and accepts the
 * client's connection) or active (PORT/EPRT: the server connects to the client). A transfer
 * takes the channel and opens it; each channel carries one data connection. The session
 * expires a passive channel no transfer took within its data-connect timeout.
 *
 * @module
 */

import { abortable, CLOSING } from "../stream/abort.ts";
import type { Conn, NetAddr, Network } from "../socket.ts";
import type { PassiveListener } from "./passive_listener.ts";

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
  /** Told when {@linkcode PassiveDataChannel.expire} closed the listener. */
  onExpired?(): void;
}

/**
 * A passive channel: takes the next connection of its {@linkcode PassiveListener} (a peer the
 * listener allows) for one transfer. After the transfer the session either keeps the listener
 * for the next channel ({@linkcode PassiveDataChannel.handOver}) or closes it with the channel.
 * {@linkcode PassiveDataChannel.expire} closes a listener nobody connected to.
 *
 * @example What PASV does (the session expires the channel when no transfer takes it)
 * ```ts
 * import { PassiveDataChannel } from "./data_channel.ts";
 * import { PassiveListener } from "./passive_listener.ts";
 * import { PassivePortPool } from "./passive_port_pool.ts";
 * import { nodeNetwork } from "../../adapters/node.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new PassivePortPool();
 * const pooled = await pool.bind(
 *   (port) => nodeNetwork.listen({ hostname: "127.0.0.1", port }),
 *   "127.0.0.1",
 * );
 * const listener = new PassiveListener(pooled, {
 *   acceptPeer: (peer) => peer.hostname === "127.0.0.1",
 * });
 * const channel = new PassiveDataChannel(listener);
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
  readonly #listener: PassiveListener;
  readonly #accepted: Promise<Conn>;
  #conn: Conn | undefined;
  #taken = false;
  #closed = false;
  readonly #onExpired: (() => void) | undefined;

  /**
   * Waits for the listener's next connection.
   *
   * @param listener The session's passive listener.
   * @param options What to tell when the channel expires.
   */
  constructor(listener: PassiveListener, options: PassiveDataChannelOptions = {}) {
    this.#listener = listener;
    this.addr = listener.addr;
    this.#onExpired = options.onExpired;
    this.#accepted = listener.expect();
    this.#accepted.then((conn) => {
      if (this.#closed) conn.close();
      else this.#conn = conn;
    }, () => {});
  }

  /** {@inheritDoc DataChannel.open} */
  async open(signal?: AbortSignal): Promise<Conn> {
    // Usually the client connected right after the PASV reply: there is nothing to wait for.
    const conn = this.#conn && !signal?.aborted
      ? this.#conn
      : await abortable(this.#accepted, signal);
    this.#taken = true;
    return conn;
  }

  /** {@inheritDoc DataChannel.close} */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#conn && !this.#taken) this.#conn.close();
    await this.#listener.close().catch(() => {});
  }

  /**
   * Ends the channel after its transfer ended cleanly, handing its listener over for the
   * session's next transfer; a listener that may not serve another (a refused peer, a stray
   * connection) is closed instead.
   *
   * @returns The listener, when it may be reused.
   */
  async handOver(): Promise<PassiveListener | undefined> {
    if (this.#closed) return undefined;
    if (!this.#taken || !this.#listener.reusable) {
      await this.close();
      return undefined;
    }
    this.#closed = true;
    this.#listener.keep();
    return this.#listener;
  }

  /**
   * Closes the listener when nobody has connected yet (a later `open` fails; once its port is
   * back in the pool, `onExpired` is told); does nothing once a connection came or the channel
   * is closed.
   */
  expire(): void {
    if (this.#closed || this.#conn) return;
    this.#closed = true;
    void this.#listener.close().catch(() => {}).then(() => this.#onExpired?.());
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
    this.#closer.abort(CLOSING);
    return Promise.resolve();
  }
}
