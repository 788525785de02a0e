/**
 * The Bun {@linkcode Network}: `Bun.connect` and `Bun.listen`, with TLS upgrades in both roles
 * through `socket.upgradeTLS`.
 *
 * Traps it works around: `socket.end()` also stops reading, so a FIN alone is `shutdown()`;
 * `socket.write()` may take only part of a buffer, so the rest is written after `drain`.
 * The server role of `upgradeTLS` rests on its undocumented `isServer` flag; should that call
 * throw, the upgrade runs through node:tls instead.
 *
 * @module
 */

import { ConnectionClosedError } from "../lib/errors.ts";
import type {
  Conn,
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  Network,
  TlsClientOptions,
  TlsOptions,
} from "../lib/socket.ts";
import { toNetAddr } from "../lib/socket.ts";
import { abortable, abortError, type Deferred, deferred } from "../lib/stream/abort.ts";
import { AcceptQueue } from "./_listener.ts";
import { nodeTlsOverConn } from "./_node_streams.ts";

/** The socket contract this adapter implements. */
export type * from "../lib/socket.ts";

interface BunTlsOptions {
  serverName?: string;
  ca?: string[];
  rejectUnauthorized?: boolean;
  cert?: string;
  key?: string;
}

interface BunSocket {
  data: BunSocketConn | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  write(data: Uint8Array, byteOffset?: number, byteLength?: number): number;
  shutdown(): void;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay?: boolean): boolean;
  upgradeTLS(options: {
    tls: BunTlsOptions;
    socket: BunHandlers;
    data: BunSocketConn;
    isServer?: boolean;
  }): [BunSocket, BunSocket];
}

interface BunHandlers {
  open?(socket: BunSocket): void;
  data(socket: BunSocket, data: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, error?: Error): void;
  error(socket: BunSocket, error: Error): void;
  connectError(socket: BunSocket, error: Error): void;
  handshake?(socket: BunSocket, success: boolean, authorizationError: Error | null): void;
}

interface BunServer {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

interface BunLike {
  connect(options: {
    hostname: string;
    port: number;
    socket: BunHandlers;
    data: BunSocketConn;
    allowHalfOpen: boolean;
    tls?: BunTlsOptions;
  }): Promise<BunSocket>;
  listen(options: {
    hostname: string;
    port: number;
    socket: BunHandlers;
    allowHalfOpen: boolean;
    tls?: BunTlsOptions;
  }): BunServer;
}

function bun(): BunLike {
  return (globalThis as unknown as { Bun: BunLike }).Bun;
}

/** Connections through Bun's own socket APIs. */
export const bunNetwork: Network = {
  name: "bun",
  connect,
  listen,
};

/** One handler set for every socket; each socket's `data` is its connection. */
const handlers: BunHandlers = {
  open: (socket) => socket.data?.onOpen(socket),
  data: (socket, data) => socket.data?.onData(data),
  drain: (socket) => socket.data?.onDrain(),
  end: (socket) => socket.data?.onEnd(),
  close: (socket, error) => socket.data?.onClose(error),
  error: (socket, error) => socket.data?.onError(error),
  connectError: () => {},
  handshake: (socket, _success, authorizationError) => socket.data?.onHandshake(authorizationError),
};

async function connect(options: ConnectOptions): Promise<Conn> {
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal.reason);
  const tls = options.tls ? await clientTlsOptions(options.tls, options.hostname) : undefined;
  const conn = new BunSocketConn(
    !!tls,
    options.hostname,
    options.tls?.rejectUnauthorized !== false,
  );
  const attempt = bun().connect({
    hostname: options.hostname,
    port: options.port,
    socket: handlers,
    data: conn,
    allowHalfOpen: true,
    tls,
  });
  try {
    await abortable(attempt, signal);
    if (tls) await abortable(conn.handshaken, signal);
  } catch (error) {
    attempt.then((late) => late.terminate(), () => {});
    conn.close();
    throw error;
  }
  return conn;
}

