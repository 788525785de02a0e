/**
 * The socket-adapter contract. Everything above this file (protocol, sessions, transfers,
 * throttling) sees only Web Streams and these few socket controls; everything below it is one
 * adapter per runtime (`adapters/deno.ts`, `adapters/bun.ts`, `adapters/node.ts`).
 *
 * @module
 */

/**
 * An address of one end of a TCP connection. IPv4-mapped IPv6 addresses are unmapped.
 *
 * @example The port a server got
 * ```ts
 * import { type NetAddr, Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * const address: NetAddr = server.address;
 * assert.equal(address.hostname, "127.0.0.1");
 * assert.equal(address.family, "IPv4");
 * assert.ok(address.port > 0);
 * ```
 */
export interface NetAddr {
  /** The IP address (never `::ffff:a.b.c.d`: such addresses are reported as `a.b.c.d`). */
  hostname: string;
  /** The TCP port. */
  port: number;
  /** The address family of {@linkcode NetAddr.hostname}. */
  family: "IPv4" | "IPv6";
}

/**
 * TLS settings for the side of a connection that runs the TLS client handshake: what
 * {@linkcode Network.connect} takes for implicit TLS and {@linkcode Conn.startTls} for an
 * upgrade.
 *
 * @example Trusting a private authority
 * ```ts
 * import type { TlsClientOptions } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * function trusting(caPem: string, serverName: string): TlsClientOptions {
 *   return { role: "client", serverName, caCerts: [caPem] };
 * }
 * // conn.startTls(trusting(pem, "ftp.example.com")) then checks the server's certificate.
 * assert.equal(trusting("-----BEGIN CERTIFICATE-----...", "ftp.example.com").role, "client");
 * ```
 */
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
   * FileZilla Server demand). Where the runtime cannot resume
   * ({@linkcode Network.canResumeTlsSessions} is `false`), a full handshake is made.
   */
  resumeSessionOf?: Conn;
}

/**
 * TLS settings for the side of a connection that runs the TLS server handshake: what
 * {@linkcode Network.listen} takes for implicit TLS and {@linkcode Conn.startTls} for AUTH TLS.
 *
 * @example The handshake options a server's TLS policy makes
 * ```ts
 * import { Server, type TlsServerOptions } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * // In practice the PEM texts of a certificate chain and its key, read from files.
 * const server = new Server({ tls: { cert: "<PEM chain>", key: "<PEM key>" } });
 * const scope = {}; // one per control connection: its data connections resume its session
 * const options: TlsServerOptions | undefined = server.tlsPolicy.handshake(scope);
 * assert.equal(options?.role, "server");
 * assert.equal(options?.sessionScope, scope);
 * ```
 */
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

/**
 * TLS settings for either handshake role; `role` tells them apart.
 *
 * @example Narrowing on the role
 * ```ts
 * import type { TlsOptions } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * function describe(options: TlsOptions): string {
 *   return options.role === "client"
 *     ? `client of ${options.serverName ?? "the connected host"}`
 *     : "server";
 * }
 * const options: TlsOptions = { role: "client", serverName: "ftp.example.com" };
 * assert.equal(describe(options), "client of ftp.example.com");
 * ```
 */
export type TlsOptions = TlsClientOptions | TlsServerOptions;

/**
 * One TCP (or TLS over TCP) connection as a pair of Web Streams.
 *
 * @example A client's control connection
 * ```ts
 * import { Client, type Conn } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * const conn: Conn = client.connection;
 * assert.equal(conn.remoteAddr.port, server.address.port);
 * assert.equal(conn.secure, false);
 * assert.ok(conn.bytesRead > 0); // the greeting
 * ```
 */
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

/**
 * A listening TCP socket. Iterating it yields accepted connections until it is closed.
 *
 * @example An echo server
 * ```ts
 * import { nodeNetwork as network } from "@streamftp/streamftp/adapters/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await network.listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = (async () => {
 *   for await (const conn of listener) {
 *     await conn.readable.pipeTo(conn.writable); // until the peer's FIN, then ours
 *     conn.close();
 *   }
 * })();
 * const conn = await network.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const writer = conn.writable.getWriter();
 * await writer.write(new TextEncoder().encode("ping"));
 * await writer.close(); // a FIN: reading goes on
 * assert.equal(await new Response(conn.readable).text(), "ping");
 * conn.close();
 * await listener.close();
 * await serving;
 * ```
 */
export interface Listener extends AsyncIterable<Conn> {
  /** The bound address (port 0 is replaced by the real port). */
  readonly addr: NetAddr;
  /** Waits for the next connection; rejects once the listener is closed. */
  accept(): Promise<Conn>;
  /** Stops listening; pending `accept()` calls reject. Idempotent. */
  close(): Promise<void>;
}

/**
 * Options of {@linkcode Network.connect}.
 *
 * @example Reading an FTP server's greeting
 * ```ts
 * import { nodeNetwork } from "@streamftp/streamftp/adapters/node";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * const conn = await nodeNetwork.connect({
 *   hostname: "127.0.0.1",
 *   port: server.address.port,
 *   signal: AbortSignal.timeout(5000),
 * });
 * const reader = conn.readable.getReader();
 * const { value } = await reader.read();
 * assert.match(new TextDecoder().decode(value), /^220 /);
 * conn.close();
 * ```
 */
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

/**
 * Options of {@linkcode Network.listen}.
 *
 * @example Any free port on the loopback address
 * ```ts
 * import { nodeNetwork } from "@streamftp/streamftp/adapters/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await nodeNetwork.listen({ hostname: "127.0.0.1", port: 0 });
 * assert.notEqual(listener.addr.port, 0);
 * await listener.close();
 * ```
 */
export interface ListenOptions {
  /** Address to bind (`"0.0.0.0"`, `"::"`, `"127.0.0.1"`, ...). */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Implicit TLS on every accepted connection. */
  tls?: TlsServerOptions;
}

/**
 * One runtime's way of making connections: the only thing an adapter must provide. Clients and
 * servers take one as their `network` option; without it they use the running runtime's.
 *
 * @example A network that counts a client's connections
 * ```ts
 * import { Client, type Network, nodeNetwork, Server } from "@streamftp/streamftp";
 * import assert from "node:assert/strict";
 *
 * let connections = 0;
 * const counting: Network = {
 *   name: "counting",
 *   connect(options) {
 *     connections++;
 *     return nodeNetwork.connect(options);
 *   },
 *   listen: (options) => nodeNetwork.listen(options),
 * };
 * await using server = new Server();
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port, {
 *   network: counting,
 * });
 * await client.login();
 * await client.listAll(); // a data connection
 * assert.equal(connections, 2);
 * ```
 */
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
 * @example Unmapping
 * ```ts
 * import { toNetAddr } from "./socket.ts";
 * import assert from "node:assert/strict";
 *
 * const address = toNetAddr("::ffff:10.0.0.1", 21);
 * assert.deepEqual(address, { hostname: "10.0.0.1", port: 21, family: "IPv4" });
 * assert.equal(toNetAddr("[::1]", 21).family, "IPv6");
 * ```
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
