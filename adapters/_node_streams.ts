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

class NodeSocketConn implements Conn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly secure: boolean;
  readonly tlsSessionReused: boolean | undefined;
  #socket: Socket;
  #options: NodeSocketOptions;
  #reads!: ReadableStreamDefaultController<Uint8Array>;
  #writes!: WritableStreamDefaultController;
  #readOpen = true;
  #writeOpen = true;
  #pending: Deferred<void> | undefined;
  #done = false;

  constructor(socket: Socket, options: NodeSocketOptions) {
    this.#socket = socket;
    this.#options = options;
    this.localAddr = options.localAddr;
    this.remoteAddr = options.remoteAddr;
    this.secure = options.secure;
    this.tlsSessionReused = options.tlsSessionReused;
    if (options.session) offerSession(this, options.session);
    // Paused before the first `data` listener, so nothing flows until a read is pending: bytes
    // the protocol has not asked for stay in the socket, where a TLS upgrade finds them.
    this.#pause();
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#reads = controller;
      },
      pull: () => {
        if (this.#readOpen) this.#resume();
      },
      cancel: () => {
        this.#readOpen = false;
        this.#pause();
        this.#releaseIfDone();
      },
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writes = controller;
      },
      write: (chunk) => this.#write(chunk),
      close: () => this.#end(),
      abort: () => {
        this.#writeOpen = false;
        this.#reset();
      },
    });
  }

  setNoDelay(on: boolean): void {
    if (this.#options.setNoDelay) this.#options.setNoDelay(on);
    else this.#socket.setNoDelay(on);
  }

  startTls(options: TlsOptions, signal?: AbortSignal): Promise<Conn> {
    const upgrade = this.#options.upgrade;
    if (!upgrade) return Promise.reject(new TypeError("Connection already runs TLS"));
    if (this.readable.locked || this.writable.locked) {
      return Promise.reject(new TypeError("Cannot start TLS while the streams are locked"));
    }
    if (this.#done || !this.#readOpen || !this.#writeOpen) {
      return Promise.reject(new ConnectionClosedError("Cannot start TLS on a closed connection"));
    }
    if ((this.#reads.desiredSize ?? 0) < 0) {
      return Promise.reject(new TypeError("Cannot start TLS with received data nobody read"));
    }
    this.#detach();
    return upgrade(this.#socket, options, signal);
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#socket.destroy();
  }

  #onData = (chunk: Uint8Array): void => {
    if (!this.#readOpen) return;
    // A plain view: Buffer's `slice` shares memory, which readers of a Uint8Array do not expect.
    this.#reads.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if ((this.#reads.desiredSize ?? 0) <= 0) this.#pause();
  };

  #pause(): void {
    if (this.#options.flow) this.#options.flow.pause();
    else this.#socket.pause();
  }

  #resume(): void {
    if (this.#options.flow) this.#options.flow.resume();
    else this.#socket.resume();
  }

  #onEnd = (): void => {
    const reset = this.#readOpen ? this.#options.checkEnd?.() : undefined;
    if (reset) {
      this.#fail(reset);
      this.close();
      return;
    }
    if (this.#readOpen) {
      this.#readOpen = false;
      this.#reads.close();
    }
    this.#releaseIfDone();
  };

  #onError = (error: unknown): void => {
    this.#fail(error);
  };

  #onClose = (): void => {
    this.#done = true;
    if (this.#readOpen) {
      this.#readOpen = false;
      this.#reads.close();
    }
    this.#fail(new ConnectionClosedError("Connection closed"));
  };

  #fail(error: unknown): void {
    if (this.#readOpen) {
      this.#readOpen = false;
      this.#reads.error(error);
    }
    if (this.#writeOpen) {
      this.#writeOpen = false;
      this.#writes.error(error);
    }
    this.#pending?.reject(error);
  }

  #write(chunk: Uint8Array): Promise<void> {
    // Resolves once node has handed the bytes to the kernel, so the caller may reuse `chunk`,
    // and a peer that stops reading stops the writer here.
    const pending = deferred<void>();
    this.#pending = pending;
    this.#socket.write(chunk, (error) => {
      if (error) pending.reject(error);
      else pending.resolve();
    });
    return pending.promise.finally(() => {
      this.#pending = undefined;
    });
  }

  #end(): Promise<void> {
    const pending = deferred<void>();
    this.#pending = pending;
    this.#socket.end(() => pending.resolve());
    return pending.promise.then(() => {
      this.#pending = undefined;
      this.#writeOpen = false;
      this.#releaseIfDone();
    });
  }

  #reset(): void {
    this.#done = true;
    const socket = this.#socket as Socket & { resetAndDestroy?: () => Socket };
    try {
      // Only a plain TCP handle can send RST; TLS and bridged sockets throw.
      if (socket.resetAndDestroy) socket.resetAndDestroy();
      else socket.destroy();
    } catch {
      socket.destroy();
    }
  }

  #releaseIfDone(): void {
    if (this.#readOpen || this.#writeOpen || this.#done) return;
    this.#done = true;
    this.#socket.destroy();
  }

  #detach(): void {
    const socket = this.#socket;
    socket.off("data", this.#onData);
    socket.off("end", this.#onEnd);
    socket.off("error", this.#onError);
    socket.off("close", this.#onClose);
    this.#readOpen = false;
    this.#writeOpen = false;
    this.#done = true;
    this.#reads.close();
    this.#writes.error(new TypeError("Connection was handed to TLS"));
  }
}
