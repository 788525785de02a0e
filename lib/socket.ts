/**
 * The socket-adapter contract. Everything above this file (protocol, sessions, transfers,
 * throttling) sees only Web Streams and these few socket controls; everything below it is one
 * adapter per runtime (`adapters/deno.ts`, `adapters/bun.ts`, `adapters/node.ts`).
 *
 * @module
 */

/** An address of one end of a TCP connection. IPv4-mapped IPv6 addresses are unmapped. */
export interface NetAddr {
  /** The IP address (never `::ffff:a.b.c.d`: such addresses are reported as `a.b.c.d`). */
  hostname: string;
  /** The TCP port. */
  port: number;
  /** The address family of {@linkcode NetAddr.hostname}. */
  family: "IPv4" | "IPv6";
}

/** TLS settings for the side of a connection that runs the TLS client handshake. */
export interface TlsClientOptions {
  /** The handshake role. */
  role: "client";
  /** Server name for SNI and certificate checks; defaults to the connected host name. */
  serverName?: string;
  /** PEM certificates of extra trusted authorities. */
  caCerts?: string[];
  /**
   * Whether to reject a peer whose certificate cannot be verified (default `true`).
   * Turning this off is for tests and closed networks only.
   */
  rejectUnauthorized?: boolean;
  /**
   * A secured connection to the same server whose TLS session this handshake should resume
   * (an FTPS data connection resumes its control connection's session, as vsftpd, ProFTPD and
   * FileZilla Server demand). Where the runtime cannot resume ({@linkcode Network.canResumeTlsSessions}
   * is `false`), a full handshake is made.
   */
  resumeSessionOf?: Conn;
}

/** TLS settings for the side of a connection that runs the TLS server handshake. */
export interface TlsServerOptions {
  /** The handshake role. */
  role: "server";
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
  /**
   * Connections upgraded with the same scope object can resume each other's TLS sessions, and
   * no others can (an FTP server gives each control connection its own scope, so that a data
   * connection can prove it belongs to that control connection). Without it, the adapter's
   * default scope applies.
   */
  sessionScope?: object;
}

/** TLS settings for either handshake role. */
export type TlsOptions = TlsClientOptions | TlsServerOptions;

/** One TCP (or TLS over TCP) connection as a pair of Web Streams. */
export interface Conn {
  /** Bytes from the peer; ends when the peer half-closes (FIN). */
  readonly readable: ReadableStream<Uint8Array>;
  /**
   * Bytes to the peer. A write resolves when the socket has accepted the chunk (backpressure);
   * `close()` sends a FIN only, so reading goes on; `abort()` resets the connection.
   */
  readonly writable: WritableStream<Uint8Array>;
  /** This end's address. */
  readonly localAddr: NetAddr;
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /** Whether the connection runs TLS. */
  readonly secure: boolean;
  /**
   * Whether the TLS handshake resumed an earlier session: `undefined` on plain connections and
   * where the runtime cannot tell.
   */
  readonly tlsSessionReused?: boolean;
  /**
   * Bytes received so far: what `readable` delivered or holds for its reader (the plain text,
   * on a TLS connection). A TLS upgrade starts a new count on the secured connection.
   */
  readonly bytesRead: number;
  /** Bytes sent so far: what the socket took from `writable` (the plain text, on TLS). */
  readonly bytesWritten: number;
  /**
   * Turns Nagle's algorithm off (`true`) or on. Control connections want it off: each reply
   * or command then leaves at once instead of waiting for the peer's acknowledgement of the
   * one before.
   */
  setNoDelay(on: boolean): void;
  /**
   * Upgrades this connection to TLS in the given role and returns the secured connection once
   * the handshake is done. Consumes this `Conn`: its streams must be unlocked and no read may
   * be pending. When the handshake fails or `signal` aborts, the socket is closed and the
   * promise rejects.
   */
  startTls(options: TlsOptions, signal?: AbortSignal): Promise<Conn>;
  /** Closes both directions at once. Idempotent. */
  close(): void;
}

/** A listening TCP socket. Iterating it yields accepted connections until it is closed. */
export interface Listener extends AsyncIterable<Conn> {
  /** The bound address (port 0 is replaced by the real port). */
  readonly addr: NetAddr;
  /** Waits for the next connection; rejects once the listener is closed. */
  accept(): Promise<Conn>;
  /** Stops listening; pending `accept()` calls reject. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@linkcode Network.connect}. */
export interface ConnectOptions {
  /** Host name or IP address to connect to. */
  hostname: string;
  /** TCP port. */
  port: number;
  /** Implicit TLS from the first byte. */
  tls?: TlsClientOptions;
  /** Cancels the connection attempt. */
  signal?: AbortSignal;
}

/** Options of {@linkcode Network.listen}. */
export interface ListenOptions {
  /** Address to bind (`"0.0.0.0"`, `"::"`, `"127.0.0.1"`, ...). */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Implicit TLS on every accepted connection. */
  tls?: TlsServerOptions;
}

/** One runtime's way of making connections: the only thing an adapter must provide. */
export interface Network {
  /** A short name for logs and tests (`"deno"`, `"bun"`, `"node"`). */
  readonly name: string;
  /**
   * Whether a TLS client handshake of this network can resume a session
   * ({@linkcode TlsClientOptions.resumeSessionOf}); `false` or absent where it cannot.
   */
  readonly canResumeTlsSessions?: boolean;
  /** Opens a connection. */
  connect(options: ConnectOptions): Promise<Conn>;
  /** Starts listening. */
  listen(options: ListenOptions): Promise<Listener>;
}

/**
 * Builds a {@linkcode NetAddr} from a runtime's address string, unmapping `::ffff:a.b.c.d`.
 *
 * @param hostname The address as the runtime reports it.
 * @param port The port.
 * @returns The normalized address.
 */
export function toNetAddr(hostname: string, port: number): NetAddr {
  let host = hostname;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) host = mapped[1];
  return { hostname: host, port, family: host.includes(":") ? "IPv6" : "IPv4" };
}
