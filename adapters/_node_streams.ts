/**
 * Web Streams over a node:net (or node:tls) socket, and TLS through node:tls over any
 * {@linkcode Conn}. Shared by the node adapter and by the Deno and Bun adapters where their
 * native APIs cannot do a TLS role. Private to the adapters.
 *
 * Written by hand rather than with `Duplex.toWeb`: on Node 20 that readable never ends on the
 * peer's FIN when `allowHalfOpen` is on, and it costs two to three times the CPU.
 *
 * @module
 */

import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ConnectionOptions } from "node:tls";
import { ConnectionClosedError } from "../lib/errors.ts";
import type { Conn, NetAddr, TlsClientOptions, TlsOptions } from "../lib/socket.ts";
import { type Deferred, deferred } from "../lib/stream/abort.ts";

type NodeTls = typeof import("node:tls");

/** How {@linkcode wrapNodeSocket} presents a socket. */
export interface NodeSocketOptions {
  /** Whether the socket runs TLS. */
  secure: boolean;
  /** This end's address (node:tls over a bridge has none of its own). */
  localAddr: NetAddr;
  /** The peer's address. */
  remoteAddr: NetAddr;
  /** Upgrades the detached socket to TLS; absent once the socket runs TLS. */
  upgrade?: (socket: Socket, options: TlsOptions) => Promise<Conn>;
  /** Sets TCP_NODELAY where the socket itself cannot (a TLS socket over a bridge). */
  setNoDelay?: (on: boolean) => void;
  /**
   * Stops and restarts the flow of bytes below the socket, which then itself never pauses.
   * For node:tls over a bridge: Deno's node:tls loses the peer's EOF when it arrives while
   * the TLS socket is paused.
   */
  flow?: { pause(): void; resume(): void };
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

  startTls(options: TlsOptions): Promise<Conn> {
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
    return upgrade(this.#socket, options);
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

/**
 * Builds node:tls client options from the contract's options.
 *
 * @param tls The node:tls module.
 * @param options The contract's client options.
 * @param hostname The host the connection was made to (SNI and certificate check).
 * @returns Options for `tls.connect`.
 */
export function nodeTlsClientOptions(
  tls: NodeTls,
  options: TlsClientOptions,
  hostname: string,
): ConnectionOptions {
  const host = hostname.replace(/^\[(.*)\]$/, "$1");
  const serverName = options.serverName ?? host;
  return {
    host,
    // SNI carries names only; an IP address is checked against the certificate without it.
    servername: isIpAddress(serverName) ? undefined : serverName,
    checkServerIdentity: (_name, cert) => tls.checkServerIdentity(serverName, cert),
    ca: options.caCerts ? [...tls.rootCertificates, ...options.caCerts] : undefined,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
  };
}

/**
 * Waits until a node:tls socket finished its handshake (`secureConnect` for the client role,
 * `secure` for the server role).
 *
 * @param socket The TLS socket.
 * @param event The event that marks the end of the handshake.
 * @returns Resolves with the socket.
 */
export function handshake<T extends Socket>(socket: T, event: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onError = (error: unknown) => {
      socket.off(event, onDone);
      socket.destroy();
      reject(error);
    };
    const onDone = () => {
      socket.off("error", onError);
      resolve(socket);
    };
    socket.once(event, onDone);
    socket.once("error", onError);
  });
}

/**
 * Runs node:tls over an existing {@linkcode Conn} in either role: the way to do a TLS role that
 * a runtime has no native API for (the server side of STARTTLS on Deno, for instance).
 *
 * @param conn The plain connection; consumed.
 * @param options The TLS role and its settings.
 * @param hostname For the client role: the host connected to (SNI and certificate check).
 * @returns The secured connection.
 */
export async function nodeTlsOverConn(
  conn: Conn,
  options: TlsOptions,
  hostname: string,
): Promise<Conn> {
  const [{ Duplex }, tls] = await Promise.all([import("node:stream"), import("node:tls")]);
  const { duplex, flow } = bridge(Duplex, conn);
  let socket;
  if (options.role === "server") {
    socket = new tls.TLSSocket(duplex as unknown as Socket, {
      isServer: true,
      secureContext: tls.createSecureContext({ cert: options.cert, key: options.key }),
    });
    await handshake(socket, "secure");
  } else {
    socket = tls.connect({ ...nodeTlsClientOptions(tls, options, hostname), socket: duplex });
    await handshake(socket, "secureConnect");
  }
  socket.once("close", () => duplex.destroy());
  return wrapNodeSocket(socket, {
    secure: true,
    localAddr: conn.localAddr,
    remoteAddr: conn.remoteAddr,
    setNoDelay: (on) => conn.setNoDelay(on),
    flow,
  });
}

/** A node Duplex whose bytes go through `conn`'s Web streams, with its reads switchable. */
function bridge(
  DuplexClass: typeof Duplex,
  conn: Conn,
): { duplex: Duplex; flow: { pause(): void; resume(): void } } {
  const reader = conn.readable.getReader();
  const writer = conn.writable.getWriter();
  let reading = false;
  let paused = false;
  let wake: (() => void) | undefined;
  const duplex: Duplex = new DuplexClass({
    allowHalfOpen: true,
    read() {
      if (reading) return;
      reading = true;
      (async () => {
        try {
          while (true) {
            while (paused) await new Promise<void>((resolve) => (wake = resolve));
            const { value, done } = await reader.read();
            if (done) {
              duplex.push(null);
              return;
            }
            if (!duplex.push(value)) return;
          }
        } catch (error) {
          duplex.destroy(error as Error);
        } finally {
          reading = false;
        }
      })();
    },
    write(chunk: Uint8Array, _encoding, callback) {
      writer.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      writer.close().then(() => callback(), callback);
    },
    destroy(error, callback) {
      conn.close();
      callback(error);
    },
  });
  const flow = {
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      wake?.();
      wake = undefined;
    },
  };
  return { duplex, flow };
}

function isIpAddress(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(":");
}
