/**
 * The Deno {@linkcode Network}: `Deno.connect`, `Deno.listen`, `Deno.listenTls`, and node:tls
 * for TLS on an existing connection.
 *
 * The streams are built on `conn.read`/`conn.write`/`conn.closeWrite`, not on `conn.readable`
 * and `conn.writable`: those close the whole connection at EOF and on `close()`, which breaks
 * half-close (an FTP data connection ends with a FIN while the other direction goes on).
 * A listener accepts only while someone waits in `accept()`: a passive data listener, closed
 * after its one connection, so leaves no accept pending to fail.
 *
 * Native: plain TCP and implicit TLS listeners (`Deno.listenTls`). Through node:tls (loaded on
 * first use), over this adapter's own streams: both TLS roles on an existing connection,
 * implicit-TLS connects included. Deno has no native server role, and its client role
 * (`Deno.startTls`) cannot be called off: closing a connection whose handshake waits for a
 * silent peer leaves the socket open until the peer acts (measured in Deno 2.9.6), where
 * closing the streams under node:tls closes it at once. node:tls was measured no slower
 * either (downloads of 1 GiB: 415 to 470 MB/s against 325 to 370 natively, with less CPU).
 *
 * No TLS client in Deno resumes a session (measured in 2.9.6, natively and through
 * node:tls), so `resumeSessionOf` is ignored. The server role resumes sessions and says so in
 * `tlsSessionReused`, but across session scopes too: in Deno, `sessionScope` does not keep
 * sessions apart, so a resumed session proves only that this process issued it.
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
  TlsOptions,
} from "../lib/socket.ts";
import { toNetAddr } from "../lib/socket.ts";
import { abortable, abortError } from "../lib/stream/abort.ts";
import { ConnState, ConnStateForwarder } from "./_conn_state.ts";
import { AcceptOnDemand } from "./_listener.ts";
import { nodeTlsOverConn } from "./_node_tls.ts";

/** The socket contract this adapter implements. */
export type * from "../lib/socket.ts";

interface DenoAddr {
  hostname: string;
  port: number;
}

interface DenoConn {
  readonly localAddr: DenoAddr;
  readonly remoteAddr: DenoAddr;
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
}

interface DenoListener {
  readonly addr: DenoAddr;
  accept(): Promise<DenoConn>;
  close(): void;
}

interface DenoLike {
  connect(options: { hostname: string; port: number; signal?: AbortSignal }): Promise<DenoConn>;
  listen(options: { hostname: string; port: number }): DenoListener;
  listenTls(options: { hostname: string; port: number; cert: string; key: string }): DenoListener;
}

function deno(): DenoLike {
  return (globalThis as unknown as { Deno: DenoLike }).Deno;
}

/**
 * Connections through Deno's own network APIs: what Deno's clients and servers use by default,
 * or anywhere they are given it as their `network` option.
 *
 * @example A server and a client on Deno's sockets
 * ```ts
 * import { denoNetwork } from "@streamftp/streamftp/adapters/deno";
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ network: denoNetwork });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port, {
 *   network: denoNetwork,
 * });
 * await client.login();
 * assert.equal(await client.pwd(), "/");
 * ```
 */
export const denoNetwork: Network = {
  name: "deno",
  canResumeTlsSessions: false,
  connect,
  listen,
};

async function connect(options: ConnectOptions): Promise<Conn> {
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal.reason);
  const attempt = deno().connect({ hostname: options.hostname, port: options.port, signal });
  let tcp: DenoConn;
  try {
    tcp = await abortable(attempt, signal);
  } catch (error) {
    attempt.then((late) => late.close(), () => {});
    throw error;
  }
  const conn = new DenoSocketConn(tcp, false, options.hostname);
  if (!options.tls) return conn;
  return await conn.startTls(options.tls, signal);
}

// deno-lint-ignore require-await -- async, so that a failed bind rejects instead of throwing
async function listen(options: ListenOptions): Promise<Listener> {
  const { hostname, port, tls } = options;
  const listener = tls
    ? deno().listenTls({ hostname, port, cert: tls.cert, key: tls.key })
    : deno().listen({ hostname, port });
  return new AcceptOnDemand({
    addr: toNetAddr(listener.addr.hostname, listener.addr.port),
    accept: async () => {
      let conn: DenoConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        // BadResource: the listener is closed. Anything else (EMFILE...) may pass.
        if ((error as Error | undefined)?.name !== "BadResource") throw error;
        throw new ConnectionClosedError("Listener closed", { cause: error });
      }
      // TLS handshakes run on the first read or write, so one slow client holds up nobody.
      return new DenoSocketConn(conn, !!tls, undefined);
    },
    close: () => listener.close(),
  });
}

class DenoSocketConn extends ConnStateForwarder implements Conn {
  readonly localAddr: NetAddr;
  readonly remoteAddr: NetAddr;
  readonly secure: boolean;
  readonly tlsSessionReused: boolean | undefined = undefined;
  readonly #conn: DenoConn;
  /** The name connected to, for certificate checks; absent on accepted connections. */
  readonly #hostname: string | undefined;
  protected readonly state: ConnState;

  constructor(conn: DenoConn, secure: boolean, hostname: string | undefined) {
    super();
    this.#conn = conn;
    this.#hostname = hostname;
    this.secure = secure;
    this.localAddr = toNetAddr(conn.localAddr.hostname, conn.localAddr.port);
    this.remoteAddr = toNetAddr(conn.remoteAddr.hostname, conn.remoteAddr.port);
    this.state = new ConnState({
      read: (view) => conn.read(view),
      write: (chunk) => writeAll(conn, chunk),
      end: () => conn.closeWrite(),
      // Deno cannot send a reset; closing at once is the nearest: the peer sees EOF, or a
      // reset when data it sent is still unread here.
      reset: () => closeQuietly(conn),
      close: () => closeQuietly(conn),
    });
  }

  setNoDelay(on: boolean): void {
    this.#conn.setNoDelay?.(on);
  }

  async startTls(options: TlsOptions, signal?: AbortSignal): Promise<Conn> {
    if (this.secure) throw new TypeError("Connection already runs TLS");
    this.state.assertUpgradable();
    // This Conn is consumed: from here on its streams and close() leave the socket alone.
    this.state.detach();
    return await nodeTlsOverConn(
      new DenoSocketConn(this.#conn, false, this.#hostname),
      options,
      this.#hostname ?? this.remoteAddr.hostname,
      signal,
    );
  }

  close(): void {
    this.state.close();
  }
}

/** Writes a whole chunk (a write may take part of it). */
async function writeAll(conn: DenoConn, chunk: Uint8Array): Promise<void> {
  let offset = await conn.write(chunk);
  while (offset < chunk.byteLength) offset += await conn.write(chunk.subarray(offset));
}

function closeQuietly(conn: DenoConn): void {
  try {
    conn.close();
  } catch {
    // Already gone (both directions finished, or the runtime dropped it).
  }
}
