/**
 * Where a resuming TLS client handshake finds the session it resumes: each adapter registers,
 * for every connection it secured in the client role, how to get that connection's newest
 * session; {@linkcode TlsClientOptions.resumeSessionOf} names the connection. Private to the
 * adapters.
 *
 * @module
 */

import type { Conn, TlsClientOptions } from "../lib/socket.ts";

/** A runtime's serialized TLS session (an OpenSSL or BoringSSL `SSL_SESSION`, in a Buffer). */
export type TlsSession = Uint8Array;

const sources = new WeakMap<Conn, () => TlsSession | undefined>();

/**
 * Makes a secured connection's session available to later handshakes.
 *
 * @param conn The secured connection (TLS client role).
 * @param current Returns its newest session, or `undefined` while it has none.
 */
export function offerSession(conn: Conn, current: () => TlsSession | undefined): void {
  sources.set(conn, current);
}

/**
 * The session a client handshake should resume.
 *
 * @param options The handshake's options.
 * @returns The newest session of `options.resumeSessionOf`, or `undefined` when there is none
 *   (no such option, a connection of another adapter, or no session received yet).
 */
export function sessionToResume(options: TlsClientOptions): TlsSession | undefined {
  const earlier = options.resumeSessionOf;
  return earlier ? sources.get(earlier)?.() : undefined;
}
