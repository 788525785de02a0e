/**
 * The Bun {@linkcode Network}: `Bun.connect` and `Bun.listen`, with TLS upgrades in both roles
 * through `socket.upgradeTLS`.
 *
 * Traps it works around: `socket.end()` also stops reading, so a FIN alone is `shutdown()`;
 * `socket.write()` may take only part of a buffer, so the rest is written after `drain`.
 * The server role of `upgradeTLS` rests on its undocumented `isServer` flag.
 *
 * TLS sessions (measured in Bun 1.4.5): a native client resumes the session it is given with
 * `setSession` before its handshake starts (in the `open` handler), and `isSessionReused()`
 * tells in both roles. Bun gives upgrades with equal TLS options one shared context (freed
 * with its last socket), whose sessions they all resume; each session scope therefore gets
 * options of its own (see `scopeToken`).
 *
 * A Bun without `upgradeTLS` would upgrade through node:tls over the socket instead. That path
 * has no half-close in Bun 1.4.5: its TLS socket over a stream is torn down at the peer's FIN.
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
  TlsServerOptions,
} from "../lib/socket.ts";
import { toNetAddr } from "../lib/socket.ts";
import { abortable, abortError, type Deferred, deferred } from "../lib/stream/abort.ts";
import { ConnState, ConnStateForwarder } from "./_conn_state.ts";
import { AcceptQueue } from "./_listener.ts";
import { nodeTlsOverConn } from "./_node_tls.ts";
import { offerSession, sessionToResume, type TlsSession } from "./_tls_sessions.ts";

/** The socket contract this adapter implements. */
export type * from "../lib/socket.ts";

