/**
 * The node:net / node:tls {@linkcode Network}. It is the default on Node and also works under
 * Bun and Deno when passed explicitly. node:net and node:tls are loaded on first use, so that
 * importing this module costs nothing in runtimes that never use it.
 *
 * @module
 */

import type { Server, Socket } from "node:net";
import type { TlsOptions as NodeTlsServerOptions } from "node:tls";
import type {
  Conn,
  ConnectOptions,
  Listener,
  ListenOptions,
  Network,
  TlsOptions,
} from "../lib/socket.ts";
import { toNetAddr } from "../lib/socket.ts";
import { abortable, abortError } from "../lib/stream/abort.ts";
import { AcceptQueue } from "./_listener.ts";
import {
  handshake,
  nodeTlsClientOptions,
  nodeTlsOverConn,
  wrapNodeSocket,
} from "./_node_streams.ts";

/** The socket contract this adapter implements. */
export type * from "../lib/socket.ts";

type NodeNet = typeof import("node:net");
type NodeTls = typeof import("node:tls");

let modules: Promise<{ net: NodeNet; tls: NodeTls }> | undefined;

function load(): Promise<{ net: NodeNet; tls: NodeTls }> {
  modules ??= Promise.all([import("node:net"), import("node:tls")]).then(([net, tls]) => ({
    net,
    tls,
  }));
  return modules;
}

/** Connections through node:net and node:tls. */
export const nodeNetwork: Network = {
  name: "node",
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
  const conn = wrap(socket, options.hostname, false);
  if (!options.tls) return conn;
  // Implicit TLS is a plain connection upgraded at once: one code path for both kinds.
  try {
    return await abortable(conn.startTls(options.tls), signal);
  } catch (error) {
    conn.close();
    socket.destroy();
    throw error;
  }
}

/**
 * Wraps a connected socket. `hostname` is the name the connection was made to; an accepted
 * socket has none, and a TLS client role on it (active-mode FTPS) checks the certificate
 * against the peer's address.
 */
function wrap(socket: Socket, hostname: string | undefined, secure: boolean): Conn {
  const remoteAddr = toNetAddr(socket.remoteAddress ?? "", socket.remotePort ?? 0);
  const name = hostname ?? remoteAddr.hostname;
  return wrapNodeSocket(socket, {
    secure,
    localAddr: toNetAddr(socket.localAddress ?? "", socket.localPort ?? 0),
    remoteAddr,
    upgrade: secure ? undefined : (raw, options) => upgrade(raw, options, name),
  });
}

/**
 * Deno's node:tls over a node:net socket loses the peer's EOF when it arrives while the TLS
 * socket is paused, and it takes writes without limit; over a stream bridge it does neither.
 */
const bridgeTls = "Deno" in globalThis;

async function upgrade(socket: Socket, options: TlsOptions, hostname: string): Promise<Conn> {
  if (bridgeTls) return nodeTlsOverConn(wrap(socket, hostname, false), options, hostname);
  const { tls } = await load();
  const secured = options.role === "server"
    ? await handshake(
      new tls.TLSSocket(socket, {
        isServer: true,
        secureContext: tls.createSecureContext({ cert: options.cert, key: options.key }),
      }),
      "secure",
    )
    : await handshake(
      tls.connect({ ...nodeTlsClientOptions(tls, options, hostname), socket }),
      "secureConnect",
    );
  return wrap(secured, hostname, true);
}

async function listen(options: ListenOptions): Promise<Listener> {
  const { net, tls } = await load();
  let server: Server;
  // Connections that come before the queue exists wait here.
  const early: Socket[] = [];
  let onSocket: (socket: Socket) => void = (socket) => early.push(socket);
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
    if (!serverTls) return queue.push(wrap(socket, undefined, false));
    if (!bridgeTls) return queue.push(wrap(socket, undefined, true));
    // Each handshake runs on its own, so one slow client holds up nobody.
    wrap(socket, undefined, false).startTls(serverTls).then(
      (conn) => queue.push(conn),
      () => socket.destroy(),
    );
  };
  early.forEach(onSocket);
  server.on("error", () => queue.close());
  return queue;
}
