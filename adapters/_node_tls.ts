/**
 * TLS through node:tls, in either role, over a node socket or over any {@linkcode Conn}: the
 * handshake with its failure and abort handling, one secure context per session scope, and the
 * sessions a client hands on. Used by the node adapter, by the Deno adapter for TLS on an
 * existing connection, and by the Bun adapter where Bun lacks `upgradeTLS`. Private to the
 * adapters.
 *
 * Measured (Node 20, Bun 1.4.5, Deno 2.9.6; TLS 1.3 and 1.2): in Node and Bun, a server-role
 * handshake resumes exactly the sessions issued under the same secure context (each context
 * has its own ticket keys), and a client resumes when given a session from a `session` event
 * (TLS 1.3 tickets come after the handshake, with the peer's first data). Deno's node:tls (on
 * rustls) differs on both counts: its client never resumes (the sessions it emits are
 * placeholders), and its server role resumes any session the process issued, whatever the
 * context, so that session scopes do not keep sessions apart there. `tlsSessionReused` then
 * still says whether the handshake resumed, but not whether it resumed a session of its scope.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import type { ConnectionOptions, SecureContext, TLSSocket } from "node:tls";
import { ConnectionClosedError } from "../lib/errors.ts";
import type { Conn, TlsClientOptions, TlsOptions, TlsServerOptions } from "../lib/socket.ts";
import { abortError } from "../lib/stream/abort.ts";
import { wrapNodeSocket } from "./_node_streams.ts";
import { sessionToResume, type TlsSession } from "./_tls_sessions.ts";

/**
 * The `node:tls` module, which the adapters import lazily and hand to these functions.
 *
 * @example
 * ```ts
 * import type { NodeTls } from "./_node_tls.ts";
 * import assert from "node:assert/strict";
 *
 * const tls: NodeTls = await import("node:tls");
 * assert.equal(typeof tls.connect, "function");
 * ```
 */
export type NodeTls = typeof import("node:tls");

/**
 * Whether a node:tls client handshake in this runtime can resume a session: not in Deno (see
 * the module notes).
 *
 * @example
 * ```ts
 * import { nodeTlsCanResume } from "./_node_tls.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(nodeTlsCanResume, !("Deno" in globalThis));
 * ```
 */
export const nodeTlsCanResume: boolean = !("Deno" in globalThis);

/** A socket secured by {@linkcode secureNodeSocket}. */
export interface SecuredNodeSocket {
  /** The TLS socket. */
  socket: TLSSocket;
  /** Whether the handshake resumed a session (node:tls `isSessionReused()`). */
  tlsSessionReused: boolean;
  /** For the client role: the socket's newest session. */
  session?: () => TlsSession | undefined;
}

/**
 * Runs a node:tls handshake over a connected socket or stream. On failure or abort the TLS
 * socket is destroyed; closing `transport` is the caller's part.
 *
 * @param tls The node:tls module.
 * @param transport The connected socket, or a stream that carries the bytes.
 * @param options The TLS role and its settings.
 * @param hostname For the client role: the host connected to (SNI and certificate check).
 * @param signal Cancels the handshake.
 * @returns The secured socket.
 */
export async function secureNodeSocket(
  tls: NodeTls,
  transport: Duplex,
  options: TlsOptions,
  hostname: string,
  signal?: AbortSignal,
): Promise<SecuredNodeSocket> {
  if (options.role === "server") {
    const socket = new tls.TLSSocket(transport, {
      isServer: true,
      secureContext: scopedSecureContext(tls, options),
    });
    await handshake(socket, "secure", signal);
    return { socket, tlsSessionReused: socket.isSessionReused() };
  }
  const socket = tls.connect({
    ...clientOptions(tls, options, hostname),
    socket: transport,
  });
  let newest: TlsSession | undefined;
  socket.on("session", (session: TlsSession) => {
    newest = session;
  });
  await handshake(socket, "secureConnect", signal);
  return { socket, tlsSessionReused: socket.isSessionReused(), session: () => newest };
}

/**
 * Runs node:tls over an existing {@linkcode Conn} in either role, for TLS that a runtime's
 * native API cannot do (Deno's server role) or cannot call off (Deno's `startTls`).
 *
 * @param conn The plain connection; consumed, and closed when the handshake fails or aborts.
 * @param options The TLS role and its settings.
 * @param hostname For the client role: the host connected to (SNI and certificate check).
 * @param signal Cancels the handshake.
 * @returns The secured connection.
 */
export async function nodeTlsOverConn(
  conn: Conn,
  options: TlsOptions,
  hostname: string,
  signal?: AbortSignal,
): Promise<Conn> {
  const [{ Duplex }, tls] = await Promise.all([import("node:stream"), import("node:tls")])
    .catch((error) => {
      conn.close();
      throw error;
    });
  const { duplex, flow } = bridge(Duplex, conn);
  let secured: SecuredNodeSocket;
  try {
    secured = await secureNodeSocket(tls, duplex, options, hostname, signal);
  } catch (error) {
    // Destroying the bridge closes `conn`.
    duplex.destroy();
    throw error;
  }
  secured.socket.once("close", () => duplex.destroy());
  // Deno's node:tls takes a failed stream below it for an end: a reset would pass for EOF.
  duplex.once("error", (error) => secured.socket.destroy(error));
  return wrapNodeSocket(secured.socket, {
    secure: true,
    tlsSessionReused: secured.tlsSessionReused,
    session: secured.session,
    localAddr: conn.localAddr,
    remoteAddr: conn.remoteAddr,
    setNoDelay: (on) => conn.setNoDelay(on),
    flow,
  });
}

/** The default scope: server-role handshakes given no scope share it. */
const defaultScope = {};

const contexts = new WeakMap<object, { cert: string; key: string; context: SecureContext }>();

/**
 * The secure context of a session scope: handshakes with the same one can resume each other's
 * sessions. A scope whose certificate or key changes gets a new context.
 *
 * @throws When the certificate or key cannot be used.
 */
function scopedSecureContext(tls: NodeTls, options: TlsServerOptions): SecureContext {
  const scope = options.sessionScope ?? defaultScope;
  const known = contexts.get(scope);
  if (known?.cert === options.cert && known.key === options.key) return known.context;
  const context = tls.createSecureContext({ cert: options.cert, key: options.key });
  contexts.set(scope, { cert: options.cert, key: options.key, context });
  return context;
}

/** Builds node:tls client options from the contract's options. */
function clientOptions(
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
    // Sessions are Buffers in every runtime (node:tls `session` events, Bun's getSession).
    session: sessionToResume(options) as Buffer | undefined,
  };
}

/**
 * Waits until a node:tls socket finished its handshake (`secureConnect` for the client role,
 * `secure` for the server role). Destroys the socket when the handshake fails, the socket
 * closes first, or `signal` aborts.
 */
function handshake(
  socket: TLSSocket,
  event: "secure" | "secureConnect",
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: unknown) => {
      socket.off(event, onDone);
      socket.off("error", onError);
      socket.off("close", onClose);
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) return resolve();
      socket.destroy();
      reject(error);
    };
    const onDone = () => settle();
    const onError = (error: unknown) => settle(error);
    const onClose = () =>
      settle(new ConnectionClosedError("Connection closed during TLS handshake"));
    const onAbort = () => settle(abortError(signal?.reason));
    socket.once(event, onDone);
    socket.once("error", onError);
    socket.once("close", onClose);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
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
