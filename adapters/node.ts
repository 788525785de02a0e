/**
 * The node:net / node:tls {@linkcode Network}. It is the default on Node and also works under
 * Bun and Deno when passed explicitly. node:net and node:tls are loaded on first use, so that
 * importing this module costs nothing in runtimes that never use it.
 *
 * @module
 */

import type { Server, Socket } from "node:net";
import type { TlsOptions as NodeTlsServerOptions, TLSSocket } from "node:tls";
import type {
  Conn,
  ConnectOptions,
  Listener,
  ListenOptions,
  Network,
  TlsOptions,
  TlsServerOptions,
} from "../lib/socket.ts";
import { toNetAddr } from "../lib/socket.ts";
import { abortError } from "../lib/stream/abort.ts";
import { AcceptQueue } from "./_listener.ts";
import { wrapNodeSocket } from "./_node_streams.ts";
import {
  nodeTlsCanResume,
  nodeTlsOverConn,
  type SecuredNodeSocket,
  secureNodeSocket,
} from "./_node_tls.ts";

/** The socket contract this adapter implements. */
export type * from "../lib/socket.ts";

type NodeNet = typeof import("node:net");
type NodeTls = typeof import("node:tls");
type NodeFs = typeof import("node:fs");

let modules: Promise<{ net: NodeNet; tls: NodeTls }> | undefined;
/** node:fs once loaded, where {@linkcode libuvSockets} needs it. */
let nodeFs: NodeFs | undefined;

function load(): Promise<{ net: NodeNet; tls: NodeTls }> {
  modules ??= Promise.all([
    import("node:net"),
    import("node:tls"),
    libuvSockets ? import("node:fs") : undefined,
  ]).then(([net, tls, fs]) => {
    nodeFs = fs;
    return { net, tls };
  });
  return modules;
}

/**
 * Whether sockets run on libuv, as in Node (not in Bun or Deno). On Linux, libuv takes a reset
 * that comes in with the last bytes for the peer's FIN: when a read returns less than it asked
 * for and the poll also reported POLLHUP (which a reset sets), it ends the stream without the
 * read that would fail with ECONNRESET (`uv__stream_io` in libuv's src/unix/stream.c; newer
 * libuv drops that shortcut). An upload cut off by a reset would then look complete, in plain
 * TCP and in TLS alike (node:tls reads the TCP handle itself and passes the EOF on).
 */
const libuvSockets = !("Deno" in globalThis) && !("Bun" in globalThis);

/** Errors of a read that say the connection failed rather than ended. */
const transportErrors = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "EPIPE",
]);

/**
 * Makes the read libuv skipped (see {@linkcode libuvSockets}), once the socket reported the
 * peer's end: after a FIN, a read returns nothing, whatever came later; after a reset without
 * a FIN, it fails with the reset, which the kernel still holds. The descriptor is nonblocking,
 * so a TLS end (close_notify) without a FIN yet reads EAGAIN, or bytes TLS ignores.
 *
 * @returns The reset as a node socket error, or `undefined` for a real end.
 */
function resetBehindEnd(fs: NodeFs, socket: Socket): Error | undefined {
  // A TLS socket's handle reads its TCP descriptor directly and reports it as well.
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) return undefined;
  try {
    fs.readSync(fd, new Uint8Array(1), 0, 1, null);
    return undefined;
  } catch (error) {
    const { code, errno } = error as { code?: unknown; errno?: unknown };
    if (typeof code !== "string" || !transportErrors.has(code)) return undefined;
    return Object.assign(new Error(`read ${code}`), { code, errno, syscall: "read" });
  }
}

/**
 * Connections through node:net and node:tls, in Node and in Bun and Deno as well: Node's
 * default, and the `network` option (or `STREAMFTP_ADAPTER=node`) elsewhere. Whether TLS
 * sessions can be resumed is node:tls's say in the running runtime (not under Deno).
 *
 * @example A server and a client on node:net, in any runtime
 * ```ts
 * import { nodeNetwork } from "@streamftp/streamftp/adapters/node";
 * import { Client } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ network: nodeNetwork });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port, {
 *   network: nodeNetwork,
 * });
 * await client.login();
 * assert.equal(await client.pwd(), "/");
 * ```
 */
export const nodeNetwork: Network = {
  name: "node",
  canResumeTlsSessions: nodeTlsCanResume,
  connect,
  listen,
};

