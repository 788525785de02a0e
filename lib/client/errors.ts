/**
 * Errors only the client raises: a listing that outgrew its cap, a tree deeper than the
 * recursion limit, a checksum that did not match, and the FTPS failures ({@linkcode TlsError}
 * and its subclasses). Everything else uses the shared classes of `lib/errors.ts`.
 *
 * @module
 */

import { FtpError } from "../errors.ts";
import type { Reply } from "../protocol/reply.ts";

/** A directory listing sent more bytes than `maxListingBytes` allows; it was aborted. */
export class ListingTooLargeError extends FtpError {
  /** The directory whose listing was aborted. */
  readonly path: string;
  /** The cap in bytes. */
  readonly maxBytes: number;
  /** Creates the error. */
  constructor(path: string, maxBytes: number, options?: ErrorOptions) {
    super(`Listing of "${path}" exceeds ${maxBytes} bytes`, options);
    this.name = "ListingTooLargeError";
    this.path = path;
    this.maxBytes = maxBytes;
  }
}

/**
 * A recursive `list`, `download` or `remove` reached a directory deeper than
 * `maxRecursionDepth` levels below where it started: the server's tree is looping or hostile.
 */
export class DirectoryTooDeepError extends FtpError {
  /** The directory that was not entered. */
  readonly path: string;
  /** The limit in levels. */
  readonly maxDepth: number;
  /** Creates the error. */
  constructor(path: string, maxDepth: number, options?: ErrorOptions) {
    super(`Cannot descend into "${path}": more than ${maxDepth} levels deep`, options);
    this.name = "DirectoryTooDeepError";
    this.path = path;
    this.maxDepth = maxDepth;
  }
}

/** The server's HASH of a transferred file differs from the local file's. */
export class ChecksumMismatchError extends FtpError {
  /** The remote path. */
  readonly path: string;
  /** The hash algorithm (`"SHA-256"`). */
  readonly algorithm: string;
  /** The local file's digest (lower-case hex). */
  readonly local: string;
  /** The server's digest (lower-case hex). */
  readonly remote: string;
  /** Creates the error. */
  constructor(
    path: string,
    algorithm: string,
    local: string,
    remote: string,
    options?: ErrorOptions,
  ) {
    super(
      `${algorithm} of "${path}" differs: local "${local}", server "${remote}"`,
      options,
    );
    this.name = "ChecksumMismatchError";
    this.path = path;
    this.algorithm = algorithm;
    this.local = local;
    this.remote = remote;
  }
}

/**
 * Base class of the client's FTPS failures: the server refused TLS, a handshake failed, or a
 * data connection was refused for lack of TLS session reuse. The client never falls back to
 * clear text after one of them.
 */
export class TlsError extends FtpError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TlsError";
  }
}

/**
 * The server refused a step of FTPS: `AUTH TLS` (it does not offer TLS), `PBSZ 0` or `PROT P`
 * (it will not protect data connections). After a refused `AUTH TLS` the connection is closed
 * without sending anything else.
 */
export class TlsRefusedError extends TlsError {
  /** The refused command (`"AUTH TLS"`, `"PBSZ 0"`, `"PROT P"`). */
  readonly command: string;
  /** The server's reply. */
  readonly reply: Reply;
  /** Creates the error. */
  constructor(command: string, reply: Reply, options?: ErrorOptions) {
    super(
      `Server refused ${JSON.stringify(command)}: ${reply.code} ${
        JSON.stringify(reply.lines.join("\n"))
      }`,
      options,
    );
    this.name = "TlsRefusedError";
    this.command = command;
    this.reply = reply;
  }
  /** The reply code. */
  get code(): number {
    return this.reply.code;
  }
}

/**
 * Why a TLS handshake failed: the certificate's issuer is not trusted, the certificate does not
 * name the host, it has expired (or is not valid yet), the peer did not speak TLS, the
 * connection closed during the handshake, the peer sent an alert, or something else.
 */
export type TlsFailureReason =
  | "untrusted"
  | "name-mismatch"
  | "expired"
  | "not-tls"
  | "closed"
  | "alert"
  | "other";

/**
 * A TLS handshake failed, on the control connection or on a data connection. The message says
 * what happened (`TLS handshake with 127.0.0.1:2121 failed: certificate not trusted (...)`);
 * `cause` is the runtime's error.
 */
export class TlsHandshakeError extends TlsError {
  /** The peer's host as connected to (or the data connection's peer address). */
  readonly host: string;
  /** The peer's port. */
  readonly port: number;
  /** Which connection: the control connection or a data connection. */
  readonly channel: "control" | "data";
  /** Why, as far as the runtime's error tells. */
  readonly reason: TlsFailureReason;
  /** Creates the error. */
  constructor(
    message: string,
    init: { host: string; port: number; channel: "control" | "data"; reason: TlsFailureReason },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "TlsHandshakeError";
    this.host = init.host;
    this.port = init.port;
    this.channel = init.channel;
    this.reason = init.reason;
  }
}

/**
 * The server refused a protected data connection because its TLS session did not resume the
 * control connection's (vsftpd's `require_ssl_reuse`, FileZilla Server, ProFTPD). Either the
 * runtime cannot resume TLS sessions (Deno), or the resumption did not happen.
 */
export class TlsSessionReuseError extends TlsError {
  /** The server's refusal, when it sent one. */
  readonly reply: Reply | undefined;
  /** Whether the network adapter can resume TLS sessions at all. */
  readonly runtimeCanResume: boolean;
  /** Creates the error. */
  constructor(
    message: string,
    reply: Reply | undefined,
    runtimeCanResume: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "TlsSessionReuseError";
    this.reply = reply;
    this.runtimeCanResume = runtimeCanResume;
  }
}
