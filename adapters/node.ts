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

let modules: Promise<{ net: NodeNet; tls: NodeTls }> | undefined;

function load(): Promise<{ net: NodeNet; tls: NodeTls }> {
  modules ??= Promise.all([import("node:net"), import("node:tls")]).then(([net, tls]) => ({
    net,
    tls,
  }));
  return modules;
}

/**
 * Connections through node:net and node:tls. Whether TLS sessions can be resumed is node:tls's
 * say in the running runtime (not under Deno).
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
  return wrapNodeSocket(socket, {
    secure: !!secured,
    tlsSessionReused: secured?.tlsSessionReused,
    session: secured?.session,
    localAddr: toNetAddr(socket.localAddress ?? "", socket.localPort ?? 0),
    remoteAddr,
    upgrade: secured ? undefined : (raw, options, signal) => upgrade(raw, options, name, signal),
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
