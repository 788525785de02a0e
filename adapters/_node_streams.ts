/**
 * Web Streams over a node:net (or node:tls) socket. Shared by the node adapter and by the Deno
 * and Bun adapters wherever node:tls secures a connection. Private to the adapters.
 *
 * Written by hand rather than with `Duplex.toWeb`: on Node 20 that readable never ends on the
 * peer's FIN when `allowHalfOpen` is on, and it costs two to three times the CPU.
 *
 * @module
 */

import type { Socket } from "node:net";
import { ConnectionClosedError } from "../lib/errors.ts";
import type { Conn, NetAddr, TlsOptions } from "../lib/socket.ts";
import { type Deferred, deferred } from "../lib/stream/abort.ts";
import { ConnState, ConnStateForwarder } from "./_conn_state.ts";
import { offerSession, type TlsSession } from "./_tls_sessions.ts";

/** How {@linkcode wrapNodeSocket} presents a socket. */
export interface NodeSocketOptions {
  /** Whether the socket runs TLS. */
  secure: boolean;
  /** This end's address (node:tls over a bridge has none of its own). */
  localAddr: NetAddr;
  /** The peer's address. */
  remoteAddr: NetAddr;
  /** Whether the TLS handshake resumed a session (see {@linkcode Conn.tlsSessionReused}). */
  tlsSessionReused?: boolean;
  /** For the TLS client role: the socket's newest session, for handshakes that resume it. */
  session?: () => TlsSession | undefined;
  /**
   * Upgrades the detached socket to TLS, closing it when the handshake fails or `signal`
   * aborts; absent once the socket runs TLS.
   */
  upgrade?: (socket: Socket, options: TlsOptions, signal?: AbortSignal) => Promise<Conn>;
  /** Sets TCP_NODELAY where the socket itself cannot (a TLS socket over a bridge). */
  setNoDelay?: (on: boolean) => void;
  /**
   * Stops and restarts the flow of bytes below the socket, which then itself never pauses.
   * For node:tls over a bridge: Deno's node:tls loses the peer's EOF when it arrives while
   * the TLS socket is paused.
   */
  flow?: { pause(): void; resume(): void };
  /**
   * Called when the socket reports the peer's end, before the readable ends: returns the
   * error when that end was in fact a reset (see `adapters/node.ts`: libuv takes a reset that
   * comes with the last bytes for an EOF), which then fails the connection instead.
   */
  checkEnd?: () => Error | undefined;
}

/**
 * Presents a connected node socket as a {@linkcode Conn}. The socket must allow half-open
 * connections (`allowHalfOpen: true`), or the peer's FIN would close it.
 *
 * @param socket The connected socket (any events it already emitted are not replayed).
 * @param options Addresses, TLS state and the upgrade function.
 * @returns The connection.
 */
export function wrapNodeSocket(socket: Socket, options: NodeSocketOptions): Conn {
  return new NodeSocketConn(socket, options);
}

class NodeSocketConn extends ConnStateForwarder implements Conn {
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly secure: boolean;
  readonly tlsSessionReused: boolean | undefined;
  readonly #socket: Socket;
  readonly #options: NodeSocketOptions;
  protected readonly state: ConnState;
  /** The write or end waiting for node's callback. */
  #pending: Deferred<void> | undefined;

  constructor(socket: Socket, options: NodeSocketOptions) {
    super();
    this.#socket = socket;
    this.#options = options;
    this.localAddr = options.localAddr;
    this.remoteAddr = options.remoteAddr;
    this.secure = options.secure;
    this.tlsSessionReused = options.tlsSessionReused;
    if (options.session) offerSession(this, options.session);
    const flow = options.flow ?? socket;
    this.state = new ConnState({
      pause: () => flow.pause(),
      resume: () => flow.resume(),
      // Resolves once node has handed the bytes to the kernel, so the caller may reuse
      // `chunk`, and a peer that stops reading stops the writer here.
      write: (chunk) => this.#untilDone((done) => socket.write(chunk, done)),
      // Whatever went wrong with the FIN also fails the socket, which tells the streams.
      end: () => this.#untilDone((done) => socket.end(() => done())),
      reset: () => resetSocket(socket),
      close: () => socket.destroy(),
    });
    // Paused before the first `data` listener, so nothing flows until a read is pending: bytes
    // the protocol has not asked for stay in the socket, where a TLS upgrade finds them.
    flow.pause();
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
  }

  setNoDelay(on: boolean): void {
    if (this.#options.setNoDelay) this.#options.setNoDelay(on);
    else this.#socket.setNoDelay(on);
  }

  async startTls(options: TlsOptions, signal?: AbortSignal): Promise<Conn> {
    const upgrade = this.#options.upgrade;
    if (!upgrade) throw new TypeError("Connection already runs TLS");
    this.state.assertUpgradable();
    this.#detach();
    return await upgrade(this.#socket, options, signal);
  }

  close(): void {
    this.state.close();
  }

  #onData = (chunk: Uint8Array): void => {
    // A plain view: Buffer's `slice` shares memory, which readers of a Uint8Array do not expect.
    this.state.received(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  };

  #onEnd = (): void => {
    const reset = this.state.readOpen ? this.#options.checkEnd?.() : undefined;
    if (reset) {
      this.#onError(reset);
      this.close();
      return;
    }
    this.state.peerEnded();
  };

  #onError = (error: unknown): void => {
    this.state.fail(error);
    this.#pending?.reject(error);
  };

  #onClose = (): void => {
    this.state.socketClosed();
    this.#pending?.reject(new ConnectionClosedError("Connection closed"));
  };

  /** Runs a node call that takes a completion callback; settles when it is called. */
  #untilDone(call: (done: (error?: Error | null) => void) => unknown): Promise<void> {
    const pending = deferred<void>();
    this.#pending = pending;
    call((error) => {
      if (this.#pending === pending) this.#pending = undefined;
      if (error) pending.reject(error);
      else pending.resolve();
    });
    return pending.promise;
  }

  #detach(): void {
    const socket = this.#socket;
    socket.off("data", this.#onData);
    socket.off("end", this.#onEnd);
    socket.off("error", this.#onError);
    socket.off("close", this.#onClose);
    this.state.detach();
  }
}

/** Resets a plain TCP socket; destroys others (TLS and bridged sockets cannot send RST). */
function resetSocket(socket: Socket): void {
  const resettable = socket as Socket & { resetAndDestroy?: () => Socket };
  try {
    if (resettable.resetAndDestroy) resettable.resetAndDestroy();
    else socket.destroy();
  } catch {
    socket.destroy();
  }
}