// deno-lint-ignore require-await -- async, so that a failed bind rejects instead of throwing
async function listen(options: ListenOptions): Promise<Listener> {
  const { tls } = options;
  const ready: { queue?: AcceptQueue } = {};
  const accepted: BunHandlers = {
    ...handlers,
    open: (socket) => {
      const conn = new BunSocketConn(!!tls, undefined, false);
      conn.onOpen(socket);
      ready.queue?.push(conn);
    },
  };
  // Without a handshake handler, Bun opens TLS sockets once their handshake is done.
  if (tls) delete accepted.handshake;
  const server = bun().listen({
    hostname: options.hostname,
    port: options.port,
    socket: accepted,
    allowHalfOpen: true,
    tls: tls ? { cert: tls.cert, key: tls.key } : undefined,
  });
  ready.queue = new AcceptQueue(toNetAddr(server.hostname, server.port), () => server.stop(false));
  return ready.queue;
}

async function clientTlsOptions(
  options: TlsClientOptions,
  hostname: string,
): Promise<BunTlsOptions> {
  // `ca` replaces the default authorities; the contract adds to them.
  const ca = options.caCerts
    ? [...(await import("node:tls")).rootCertificates, ...options.caCerts]
    : undefined;
  return {
    serverName: options.serverName ?? hostname.replace(/^\[(.*)\]$/, "$1"),
    ca,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
  };
}

