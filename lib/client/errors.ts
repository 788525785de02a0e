/**
 * Errors only the client raises: a listing that outgrew its cap, a tree deeper than the
 * recursion limit, a checksum that did not match, and the FTPS failures ({@linkcode TlsError}
 * and its subclasses). Everything else uses the shared classes of `lib/errors.ts`.
 *
 * @module
 */

import { FtpError } from "../errors.ts";
import type { Reply } from "../protocol/reply.ts";

/**
 * A directory listing sent more bytes than `maxListingBytes` allows; it was aborted.
 *
 * @example
 * ```ts
 * import { Client, ListingTooLargeError } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port, {
 *   maxListingBytes: 100,
 * });
 * await client.login();
 * for (const name of ["a", "b", "c", "d"]) await client.mkdir(name);
 * await assert.rejects(
 *   client.listAll(),
 *   (error) => error instanceof ListingTooLargeError && error.maxBytes === 100,
 * );
 * await client.noop(); // the client goes on
 * ```
 */
export class ListingTooLargeError extends FtpError {
  /** The directory whose listing was aborted. */
  readonly path: string;
  /** The cap in bytes. */
  readonly maxBytes: number;
  /**
   * Creates the error.
   *
   * @param path The directory.
   * @param maxBytes The cap in bytes.
   * @param options The cause.
   */
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
 *
 * @example
 * ```ts
 * import { Client, DirectoryTooDeepError } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port, {
 *   maxRecursionDepth: 1,
 * });
 * await client.login();
 * await client.mkdir("a/b/c", { parents: true });
 * await assert.rejects(
 *   client.listAll("a", { recursive: true }),
 *   (error) => error instanceof DirectoryTooDeepError && error.path === "a/b/c",
 * );
 * ```
 */
export class DirectoryTooDeepError extends FtpError {
  /** The directory that was not entered. */
  readonly path: string;
  /** The limit in levels. */
  readonly maxDepth: number;
  /**
   * Creates the error.
   *
   * @param path The directory that was not entered.
   * @param maxDepth The limit in levels.
   * @param options The cause.
   */
  constructor(path: string, maxDepth: number, options?: ErrorOptions) {
    super(`Cannot descend into "${path}": more than ${maxDepth} levels deep`, options);
    this.name = "DirectoryTooDeepError";
    this.path = path;
    this.maxDepth = maxDepth;
  }
}

/**
 * What {@linkcode ChecksumMismatchError} carries besides the path: the algorithm, both
 * digests, and the `cause`.
 *
 * @example A mismatch, made by hand
 * ```ts
 * import {
 *   ChecksumMismatchError,
 *   type ChecksumMismatchErrorOptions,
 * } from "@streamftp/streamftp/client";
 * import assert from "node:assert/strict";
 *
 * const digests: ChecksumMismatchErrorOptions = {
 *   algorithm: "SHA-256",
 *   local: "ab",
 *   remote: "cd",
 * };
 * const error = new ChecksumMismatchError("www/a.txt", digests);
 * assert.equal(error.message, 'SHA-256 of "www/a.txt" differs: local "ab", server "cd"');
 * ```
 */
export interface ChecksumMismatchErrorOptions extends ErrorOptions {
  /** The hash algorithm (`"SHA-256"`). */
  algorithm: string;
  /** The local file's digest (lower-case hex). */
  local: string;
  /** The server's digest (lower-case hex). */
  remote: string;
}

/**
 * The server's HASH of a transferred file differs from the local file's (with the `verify`
 * option of `Client.upload`, `download` and `mirror`).
 *
 * @example Verifying an upload
 * ```ts
 * import { ChecksumMismatchError, Client } from "@streamftp/streamftp/client";
 * import { Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 * import { mkdtemp, rm, writeFile } from "node:fs/promises";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * await using server = new Server({ users: [new User()] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login();
 * const dir = await mkdtemp(join(tmpdir(), "streamftp-"));
 * try {
 *   await writeFile(join(dir, "a.bin"), "data");
 *   const upload = client.upload(join(dir, "a.bin"), "", { verify: true });
 *   const summary = await upload.catch((error) => {
 *     if (error instanceof ChecksumMismatchError) {
 *       console.error(`${error.path}: ${error.algorithm} ${error.remote}, not ${error.local}`);
 *     }
 *     throw error;
 *   });
 *   assert.equal(summary.verified, 1); // the server's SHA-256 matched
 * } finally {
 *   await rm(dir, { recursive: true });
 * }
 * ```
 */
export class ChecksumMismatchError extends FtpError {
  /** The remote path. */
  readonly path: string;
  /** The hash algorithm (`"SHA-256"`). */
  readonly algorithm: string;
  /** The local file's digest (lower-case hex). */
  readonly local: string;
  /** The server's digest (lower-case hex). */
  readonly remote: string;
  /**
   * Creates the error.
   *
   * @param path The remote path.
   * @param options The algorithm, the local and the server's digests, and the cause.
   */
  constructor(path: string, options: ChecksumMismatchErrorOptions) {
    const { algorithm, local, remote } = options;
    super(`${algorithm} of "${path}" differs: local "${local}", server "${remote}"`, options);
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
 *
 * @example Any FTPS failure
 * ```ts
 * import { Client, TlsError } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server(); // no TLS
 * await server.start("127.0.0.1", 0);
 * const { port } = server.address;
 * for (const url of [`ftpes://127.0.0.1:${port}/`, `ftps://127.0.0.1:${port}/`]) {
 *   await assert.rejects(Client.connect(url), TlsError); // refused, or no handshake
 * }
 * ```
 */
export class TlsError extends FtpError {
  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param options The cause.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TlsError";
  }
}

/**
 * The server refused a step of FTPS: `AUTH TLS` (it does not offer TLS), `PBSZ 0` or `PROT P`
 * (it will not protect data connections). After a refused `AUTH TLS` the connection is closed
 * without sending anything else.
 *
 * @example
 * ```ts
 * import { Client, TlsRefusedError } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server(); // no TLS
 * await server.start("127.0.0.1", 0);
 * await assert.rejects(
 *   Client.connect("127.0.0.1", server.address.port, { secure: true }),
 *   (error) =>
 *     error instanceof TlsRefusedError && error.command === "AUTH TLS" && error.code === 502,
 * );
 * ```
 */
export class TlsRefusedError extends TlsError {
  /** The refused command (`"AUTH TLS"`, `"PBSZ 0"`, `"PROT P"`). */
  readonly command: string;
  /** The server's reply. */
  readonly reply: Reply;
  /**
   * Creates the error.
   *
   * @param command The refused command.
   * @param reply The server's reply.
   * @param options The cause.
   */
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
 *
 * @example
 * ```ts
 * import { Client, type TlsFailureReason, TlsHandshakeError } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server(); // plain FTP: its greeting is no TLS
 * await server.start("127.0.0.1", 0);
 * let reason: TlsFailureReason | undefined;
 * try {
 *   await using _client = await Client.connect(`ftps://127.0.0.1:${server.address.port}/`);
 * } catch (error) {
 *   if (error instanceof TlsHandshakeError) reason = error.reason;
 * }
 * assert.equal(reason, "not-tls");
 * ```
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
 * What {@linkcode TlsHandshakeError} carries besides its message: the peer, the connection,
 * the reason, and the runtime's error as `cause`.
 *
 * @example A failed handshake, made by hand
 * ```ts
 * import { TlsHandshakeError, type TlsHandshakeErrorOptions } from "@streamftp/streamftp/client";
 * import assert from "node:assert/strict";
 *
 * const options: TlsHandshakeErrorOptions = {
 *   host: "ftp.example.com",
 *   port: 990,
 *   channel: "control",
 *   reason: "expired",
 *   cause: new Error("certificate has expired"),
 * };
 * const error = new TlsHandshakeError("TLS handshake with ftp.example.com:990 failed", options);
 * assert.equal(error.reason, "expired");
 * assert.equal(error.port, 990);
 * ```
 */
export interface TlsHandshakeErrorOptions extends ErrorOptions {
  /** The peer's host as connected to (or the data connection's peer address). */
  host: string;
  /** The peer's port. */
  port: number;
  /** Which connection: the control connection or a data connection. */
  channel: "control" | "data";
  /** Why, as far as the runtime's error tells. */
  reason: TlsFailureReason;
}

/**
 * A TLS handshake failed, on the control connection or on a data connection. The message says
 * what happened (`TLS handshake with 127.0.0.1:2121 failed: certificate not trusted (...)`);
 * `cause` is the runtime's error.
 *
 * @example
 * ```ts
 * import { Client, TlsHandshakeError } from "@streamftp/streamftp/client";
 * import { Server } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * await using server = new Server(); // plain FTP
 * await server.start("127.0.0.1", 0);
 * const { port } = server.address;
 * await assert.rejects(
 *   Client.connect(`ftps://127.0.0.1:${port}/`), // implicit FTPS
 *   (error) =>
 *     error instanceof TlsHandshakeError && error.channel === "control" &&
 *     error.host === "127.0.0.1" && error.port === port && error.cause !== undefined,
 * );
 * ```
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
  /**
   * Creates the error.
   *
   * @param message What happened.
   * @param options The peer, the connection, the reason, and the runtime's error as `cause`.
   */
  constructor(message: string, options: TlsHandshakeErrorOptions) {
    super(message, options);
    this.name = "TlsHandshakeError";
    this.host = options.host;
    this.port = options.port;
    this.channel = options.channel;
    this.reason = options.reason;
  }
}

/**
 * What {@linkcode TlsSessionReuseError} carries besides its message: the server's refusal,
 * whether the runtime can resume TLS sessions at all, and the `cause`.
 *
 * @example Telling the runtime's limit from the server's refusal
 * ```ts
 * import type { TlsSessionReuseErrorOptions } from "@streamftp/streamftp/client";
 * import assert from "node:assert/strict";
 *
 * function advice({ runtimeCanResume }: TlsSessionReuseErrorOptions): string {
 *   return runtimeCanResume ? "check the server's session cache" : "run under Node or Bun";
 * }
 * assert.equal(advice({ runtimeCanResume: false }), "run under Node or Bun");
 * ```
 */
export interface TlsSessionReuseErrorOptions extends ErrorOptions {
  /** The server's refusal, when it sent one. */
  reply?: Reply;
  /** Whether the network adapter can resume TLS sessions at all. */
  runtimeCanResume: boolean;
}

/**
 * The server refused a protected data connection because its TLS session did not resume the
 * control connection's (vsftpd's `require_ssl_reuse`, FileZilla Server, ProFTPD). Either the
 * runtime cannot resume TLS sessions (Deno), or the resumption did not happen.
 *
 * @example What it tells
 * ```ts
 * import { TlsError, TlsSessionReuseError } from "@streamftp/streamftp/client";
 * import assert from "node:assert/strict";
 *
 * // What a transfer fails with against vsftpd's require_ssl_reuse, here made by hand.
 * const error = new TlsSessionReuseError(
 *   "Server refused the data connection: its TLS session was not resumed",
 *   {
 *     reply: { code: 522, lines: ["SSL connection failed: session reuse required"] },
 *     runtimeCanResume: false,
 *   },
 * );
 * assert.ok(error instanceof TlsError);
 * assert.equal(error.reply?.code, 522);
 * // runtimeCanResume false: this runtime cannot resume (Deno); try Node or Bun.
 * assert.equal(error.runtimeCanResume, false);
 * ```
 */
export class TlsSessionReuseError extends TlsError {
  /** The server's refusal, when it sent one. */
  readonly reply: Reply | undefined;
  /** Whether the network adapter can resume TLS sessions at all. */
  readonly runtimeCanResume: boolean;
  /**
   * Creates the error.
   *
   * @param message What happened.
   * @param options The server's refusal, whether the runtime can resume TLS sessions, and the
   * cause.
   */
  constructor(message: string, options: TlsSessionReuseErrorOptions) {
    super(message, options);
    this.name = "TlsSessionReuseError";
    this.reply = options.reply;
    this.runtimeCanResume = options.runtimeCanResume;
  }
}