interface BunTlsOptions {
  serverName?: string;
  passphrase?: string;
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
  getSession(): TlsSession | undefined;
  setSession(session: TlsSession): void;
  isSessionReused(): boolean;
  upgradeTLS?(options: {
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

/**
 * Connections through Bun's own socket APIs: what Bun's clients and servers use by default.
 * It works only under Bun, where it is also the `network` option that picks it explicitly.
 *
 * @example Bun's sockets where they exist, node:net elsewhere
 * ```ts
 * import { bunNetwork } from "@streamftp/streamftp/adapters/bun";
 * import { nodeNetwork } from "@streamftp/streamftp/adapters/node";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const network = "Bun" in globalThis ? bunNetwork : nodeNetwork;
 * await using server = new Server({ network });
 * await server.start("127.0.0.1", 0);
 * assert.equal(server.network.name, "Bun" in globalThis ? "bun" : "node");
 * ```
 */
export const bunNetwork: Network = {
  name: "bun",
  canResumeTlsSessions: true,
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
  handshake: (socket, success, authorizationError) =>
    socket.data?.onHandshake(success, authorizationError),
};

async function connect(options: ConnectOptions): Promise<Conn> {
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal.reason);
  const tls = options.tls ? await clientTlsOptions(options.tls, options.hostname) : undefined;
  const conn = new BunSocketConn(
    !!tls,
    options.hostname,
    options.tls && clientRole(options.tls),
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
      const conn = new BunSocketConn(!!tls, undefined);
      conn.onOpen(socket);
      if (tls) conn.onHandshake(true, null);
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

/** What a connection running the TLS client role needs to know. */
interface ClientRole {
  /** Whether to reject a certificate that cannot be verified. */
  verify: boolean;
  /** The session to resume. */
  session: TlsSession | undefined;
}

function clientRole(options: TlsClientOptions): ClientRole {
  return { verify: options.rejectUnauthorized !== false, session: sessionToResume(options) };
}

function serverTlsOptions(options: TlsServerOptions): BunTlsOptions {
  const { cert, key, sessionScope } = options;
  return sessionScope ? { cert, key, passphrase: scopeToken(sessionScope) } : { cert, key };
}

const scopeTokens = new WeakMap<object, string>();
let scopeCount = 0;

/**
 * A passphrase of a session scope's own, which gives the scope a TLS context of its own (Bun
 * shares contexts among equal options only). The key is not encrypted (the contract has no
 * passphrase), so the passphrase is never used to read it; it only sets the options apart.
 */
function scopeToken(scope: object): string {
  let token = scopeTokens.get(scope);
  if (!token) {
    token = `streamftp-session-scope-${++scopeCount}`;
    scopeTokens.set(scope, token);
  }
  return token;
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

class BunSocketConn extends ConnStateForwarder implements Conn {
  localAddr: NetAddr = toNetAddr("0.0.0.0", 0);
  remoteAddr: NetAddr = toNetAddr("0.0.0.0", 0);
  readonly secure: boolean;
  /** Settles when a TLS handshake is done (unused on plain connections). */
  readonly handshaken: Promise<void>;
  readonly #handshake: Deferred<void> = deferred<void>();
  protected readonly state: ConnState;
  #socket: BunSocket | undefined;
  readonly #hostname: string | undefined;
  readonly #verify: boolean;
  /** The session to resume, until the socket has it. */
  #resume: TlsSession | undefined;
  #reused: boolean | undefined;
  #paused = false;
  #wanted = false;
  /** The write waiting for `drain`; unset once it came. */
  #drain: Deferred<void> | undefined;
  /** Whether a TLS handshake is under way (one waits on `handshaken`). */
  #handshaking: boolean;

  /**
   * @param secure Whether the socket runs TLS.
   * @param hostname The name connected to; absent on accepted connections.
   * @param client For the TLS client role: verification and the session to resume.
   */
  constructor(secure: boolean, hostname: string | undefined, client?: ClientRole) {
    super();
    this.secure = secure;
    this.#handshaking = secure;
    this.#hostname = hostname;
    this.#verify = client?.verify ?? false;
    this.#resume = client?.session;
    // Read when asked: TLS 1.3 sessions come after the handshake, and a closed socket has none.
    if (client) offerSession(this, () => this.#socket?.getSession());
    this.handshaken = this.#handshake.promise;
    this.handshaken.catch(() => {});
    this.state = new ConnState({
      pause: () => this.#flow(false),
      resume: () => this.#flow(true),
      write: (chunk) => this.#write(chunk),
      // shutdown() sends the FIN and keeps reading; end() would stop reading too, and
      // shutdown(true) shuts the read side instead.
      end: () => this.#socket?.shutdown(),
      reset: () => this.#socket?.terminate(),
      close: () => this.#socket?.end(),
    });
  }

  get tlsSessionReused(): boolean | undefined {
    return this.#reused;
  }

  setNoDelay(on: boolean): void {
    this.#socket?.setNoDelay(on);
  }

  async startTls(options: TlsOptions, signal?: AbortSignal): Promise<Conn> {
    const raw = this.#socket;
    if (this.secure) throw new TypeError("Connection already runs TLS");
    this.state.assertUpgradable();
    if (!raw) throw new ConnectionClosedError("Cannot start TLS on a closed connection");
    this.state.detach();
    const hostname = this.#hostname ?? this.remoteAddr.hostname;
    if (!raw.upgradeTLS) {
      const plain = new BunSocketConn(false, this.#hostname);
      plain.onOpen(raw);
      return await nodeTlsOverConn(plain, options, hostname, signal);
    }
    const next = new BunSocketConn(
      true,
      this.#hostname,
      options.role === "client" ? clientRole(options) : undefined,
    );
    try {
      if (signal?.aborted) throw abortError(signal.reason);
      const tls = options.role === "server"
        ? serverTlsOptions(options)
        : await clientTlsOptions(options, hostname);
      raw.resume();
      // Throws on options it cannot use (a bad key, say): that is the caller's error.
      next.onOpen(
        raw.upgradeTLS({
          tls,
          isServer: options.role === "server",
          socket: handlers,
          data: next,
        })[1],
      );
      await abortable(next.handshaken, signal);
    } catch (error) {
      next.state.reset();
      raw.terminate();
      throw error;
    }
    return next;
  }

  close(): void {
    if (this.state.released) return;
    this.state.close();
    // A TLS socket with data still unsent reports no close (Bun 1.4.5): end the streams and
    // the write waiting for `drain` here.
    this.onClose();
  }

  /** Takes the socket once it is connected (or upgraded). */
  onOpen(socket: BunSocket): void {
    this.#socket = socket;
    socket.data = this;
    if (this.#resume) {
      // Before the handshake starts, which is the only time it counts.
      socket.setSession(this.#resume);
      this.#resume = undefined;
    }
    this.localAddr = toNetAddr(socket.localAddress, socket.localPort);
    this.remoteAddr = toNetAddr(socket.remoteAddress, socket.remotePort);
    // A TLS socket must keep reading until its handshake is done.
    if (!this.secure) this.#flow(false);
  }

  /**
   * Ends the handshake: a failed one (garbage from the peer, say) or an unverified
   * certificate where verification is asked for closes the socket.
   */
  onHandshake(success: boolean, authorizationError: Error | null): void {
    this.#handshaking = false;
    if (!success || (authorizationError && this.#verify)) {
      this.#handshake.reject(
        authorizationError ?? new ConnectionClosedError("TLS handshake failed"),
      );
      this.state.reset();
      return;
    }
    this.#reused = this.#socket?.isSessionReused();
    this.#handshake.resolve();
    this.#flow(this.#wanted);
  }

  onData(data: Uint8Array): void {
    // Bun hands over a fresh Buffer per event; a plain view spares readers Buffer's sharing
    // `slice`.
    this.state.received(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  onDrain(): void {
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.resolve();
  }

  onEnd(): void {
    this.state.peerEnded();
  }

  onClose(error?: Error): void {
    // The error is built only for a handshake or a write still waiting (see ConnState).
    const waiting = this.#handshaking || this.#drain;
    const reason = waiting ? error ?? new ConnectionClosedError("Connection closed") : undefined;
    if (this.#handshaking) this.#endHandshake(reason);
    this.state.socketClosed(error);
    this.#drain?.reject(reason);
    this.#drain = undefined;
  }

  onError(error: Error): void {
    if (this.#handshaking) this.#endHandshake(error);
    this.state.fail(error);
    this.#drain?.reject(error);
    this.#drain = undefined;
  }

  #endHandshake(error: unknown): void {
    this.#handshaking = false;
    this.#handshake.reject(error);
  }

  /** Reads from the socket only while a reader waits (high-water mark 0, pull per read). */
  #flow(wanted: boolean): void {
    this.#wanted = wanted;
    const socket = this.#socket;
    if (!socket || this.state.released) return;
    if (wanted && this.#paused) {
      this.#paused = false;
      socket.resume();
    } else if (!wanted && !this.#paused) {
      this.#paused = true;
      socket.pause();
    }
  }

  /** Writes at once what the socket takes; the rest after `drain`. */
  #write(chunk: Uint8Array): Promise<void> | void {
    const written = this.#writeSome(chunk, 0);
    if (written < chunk.byteLength) return this.#writeRest(chunk, written);
  }

  async #writeRest(chunk: Uint8Array, offset: number): Promise<void> {
    while (offset < chunk.byteLength) {
      this.#drain = deferred<void>();
      await this.#drain.promise;
      offset = this.#writeSome(chunk, offset);
    }
  }

  /** Writes from `offset` on, returns the new offset. */
  #writeSome(chunk: Uint8Array, offset: number): number {
    const socket = this.#socket;
    if (!socket || this.state.released) throw new ConnectionClosedError("Connection closed");
    const written = socket.write(chunk, offset, chunk.byteLength - offset);
    if (written < 0) throw new ConnectionClosedError("Connection closed");
    return offset + written;
  }
}