class BunSocketConn implements Conn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  localAddr: NetAddr = toNetAddr("0.0.0.0", 0);
  remoteAddr: NetAddr = toNetAddr("0.0.0.0", 0);
  readonly secure: boolean;
  /** Settles when a TLS handshake is done (unused on plain connections). */
  readonly handshaken: Promise<void>;
  #handshake: Deferred<void> = deferred<void>();
  #socket: BunSocket | undefined;
  #hostname: string | undefined;
  #verify: boolean;
  #reads!: ReadableStreamDefaultController<Uint8Array>;
  #writes!: WritableStreamDefaultController;
  #readOpen = true;
  #writeOpen = true;
  #paused = false;
  #wanted = false;
  #drain: Deferred<void> | undefined;
  #done = false;

  /**
   * @param secure Whether the socket runs TLS.
   * @param hostname The name connected to; absent on accepted connections.
   * @param verify Whether a TLS client role rejects a certificate it cannot verify.
   */
  constructor(secure: boolean, hostname: string | undefined, verify: boolean) {
    this.secure = secure;
    this.#hostname = hostname;
    this.#verify = verify;
    this.handshaken = this.#handshake.promise;
    this.handshaken.catch(() => {});
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#reads = controller;
      },
      pull: () => this.#flow(true),
      cancel: () => {
        this.#readOpen = false;
        this.#releaseIfDone();
      },
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writes = controller;
      },
      write: (chunk) => this.#write(chunk),
      close: () => {
        this.#writeOpen = false;
        // shutdown() sends the FIN and keeps reading; end() would stop reading too, and
        // shutdown(true) shuts the read side instead.
        this.#socket?.shutdown();
        this.#releaseIfDone();
      },
      abort: () => {
        this.#writeOpen = false;
        this.#done = true;
        this.#socket?.terminate();
      },
    });
  }

  setNoDelay(on: boolean): void {
    this.#socket?.setNoDelay(on);
  }

  async startTls(options: TlsOptions): Promise<Conn> {
    const raw = this.#socket;
    if (this.secure) throw new TypeError("Connection already runs TLS");
    if (this.readable.locked || this.writable.locked) {
      throw new TypeError("Cannot start TLS while the streams are locked");
    }
    if (!raw || this.#done || !this.#readOpen || !this.#writeOpen) {
      throw new ConnectionClosedError("Cannot start TLS on a closed connection");
    }
    if ((this.#reads.desiredSize ?? 0) < 0) {
      throw new TypeError("Cannot start TLS with received data nobody read");
    }
    this.#detach();
    const hostname = this.#hostname ?? this.remoteAddr.hostname;
    const next = new BunSocketConn(
      true,
      this.#hostname,
      options.role === "client" && options.rejectUnauthorized !== false,
    );
    let upgraded: BunSocket;
    try {
      const tls = options.role === "server"
        ? { cert: options.cert, key: options.key }
        : await clientTlsOptions(options, hostname);
      raw.resume();
      upgraded = raw.upgradeTLS({
        tls,
        isServer: options.role === "server",
        socket: handlers,
        data: next,
      })[1];
    } catch {
      // No native upgrade in this role: node:tls over the same socket.
      const plain = new BunSocketConn(false, this.#hostname, false);
      plain.onOpen(raw);
      return await nodeTlsOverConn(plain, options, hostname);
    }
    next.onOpen(upgraded);
    try {
      await next.handshaken;
    } catch (error) {
      next.close();
      throw error;
    }
    return next;
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#socket?.end();
  }

  /** Takes the socket once it is connected (or upgraded). */
  onOpen(socket: BunSocket): void {
    this.#socket = socket;
    socket.data = this;
    this.localAddr = toNetAddr(socket.localAddress, socket.localPort);
    this.remoteAddr = toNetAddr(socket.remoteAddress, socket.remotePort);
    // A TLS socket must keep reading until its handshake is done.
    if (!this.secure) this.#flow(false);
  }

  onHandshake(authorizationError: Error | null): void {
    if (authorizationError && this.#verify) {
      this.#handshake.reject(authorizationError);
      this.#done = true;
      this.#socket?.terminate();
      return;
    }
    this.#handshake.resolve();
    this.#flow(this.#wanted);
  }

  onData(data: Uint8Array): void {
    if (!this.#readOpen) return;
    // Bun hands over a fresh Buffer per event; a plain view spares readers Buffer's sharing
    // `slice`.
    this.#reads.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    // The stream pulls again if more reads wait.
    this.#flow(false);
  }

  onDrain(): void {
    this.#drain?.resolve();
  }

  onEnd(): void {
    if (this.#readOpen) {
      this.#readOpen = false;
      this.#reads.close();
    }
    this.#releaseIfDone();
  }

  onClose(error?: Error): void {
    const reason = error ?? new ConnectionClosedError("Connection closed");
    this.#done = true;
    this.#handshake.reject(reason);
    if (!error && this.#readOpen) {
      this.#readOpen = false;
      this.#reads.close();
    }
    this.#fail(reason);
  }

  onError(error: Error): void {
    this.#handshake.reject(error);
    this.#fail(error);
  }

  /** Reads from the socket only while a reader waits (high-water mark 0, pull per read). */
  #flow(wanted: boolean): void {
    this.#wanted = wanted;
    const socket = this.#socket;
    if (!socket || this.#done) return;
    if (wanted && this.#paused) {
      this.#paused = false;
      socket.resume();
    } else if (!wanted && !this.#paused) {
      this.#paused = true;
      socket.pause();
    }
  }

  async #write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (true) {
      const socket = this.#socket;
      if (!socket || this.#done) throw new ConnectionClosedError("Connection closed");
      const written = socket.write(chunk, offset, chunk.byteLength - offset);
      if (written < 0) throw new ConnectionClosedError("Connection closed");
      offset += written;
      if (offset >= chunk.byteLength) return;
      this.#drain = deferred<void>();
      await this.#drain.promise;
    }
  }

  #fail(error: unknown): void {
    if (this.#readOpen) {
      this.#readOpen = false;
      this.#reads.error(error);
    }
    if (this.#writeOpen) {
      this.#writeOpen = false;
      this.#writes.error(error);
    }
    this.#drain?.reject(error);
  }

  #releaseIfDone(): void {
    if (this.#readOpen || this.#writeOpen || this.#done) return;
    this.#done = true;
    this.#socket?.end();
  }

  #detach(): void {
    this.#readOpen = false;
    this.#writeOpen = false;
    this.#done = true;
    this.#reads.close();
    this.#writes.error(new TypeError("Connection was handed to TLS"));
  }
}