async function connect(options: ConnectOptions): Promise<Conn> {
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal.reason);
  const { net } = await load();
  const socket = net.connect({ host: options.hostname, port: options.port, allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: unknown) => {
      socket.off("connect", onConnect);
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) return resolve();
      socket.destroy();
      reject(error);
    };
    const onConnect = () => settle();
    const onError = (error: unknown) => settle(error);
    const onAbort = () => settle(abortError(signal?.reason));
    socket.once("connect", onConnect);
    socket.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  const conn = wrap(socket, options.hostname);
  if (!options.tls) return conn;
  // Implicit TLS is a plain connection upgraded at once: one code path for both kinds.
  return await conn.startTls(options.tls, signal);
}

/**
 * Wraps a connected socket, plain or (with `secured`) secured. `hostname` is the name the
 * connection was made to; an accepted socket has none, and a TLS client role on it
 * (active-mode FTPS) checks the certificate against the peer's address.
 */
function wrap(
  socket: Socket,
  hostname: string | undefined,
  secured?: Omit<SecuredNodeSocket, "socket">,
): Conn {
  const remoteAddr = toNetAddr(socket.remoteAddress ?? "", socket.remotePort ?? 0);
  const name = hostname ?? remoteAddr.hostname;
  const fs = nodeFs;
  return wrapNodeSocket(socket, {
    secure: !!secured,
    tlsSessionReused: secured?.tlsSessionReused,
    session: secured?.session,
    localAddr: toNetAddr(socket.localAddress ?? "", socket.localPort ?? 0),
    remoteAddr,
    upgrade: secured ? undefined : (raw, options, signal) => upgrade(raw, options, name, signal),
    checkEnd: fs ? () => resetBehindEnd(fs, socket) : undefined,
  });
}

/**
 * Deno's node:tls over a node:net socket loses the peer's EOF when it arrives while the TLS
 * socket is paused, and it takes writes without limit; over a stream bridge it does neither.
 */
const bridgeTls = "Deno" in globalThis;

/** Secures a detached socket; destroys it when the handshake fails or `signal` aborts. */
async function upgrade(
  socket: Socket,
  options: TlsOptions,
  hostname: string,
  signal: AbortSignal | undefined,
): Promise<Conn> {
  if (bridgeTls) return nodeTlsOverConn(wrap(socket, hostname), options, hostname, signal);
  try {
    const { tls } = await load();
    const secured = await secureNodeSocket(tls, socket, options, hostname, signal);
    return wrap(secured.socket, hostname, secured);
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

async function listen(options: ListenOptions): Promise<Listener> {
  const { net, tls } = await load();
  let server: Server;
  // Connections that come before the queue exists wait here.
  const early: Socket[] = [];
  let onSocket: (socket: Socket) => void = (socket) => early.push(socket);
  if (options.tls && bridgeTls) {
    // Each connection's handshake would fail on its own: fail here instead.
    await checkPem(options.tls);
  }
  if (options.tls && !bridgeTls) {
    const tlsOptions: NodeTlsServerOptions = {
      cert: options.tls.cert,
      key: options.tls.key,
      allowHalfOpen: true,
    };
    server = tls.createServer(tlsOptions);
    server.on("secureConnection", (socket: Socket) => onSocket(socket));
    // A client that fails its handshake is dropped; the listener goes on.
    server.on("tlsClientError", () => {});
  } else {
    server = net.createServer({ allowHalfOpen: true });
    server.on("connection", (socket: Socket) => onSocket(socket));
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.hostname, port: options.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  const addr = typeof bound === "object" && bound
    ? toNetAddr(bound.address, bound.port)
    : toNetAddr(options.hostname, options.port);
  const queue = new AcceptQueue(addr, () => {
    server.close();
  });
  const serverTls = options.tls;
  onSocket = (socket) => {
    if (!serverTls) return queue.push(wrap(socket, undefined));
    if (!bridgeTls) {
      const reused = (socket as TLSSocket).isSessionReused();
      return queue.push(wrap(socket, undefined, { tlsSessionReused: reused }));
    }
    // Each handshake runs on its own, so one slow client holds up nobody.
    wrap(socket, undefined).startTls(serverTls).then(
      (conn) => queue.push(conn),
      () => socket.destroy(),
    );
  };
  early.forEach(onSocket);
  server.on("error", () => queue.close());
  return queue;
}

/**
 * Throws when a certificate or key cannot be parsed (Deno's node:tls finds out only in each
 * handshake).
 */
async function checkPem(options: TlsServerOptions): Promise<void> {
  const { createPrivateKey, X509Certificate } = await import("node:crypto");
  createPrivateKey(options.key);
  new X509Certificate(options.cert);
}
